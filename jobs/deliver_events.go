package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/hibiken/asynq"

	"github.com/parrain/parrain/app/postgres"
)

// TypeDeliverEvent makes one attempt of one event delivery (a signed POST
// to a merchant's endpoint); TypeSweepEvents queues the deliveries that are
// due. Deliveries are rows written with the state change they report (the
// outbox): the sweep finds every due one, so a job lost with Redis, or a
// worker killed mid-attempt, only delays a delivery.
const (
	TypeDeliverEvent = "event:deliver"
	TypeSweepEvents  = "events:sweep"
)

// DeliverEventPayload names the delivery.
type DeliverEventPayload struct {
	DeliveryID int64 `json:"delivery_id"`
}

// NewDeliverEventTask returns one attempt's job; its id names the delivery
// and the attempt, so the sweep offering it again while it waits is a
// no-op and the next attempt is a new task.
func NewDeliverEventTask(deliveryID int64, attempts int) *asynq.Task {
	b, _ := json.Marshal(DeliverEventPayload{DeliveryID: deliveryID})
	return asynq.NewTask(TypeDeliverEvent, b, asynq.TaskID(deliveryTaskID(deliveryID, attempts)),
		asynq.Queue(QueueDefault), asynq.MaxRetry(5), asynq.Timeout(time.Minute))
}

func deliveryTaskID(id int64, attempts int) string {
	return "event-delivery:" + strconv.FormatInt(id, 10) + ":" + strconv.Itoa(attempts)
}

// NewSweepEventsTask returns the periodic sweep.
func NewSweepEventsTask() *asynq.Task {
	// Every worker process schedules it; concurrent sweeps take disjoint
	// rows (SKIP LOCKED, offered_until), so no uniqueness lock is needed.
	return asynq.NewTask(TypeSweepEvents, nil, asynq.Queue(QueueDefault), asynq.MaxRetry(0), asynq.Timeout(time.Minute))
}

// EventDeliverer makes one attempt; events.Deliverer implements it.
type EventDeliverer interface {
	Deliver(ctx context.Context, deliveryID int64) error
}

// DeliverEvent handles TypeDeliverEvent. An endpoint's failure is recorded
// and rescheduled in the row, not returned: only our own failures (the
// database) make asynq retry.
type DeliverEvent struct{ Deliverer EventDeliverer }

// ProcessTask implements asynq.Handler.
func (h *DeliverEvent) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p DeliverEventPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.DeliveryID <= 0 {
		return fmt.Errorf("deliver event: bad payload: %v: %w", err, asynq.SkipRetry)
	}
	return h.Deliverer.Deliver(ctx, p.DeliveryID)
}

// DueDeliveries lists deliveries due now; postgres.EventStore implements it.
type DueDeliveries interface {
	DueDeliveries(ctx context.Context, now time.Time, limit int) ([]postgres.DueDelivery, error)
}

// SweepEvents handles TypeSweepEvents: every due delivery gets its
// attempt's job.
type SweepEvents struct {
	Store DueDeliveries
	Queue Enqueuer
	Now   func() time.Time
	// Limit bounds one sweep (default 5,000); the rest waits for the next.
	Limit int
}

// ProcessTask implements asynq.Handler.
func (h *SweepEvents) ProcessTask(ctx context.Context, _ *asynq.Task) error {
	_, err := h.Sweep(ctx)
	return err
}

// Sweep queues the due deliveries and returns how many it offered.
func (h *SweepEvents) Sweep(ctx context.Context) (int, error) {
	limit := h.Limit
	if limit <= 0 {
		limit = 5000
	}
	due, err := h.Store.DueDeliveries(ctx, h.Now(), limit)
	if err != nil {
		return 0, err
	}
	for i, d := range due {
		if err := enqueueOnce(ctx, h.Queue, NewDeliverEventTask(d.ID, d.Attempts), QueueDefault, deliveryTaskID(d.ID, d.Attempts)); err != nil {
			return i, fmt.Errorf("queue delivery %d: %w", d.ID, err)
		}
	}
	return len(due), nil
}
