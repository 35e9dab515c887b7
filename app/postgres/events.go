package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/lib/pq"
	"gorm.io/gorm"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/email"
	"github.com/parrain/parrain/app/events"
)

// Emit writes an event into the outbox, with one delivery per enabled
// endpoint of the shop subscribed to its type, in tx: the transaction of
// the state change the event reports, so the event exists if and only if
// the change committed. An event already written (same shop, type and
// subject: an engine step run again) is left alone and gets no second
// delivery. Other packages' storage (emails) call it inside their own
// transactions.
func Emit(tx *gorm.DB, e events.Event) error {
	at := e.At
	if at.IsZero() {
		at = time.Now()
	}
	body, err := json.Marshal(events.Body{Type: e.Type, Timestamp: at.UTC().Format(time.RFC3339Nano), Data: e.Data})
	if err != nil {
		return fmt.Errorf("encode event %s: %w", e.Type, err)
	}
	id := events.ID(e.ShopID, e.Type, e.Subject)
	var adv any
	if e.AdvocateID != 0 {
		adv = e.AdvocateID
	}
	// One statement: the event, and its deliveries only when the event is
	// new (a conflict returns no row, so an engine step run again adds
	// none).
	return tx.Exec(`WITH e AS (
			INSERT INTO events (id, shop_id, type, subject, advocate_id, payload, created_at) VALUES (?, ?, ?, ?, ?, ?::jsonb, ?)
			ON CONFLICT DO NOTHING RETURNING id, shop_id)
		INSERT INTO event_deliveries (shop_id, event_id, endpoint_id, next_at)
		SELECT p.shop_id, e.id, p.id, ? FROM e JOIN event_endpoints p ON p.shop_id = e.shop_id WHERE p.enabled AND ? = ANY(p.event_types)`,
		id, e.ShopID, e.Type, e.Subject, adv, string(body), at, at, e.Type).Error
}

// The payloads (docs/events.md). An advocate is named by ids, codes, first
// name and email (the merchant's own customer, whom their tool will write
// to); a friend (the referred buyer) only by the order.

func advocateData(tx *gorm.DB, id int64) (map[string]any, error) {
	var a advocateRow
	if err := tx.Raw(`SELECT * FROM advocates WHERE id = ?`, id).Scan(&a).Error; err != nil {
		return nil, err
	}
	return a.eventData(), nil
}

func (a advocateRow) eventData() map[string]any {
	return map[string]any{
		"id": a.ID, "code": a.Code, "friend_code": a.FriendCode, "customer_id": nullable(a.CustomerID),
		"email": nullable(a.Email), "first_name": nullable(a.FirstName),
	}
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func moneyData(minor int64, currency string) map[string]any {
	return map[string]any{"amount": app.Money{Minor: minor, Currency: currency}.Decimal(), "currency": currency}
}

// emitReferral writes a referral.* event about referral id as it is now.
func emitReferral(tx *gorm.DB, typ string, id int64) error {
	var f struct {
		ID              int64
		ShopID          int64
		AdvocateID      int64
		State           string
		Reason          string
		EvidenceKind    string
		HoldUntil       time.Time
		CreatedAt       time.Time
		PlatformOrderID string
		Name            string
		TotalMinor      int64
		Currency        string
	}
	if err := tx.Raw(`SELECT f.id, f.shop_id, f.advocate_id, f.state, f.reason, f.evidence_kind, f.hold_until, f.created_at,
		o.platform_order_id, o.name, o.total_minor, o.currency FROM referrals f JOIN orders o ON o.id = f.order_id WHERE f.id = ?`, id).Scan(&f).Error; err != nil {
		return err
	}
	if f.ID == 0 {
		return fmt.Errorf("event %s: no referral %d", typ, id)
	}
	adv, err := advocateData(tx, f.AdvocateID)
	if err != nil {
		return err
	}
	ref := map[string]any{
		"id": f.ID, "state": f.State, "evidence": f.EvidenceKind, "hold_until": f.HoldUntil.UTC(), "created_at": f.CreatedAt.UTC(),
		"order": map[string]any{"id": f.PlatformOrderID, "name": f.Name, "total": moneyData(f.TotalMinor, f.Currency)},
	}
	if f.Reason != "" {
		ref["reason"] = f.Reason
	}
	return Emit(tx, events.Event{ShopID: f.ShopID, Type: typ, Subject: "referral:" + strconv.FormatInt(id, 10), AdvocateID: f.AdvocateID,
		Data: map[string]any{"referral": ref, "advocate": adv}})
}

// emitReward writes a reward.* event about reward id as it is now.
func emitReward(tx *gorm.DB, typ string, id int64) error {
	var w rewardRow
	if err := tx.Raw(`SELECT * FROM rewards WHERE id = ?`, id).Scan(&w).Error; err != nil {
		return err
	}
	if w.ID == 0 {
		return fmt.Errorf("event %s: no reward %d", typ, id)
	}
	adv, err := advocateData(tx, w.AdvocateID)
	if err != nil {
		return err
	}
	rw := map[string]any{"id": w.ID, "referral_id": w.ReferralID, "code": w.Code, "kind": w.Kind, "state": w.State, "expires_at": w.ExpiresAt}
	if w.MilestoneFriends != nil {
		// A milestone's bonus: no referral, the milestone reached instead.
		rw["referral_id"], rw["milestone_friends"] = nil, *w.MilestoneFriends
	}
	if w.Kind == app.OfferPercent {
		rw["percent"] = w.Percent
	} else {
		rw["value"] = moneyData(w.AmountMinor, w.Currency)
	}
	if w.Kind == app.OfferStoreCredit {
		// What the advocate's account received: in their currency when
		// they pay in another than the shop's (value stays the cost, in
		// the shop's money).
		c := w.toReward().Credited()
		rw["credit"] = moneyData(c.Minor, c.Currency)
	}
	return Emit(tx, events.Event{ShopID: w.ShopID, Type: typ, Subject: "reward:" + strconv.FormatInt(id, 10), AdvocateID: w.AdvocateID,
		Data: map[string]any{"reward": rw, "advocate": adv}})
}

// emitAdvocate writes advocate.created.
func emitAdvocate(tx *gorm.DB, a advocateRow) error {
	return Emit(tx, events.Event{ShopID: a.ShopID, Type: events.AdvocateCreated, Subject: "advocate:" + strconv.FormatInt(a.ID, 10), AdvocateID: a.ID,
		Data: map[string]any{"advocate": a.eventData()}})
}

// EventStore is the endpoints, deliveries and their log.
type EventStore struct{ db *DB }

// Events returns the events storage.
func (db *DB) Events() *EventStore { return &EventStore{db: db} }

var (
	_ events.EndpointStore = (*EventStore)(nil)
	_ events.DeliveryStore = (*EventStore)(nil)
)

type endpointRow struct {
	ID             int64
	ShopID         int64
	URL            string
	Description    string
	EventTypes     pq.StringArray `gorm:"type:text[]"`
	Secret         string
	Enabled        bool
	DisabledReason string
	FailingSince   *time.Time
	CreatedAt      time.Time
}

func (r endpointRow) toEndpoint() events.Endpoint {
	return events.Endpoint{ID: r.ID, URL: r.URL, Description: r.Description, Types: r.EventTypes, Enabled: r.Enabled,
		DisabledReason: r.DisabledReason, FailingSince: r.FailingSince, CreatedAt: r.CreatedAt}
}

func endpointSealContext(shopID, id int64) string {
	return fmt.Sprintf("shop:%d:event_endpoint:%d:secret", shopID, id)
}

// CreateEndpoint implements events.EndpointStore: the secret is sealed,
// bound to the shop and the endpoint's id.
func (s *EventStore) CreateEndpoint(ctx context.Context, shopID int64, in events.EndpointInput, secret string) (*events.Endpoint, error) {
	var row endpointRow
	err := s.db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Raw(`SELECT count(*) FROM event_endpoints WHERE shop_id = ?`, shopID).Scan(&n).Error; err != nil {
			return err
		}
		if n >= 20 {
			return app.Errorf(app.EINVALID, "a shop has at most 20 endpoints: delete one first")
		}
		if err := tx.Raw(`INSERT INTO event_endpoints (shop_id, url, description, event_types, secret) VALUES (?, ?, ?, ?, '') RETURNING *`,
			shopID, in.URL, in.Description, pq.StringArray(in.Types)).Scan(&row).Error; err != nil {
			return err
		}
		sealed, err := s.db.keyring.Seal(secret, endpointSealContext(shopID, row.ID))
		if err != nil {
			return err
		}
		return tx.Exec(`UPDATE event_endpoints SET secret = ? WHERE id = ?`, sealed, row.ID).Error
	})
	if app.ErrorCode(err) == app.EINVALID {
		return nil, err
	}
	if err != nil {
		return nil, unavailable(err, "create endpoint")
	}
	e := row.toEndpoint()
	return &e, nil
}

// Endpoints implements events.EndpointStore.
func (s *EventStore) Endpoints(ctx context.Context, shopID int64) ([]events.Endpoint, error) {
	var rows []endpointRow
	if err := s.db.gorm.WithContext(ctx).Raw(`SELECT * FROM event_endpoints WHERE shop_id = ? ORDER BY id`, shopID).Scan(&rows).Error; err != nil {
		return nil, unavailable(err, "list endpoints")
	}
	out := make([]events.Endpoint, len(rows))
	for i, r := range rows {
		out[i] = r.toEndpoint()
	}
	return out, nil
}

func (s *EventStore) endpoint(ctx context.Context, shopID, id int64) (*endpointRow, error) {
	var row endpointRow
	if err := s.db.gorm.WithContext(ctx).Raw(`SELECT * FROM event_endpoints WHERE id = ? AND shop_id = ?`, id, shopID).Scan(&row).Error; err != nil {
		return nil, unavailable(err, "load endpoint")
	}
	if row.ID == 0 {
		return nil, app.Errorf(app.ENOTFOUND, "no endpoint %d in this shop", id)
	}
	return &row, nil
}

// Endpoint implements events.EndpointStore.
func (s *EventStore) Endpoint(ctx context.Context, shopID, id int64) (*events.Endpoint, error) {
	row, err := s.endpoint(ctx, shopID, id)
	if err != nil {
		return nil, err
	}
	e := row.toEndpoint()
	return &e, nil
}

// EndpointSecret implements events.EndpointStore.
func (s *EventStore) EndpointSecret(ctx context.Context, shopID, id int64) (string, error) {
	row, err := s.endpoint(ctx, shopID, id)
	if err != nil {
		return "", err
	}
	secret, err := s.db.keyring.Open(row.Secret, endpointSealContext(shopID, id))
	if err != nil {
		return "", fmt.Errorf("open secret of endpoint %d: %w", id, err)
	}
	return secret, nil
}

// DeleteEndpoint implements events.EndpointStore (its deliveries and log
// go with it).
func (s *EventStore) DeleteEndpoint(ctx context.Context, shopID, id int64) error {
	res := s.db.gorm.WithContext(ctx).Exec(`DELETE FROM event_endpoints WHERE id = ? AND shop_id = ?`, id, shopID)
	if res.Error != nil {
		return unavailable(res.Error, "delete endpoint")
	}
	if res.RowsAffected == 0 {
		return app.Errorf(app.ENOTFOUND, "no endpoint %d in this shop", id)
	}
	return nil
}

// EnableEndpoint implements events.EndpointStore.
func (s *EventStore) EnableEndpoint(ctx context.Context, shopID, id int64) error {
	res := s.db.gorm.WithContext(ctx).Exec(`UPDATE event_endpoints SET enabled = true, disabled_reason = '', failing_since = NULL, updated_at = now()
		WHERE id = ? AND shop_id = ?`, id, shopID)
	if res.Error != nil {
		return unavailable(res.Error, "enable endpoint")
	}
	if res.RowsAffected == 0 {
		return app.Errorf(app.ENOTFOUND, "no endpoint %d in this shop", id)
	}
	return nil
}

type deliveryRow struct {
	ID          int64
	EventID     string
	Type        string
	State       string
	Attempts    int
	NextAt      time.Time
	LastStatus  int
	LastError   string
	DeliveredAt *time.Time
	CreatedAt   time.Time
}

// Deliveries implements events.EndpointStore: newest first, each with its
// attempts.
func (s *EventStore) Deliveries(ctx context.Context, shopID, endpointID int64, limit int) ([]events.Delivery, error) {
	db := s.db.gorm.WithContext(ctx)
	var rows []deliveryRow
	if err := db.Raw(`SELECT d.id, d.event_id, e.type, d.state, d.attempts, d.next_at, d.last_status, d.last_error, d.delivered_at, d.created_at
		FROM event_deliveries d JOIN events e ON e.id = d.event_id WHERE d.shop_id = ? AND d.endpoint_id = ? ORDER BY d.id DESC LIMIT ?`,
		shopID, endpointID, limit).Scan(&rows).Error; err != nil {
		return nil, unavailable(err, "list deliveries")
	}
	out := make([]events.Delivery, len(rows))
	ids := make([]int64, len(rows))
	idx := map[int64]int{}
	for i, r := range rows {
		out[i] = events.Delivery{ID: r.ID, EventID: r.EventID, Type: r.Type, State: r.State, Attempts: r.Attempts, LastStatus: r.LastStatus,
			LastError: r.LastError, DeliveredAt: r.DeliveredAt, CreatedAt: r.CreatedAt, Log: []events.Attempt{}}
		if r.State == events.StatePending {
			t := r.NextAt
			out[i].NextAt = &t
		}
		ids[i], idx[r.ID] = r.ID, i
	}
	if len(ids) == 0 {
		return out, nil
	}
	var atts []struct {
		DeliveryID int64
		events.Attempt
	}
	if err := db.Raw(`SELECT delivery_id, at, status, response, error, latency_ms FROM event_attempts WHERE shop_id = ? AND delivery_id IN (?) ORDER BY id`,
		shopID, ids).Scan(&atts).Error; err != nil {
		return nil, unavailable(err, "list delivery attempts")
	}
	for _, a := range atts {
		i := idx[a.DeliveryID]
		out[i].Log = append(out[i].Log, a.Attempt)
	}
	return out, nil
}

// Resend implements events.EndpointStore.
func (s *EventStore) Resend(ctx context.Context, shopID, deliveryID int64) error {
	var enabled *bool
	err := s.db.gorm.WithContext(ctx).Raw(`UPDATE event_deliveries d SET state = 'pending', next_at = now(), locked_until = NULL, offered_until = NULL
		FROM event_endpoints p WHERE d.id = ? AND d.shop_id = ? AND p.id = d.endpoint_id AND p.enabled RETURNING p.enabled`, deliveryID, shopID).Scan(&enabled).Error
	if err != nil {
		return unavailable(err, "resend delivery")
	}
	if enabled != nil {
		return nil
	}
	var n int64
	if err := s.db.gorm.WithContext(ctx).Raw(`SELECT count(*) FROM event_deliveries WHERE id = ? AND shop_id = ?`, deliveryID, shopID).Scan(&n).Error; err != nil {
		return unavailable(err, "resend delivery")
	}
	if n == 0 {
		return app.Errorf(app.ENOTFOUND, "no delivery %d in this shop", deliveryID)
	}
	return app.Errorf(app.ECONFLICT, "the endpoint is disabled: enable it first")
}

// DueDelivery is a delivery to offer to a worker.
type DueDelivery struct {
	ID       int64
	Attempts int
}

// DueDeliveries takes the deliveries due now (pending past next_at, or
// claimed by a worker whose claim lapsed: it died mid-attempt) that were
// not offered in the last minute, and stamps them offered: each sweep
// queues only what it has not queued already, and a job lost with Redis's
// data is queued again a minute later.
func (s *EventStore) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]DueDelivery, error) {
	var out []DueDelivery
	err := s.db.gorm.WithContext(ctx).Raw(`UPDATE event_deliveries SET offered_until = ? WHERE id IN (
			SELECT id FROM event_deliveries
			WHERE state IN ('pending', 'sending') AND next_at <= ? AND (state = 'pending' OR locked_until < ?)
				AND (offered_until IS NULL OR offered_until < ?)
			ORDER BY next_at LIMIT ? FOR UPDATE SKIP LOCKED)
		RETURNING id, attempts`,
		now.Add(time.Minute), now, now, now, limit).Scan(&out).Error
	return out, unavailable(err, "list due deliveries")
}

// Claim implements events.DeliveryStore.
func (s *EventStore) Claim(ctx context.Context, id int64, now time.Time, lease time.Duration) (*events.Claimed, error) {
	var c struct {
		ID           int64
		ShopID       int64
		EndpointID   int64
		EventID      string
		Attempts     int
		URL          string
		Secret       string
		Enabled      *bool
		FailingSince *time.Time
		Payload      string
	}
	err := s.db.gorm.WithContext(ctx).Raw(`WITH d AS (
			UPDATE event_deliveries SET state = 'sending', locked_until = ?
			WHERE id = ? AND next_at <= ? AND (state = 'pending' OR (state = 'sending' AND locked_until < ?))
			RETURNING id, shop_id, endpoint_id, event_id, attempts)
		SELECT d.*, p.url, p.secret, p.enabled, p.failing_since, e.payload::text AS payload
		FROM d JOIN events e ON e.id = d.event_id LEFT JOIN event_endpoints p ON p.id = d.endpoint_id`,
		now.Add(lease), id, now, now).Scan(&c).Error
	if err != nil {
		return nil, unavailable(err, fmt.Sprintf("claim delivery %d", id))
	}
	if c.ID == 0 {
		return nil, nil
	}
	if c.Enabled == nil || !*c.Enabled {
		err := s.db.gorm.WithContext(ctx).Exec(`UPDATE event_deliveries SET state = 'failed', last_error = 'endpoint disabled', locked_until = NULL
			WHERE id = ? AND state = 'sending'`, id).Error
		return nil, unavailable(err, "fail delivery to a disabled endpoint")
	}
	secret, err := s.db.keyring.Open(c.Secret, endpointSealContext(c.ShopID, c.EndpointID))
	if err != nil {
		return nil, fmt.Errorf("open secret of endpoint %d: %w", c.EndpointID, err)
	}
	return &events.Claimed{DeliveryID: c.ID, ShopID: c.ShopID, EndpointID: c.EndpointID, URL: c.URL, Secret: secret, EventID: c.EventID,
		Body: []byte(c.Payload), Attempts: c.Attempts, FailingSince: c.FailingSince}, nil
}

// Record implements events.DeliveryStore: the attempt's log row, the
// delivery's state and the endpoint's health, in one transaction, and only
// while the claim holds (same attempt count, still sending): a worker whose
// claim lapsed and was taken over records nothing.
func (s *EventStore) Record(ctx context.Context, c *events.Claimed, o events.Outcome) error {
	err := s.db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		state, next := events.StateFailed, any(nil)
		var delivered any
		switch {
		case o.Delivered:
			state, delivered = events.StateDelivered, o.At
		case o.NextAt != nil:
			state, next = events.StatePending, *o.NextAt
		}
		res := tx.Exec(`UPDATE event_deliveries SET state = ?, attempts = attempts + 1, next_at = COALESCE(?, next_at), locked_until = NULL,
			offered_until = NULL, last_status = ?, last_error = ?, delivered_at = ? WHERE id = ? AND state = 'sending' AND attempts = ?`,
			state, next, o.Status, truncate(o.Error, 500), delivered, c.DeliveryID, c.Attempts)
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		if err := tx.Exec(`INSERT INTO event_attempts (shop_id, delivery_id, at, status, response, error, latency_ms) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			c.ShopID, c.DeliveryID, o.At, o.Status, truncate(o.Response, 500), truncate(o.Error, 500), o.Latency.Milliseconds()).Error; err != nil {
			return err
		}
		if o.Delivered {
			if c.FailingSince == nil {
				return nil // healthy already: nothing to write
			}
			return tx.Exec(`UPDATE event_endpoints SET failing_since = NULL WHERE id = ? AND failing_since IS NOT NULL`, c.EndpointID).Error
		}
		if err := tx.Exec(`UPDATE event_endpoints SET failing_since = ? WHERE id = ? AND failing_since IS NULL`, o.At, c.EndpointID).Error; err != nil {
			return err
		}
		if o.Disable == "" {
			return nil
		}
		var url string
		if err := tx.Raw(`UPDATE event_endpoints SET enabled = false, disabled_reason = ?, updated_at = now() WHERE id = ? AND enabled RETURNING url`,
			o.Disable, c.EndpointID).Scan(&url).Error; err != nil || url == "" {
			return err
		}
		if err := tx.Exec(`UPDATE event_deliveries SET state = 'failed', last_error = 'endpoint disabled', locked_until = NULL
			WHERE endpoint_id = ? AND state = 'pending'`, c.EndpointID).Error; err != nil {
			return err
		}
		// The merchant is told on the console's dashboard (system notices).
		return audit(tx, c.ShopID, "system", "event_endpoint_disabled", "event_endpoint:"+strconv.FormatInt(c.EndpointID, 10), "", nil,
			map[string]any{"url": url, "reason": o.Disable})
	})
	return unavailable(err, fmt.Sprintf("record attempt of delivery %d", c.DeliveryID))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && (s[n]&0xC0) == 0x80 {
		n--
	}
	return s[:n]
}

// emitEmailSent writes email.sent for an outbox row the SMTP server
// accepted: the kind, the Message-ID and the advocate, never the content.
func emitEmailSent(tx *gorm.DB, it *email.Item, at time.Time) error {
	data := map[string]any{"email": map[string]any{"id": it.ID, "kind": string(it.Kind), "message_id": it.MessageID,
		"sent_at": at.UTC().Format(time.RFC3339)}}
	if it.AdvocateID != 0 {
		adv, err := advocateData(tx, it.AdvocateID)
		if err != nil {
			return err
		}
		data["advocate"] = adv
	}
	return Emit(tx, events.Event{ShopID: it.ShopID, Type: events.EmailSent, Subject: "email:" + strconv.FormatInt(it.ID, 10),
		AdvocateID: it.AdvocateID, Data: data, At: at})
}
