// Package woocommerce is the WooCommerce adapter: webhook signatures and
// pings, order payloads turned into the engine's events, and the REST
// client's OAuth 1.0a signing. Behaviour follows shared/platforms/woocommerce.md
// and the deliveries recorded from WordPress 6.8.3 + WooCommerce 10.0.2
// (testdata/, see SOURCES.md).
package woocommerce

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/parrain/parrain/app"
)

// Sign is WooCommerce's delivery signature: base64 HMAC-SHA256 of the raw
// body with the webhook's secret (X-WC-Webhook-Signature).
func Sign(body []byte, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// VerifySignature checks a delivery's signature in constant time.
func VerifySignature(body []byte, header, secret string) error {
	got, err := base64.StdEncoding.DecodeString(strings.TrimSpace(header))
	if err != nil || len(got) != sha256.Size {
		return app.Errorf(app.EUNAUTHORIZED, "missing or malformed X-WC-Webhook-Signature")
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	if !hmac.Equal(got, m.Sum(nil)) {
		return app.Errorf(app.EUNAUTHORIZED, "webhook signature does not match")
	}
	return nil
}

// Ping reports whether a request is the unsigned ping WooCommerce sends when
// a webhook is created or re-activated: a form body webhook_id=N and no
// X-WC-Webhook-* headers. It must be answered 200, or WooCommerce counts a
// failure. It returns the webhook id.
func Ping(h http.Header, body []byte) (int64, bool) {
	if h.Get("X-WC-Webhook-Signature") != "" || h.Get("X-WC-Webhook-Topic") != "" {
		return 0, false
	}
	if !strings.HasPrefix(h.Get("Content-Type"), "application/x-www-form-urlencoded") || len(body) > 64 {
		return 0, false
	}
	q, err := url.ParseQuery(string(body))
	if err != nil || len(q) != 1 {
		return 0, false
	}
	id, err := strconv.ParseInt(q.Get("webhook_id"), 10, 64)
	return id, err == nil && id > 0
}
