package shopify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"time"

	"github.com/parrain/parrain/app"
)

// Webhook topics Parrain subscribes to, and the three mandatory compliance
// topics (shopify.md §2).
const (
	TopicOrdersCreate     = "orders/create"
	TopicOrdersPaid       = "orders/paid"
	TopicOrdersCancelled  = "orders/cancelled"
	TopicRefundsCreate    = "refunds/create"
	TopicAppUninstalled   = "app/uninstalled"
	TopicCustomersDataReq = "customers/data_request"
	TopicCustomersRedact  = "customers/redact"
	TopicShopRedact       = "shop/redact"
)

// SubscribedTopics are the topics the app registers through the Admin API
// (and declares in shopify.app.toml). Compliance topics cannot be created
// through the API; they live only in the TOML.
var SubscribedTopics = []string{TopicOrdersCreate, TopicOrdersPaid, TopicOrdersCancelled, TopicRefundsCreate, TopicAppUninstalled}

// KnownTopic reports whether the intake accepts the topic.
func KnownTopic(topic string) bool {
	switch topic {
	case TopicOrdersCreate, TopicOrdersPaid, TopicOrdersCancelled, TopicRefundsCreate,
		TopicAppUninstalled, TopicCustomersDataReq, TopicCustomersRedact, TopicShopRedact:
		return true
	}
	return false
}

// VerifyWebhook checks the X-Shopify-Hmac-Sha256 header against the raw body:
// base64 HMAC-SHA256 with the app secret, compared in constant time. It must
// run before the body is parsed.
func VerifyWebhook(body []byte, header, secret string) error {
	got, err := base64.StdEncoding.DecodeString(header)
	if err != nil || len(got) != sha256.Size {
		return app.Errorf(app.EUNAUTHORIZED, "missing or malformed X-Shopify-Hmac-Sha256")
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	if !hmac.Equal(got, m.Sum(nil)) {
		return app.Errorf(app.EUNAUTHORIZED, "webhook signature does not match")
	}
	return nil
}

// SignWebhook returns the X-Shopify-Hmac-Sha256 value for body; for tests and
// tools that play Shopify.
func SignWebhook(body []byte, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// WebhookHeaders are the delivery headers the intake reads
// (https://shopify.dev/docs/apps/build/webhooks/delivery-structure).
type WebhookHeaders struct {
	Topic       string
	Shop        string
	HMAC        string
	EventID     string
	WebhookID   string
	APIVersion  string
	TriggeredAt *time.Time
}

// ReadWebhookHeaders extracts the delivery headers (case-insensitive).
func ReadWebhookHeaders(h http.Header) WebhookHeaders {
	w := WebhookHeaders{
		Topic:      h.Get("X-Shopify-Topic"),
		Shop:       h.Get("X-Shopify-Shop-Domain"),
		HMAC:       h.Get("X-Shopify-Hmac-Sha256"),
		EventID:    h.Get("X-Shopify-Event-Id"),
		WebhookID:  h.Get("X-Shopify-Webhook-Id"),
		APIVersion: h.Get("X-Shopify-API-Version"),
	}
	if t, err := time.Parse(time.RFC3339Nano, h.Get("X-Shopify-Triggered-At")); err == nil {
		t = t.UTC()
		w.TriggeredAt = &t
	}
	return w
}
