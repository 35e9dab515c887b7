package httpapi

import (
	"context"
	"crypto/subtle"
	"fmt"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/logging"
	"github.com/parrain/parrain/app/metrics"
)

// OrderFetcher brings in an order the store has not delivered yet, for the
// popup (popup.Fetcher): WooCommerce's deliveries can trail the
// order-received page by minutes. The order is read from the store and
// stored as the webhook event its delivery will be, then processed like
// one, so the delivery arriving later is a duplicate and nothing is counted
// twice.
type OrderFetcher struct {
	Store    app.StorePlatform
	Webhooks app.WebhookService
	Notifier EventNotifier
}

// FetchUnknownOrder stores the order if the store has it and its key is the
// one the page showed (compared in constant time): a caller without the key
// can make Parrain read an order but never store one. Stores whose
// deliveries need no help fetch nothing.
func (f *OrderFetcher) FetchUnknownOrder(ctx context.Context, shop *app.Shop, orderID, orderKey string) error {
	fo, err := f.Store.FetchOrder(ctx, shop, orderID)
	if err != nil || fo == nil {
		return err
	}
	if orderKey == "" || subtle.ConstantTimeCompare([]byte(fo.Key), []byte(orderKey)) != 1 {
		return nil
	}
	ev := fo.Event
	ev.ShopID, ev.Platform = shop.ID, shop.Platform
	ev.Payload, _ = storableJSON(ev.Payload)
	id, created, err := f.Webhooks.StoreEvent(ctx, &ev)
	if err != nil {
		return fmt.Errorf("store fetched order %s: %w", orderID, err)
	}
	if created {
		metrics.WebhooksReceived.WithLabelValues(string(shop.Platform), "fetched:"+ev.Topic).Inc()
		logging.From(ctx).Info("order fetched from the store before its delivery", "shop_id", shop.ID, "event_id", id)
		f.Notifier.Notify(app.EventRef{ID: id, ShopID: shop.ID})
	}
	return nil
}
