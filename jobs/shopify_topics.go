package jobs

import (
	"context"
	"encoding/json"
	"fmt"
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

// ShopifyTopics returns the handlers for Shopify's order, lifecycle and
// compliance topics.
func ShopifyTopics(shops app.ShopService, compliance app.ComplianceService, engine OrderEvents, now func() time.Time) map[string]TopicHandler {
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
			// Shopify has already revoked the token; drop ours and keep the
			// data until shop/redact (48 h later) or a reinstall.
			return shops.MarkUninstalled(ctx, shop.ID, eventTime(ev))
		},
		shopify.TopicCustomersDataReq: func(ctx context.Context, shop *app.Shop, ev *app.WebhookEvent) error {
			req, err := parseCompliance(ev.Payload)
			if err != nil {
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
			n, err := compliance.RedactCustomer(ctx, shop.ID, req.customer(req.OrdersToRedact), now())
			if err == nil {
				logging.From(ctx).Info("customer redacted", "records", n)
			}
			return err
		},
		shopify.TopicShopRedact: func(ctx context.Context, shop *app.Shop, ev *app.WebhookEvent) error {
			// Shopify sends shop/redact 48 h after uninstall; a merchant who
			// reinstalled since wants their data kept.
			if shop.Status == app.ShopInstalled && shop.InstalledAt != nil && shop.InstalledAt.After(eventTime(ev)) {
				logging.From(ctx).Info("shop reinstalled after redact request; keeping data")
				return nil
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
