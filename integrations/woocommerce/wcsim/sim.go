// Package wcsim plays a WooCommerce store over real HTTP, as far as
// Parrain uses it, following the requests and answers recorded from
// WordPress 6.8.3 + WooCommerce 10.0.2 (../testdata, shared/fixtures):
// wc/v3 coupons (codes stored lower-case, duplicates refused with
// woocommerce_rest_coupon_code_already_exists, lookup by code, draft
// status), orders counted per customer (X-WP-Total), and authentication as
// WordPress does it without https: Basic and query keys refused (401
// woocommerce_rest_cannot_view), OAuth 1.0a one-legged accepted.
package wcsim

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parrain/parrain/integrations/woocommerce"
)

// Coupon is a coupon as the store keeps it.
type Coupon struct {
	ID                int64    `json:"id"`
	Code              string   `json:"code"`
	DiscountType      string   `json:"discount_type"`
	Amount            string   `json:"amount"`
	Status            string   `json:"status"`
	Description       string   `json:"description"`
	IndividualUse     bool     `json:"individual_use"`
	UsageLimit        *int     `json:"usage_limit"`
	UsageLimitPerUser *int     `json:"usage_limit_per_user"`
	UsageCount        int      `json:"usage_count"`
	EmailRestrictions []string `json:"email_restrictions"`
	MinimumAmount     string   `json:"minimum_amount"`
	FreeShipping      bool     `json:"free_shipping"`
	// DateExpires is in the site's timezone (UTC here) without offset,
	// as WooCommerce answers; DateExpiresGMT is the same instant.
	DateExpires    *string  `json:"date_expires"`
	DateExpiresGMT *string  `json:"date_expires_gmt"`
	UsedBy         []string `json:"used_by"`
}

// Sim is one simulated store.
type Sim struct {
	// Key and Secret are the store's first API key pair; each wc-auth
	// approval adds another (Keys), and all stay valid until revoked.
	Key, Secret string
	Currency    string
	// Title is the site's name (GET /wp-json → name).
	Title string
	// TimezoneString and GMTOffset are WordPress's time zone options as the
	// REST index gives them (timezone_string, "" when the merchant chose a
	// manual offset; gmt_offset in hours, stored as a string).
	TimezoneString string
	GMTOffset      string
	// DeliveryDelay plays WooCommerce's asynchronous deliveries (Action
	// Scheduler run by WP-Cron on a later page view, woocommerce.md §9):
	// each checkout's or refund's deliveries leave after it, built from the
	// order as it is then. 0 delivers at once.
	DeliveryDelay time.Duration
	// Now dates orders and refunds (default time.Now).
	Now func() time.Time
	// AppURL is Parrain's address, for the plugin's script on the
	// order-received page.
	AppURL string

	mu       sync.Mutex
	seq      int64
	coupons  []*Coupon
	orders   map[string]int // customer id → orders
	webhooks []*Webhook
	bodies   []orderBody      // every state of every order, for GET /orders?modified_after
	live     []map[string]any // orders as they are now

	refuseUpdates string
	keys          []*APIKey
	pending       sync.WaitGroup
}

// APIKey is a REST API key as WooCommerce → Settings → Advanced → REST API
// lists it.
type APIKey struct {
	ID int64
	// Description is what wc-auth names it: "{app_name} - API ({GMT date})"
	// (class-wc-auth.php create_keys).
	Description    string
	ConsumerKey    string
	ConsumerSecret string
	Revoked        bool
}

// TruncatedKey is what the store shows of the key: its last 7 characters.
func (k APIKey) TruncatedKey() string { return k.ConsumerKey[len(k.ConsumerKey)-7:] }

// Keys returns the store's API keys.
func (s *Sim) Keys() []APIKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]APIKey, len(s.keys))
	for i, k := range s.keys {
		out[i] = *k
	}
	return out
}

// RevokeKey plays the merchant revoking a key.
func (s *Sim) RevokeKey(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range s.keys {
		if k.ID == id {
			k.Revoked = true
		}
	}
}

// secretOf returns the secret of a live key.
func (s *Sim) secretOf(consumerKey string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range s.keys {
		if k.ConsumerKey == consumerKey && !k.Revoked {
			return k.ConsumerSecret, true
		}
	}
	return "", false
}

// WaitDeliveries waits for the deliveries in flight (DeliveryDelay).
func (s *Sim) WaitDeliveries() { s.pending.Wait() }

// Webhook is a webhook as the store keeps it (the secret is never shown).
type Webhook struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Status      string `json:"status"` // active, paused, disabled
	Topic       string `json:"topic"`
	DeliveryURL string `json:"delivery_url"`
	Secret      string `json:"-"`
	// FailureCount is WooCommerce's failure_count: reset by a successful
	// delivery only, not by setting the webhook active again (§9).
	FailureCount int `json:"-"`
}

type orderBody struct {
	modified string // date_modified_gmt
	raw      json.RawMessage
}

// AddOrderJSON stores a full order (a REST v3 order body) for the
// reconciliation poll.
func (s *Sim) AddOrderJSON(raw []byte) {
	var o struct {
		Modified string `json:"date_modified_gmt"`
	}
	_ = json.Unmarshal(raw, &o)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bodies = append(s.bodies, orderBody{modified: o.Modified, raw: append(json.RawMessage{}, raw...)})
}

// Webhooks returns a copy of the webhooks.
func (s *Sim) Webhooks() []Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Webhook, len(s.webhooks))
	for i, w := range s.webhooks {
		out[i] = *w
	}
	return out
}

// Disable plays WooCommerce disabling a webhook after repeated failed
// deliveries.
func (s *Sim) Disable(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range s.webhooks {
		if w.ID == id {
			w.Status, w.FailureCount = "disabled", MaxFailures+1
		}
	}
}

// New returns a store accepting one API key pair.
func New(key, secret string) *Sim {
	return &Sim{Key: key, Secret: secret, Currency: "EUR", Title: "Boutique de test", Now: time.Now, orders: map[string]int{}, seq: 9,
		keys: []*APIKey{{ID: 1, Description: "Manual key", ConsumerKey: key, ConsumerSecret: secret}}}
}

// AddOrders records n orders of a customer.
func (s *Sim) AddOrders(customerID string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.orders[customerID] += n
}

// Coupons returns a copy of the coupons.
func (s *Sim) Coupons() []Coupon {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Coupon, len(s.coupons))
	for i, c := range s.coupons {
		out[i] = *c
	}
	return out
}

// Handler serves /wp-json/wc/v3/…
func (s *Sim) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /wc-auth/v1/authorize", s.authorize)
	mux.HandleFunc("GET /checkout/order-received/{id}/", s.orderReceived)
	mux.HandleFunc("GET /{$}", s.storeHome)
	mux.HandleFunc("POST /checkout/", s.storeCheckout)
	mux.HandleFunc("GET /wp-json", s.index)
	mux.HandleFunc("GET /wp-json/", s.index)
	mux.HandleFunc("POST /wp-json/wc/v3/coupons", s.auth(s.createCoupon))
	mux.HandleFunc("GET /wp-json/wc/v3/coupons", s.auth(s.listCoupons))
	mux.HandleFunc("POST /wp-json/wc/v3/coupons/batch", s.auth(s.batchCoupons))
	mux.HandleFunc("GET /wp-json/wc/v3/coupons/{id}", s.auth(s.getCoupon))
	mux.HandleFunc("PUT /wp-json/wc/v3/coupons/{id}", s.auth(s.updateCoupon))
	mux.HandleFunc("DELETE /wp-json/wc/v3/coupons/{id}", s.auth(s.deleteCoupon))
	mux.HandleFunc("GET /wp-json/wc/v3/orders", s.auth(s.listOrders))
	mux.HandleFunc("GET /wp-json/wc/v3/orders/{id}", s.auth(s.getOrder))
	mux.HandleFunc("GET /wp-json/wc/v3/webhooks", s.auth(s.listWebhooks))
	mux.HandleFunc("POST /wp-json/wc/v3/webhooks", s.auth(s.createWebhook))
	mux.HandleFunc("PUT /wp-json/wc/v3/webhooks/{id}", s.auth(s.updateWebhook))
	mux.HandleFunc("DELETE /wp-json/wc/v3/webhooks/{id}", s.auth(s.deleteWebhook))
	mux.HandleFunc("GET /wp-json/wc/v3/data/currencies/current", s.auth(func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusOK, map[string]string{"code": s.Currency, "name": "Euro", "symbol": "&euro;"})
	}))
	return mux
}

func wcError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"code": code, "message": msg, "data": map[string]int{"status": status}})
}

// decode reads a JSON body, answering WordPress's error when it is not.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(v); err != nil {
		wcError(w, http.StatusBadRequest, "rest_invalid_json", "Invalid JSON body passed.")
		return false
	}
	return true
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// auth plays class-wc-rest-authentication.php without https: Basic and
// consumer_key/consumer_secret are ignored (so the request is anonymous,
// 401), OAuth 1.0a one-legged is checked (signature, ±15 min timestamp).
func (s *Sim) auth(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		sig := q.Get("oauth_signature")
		secret, known := s.secretOf(q.Get("oauth_consumer_key"))
		if !known || sig == "" {
			wcError(w, http.StatusUnauthorized, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
			return
		}
		ts, err := strconv.ParseInt(q.Get("oauth_timestamp"), 10, 64)
		// Against the wall clock: Now only dates orders (tests move it).
		if err != nil || time.Since(time.Unix(ts, 0)).Abs() > 15*time.Minute {
			wcError(w, http.StatusUnauthorized, "woocommerce_rest_authentication_error", "Invalid timestamp.")
			return
		}
		q.Del("oauth_signature")
		u := *r.URL
		u.Scheme, u.Host = "http", r.Host
		if !woocommerce.VerifyOAuth1(r.Method, &u, q, secret, sig) {
			wcError(w, http.StatusUnauthorized, "woocommerce_rest_authentication_error", "Invalid signature - provided signature does not match.")
			return
		}
		next(w, r)
	}
}

// getOrder answers GET /orders/{id} with the order as it is now, whether or
// not its deliveries have left yet (they lag: DeliveryDelay). A delivery's
// body is this same REST response (woocommerce.md §1 "Payload":
// RestApiUtil::get_endpoint_data of /wc/v3/orders/{id}); an unknown id is
// the REST controller's 404 woocommerce_rest_shop_order_invalid_id.
func (s *Sim) getOrder(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	s.mu.Lock()
	var found json.RawMessage
	for _, o := range s.live {
		if o["id"].(int64) == id {
			found, _ = json.Marshal(o)
		}
	}
	s.mu.Unlock()
	if found == nil {
		wcError(w, http.StatusNotFound, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
		return
	}
	reply(w, http.StatusOK, found)
}

func (s *Sim) listOrders(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if after := q.Get("modified_after"); after != "" {
		// The reconciliation poll: orders modified after a GMT time.
		// Each order once, as it is now.
		s.mu.Lock()
		latest, order := map[int64]orderBody{}, []int64{}
		for _, b := range s.bodies {
			var o struct{ ID int64 }
			_ = json.Unmarshal(b.raw, &o)
			if _, seen := latest[o.ID]; !seen {
				order = append(order, o.ID)
			}
			latest[o.ID] = b
		}
		out := []json.RawMessage{}
		for _, id := range order {
			if b := latest[id]; b.modified > after {
				out = append(out, b.raw)
			}
		}
		s.mu.Unlock()
		w.Header().Set("X-WP-Total", strconv.Itoa(len(out)))
		w.Header().Set("X-WP-TotalPages", "1")
		reply(w, http.StatusOK, out)
		return
	}
	s.mu.Lock()
	n := s.orders[q.Get("customer")]
	s.mu.Unlock()
	w.Header().Set("X-WP-Total", strconv.Itoa(n))
	w.Header().Set("X-WP-TotalPages", strconv.Itoa(min(n, 1)))
	reply(w, http.StatusOK, []any{})
}

func (s *Sim) listWebhooks(w http.ResponseWriter, r *http.Request) {
	reply(w, http.StatusOK, s.Webhooks())
}

// createWebhook: topic and delivery_url required; the status is forced to
// active (woocommerce.md §5).
func (s *Sim) createWebhook(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name, Topic, Secret string
		DeliveryURL         string `json:"delivery_url"`
	}
	if !decode(w, r, &in) {
		return
	}
	if !strings.Contains(in.Topic, ".") {
		wcError(w, http.StatusBadRequest, "woocommerce_rest_shop_webhook_invalid_topic", "Webhook topic is required and must be valid.")
		return
	}
	if !strings.HasPrefix(in.DeliveryURL, "http") {
		wcError(w, http.StatusBadRequest, "woocommerce_rest_shop_webhook_invalid_delivery_url", "Webhook delivery URL must be a valid URL starting with http:// or https://.")
		return
	}
	s.mu.Lock()
	s.seq++
	wh := &Webhook{ID: s.seq, Name: in.Name, Status: "active", Topic: in.Topic, DeliveryURL: in.DeliveryURL, Secret: in.Secret}
	s.webhooks = append(s.webhooks, wh)
	out := *wh
	s.mu.Unlock()
	reply(w, http.StatusCreated, out)
	// The ping follows creation: form body webhook_id=N, no X-WC headers,
	// no signature (recorded: delivery-ping.json).
	go func() {
		resp, err := http.Post(out.DeliveryURL, "application/x-www-form-urlencoded", strings.NewReader("webhook_id="+strconv.FormatInt(out.ID, 10)))
		if err == nil {
			resp.Body.Close()
		}
	}()
}

// updateWebhook takes status and secret (WC's v1 controller sets the
// secret when given); the failure count is kept (§9).
func (s *Sim) updateWebhook(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	var in struct{ Status, Secret string }
	if !decode(w, r, &in) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, wh := range s.webhooks {
		if wh.ID == id {
			if in.Status != "" {
				wh.Status = in.Status
			}
			if in.Secret != "" {
				wh.Secret = in.Secret
			}
			reply(w, http.StatusOK, *wh)
			return
		}
	}
	wcError(w, http.StatusNotFound, "woocommerce_rest_webhook_invalid_id", "Invalid ID.")
}

// deleteWebhook needs force=true (webhooks have no trash: 501 otherwise).
func (s *Sim) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if r.URL.Query().Get("force") != "true" {
		wcError(w, http.StatusNotImplemented, "woocommerce_rest_trash_not_supported", "Webhooks do not support trashing.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, wh := range s.webhooks {
		if wh.ID == id {
			out := *wh
			s.webhooks = append(s.webhooks[:i], s.webhooks[i+1:]...)
			reply(w, http.StatusOK, out)
			return
		}
	}
	wcError(w, http.StatusNotFound, "woocommerce_rest_webhook_invalid_id", "Invalid ID.")
}

// index is WordPress's REST index: the site's name and address.
func (s *Sim) index(w http.ResponseWriter, r *http.Request) {
	home := "http://" + r.Host
	off := s.GMTOffset
	if off == "" {
		off = "0"
	}
	reply(w, http.StatusOK, map[string]any{"name": s.Title, "description": "", "url": home, "home": home,
		"gmt_offset": off, "timezone_string": s.TimezoneString, "namespaces": []string{"wc/v3", "wc-analytics", "wp/v2"}})
}
