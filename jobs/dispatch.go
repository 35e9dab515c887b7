package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/metrics"
)

// Enqueuer is what the dispatcher needs from the queue client.
type Enqueuer interface {
	EnqueueContext(ctx context.Context, task *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error)
}

// Dispatcher enqueues the jobs of freshly stored webhook events, off the
// request path: the intake answers as soon as the event is committed, then
// hands the id here. Nothing is lost if Redis is down or the process dies
// before the enqueue: the event stays unprocessed in Postgres and the relay
// enqueues it. Nothing is doubled: the task id is derived from the row, and
// the job skips processed events. It writes nothing to Postgres, so the only
// write on the intake path is the insert itself.
type Dispatcher struct {
	queue Enqueuer
	log   *slog.Logger
	ids   chan app.EventRef
	wg    sync.WaitGroup
	once  sync.Once
}

// NewDispatcher starts workers goroutines that enqueue.
func NewDispatcher(queue Enqueuer, workers int, log *slog.Logger) *Dispatcher {
	d := &Dispatcher{queue: queue, log: log, ids: make(chan app.EventRef, 4096)}
	for range workers {
		d.wg.Add(1)
		go d.run()
	}
	return d
}

// Notify hands a stored event to the dispatcher. It never blocks: when the
// buffer is full the relay enqueues the event a little later.
func (d *Dispatcher) Notify(ev app.EventRef) {
	select {
	case d.ids <- ev:
	default:
	}
}

// Close stops accepting work and waits until what was handed over is
// enqueued (or left for the relay).
func (d *Dispatcher) Close() {
	d.once.Do(func() { close(d.ids) })
	d.wg.Wait()
}

func (d *Dispatcher) run() {
	defer d.wg.Done()
	failing := false
	for ev := range d.ids {
		err := EnqueueWebhook(d.queue, ev)
		// One line per outage, not per event.
		if err != nil && !failing {
			d.log.Warn("enqueue webhook job failed; the relay will retry", "event", ev.ID, "error", err.Error())
		}
		failing = err != nil
	}
}

// EnqueueWebhook enqueues the event's job in its shop's lane: already
// queued counts as success, a finished (archived) copy is revived
// (enqueueOnce). The lane is a function of the shop, so every enqueue of an
// event (dispatcher, relay) meets the same task id in the same queue.
func EnqueueWebhook(queue Enqueuer, ev app.EventRef) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return enqueueOnce(ctx, queue, NewProcessWebhookTask(ev), WebhookQueue(ev.ShopID), WebhookTaskID(ev.ID))
}

// Relay enqueues the jobs of stored events that are still unprocessed some
// time after they arrived: Redis was down at intake, the dispatcher's buffer
// was full, or the process died in between. Several replicas may run it; a
// double enqueue is a no-op (task id), and so is a job for a processed event.
// Each relayed event is stamped, so one whose job keeps failing is offered
// again only every Revisit, not on every pass.
//
// The stamp assumes the queue keeps what it was given. Redis restarted
// without persistence (or flushed) loses every queued task while the
// stamps say "offered": those events would wait Revisit (10 minutes). The
// Marker notices: it is a key the relay keeps in the queue's Redis, lost
// with everything else, and the pass that finds it missing re-offers every
// unprocessed event regardless of stamps (a sweep), then sets it again. An
// event still queued is a no-op (task id); a failing one gets one more
// offer per Redis loss, not one per pass.
type Relay struct {
	Queue    Enqueuer
	Webhooks app.WebhookService
	Log      *slog.Logger
	Now      func() time.Time
	// After is how old an unenqueued event must be before the relay takes
	// it, leaving the dispatcher time to do it first.
	After    time.Duration
	Interval time.Duration
	Revisit  time.Duration
	// Marker detects a queue that lost its data (nil: never sweeps).
	Marker QueueMarker
}

// QueueMarker is a key kept in the queue's Redis whose absence means the
// queue's data was lost since it was last set.
type QueueMarker interface {
	// Present reports whether the marker is there.
	Present(ctx context.Context) (bool, error)
	// Set (re)creates it.
	Set(ctx context.Context) error
}

// RedisMarker is a QueueMarker in the queue's own Redis database. It never
// expires; if it is evicted anyway, the cost is one harmless sweep.
type RedisMarker struct {
	Redis interface {
		Exists(ctx context.Context, keys ...string) *redis.IntCmd
		Set(ctx context.Context, key string, value any, expiration time.Duration) *redis.StatusCmd
	}
	Key string
}

// RelayMarkerKey is the marker's key.
const RelayMarkerKey = "parrain:relay:queue-epoch"

// Present implements QueueMarker.
func (m RedisMarker) Present(ctx context.Context) (bool, error) {
	n, err := m.Redis.Exists(ctx, m.Key).Result()
	return n == 1, err
}

// Set implements QueueMarker.
func (m RedisMarker) Set(ctx context.Context) error {
	return m.Redis.Set(ctx, m.Key, time.Now().UTC().Format(time.RFC3339), 0).Err()
}

// Run relays until ctx is done.
func (r *Relay) Run(ctx context.Context) {
	t := time.NewTicker(r.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := r.RelayOnce(ctx); err != nil {
				r.Log.Warn("relay webhook events", "relayed", n, "error", err.Error())
			} else if n > 0 {
				r.Log.Info("relayed webhook events", "count", n)
			}
		}
	}
}

// RelayOnce enqueues one batch of waiting events and returns how many it
// enqueued. It stops at the first enqueue failure (Redis is still down).
// When the queue lost its data since the last pass, it first re-offers
// every unprocessed event (sweep).
func (r *Relay) RelayOnce(ctx context.Context) (int, error) {
	if r.Marker != nil {
		present, err := r.Marker.Present(ctx)
		if err != nil {
			return 0, fmt.Errorf("relay: read queue marker: %w", err)
		}
		if !present {
			n, err := r.sweep(ctx)
			if err != nil {
				return n, err
			}
			// Only after a complete sweep: a sweep cut short by a new
			// outage is done again on the next pass.
			if err := r.Marker.Set(ctx); err != nil {
				return n, fmt.Errorf("relay: set queue marker: %w", err)
			}
			if n > 0 {
				r.Log.Warn("the queue lost its data (Redis restarted or flushed); re-offered unprocessed webhook events", "count", n)
			}
		}
	}
	now := r.Now()
	return r.offer(ctx, now.Add(-r.After), now.Add(-r.Revisit))
}

// sweep re-offers every unprocessed event received before now-After,
// stamped or not, in id order; events younger than After are the
// dispatcher's, then the next passes'.
func (r *Relay) sweep(ctx context.Context) (int, error) {
	total := 0
	before := r.Now().Add(-r.After)
	var after int64
	for {
		evs, err := r.Webhooks.UnprocessedAfter(ctx, after, before, 500)
		if err != nil || len(evs) == 0 {
			return total, err
		}
		n, err := r.enqueue(ctx, evs)
		total += n
		if err != nil {
			return total, err
		}
		after = evs[len(evs)-1].ID
	}
}

func (r *Relay) offer(ctx context.Context, receivedBefore, enqueuedBefore time.Time) (int, error) {
	evs, err := r.Webhooks.Unprocessed(ctx, receivedBefore, enqueuedBefore, 500)
	if err != nil {
		return 0, err
	}
	return r.enqueue(ctx, evs)
}

// enqueue enqueues the events in order (each in its shop's lane), stamps
// those it enqueued, and stops at the first failure.
//
// An event whose job is live in the queue (the dispatcher queued it and
// the worker has not got to it: a backlog) counts as enqueued without a
// call: its enqueue would be a conflict followed by an inspection finding
// the task live, three round trips per event for nothing. One pipelined
// read tells which are live (LiveChecker); when it fails, every event
// takes the enqueue path.
func (r *Relay) enqueue(ctx context.Context, evs []app.EventRef) (int, error) {
	var live []bool
	if lc, ok := r.Queue.(LiveChecker); ok && len(evs) > 0 {
		tasks := make([]TaskRef, len(evs))
		for i, ev := range evs {
			tasks[i] = TaskRef{Queue: WebhookQueue(ev.ShopID), ID: WebhookTaskID(ev.ID)}
		}
		live, _ = lc.Live(ctx, tasks)
	}
	done := make([]int64, 0, len(evs))
	var err error
	for i, ev := range evs {
		if i >= len(live) || !live[i] {
			if err = EnqueueWebhook(r.Queue, ev); err != nil {
				break
			}
		}
		done = append(done, ev.ID)
	}
	if merr := r.Webhooks.MarkEnqueued(ctx, done); merr != nil && err == nil {
		err = merr
	}
	metrics.WebhooksRelayed.Add(float64(len(done)))
	return len(done), err
}
