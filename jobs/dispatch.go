package jobs

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/hibiken/asynq"

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
func (d *Dispatcher) Notify(shopID, eventID int64) {
	select {
	case d.ids <- app.EventRef{ID: eventID, ShopID: shopID}:
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
func (r *Relay) RelayOnce(ctx context.Context) (int, error) {
	now := r.Now()
	evs, err := r.Webhooks.Unprocessed(ctx, now.Add(-r.After), now.Add(-r.Revisit), 500)
	if err != nil {
		return 0, err
	}
	var done []int64
	for _, ev := range evs {
		if err = EnqueueWebhook(r.Queue, ev); err != nil {
			break
		}
		done = append(done, ev.ID)
	}
	if merr := r.Webhooks.MarkEnqueued(ctx, done); merr != nil && err == nil {
		err = merr
	}
	metrics.WebhooksRelayed.Add(float64(len(done)))
	return len(done), err
}
