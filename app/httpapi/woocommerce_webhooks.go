package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/metrics"
	"github.com/parrain/parrain/integrations/woocommerce"
)

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
	domain := strings.ToLower(strings.TrimPrefix(c.Param("shop"), "/"))
	shop, err := s.Shops.ShopByDomain(c.Request.Context(), app.PlatformWooCommerce, domain)
	if app.ErrorCode(err) == app.ENOTFOUND {
		reject("shop", app.Errorf(app.ENOTFOUND, "unknown shop"))
		return
	}
	if err != nil {
		fail(c, err)
		return
	}
	creds, err := s.Shops.Credentials(c.Request.Context(), shop.ID)
	if app.ErrorCode(err) == app.ENOTFOUND {
		reject("shop", app.Errorf(app.ENOTFOUND, "shop is not installed"))
		return
	}
	if err != nil {
		fail(c, err)
		return
	}
	if err := woocommerce.VerifySignature(body, c.GetHeader("X-WC-Webhook-Signature"), woocommerce.WebhookSecret(creds, shop.Domain)); err != nil {
		reject("hmac", err)
		return
	}
	topic := c.GetHeader("X-WC-Webhook-Topic")
	if !woocommerce.KnownTopic(topic) {
		reject("topic", app.Errorf(app.EINVALID, "unknown or missing X-WC-Webhook-Topic"))
		return
	}
	if trimmed := bytes.TrimSpace(body); len(trimmed) == 0 || trimmed[0] != '{' || !json.Valid(body) {
		reject("json", app.Errorf(app.EINVALID, "body is not a JSON object"))
		return
	}
	// Delivery ids repeat across orders and one save sends identical
	// created and updated bodies: deduplicate on what the body says.
	key, err := woocommerce.DeliveryKey(body)
	if err != nil {
		reject("json", err)
		return
	}
	if topic == woocommerce.TopicOrderDeleted {
		key = "deleted:" + key
	}
	ev := &app.WebhookEvent{ShopID: shop.ID, Platform: app.PlatformWooCommerce, Topic: topic, EventID: key,
		WebhookID: c.GetHeader("X-WC-Webhook-ID"), Payload: body}
	id, created, err := s.Webhooks.StoreEvent(c.Request.Context(), ev)
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
	s.Notifier.Notify(shop.ID, id)
	c.JSON(http.StatusOK, gin.H{"status": "stored"})
}
