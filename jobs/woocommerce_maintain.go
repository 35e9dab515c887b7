package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/logging"
	"github.com/parrain/parrain/app/referrals"
	"github.com/parrain/parrain/integrations/woocommerce"
)

// TypeWooCommerceMaintain keeps every WooCommerce store delivering: its
// webhooks exist and are active (WooCommerce disables a webhook after a few
// failed deliveries and never retries), and what was missed anyway is
// caught by polling the orders modified since the last poll.
const TypeWooCommerceMaintain = "woocommerce:maintain"

// WooCommerceMaintainCron is its schedule.
const WooCommerceMaintainCron = "@every 5m"

// NewWooCommerceMaintainTask returns the periodic job.
func NewWooCommerceMaintainTask() *asynq.Task {
	return asynq.NewTask(TypeWooCommerceMaintain, nil, asynq.Queue(QueueMaintenance), asynq.MaxRetry(0), asynq.Unique(4*time.Minute))
}

// WooCommerceMaintain handles TypeWooCommerceMaintain, and is also the
// post-install setup of a WooCommerce shop (SyncShop calls Setup).
type WooCommerceMaintain struct {
	Shops interface {
		InstalledShops(ctx context.Context, platform app.Platform, limit int) ([]*app.Shop, error)
		MarkPolled(ctx context.Context, shopID int64, at time.Time) error
		MarkWebhookSecretSynced(ctx context.Context, shopID int64) error
		DeliveryRejected(ctx context.Context, shopID int64) (string, *time.Time, error)
		SetDetails(ctx context.Context, shopID int64, d app.ShopDetails) error
		woocommerce.SecretStore
	}
	Clients woocommerce.Clients
	Engine  OrderEvents
	// Notices tells the merchant (the shop's audit log, shown in the
	// console) that a webhook had been disabled.
	Notices interface {
		Record(ctx context.Context, shopID int64, actor, action, subject string, before, after any) error
	}
	AppURL string
	Now    func() time.Time
}

// Setup makes sure the shop's webhooks exist, are active and sign with the
// shop's secret: after an install (or reconnect) the existing webhooks are
// given the secret once, and disabled ones are recreated (see
// woocommerce.Client.EnsureWebhooks).
func (m *WooCommerceMaintain) Setup(ctx context.Context, shop *app.Shop) error {
	c, err := m.Clients.Client(ctx, shop)
	if err != nil {
		return err
	}
	secret, synced, err := woocommerce.ShopWebhookSecret(ctx, m.Shops, shop.ID, shop.Domain)
	if err != nil {
		return err
	}
	created, recreated, err := c.EnsureWebhooks(ctx, m.AppURL+"/webhooks/woocommerce/"+shop.Domain, secret, !synced)
	if err != nil {
		return err
	}
	if !synced {
		if err := m.Shops.MarkWebhookSecretSynced(ctx, shop.ID); err != nil {
			return err
		}
	}
	log := logging.From(ctx)
	if len(created) > 0 {
		log.Info("woocommerce webhooks created", "shop_id", shop.ID, "topics", created)
	}
	if len(recreated) > 0 {
		log.Warn("woocommerce webhooks were disabled by the store; recreated", "shop_id", shop.ID, "topics", recreated)
		after := map[string]any{"active": recreated}
		// Why the store gave up, when Parrain knows: the last delivery it
		// refused in the past week. Otherwise the store could not reach
		// Parrain (down, unreachable, timing out).
		if why, at, err := m.Shops.DeliveryRejected(ctx, shop.ID); err == nil && why != "" && at != nil && m.Now().Sub(*at) < 7*24*time.Hour {
			after["why"] = why
		}
		if m.Notices != nil {
			if err := m.Notices.Record(ctx, shop.ID, "system", "webhooks_reenabled", "store",
				map[string]any{"disabled": recreated}, after); err != nil {
				return err
			}
		}
	}
	if shop.Name == "" || shop.Name == shop.Domain || shop.Timezone == "" {
		// Shops installed before the store's title or time zone was read.
		if site, err := woocommerce.SiteInfo(ctx, shop.StoreURL, c.HTTP); err == nil && (site.Name != "" || site.Timezone != "") {
			d := shop.ShopDetails
			if site.Name != "" {
				d.Name = site.Name
			}
			d.Timezone = site.Timezone
			if d != shop.ShopDetails {
				if err := m.Shops.SetDetails(ctx, shop.ID, d); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// Poll feeds the engine every order modified since the last poll (with a
// two-minute overlap: the engine merges, so seeing an order twice is free).
func (m *WooCommerceMaintain) Poll(ctx context.Context, shop *app.Shop) error {
	c, err := m.Clients.Client(ctx, shop)
	if err != nil {
		return err
	}
	start := m.Now()
	since := start.Add(-24 * time.Hour)
	if shop.PolledAt != nil {
		since = shop.PolledAt.Add(-2 * time.Minute)
	} else if shop.InstalledAt != nil {
		since = shop.InstalledAt.Add(-2 * time.Minute)
	}
	orders, err := c.OrdersModifiedAfter(ctx, since)
	if err != nil {
		return err
	}
	for _, raw := range orders {
		ch, err := woocommerce.ParseOrder(raw)
		if err != nil {
			logging.From(ctx).Warn("poll: unreadable order", "shop_id", shop.ID, "error", err.Error())
			continue
		}
		if ch == nil {
			continue
		}
		for _, ev := range append([]referrals.OrderEvent{ch.Order}, ch.Refunds...) {
			if err := m.Engine.HandleOrderEvent(ctx, shop, ev); err != nil {
				return fmt.Errorf("poll: order %s: %w", ch.Order.Order.PlatformID, err)
			}
		}
	}
	return m.Shops.MarkPolled(ctx, shop.ID, start)
}

// ProcessTask implements asynq.Handler: every shop, one failing store does
// not stop the others.
func (m *WooCommerceMaintain) ProcessTask(ctx context.Context, _ *asynq.Task) error {
	shops, err := m.Shops.InstalledShops(ctx, app.PlatformWooCommerce, 1000)
	if err != nil {
		return err
	}
	var failed int
	for _, sh := range shops {
		if err := m.Setup(ctx, sh); err != nil {
			failed++
			logging.From(ctx).Warn("woocommerce setup", "shop_id", sh.ID, "error", err.Error())
		}
		if err := m.Poll(ctx, sh); err != nil {
			failed++
			logging.From(ctx).Warn("woocommerce poll", "shop_id", sh.ID, "error", err.Error())
		}
	}
	if failed > 0 {
		return fmt.Errorf("woocommerce maintenance: %d step(s) failed", failed)
	}
	return nil
}
