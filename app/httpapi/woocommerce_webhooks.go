package httpapi

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/logging"
	"github.com/parrain/parrain/app/metrics"
	"github.com/parrain/parrain/integrations/woocommerce"
)

// unknownStoreSecret signs nothing: deliveries for stores we do not know are
// checked against it so they cost what a known store's do, and fail.
var unknownStoreSecret = func() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return string(b)
}()

// woocommerceWebhook is WooCommerce's intake. WooCommerce never retries and
// disables a webhook after repeated failures, so it answers fast and 200
// whenever the event is stored (or was already); the poller catches what
// never arrived. The ping sent on creation is unsigned and must get 200.
func (s *Server) woocommerceWebhook(c *gin.Context) {
	reject := func(reason string, err error) {
		metrics.WebhooksRejected.WithLabelValues("woocommerce", reason).Inc()
		fail(c, err)
	}
	body, ok := s.intakeBody(c, reject)
	if !ok {
		return
	}
	if _, ok := woocommerce.Ping(c.Request.Header, body); ok {
		c.JSON(http.StatusOK, gin.H{"status": "ping"})
		return
	}
	// An unknown or uninstalled store is answered exactly like a known
	// one with a bad signature (same status, same message, an HMAC computed
	// all the same), so the intake does not tell who uses Parrain.
	domain := strings.ToLower(strings.TrimPrefix(c.Param("shop"), "/"))
	ctx := c.Request.Context()
	shop, err := s.Shops.ShopByDomain(ctx, app.PlatformWooCommerce, domain)
	if err != nil && app.ErrorCode(err) != app.ENOTFOUND {
		fail(c, err)
		return
	}
	secret, known := unknownStoreSecret, err == nil
	if known {
		// The shop's own secret, unchanged by reconnects (new keys); see
		// woocommerce.ShopWebhookSecret.
		sec, _, err := woocommerce.ShopWebhookSecret(ctx, s.WooInstalls, shop.ID, shop.Domain)
		switch {
		case err == nil:
			secret = sec
		case app.ErrorCode(err) == app.ENOTFOUND:
			known = false
		default:
			fail(c, err)
			return
		}
	}
	// A refused delivery counts toward the store disabling the webhook:
	// keep why, to tell the merchant if it does.
	refuse := func(reason, why string, err error) {
		if rerr := s.WooInstalls.RecordDeliveryRejected(ctx, shop.ID, why, s.Now()); rerr != nil {
			logging.From(ctx).Warn("record rejected delivery", "shop_id", shop.ID, "error", rerr.Error())
		}
		reject(reason, err)
	}
	if err := woocommerce.VerifySignature(body, c.GetHeader("X-WC-Webhook-Signature"), secret); err != nil || !known {
		if !known {
			reject("shop", app.Errorf(app.EUNAUTHORIZED, "webhook signature does not match"))
			return
		}
		refuse("hmac", "a delivery's signature did not match the shop's webhook secret", err)
		return
	}
	body = s.storable(c, body)
	topic := c.GetHeader("X-WC-Webhook-Topic")
	if !woocommerce.KnownTopic(topic) {
		refuse("topic", "a delivery had an unknown topic ("+trimTo(topic, 60)+")", app.Errorf(app.EINVALID, "unknown or missing X-WC-Webhook-Topic"))
		return
	}
	if trimmed := bytes.TrimSpace(body); len(trimmed) == 0 || trimmed[0] != '{' || !json.Valid(body) {
		refuse("json", "a delivery's body was not JSON", app.Errorf(app.EINVALID, "body is not a JSON object"))
		return
	}
	// Delivery ids repeat across orders and one save sends identical
	// created and updated bodies: deduplicate on what the body says.
	key, err := woocommerce.DeliveryKey(body)
	if err != nil {
		// Authentic, but not an order: WooCommerce sends the REST error
		// it got while building the payload ({"code":"rest_no_route"},
		// woocommerce.md §9). Nothing to store, and anything but 200
		// counts toward disabling the webhook; the poll finds the order.
		metrics.WebhooksIgnored.WithLabelValues("woocommerce", "not_an_order").Inc()
		logging.From(ctx).Info("woocommerce delivery without an order ignored", "shop_id", shop.ID, "topic", topic)
		c.JSON(http.StatusOK, gin.H{"status": "ignored"})
		return
	}
	if topic == woocommerce.TopicOrderDeleted {
		key = "deleted:" + key
	}
	ev := &app.WebhookEvent{ShopID: shop.ID, Platform: app.PlatformWooCommerce, Topic: topic, EventID: key,
		WebhookID: c.GetHeader("X-WC-Webhook-ID"), Payload: body}
	id, created, err := s.Webhooks.StoreEvent(ctx, ev)
	if err != nil {
		fail(c, err)
		return
	}
	if !created {
		metrics.WebhooksDuplicate.WithLabelValues("woocommerce", topic).Inc()
		c.JSON(http.StatusOK, gin.H{"status": "duplicate"})
		return
	}
	metrics.WebhooksReceived.WithLabelValues("woocommerce", topic).Inc()
	s.Notifier.Notify(app.EventRef{ID: id, ShopID: shop.ID})
	c.JSON(http.StatusOK, gin.H{"status": "stored"})
}

func trimTo(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
