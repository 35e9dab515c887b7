package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/metrics"
)

// webhookRow maps the webhook_events table.
type webhookRow struct {
	ID          int64 `gorm:"primaryKey"`
	ShopID      int64
	Topic       string
	EventID     string
	WebhookID   string
	TriggeredAt *time.Time
	APIVersion  string
	CustomerID  *int64
	Payload     string `gorm:"type:jsonb"`
	ReceivedAt  time.Time
	EnqueuedAt  *time.Time
	ProcessedAt *time.Time
	Attempts    int
	LastError   string
}

func (webhookRow) TableName() string { return "webhook_events" }

// WebhookService implements app.WebhookService. Inserts go through a small
// group-commit stage: concurrent deliveries that arrive together are written
// by one multi-row INSERT in one transaction, so under load many webhooks
// share one commit (one WAL flush) instead of paying for one each, and an idle
// system still writes a lone event at once (no timer, no added latency).
type WebhookService struct {
	db       *DB
	reqs     chan *insertReq
	maxBatch int
	wg       sync.WaitGroup
	stop     sync.Once
}

var _ app.WebhookService = (*WebhookService)(nil)

type insertReq struct {
	ctx  context.Context
	ev   *app.WebhookEvent
	done chan insertRes
}

type insertRes struct {
	id      int64
	created bool
	err     error
}

// NewWebhookService starts the insert stage with the given number of writers
// (each holds at most one connection while writing). Close stops it.
func (db *DB) NewWebhookService(writers, maxBatch int) *WebhookService {
	if writers < 1 {
		writers = 1
	}
	if maxBatch < 1 {
		maxBatch = 1
	}
	s := &WebhookService{db: db, reqs: make(chan *insertReq, writers*maxBatch), maxBatch: maxBatch}
	for range writers {
		s.wg.Add(1)
		go s.writer()
	}
	return s
}

// Close stops the writers after they finish what is queued. StoreEvent must
// not be called after Close.
func (s *WebhookService) Close() {
	s.stop.Do(func() { close(s.reqs) })
	s.wg.Wait()
}

func (s *WebhookService) writer() {
	defer s.wg.Done()
	batch := make([]*insertReq, 0, s.maxBatch)
	for first := range s.reqs {
		batch = append(batch[:0], first)
	drain:
		for len(batch) < s.maxBatch {
			select {
			case r, ok := <-s.reqs:
				if !ok {
					break drain
				}
				batch = append(batch, r)
			default:
				break drain
			}
		}
		s.insertBatch(batch)
	}
}

// insertBatch writes the batch in one statement. If Postgres refuses the
// data of some row (jsonb rejects \u0000, which JSON allows), the rows are
// written one by one so only the offending delivery is refused (EINVALID) and
// the others are stored. Requests whose caller has
// given up are still written: the platform will redeliver and the unique key
// turns that into a no-op.
func (s *WebhookService) insertBatch(batch []*insertReq) {
	metrics.WebhookInsertBatch.Observe(float64(len(batch)))
	// The statement runs on its own deadline, not a caller's: one caller
	// cancelling must not fail the others in the batch.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	created, err := s.insertRows(ctx, batch)
	if isDataError(err) {
		if len(batch) > 1 {
			for _, r := range batch {
				s.insertBatch([]*insertReq{r})
			}
			return
		}
		err = app.Wrap(app.EINVALID, err, "payload refused by the database (e.g. a \\u0000 escape)")
	} else if err != nil {
		err = unavailable(err, fmt.Sprintf("store %d webhook events", len(batch)))
	}
	for _, r := range batch {
		res := insertRes{err: err}
		if err == nil {
			key := eventKey{r.ev.ShopID, r.ev.EventID}
			// Two deliveries of one event in the same batch: the first
			// claims the row, the second is the duplicate.
			if id, ok := created[key]; ok {
				res.id, res.created = id, true
				delete(created, key)
			}
		}
		r.done <- res
	}
}

type eventKey struct {
	shopID  int64
	eventID string
}

const insertColumns = 8

// insertSQL is the statement for n rows, prepared once per size and
// connection.
func insertSQL(n int) string {
	var sb strings.Builder
	sb.WriteString("INSERT INTO webhook_events (shop_id, topic, event_id, webhook_id, triggered_at, api_version, customer_id, payload) VALUES ")
	for i := range n {
		if i > 0 {
			sb.WriteByte(',')
		}
		k := i * insertColumns
		fmt.Fprintf(&sb, "($%d,$%d,$%d,$%d,$%d,$%d,$%d,$%d::jsonb)", k+1, k+2, k+3, k+4, k+5, k+6, k+7, k+8)
	}
	sb.WriteString(" ON CONFLICT (shop_id, event_id) DO NOTHING RETURNING id, shop_id, event_id")
	return sb.String()
}

// wireBufs are the buffers insertRows encodes its messages in.
var wireBufs = sync.Pool{New: func() any { return new([]byte) }}

// insertRows runs the batch's INSERT on one connection of the pool, the
// statement prepared through pgx, its execution spoken in the wire protocol
// with every parameter in text form: the bodies are copied once, into one
// reused buffer holding the whole message (database/sql's path encoded each
// into a growing parameter buffer, then copied that into a message buffer
// grown from 1 KB each time: 21% of serve's CPU under load, then 15% with
// pgconn.ExecPrepared).
func (s *WebhookService) insertRows(ctx context.Context, batch []*insertReq) (map[eventKey]int64, error) {
	conn, err := s.db.sql.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	created := make(map[eventKey]int64, len(batch))
	params := make([][]byte, 0, len(batch)*insertColumns)
	for _, r := range batch {
		ev := r.ev
		var triggered, customer []byte // nil is NULL
		if ev.TriggeredAt != nil {
			triggered = ev.TriggeredAt.UTC().AppendFormat(nil, "2006-01-02 15:04:05.999999Z07:00")
		}
		if ev.CustomerID != 0 {
			customer = strconv.AppendInt(nil, ev.CustomerID, 10)
		}
		params = append(params, strconv.AppendInt(nil, ev.ShopID, 10), []byte(ev.Topic), []byte(ev.EventID),
			[]byte(ev.WebhookID), triggered, []byte(ev.APIVersion), customer, ev.Payload)
	}
	size := 64
	for _, p := range params {
		size += 4 + len(p)
	}
	bufp := wireBufs.Get().(*[]byte)
	defer func() {
		if cap(*bufp) <= 4<<20 {
			wireBufs.Put(bufp)
		}
	}()
	err = conn.Raw(func(dc any) error {
		c := dc.(*stdlib.Conn).Conn()
		sd, err := c.Prepare(ctx, "parrain_webhook_insert_"+strconv.Itoa(len(batch)), insertSQL(len(batch)))
		if err != nil {
			return err
		}
		// Bind, Execute and Sync encoded into one buffer sized for them
		// (pgx's own would grow from 1 KB each time, copying the bodies
		// again at every doubling), written at once, then the answers
		// read through pgconn until ReadyForQuery.
		buf := slices.Grow((*bufp)[:0], size+len(sd.Name))
		buf, err = (&pgproto3.Bind{PreparedStatement: sd.Name, Parameters: params}).Encode(buf)
		if err != nil {
			return err
		}
		buf, _ = (&pgproto3.Execute{}).Encode(buf)
		buf, _ = (&pgproto3.Sync{}).Encode(buf)
		*bufp = buf
		pc := c.PgConn()
		nc := pc.Conn()
		if dl, ok := ctx.Deadline(); ok {
			nc.SetWriteDeadline(dl)
			defer nc.SetWriteDeadline(time.Time{})
		}
		if _, err := nc.Write(buf); err != nil {
			// Part of a message may have gone: the connection is
			// unusable, and database/sql drops it on ErrBadConn.
			return fmt.Errorf("send webhook events: %w: %w", err, driver.ErrBadConn)
		}
		var pgErr error
		for {
			msg, err := pc.ReceiveMessage(ctx)
			if err != nil {
				return err // pgconn closed the connection
			}
			switch m := msg.(type) {
			case *pgproto3.DataRow:
				if len(m.Values) != 3 {
					pgErr = fmt.Errorf("insert webhook events: %d columns returned", len(m.Values))
					continue
				}
				id, err1 := strconv.ParseInt(string(m.Values[0]), 10, 64)
				shopID, err2 := strconv.ParseInt(string(m.Values[1]), 10, 64)
				if err1 != nil || err2 != nil {
					pgErr = fmt.Errorf("read inserted webhook event ids: %q %q", m.Values[0], m.Values[1])
					continue
				}
				created[eventKey{shopID, string(m.Values[2])}] = id
			case *pgproto3.ErrorResponse:
				pgErr = pgconn.ErrorResponseToPgError(m)
			case *pgproto3.ReadyForQuery:
				return pgErr
			}
		}
	})
	return created, err
}

// isDataError reports a Postgres "data exception" (SQLSTATE class 22): the
// row's content, not the server, is the problem.
func isDataError(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && strings.HasPrefix(pgErr.Code, "22")
}

// StoreEvent implements app.WebhookService.
func (s *WebhookService) StoreEvent(ctx context.Context, ev *app.WebhookEvent) (int64, bool, error) {
	req := &insertReq{ctx: ctx, ev: ev, done: make(chan insertRes, 1)}
	select {
	case s.reqs <- req:
	case <-ctx.Done():
		return 0, false, fmt.Errorf("store webhook event: %w", ctx.Err())
	}
	select {
	case res := <-req.done:
		if res.created {
			ev.ID = res.id
		}
		return res.id, res.created, res.err
	case <-ctx.Done():
		return 0, false, fmt.Errorf("store webhook event: %w", ctx.Err())
	}
}

// Event implements app.WebhookService.
func (s *WebhookService) Event(ctx context.Context, id int64) (*app.WebhookEvent, error) {
	var r webhookRow
	err := s.db.gorm.WithContext(ctx).Table("webhook_events AS w").
		Select("w.*").Where("w.id = ?", id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, app.Errorf(app.ENOTFOUND, "unknown webhook event %d", id)
	}
	if err != nil {
		return nil, unavailable(err, fmt.Sprintf("load webhook event %d", id))
	}
	var platform string
	if err := s.db.gorm.WithContext(ctx).Raw("SELECT platform FROM shops WHERE id = ?", r.ShopID).Scan(&platform).Error; err != nil {
		return nil, unavailable(err, fmt.Sprintf("load shop of webhook event %d", id))
	}
	var customer int64
	if r.CustomerID != nil {
		customer = *r.CustomerID
	}
	return &app.WebhookEvent{
		CustomerID: customer, ID: r.ID, ShopID: r.ShopID, Platform: app.Platform(platform), Topic: r.Topic, EventID: r.EventID,
		WebhookID: r.WebhookID, TriggeredAt: r.TriggeredAt, APIVersion: r.APIVersion, Payload: []byte(r.Payload),
		ReceivedAt: r.ReceivedAt, EnqueuedAt: r.EnqueuedAt, ProcessedAt: r.ProcessedAt, Attempts: r.Attempts, LastError: r.LastError,
	}, nil
}

// Pending implements app.WebhookService: one read of the primary key, not
// the stored body.
func (s *WebhookService) Pending(ctx context.Context, id int64) (bool, error) {
	var pending bool
	err := s.db.sql.QueryRowContext(ctx,
		"SELECT processed_at IS NULL AND redacted_at IS NULL FROM webhook_events WHERE id = $1", id).Scan(&pending)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return pending, unavailable(err, fmt.Sprintf("read state of webhook event %d", id))
}

// MarkEnqueued implements app.WebhookService.
func (s *WebhookService) MarkEnqueued(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	err := s.db.gorm.WithContext(ctx).Exec(
		"UPDATE webhook_events SET enqueued_at = now() WHERE id IN ?", ids).Error
	return unavailable(err, fmt.Sprintf("mark %d webhook events enqueued", len(ids)))
}

// Unprocessed implements app.WebhookService.
func (s *WebhookService) Unprocessed(ctx context.Context, receivedBefore, enqueuedBefore time.Time, limit int) ([]app.EventRef, error) {
	var ids []app.EventRef
	err := s.db.gorm.WithContext(ctx).Raw(`SELECT id, shop_id FROM webhook_events
		WHERE processed_at IS NULL AND received_at < ? AND (enqueued_at IS NULL OR enqueued_at < ?)
		ORDER BY received_at LIMIT ?`, receivedBefore, enqueuedBefore, limit).Scan(&ids).Error
	return ids, unavailable(err, "list unprocessed webhook events")
}

// UnprocessedAfter implements app.WebhookService. It reads the unprocessed
// rows through the partial index webhook_events_unprocessed.
func (s *WebhookService) UnprocessedAfter(ctx context.Context, afterID int64, receivedBefore time.Time, limit int) ([]app.EventRef, error) {
	var ids []app.EventRef
	err := s.db.gorm.WithContext(ctx).Raw(`SELECT id, shop_id FROM webhook_events
		WHERE processed_at IS NULL AND received_at < ? AND id > ?
		ORDER BY id LIMIT ?`, receivedBefore, afterID, limit).Scan(&ids).Error
	return ids, unavailable(err, "list unprocessed webhook events")
}

// MarkProcessed implements app.WebhookService.
func (s *WebhookService) MarkProcessed(ctx context.Context, id int64, at time.Time) error {
	err := s.db.gorm.WithContext(ctx).Exec(
		"UPDATE webhook_events SET processed_at = ?, attempts = attempts + 1, last_error = '' WHERE id = ?",
		at, id).Error
	return unavailable(err, fmt.Sprintf("mark webhook event %d processed", id))
}

// MarkFailed implements app.WebhookService.
func (s *WebhookService) MarkFailed(ctx context.Context, id int64, cause error) error {
	msg := cause.Error()
	if len(msg) > 2000 {
		msg = msg[:2000]
	}
	err := s.db.gorm.WithContext(ctx).Exec(
		"UPDATE webhook_events SET attempts = attempts + 1, last_error = ? WHERE id = ?",
		msg, id).Error
	return unavailable(err, fmt.Sprintf("mark webhook event %d failed", id))
}
