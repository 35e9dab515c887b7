package app

import (
	"context"
	"encoding/json"
	"time"
)

// WebhookEvent is one platform event as it arrived: stored durably before the
// platform gets its 2xx, then processed by a job.
type WebhookEvent struct {
	ID       int64
	ShopID   int64
	Platform Platform
	Topic    string
	// EventID is the platform's id for the event (Shopify:
	// X-Shopify-Event-Id), the same across retries and duplicate deliveries;
	// (ShopID, EventID) is unique, which is what makes a duplicate a no-op.
	EventID     string
	WebhookID   string
	TriggeredAt *time.Time
	APIVersion  string
	// CustomerID is the platform customer the payload is about, if any.
	CustomerID  int64
	Payload     json.RawMessage
	ReceivedAt  time.Time
	EnqueuedAt  *time.Time
	ProcessedAt *time.Time
	Attempts    int
	LastError   string
}

// EventRef names a stored event and its shop: the shop picks the queue its
// job waits in, so one shop's backlog does not hold up another's events.
type EventRef struct {
	ID     int64
	ShopID int64
	// Topic and Inline are set by an intake that read the body: Inline is
	// a compact form of the payload holding every field the topic's
	// handler reads, carried by the job so the worker need not reload the
	// stored body (nil: the worker loads the event).
	Topic  string          `gorm:"-"`
	Inline json.RawMessage `gorm:"-"`
}

// WebhookService stores webhook events and tracks their processing.
type WebhookService interface {
	// StoreEvent inserts the event unless one with the same (shop, event id)
	// exists. It returns the stored row's id and whether this call created it.
	StoreEvent(ctx context.Context, ev *WebhookEvent) (id int64, created bool, err error)
	// Event returns the event with the given id or ENOTFOUND.
	Event(ctx context.Context, id int64) (*WebhookEvent, error)
	// Pending reports whether the event is stored, not processed and not
	// redacted: its job may run from the compact form its task carries
	// instead of loading the event.
	Pending(ctx context.Context, id int64) (bool, error)
	// MarkEnqueued records that the relay enqueued the events' jobs.
	MarkEnqueued(ctx context.Context, ids []int64) error
	// Unprocessed returns the events received before receivedBefore that
	// are not processed and that the relay has not enqueued since
	// enqueuedBefore, oldest first; the relay enqueues them.
	Unprocessed(ctx context.Context, receivedBefore, enqueuedBefore time.Time, limit int) ([]EventRef, error)
	// UnprocessedAfter returns the events with ids greater than afterID
	// received before receivedBefore that are not processed, whether
	// enqueued or not, in id order: the relay's sweep after the queue lost
	// its data.
	UnprocessedAfter(ctx context.Context, afterID int64, receivedBefore time.Time, limit int) ([]EventRef, error)
	// MarkProcessed records the end of an event's processing.
	MarkProcessed(ctx context.Context, id int64, at time.Time) error
	// MarkFailed records a failed processing attempt and its error.
	MarkFailed(ctx context.Context, id int64, cause error) error
}

// CustomerRef identifies a shop's customer in a compliance request.
type CustomerRef struct {
	ID    int64
	Email string
	Phone string
	// OrderIDs are the platform order ids the request names.
	OrderIDs []int64
}

// ComplianceService carries out the privacy-law requests platforms send
// (Shopify's mandatory compliance webhooks).
type ComplianceService interface {
	// ExportCustomer gathers everything held on the customer into a data
	// export row for the merchant to hand over and returns its id.
	ExportCustomer(ctx context.Context, shopID int64, requestID int64, c CustomerRef, at time.Time) (int64, error)
	// RedactCustomer erases the customer's personal data and returns how
	// many records it changed.
	RedactCustomer(ctx context.Context, shopID int64, c CustomerRef, at time.Time) (int64, error)
	// RedactShop erases all of the shop's data, keeping only a tombstone row
	// (id, domain, status redacted) so late deliveries still find the tenant.
	RedactShop(ctx context.Context, shopID int64, at time.Time) error
}
