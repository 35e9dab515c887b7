package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/bytedance/sonic"
	"github.com/hibiken/asynq"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/logging"
)

// TypeProcessWebhook processes one stored webhook event.
const TypeProcessWebhook = "webhook:process"

// ProcessWebhookPayload names the stored event. A job queued by the intake
// also carries the event's shop, topic and compact payload (app.EventRef's
// Inline); one queued by the relay names the event only.
type ProcessWebhookPayload struct {
	EventID int64           `json:"event_id"`
	ShopID  int64           `json:"shop_id,omitempty"`
	Topic   string          `json:"topic,omitempty"`
	Inline  json.RawMessage `json:"inline,omitempty"`
}

// appendJSON appends what json.Marshal gives for pl, without re-scanning
// Inline: encoding/json compacts a RawMessage byte by byte (4-5% of serve's
// CPU under load, more than the enqueue itself). Inline is checked valid
// beforehand (NewProcessWebhookTask drops an invalid one: the job then
// loads the stored event, as a relay's job does). The result is the JSON
// value json.Marshal gives, and its very bytes for the intake's copy
// (shopify.ReadWebhook encodes it compact, HTML escaped as encoding/json
// does): TestProcessWebhookPayloadJSON.
func (pl ProcessWebhookPayload) appendJSON(b []byte) []byte {
	b = append(b, `{"event_id":`...)
	b = strconv.AppendInt(b, pl.EventID, 10)
	if pl.ShopID != 0 {
		b = append(b, `,"shop_id":`...)
		b = strconv.AppendInt(b, pl.ShopID, 10)
	}
	if pl.Topic != "" {
		topic, _ := json.Marshal(pl.Topic)
		b = append(b, `,"topic":`...)
		b = append(b, topic...)
	}
	if len(pl.Inline) > 0 {
		b = append(b, `,"inline":`...)
		b = append(b, pl.Inline...)
	}
	return append(b, '}')
}

// WebhookTaskID is the asynq task id of an event's job. Deriving it from the
// event row makes a second enqueue (relay after a crash, a retry of the
// intake's enqueue) a no-op while the task is queued.
func WebhookTaskID(eventID int64) string { return "webhook:" + strconv.FormatInt(eventID, 10) }

// NewProcessWebhookTask returns the job for a stored event, in its shop's
// lane (WebhookQueue).
func NewProcessWebhookTask(ev app.EventRef) *asynq.Task {
	pl := ProcessWebhookPayload{EventID: ev.ID}
	if len(ev.Inline) > 0 && ev.Topic != "" && sonic.ConfigStd.Valid(ev.Inline) {
		pl.ShopID, pl.Topic, pl.Inline = ev.ShopID, ev.Topic, ev.Inline
	}
	return asynq.NewTask(TypeProcessWebhook, pl.appendJSON(make([]byte, 0, 96+len(pl.Inline))),
		asynq.TaskID(WebhookTaskID(ev.ID)), asynq.Queue(WebhookQueue(ev.ShopID)), asynq.MaxRetry(20), asynq.Timeout(2*time.Minute))
}

// TopicHandler processes one topic's events. It must be idempotent: an event
// can be processed again after a crash between the handler's work and
// MarkProcessed.
type TopicHandler func(ctx context.Context, shop *app.Shop, ev *app.WebhookEvent) error

// WebhookProcessor dispatches stored events to their topic's handler.
type WebhookProcessor struct {
	Webhooks app.WebhookService
	Shops    app.ShopService
	Topics   map[string]TopicHandler
	Now      func() time.Time
}

// ProcessTask implements asynq.Handler.
func (p *WebhookProcessor) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var pl ProcessWebhookPayload
	if err := json.Unmarshal(t.Payload(), &pl); err != nil || pl.EventID <= 0 {
		return fmt.Errorf("process webhook: bad payload: %v: %w", err, asynq.SkipRetry)
	}
	ev, err := p.event(ctx, pl)
	if app.ErrorCode(err) == app.ENOTFOUND {
		// Erased by shop/redact after it was queued: nothing left to do.
		return nil
	}
	if err != nil {
		return err
	}
	if ev.ProcessedAt != nil {
		return nil
	}
	log := logging.From(ctx).With("event", ev.ID, "topic", ev.Topic, "shop_id", ev.ShopID)
	shop, err := p.Shops.ShopByID(ctx, ev.ShopID)
	if err != nil {
		return err
	}
	h, ok := p.Topics[ev.Topic]
	if !ok {
		// The intake only stores known topics; an event without handler is
		// recorded as processed so it does not retry forever.
		log.Warn("no handler for topic")
		return p.Webhooks.MarkProcessed(ctx, ev.ID, p.Now())
	}
	if err := h(logging.With(ctx, log), shop, ev); err != nil {
		if merr := p.Webhooks.MarkFailed(ctx, ev.ID, err); merr != nil {
			log.Error("record failure", "error", merr.Error())
		}
		return fmt.Errorf("process %s event %d: %w", ev.Topic, ev.ID, err)
	}
	return p.Webhooks.MarkProcessed(ctx, ev.ID, p.Now())
}

// event is the job's event: from the compact payload the task carries when
// the event is still pending (one indexed read instead of loading the
// stored body and decoding it whole), else as stored. An event processed
// or redacted since it was queued is loaded: a redacted one must not be
// processed from the copy taken before its redaction.
func (p *WebhookProcessor) event(ctx context.Context, pl ProcessWebhookPayload) (*app.WebhookEvent, error) {
	if len(pl.Inline) > 0 && pl.ShopID > 0 && pl.Topic != "" {
		pending, err := p.Webhooks.Pending(ctx, pl.EventID)
		if err != nil {
			return nil, err
		}
		if pending {
			return &app.WebhookEvent{ID: pl.EventID, ShopID: pl.ShopID, Topic: pl.Topic, Payload: pl.Inline}, nil
		}
	}
	return p.Webhooks.Event(ctx, pl.EventID)
}

// eventTime is when the platform says the event happened, falling back to
// when we received it.
func eventTime(ev *app.WebhookEvent) time.Time {
	if ev.TriggeredAt != nil {
		return *ev.TriggeredAt
	}
	return ev.ReceivedAt
}
