package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/logging"
	"github.com/parrain/parrain/app/referrals"
	"github.com/parrain/parrain/integrations/shopify"
)

// OrderEvents feeds order events to the referral engine.
type OrderEvents interface {
	HandleOrderEvent(ctx context.Context, shop *app.Shop, ev referrals.OrderEvent) error
	RecordOrderEvent(ctx context.Context, shop *app.Shop, ev referrals.OrderEvent) error
}

// InstallProbe asks the store whether the app is still installed on a shop.
type InstallProbe interface {
	// StillInstalled reports whether the shop still answers its API with its
	// token; an error means the store could not tell (retry later).
	StillInstalled(ctx context.Context, shop *app.Shop) (bool, error)
}

// ShopifyTopics returns the handlers for Shopify's order, lifecycle and
// compliance topics. The destructive ones (app/uninstalled, shop/redact) act
// only when the store agrees: webhook topics are unsigned headers, so a
// genuine body replayed under them must not cost a merchant their install or
// their data (docs/webhooks.md).
func ShopifyTopics(shops app.ShopService, compliance app.ComplianceService, engine OrderEvents, probe InstallProbe, now func() time.Time) map[string]TopicHandler {
	// storeSaysGone is true when the shop no longer lets us in. A shop
	// without credentials is already uninstalled on our side.
	storeSaysGone := func(ctx context.Context, shop *app.Shop) (bool, error) {
		if shop.Status != app.ShopInstalled {
			return true, nil
		}
		installed, err := probe.StillInstalled(ctx, shop)
		if err != nil {
			return false, err
		}
		return !installed, nil
	}
	orderTopic := func(paid bool) TopicHandler {
		return func(ctx context.Context, shop *app.Shop, ev *app.WebhookEvent) error {
			oe, err := shopify.ParseOrderEvent(ev.Payload, paid)
			if err != nil {
				return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
			}
			if shop.Status != app.ShopInstalled {
				return engine.RecordOrderEvent(ctx, shop, oe) // no token: record only
			}
			return engine.HandleOrderEvent(ctx, shop, oe)
		}
	}
	return map[string]TopicHandler{
		shopify.TopicOrdersCreate:    orderTopic(false),
		shopify.TopicOrdersPaid:      orderTopic(true),
		shopify.TopicOrdersCancelled: orderTopic(false),
		shopify.TopicRefundsCreate: func(ctx context.Context, shop *app.Shop, ev *app.WebhookEvent) error {
			oe, err := shopify.ParseRefundEvent(ev.Payload)
			if err != nil {
				return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
			}
			if shop.Status != app.ShopInstalled {
				return engine.RecordOrderEvent(ctx, shop, oe)
			}
			return engine.HandleOrderEvent(ctx, shop, oe)
		},
		shopify.TopicAppUninstalled: func(ctx context.Context, shop *app.Shop, ev *app.WebhookEvent) error {
			// Shopify revokes the tokens before it sends app/uninstalled, so
			// a shop that still answers with its token did not uninstall:
			// the delivery is a replay (or stale, after a reinstall).
			gone, err := storeSaysGone(ctx, shop)
			if err != nil {
				return err
			}
			if !gone {
				logging.From(ctx).Warn("app/uninstalled ignored: the shop still answers the Admin API with its token")
				return nil
			}
			// Drop our token and keep the data until shop/redact (48 h
			// later) or a reinstall.
			return shops.MarkUninstalled(ctx, shop.ID, eventTime(ev))
		},
		shopify.TopicCustomersDataReq: func(ctx context.Context, shop *app.Shop, ev *app.WebhookEvent) error {
			req, err := parseCompliance(ev.Payload)
			if err != nil {
				return err
			}
			if err := sameShop(shop, req); err != nil {
				return err
			}
			id, err := compliance.ExportCustomer(ctx, shop.ID, req.DataRequest.ID, req.customer(req.OrdersRequested), now())
			if err == nil {
				logging.From(ctx).Info("customer data export ready", "export_id", id)
			}
			return err
		},
		shopify.TopicCustomersRedact: func(ctx context.Context, shop *app.Shop, ev *app.WebhookEvent) error {
			req, err := parseCompliance(ev.Payload)
			if err != nil {
				return err
			}
			if err := sameShop(shop, req); err != nil {
				return err
			}
			n, err := compliance.RedactCustomer(ctx, shop.ID, req.customer(req.OrdersToRedact), now())
			if err == nil {
				logging.From(ctx).Info("customer redacted", "records", n)
			}
			return err
		},
		shopify.TopicShopRedact: func(ctx context.Context, shop *app.Shop, ev *app.WebhookEvent) error {
			req, err := parseCompliance(ev.Payload)
			if err != nil {
				return err
			}
			if err := sameShop(shop, req); err != nil {
				return err
			}
			// Shopify sends shop/redact 48 h after uninstall. For a shop we
			// hold as installed the request is recorded (this event) and
			// ignored, unless the store confirms the app is gone (we missed
			// app/uninstalled): a merchant who reinstalled, or a replayed
			// body, must not erase an installed shop.
			gone, err := storeSaysGone(ctx, shop)
			if err != nil {
				return err
			}
			if !gone {
				logging.From(ctx).Warn("shop/redact ignored: the shop is installed and still answers the Admin API")
				return nil
			}
			if shop.Status == app.ShopInstalled {
				if err := shops.MarkUninstalled(ctx, shop.ID, eventTime(ev)); err != nil {
					return err
				}
			}
			return compliance.RedactShop(ctx, shop.ID, now())
		},
	}
}

// complianceRequest is the body of the three compliance webhooks
// (fixtures/shopify/compliance-*.json).
type complianceRequest struct {
	ShopID     int64  `json:"shop_id"`
	ShopDomain string `json:"shop_domain"`
	Customer   struct {
		ID    int64  `json:"id"`
		Email string `json:"email"`
		Phone string `json:"phone"`
	} `json:"customer"`
	OrdersRequested []int64 `json:"orders_requested"`
	OrdersToRedact  []int64 `json:"orders_to_redact"`
	DataRequest     struct {
		ID int64 `json:"id"`
	} `json:"data_request"`
}

func (r complianceRequest) customer(orders []int64) app.CustomerRef {
	return app.CustomerRef{ID: r.Customer.ID, Email: r.Customer.Email, Phone: r.Customer.Phone, OrderIDs: orders}
}

func parseCompliance(payload []byte) (complianceRequest, error) {
	var r complianceRequest
	if err := json.Unmarshal(payload, &r); err != nil {
		// The intake checked the JSON is well formed; a body of the wrong
		// shape will not get better with retries.
		return r, fmt.Errorf("parse compliance request: %v: %w", err, asynq.SkipRetry)
	}
	return r, nil
}

// sameShop re-checks at processing what the intake checked on arrival
// (shopify.BindWebhook): a compliance request acts only on the shop its
// signed body names. Events stored before that check existed pass through
// here too.
func sameShop(shop *app.Shop, r complianceRequest) error {
	if !strings.EqualFold(r.ShopDomain, shop.Domain) || (shop.PlatformShopID != 0 && r.ShopID != shop.PlatformShopID) {
		return fmt.Errorf("compliance request names shop %q, not %s: %w", r.ShopDomain, shop.Domain, asynq.SkipRetry)
	}
	return nil
}
