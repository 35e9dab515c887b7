package shopifysim

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
)

// topicByEnum maps the WebhookSubscriptionTopic values the simulator accepts
// in webhookSubscriptionCreate to the topics deliveries carry
// (X-Shopify-Topic). The mapping is not mechanical (APP_SUBSCRIPTIONS_UPDATE
// is app_subscriptions/update, APP_SCOPES_UPDATE is app/scopes_update), hence
// a table. Compliance topics are absent on purpose: they exist only in the
// app configuration.
var topicByEnum = map[string]string{
	"APP_UNINSTALLED": "app/uninstalled", "APP_SCOPES_UPDATE": "app/scopes_update",
	"APP_SUBSCRIPTIONS_UPDATE": "app_subscriptions/update", "APP_PURCHASES_ONE_TIME_UPDATE": "app_purchases_one_time/update",
	"CARTS_CREATE": "carts/create", "CARTS_UPDATE": "carts/update",
	"CHECKOUTS_CREATE": "checkouts/create", "CHECKOUTS_UPDATE": "checkouts/update", "CHECKOUTS_DELETE": "checkouts/delete",
	"CUSTOMERS_CREATE": "customers/create", "CUSTOMERS_UPDATE": "customers/update", "CUSTOMERS_DELETE": "customers/delete",
	"CUSTOMERS_ENABLE": "customers/enable", "CUSTOMERS_DISABLE": "customers/disable", "CUSTOMERS_MERGE": "customers/merge",
	"CUSTOMERS_EMAIL_MARKETING_CONSENT_UPDATE": "customers_email_marketing_consent/update",
	"CUSTOMERS_MARKETING_CONSENT_UPDATE":       "customers_marketing_consent/update",
	"DISCOUNTS_CREATE":                         "discounts/create", "DISCOUNTS_UPDATE": "discounts/update", "DISCOUNTS_DELETE": "discounts/delete",
	"DISCOUNTS_REDEEMCODE_ADDED": "discounts/redeemcode_added", "DISCOUNTS_REDEEMCODE_REMOVED": "discounts/redeemcode_removed",
	"DRAFT_ORDERS_CREATE": "draft_orders/create", "DRAFT_ORDERS_UPDATE": "draft_orders/update", "DRAFT_ORDERS_DELETE": "draft_orders/delete",
	"FULFILLMENTS_CREATE": "fulfillments/create", "FULFILLMENTS_UPDATE": "fulfillments/update",
	"ORDERS_CREATE": "orders/create", "ORDERS_UPDATED": "orders/updated", "ORDERS_PAID": "orders/paid",
	"ORDERS_CANCELLED": "orders/cancelled", "ORDERS_FULFILLED": "orders/fulfilled", "ORDERS_PARTIALLY_FULFILLED": "orders/partially_fulfilled",
	"ORDERS_DELETE": "orders/delete", "ORDERS_EDITED": "orders/edited", "ORDER_TRANSACTIONS_CREATE": "order_transactions/create",
	"PRODUCTS_CREATE": "products/create", "PRODUCTS_UPDATE": "products/update", "PRODUCTS_DELETE": "products/delete",
	"REFUNDS_CREATE": "refunds/create", "SHOP_UPDATE": "shop/update", "THEMES_PUBLISH": "themes/publish",
}

var enumByTopic = func() map[string]string {
	m := make(map[string]string, len(topicByEnum))
	for e, t := range topicByEnum {
		m[t] = e
	}
	return m
}()

// TopicEnum returns the WebhookSubscriptionTopic value of a delivery topic,
// e.g. ORDERS_CREATE for "orders/create", and false for topics that cannot
// be subscribed to through the API (compliance topics, unknown ones).
func TopicEnum(topic string) (string, bool) {
	e, ok := enumByTopic[topic]
	return e, ok
}

// DefaultWebhookPath is where deliveries go when no API subscription
// matches: the uri of the app-specific subscriptions and compliance_topics
// in shopify.app.toml, relative to AppURL.
const DefaultWebhookPath = "/webhooks/shopify"

// SendWebhook signs and delivers one event of shop: to every API-created
// subscription of the topic (one delivery each, as Shopify does), or, when
// there is none, to AppURL+DefaultWebhookPath, which stands for the
// app-specific and compliance subscriptions of shopify.app.toml.
//
// It returns the event id (X-Shopify-Event-Id) as soon as the deliveries
// are scheduled; attempts, retries and duplicates run in the background and
// outlive ctx, as Shopify's do. Targets are fixed when the event is
// triggered: retries go to the address configured then (shopify.md §2).
// Concurrent events are delivered in no particular order; orders/create may
// well arrive after orders/paid. WaitIdle waits for deliveries to settle;
// Deliveries lists the attempts.
func (s *Simulator) SendWebhook(ctx context.Context, domain, topic string, payload []byte) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if topic == "" {
		return "", errors.New("shopifysim: empty webhook topic")
	}
	s.mu.Lock()
	if s.ctx.Err() != nil {
		s.mu.Unlock()
		return "", ErrClosed
	}
	sh := s.shops[domain]
	if sh == nil {
		s.mu.Unlock()
		return "", fmt.Errorf("%w: %s", ErrUnknownShop, domain)
	}
	var targets []string
	enum, _ := TopicEnum(topic)
	matched := false
	for _, sub := range sh.subs {
		if sub.topic != enum {
			continue
		}
		matched = true
		if strings.HasPrefix(sub.uri, "http://") || strings.HasPrefix(sub.uri, "https://") {
			targets = append(targets, sub.uri)
		} else {
			s.log.Info("webhook not delivered: the simulator only delivers over HTTP", "shop", domain, "topic", topic, "address", sub.uri)
		}
	}
	if !matched {
		if s.cfg.AppURL == "" {
			s.mu.Unlock()
			return "", errors.New("shopifysim: no subscription for " + topic + " and no AppURL")
		}
		targets = append(targets, s.cfg.AppURL+DefaultWebhookPath)
	}
	eventID := newUUID()
	triggered := s.cfg.Now().UTC()
	for range targets {
		s.begin()
	}
	s.mu.Unlock()
	body := bytes.Clone(payload) // the caller may reuse its slice
	for _, target := range targets {
		go func() {
			defer s.end()
			s.deliver(domain, topic, target, eventID, triggered, body)
		}()
	}
	return eventID, nil
}

// begin counts a delivery in flight. Callers hold s.mu.
func (s *Simulator) begin() {
	if s.inflight == 0 {
		s.idle = make(chan struct{})
	}
	s.inflight++
}

func (s *Simulator) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inflight--
	if s.inflight == 0 {
		close(s.idle)
	}
}

// WaitIdle blocks until no delivery, retry or duplicate is in flight or
// waiting, or ctx ends (then it returns ctx's error).
func (s *Simulator) WaitIdle(ctx context.Context) error {
	s.mu.Lock()
	idle := s.idle
	s.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close cancels deliveries in flight and pending retries, waits for their
// goroutines to end, and makes later SendWebhook calls fail with ErrClosed.
// The HTTP handler keeps working. Close is for process shutdown and test
// cleanup; it is safe to call more than once.
func (s *Simulator) Close() error {
	s.cancel()
	return s.WaitIdle(context.Background())
}

// deliver posts until a 2xx or the retries run out. Any non-2xx, 3xx
// included (redirects are not followed), and any timeout or connection
// error is a failure (shopify.md §2). A retry keeps X-Shopify-Webhook-Id;
// after a success, the event is sometimes sent again (DuplicateRate) under
// a new webhook id and the same event id.
func (s *Simulator) deliver(domain, topic, target, eventID string, triggered time.Time, payload []byte) {
	webhookID := newUUID()
	for attempt := 0; ; attempt++ {
		if s.post(domain, topic, target, eventID, webhookID, triggered, payload, attempt, false) {
			if s.cfg.DuplicateRate > 0 && rand.Float64() < s.cfg.DuplicateRate {
				s.post(domain, topic, target, eventID, newUUID(), triggered, payload, 0, true)
			}
			return
		}
		if attempt >= len(s.cfg.RetryBackoff) {
			s.log.Warn("webhook delivery abandoned", "shop", domain, "topic", topic, "event_id", eventID, "attempts", attempt+1)
			return
		}
		t := time.NewTimer(s.cfg.RetryBackoff[attempt])
		select {
		case <-t.C:
		case <-s.ctx.Done():
			t.Stop()
			return
		}
	}
}

// Sign returns the X-Shopify-Hmac-Sha256 value of a webhook body: the
// base64 HMAC-SHA256 of the exact bytes, keyed with the app secret.
func (s *Simulator) Sign(body []byte) string {
	m := hmac.New(sha256.New, []byte(s.cfg.APISecret))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// post makes one attempt, records it, and reports whether it succeeded.
func (s *Simulator) post(domain, topic, target, eventID, webhookID string, triggered time.Time, payload []byte, attempt int, dup bool) bool {
	d := Delivery{EventID: eventID, WebhookID: webhookID, Topic: topic, URL: target, Attempt: attempt, Duplicate: dup, At: s.cfg.Now()}
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, target, bytes.NewReader(payload))
	if err == nil {
		// Shopify's delivery headers (shopify.md §2). Triggered-At has
		// nanoseconds, as Shopify's do.
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "Shopify-Captain-Hook")
		req.Header.Set("X-Shopify-Topic", topic)
		req.Header.Set("X-Shopify-Hmac-Sha256", s.Sign(payload))
		req.Header.Set("X-Shopify-Shop-Domain", domain)
		req.Header.Set("X-Shopify-API-Version", APIVersion)
		req.Header.Set("X-Shopify-Webhook-Id", webhookID)
		req.Header.Set("X-Shopify-Event-Id", eventID)
		req.Header.Set("X-Shopify-Triggered-At", triggered.Format("2006-01-02T15:04:05.000000000Z07:00"))
		var resp *http.Response
		resp, err = s.cfg.HTTPClient.Do(req)
		if err == nil {
			d.Status = resp.StatusCode
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
			resp.Body.Close()
		}
	}
	if err != nil {
		d.Err = err.Error()
	}
	s.mu.Lock()
	if sh := s.shops[domain]; sh != nil {
		sh.deliveries = append(sh.deliveries, d)
		if over := len(sh.deliveries) - maxDeliveries; over > 0 {
			sh.deliveries = append([]Delivery(nil), sh.deliveries[over:]...)
		}
	}
	s.mu.Unlock()
	ok := err == nil && d.Status >= 200 && d.Status < 300
	level := slog.LevelInfo
	if !ok {
		level = slog.LevelWarn
	}
	s.log.Log(context.Background(), level, "webhook delivery", "shop", domain, "topic", topic, "event_id", eventID, "webhook_id", webhookID,
		"url", target, "attempt", attempt, "duplicate", dup, "status", d.Status, "error", d.Err)
	return ok
}
