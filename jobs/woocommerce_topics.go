package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/hibiken/asynq"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/attribution"
	"github.com/parrain/parrain/app/referrals"
	"github.com/parrain/parrain/integrations/woocommerce"
)

// WooCommerceTopics returns the handlers for WooCommerce's order topics.
// Every delivery carries the whole order as it is at delivery time: the
// order's facts, then each refund (counted once by id), go to the engine.
func WooCommerceTopics(engine OrderEvents) map[string]TopicHandler {
	feed := func(ctx context.Context, shop *app.Shop, ev referrals.OrderEvent) error {
		if shop.Status != app.ShopInstalled {
			return engine.RecordOrderEvent(ctx, shop, ev)
		}
		return engine.HandleOrderEvent(ctx, shop, ev)
	}
	order := func(ctx context.Context, shop *app.Shop, ev *app.WebhookEvent) error {
		ch, err := woocommerce.ParseOrder(ev.Payload)
		if err != nil {
			return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
		}
		if ch == nil {
			return nil // a checkout draft: nothing yet
		}
		if err := feed(ctx, shop, ch.Order); err != nil {
			return err
		}
		for _, r := range ch.Refunds {
			if err := feed(ctx, shop, r); err != nil {
				return err
			}
		}
		return nil
	}
	return map[string]TopicHandler{
		woocommerce.TopicOrderCreated: order,
		woocommerce.TopicOrderUpdated: order,
		// A deleted order reverses its referral, like a cancellation.
		woocommerce.TopicOrderDeleted: func(ctx context.Context, shop *app.Shop, ev *app.WebhookEvent) error {
			var d struct {
				ID int64 `json:"id"`
			}
			if err := json.Unmarshal(ev.Payload, &d); err != nil || d.ID == 0 {
				return fmt.Errorf("order.deleted without id: %w", asynq.SkipRetry)
			}
			return feed(ctx, shop, referrals.OrderEvent{Order: attribution.Order{PlatformID: strconv.FormatInt(d.ID, 10)}, Cancelled: true})
		},
	}
}
