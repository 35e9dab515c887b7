package wcsim

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The store side WooCommerce plays for a shopper and a merchant: wc-auth
// (login skipped: the merchant approves at once), orders placed and
// refunded, and the deliveries they trigger, with WooCommerce's semantics
// (woocommerce.md §1, §8): signed with each webhook's secret, one attempt
// only, and a webhook disabled after MaxFailures failed deliveries in a row.

// MaxFailures is the failure count a webhook may reach; the next failure
// disables it (woocommerce_max_webhook_delivery_failures, 5 by default;
// seen disabled at a count of 6, woocommerce.md §9).
const MaxFailures = 5

// OrderInput is an order to place.
type OrderInput struct {
	CustomerID int64
	Email      string
	FirstName  string
	Total      string   // after discounts, e.g. "45.00"
	Coupons    []string // codes as the shopper typed them
	Ref        string   // _parrain_ref written by the plugin
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// authorize plays /wc-auth/v1/authorize for a logged-in admin who clicks
// Approve: the keys are POSTed to callback_url; only a 200 keeps them, and
// the browser goes to return_url.
func (s *Sim) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for _, k := range []string{"app_name", "scope", "user_id", "return_url", "callback_url"} {
		if q.Get(k) == "" {
			http.Error(w, "Error: Missing parameter "+k, http.StatusBadRequest)
			return
		}
	}
	if q.Get("scope") != "read_write" {
		http.Error(w, "Error: Invalid scope", http.StatusBadRequest)
		return
	}
	// Every approval creates a new key for the approving user; earlier
	// keys stay valid until the merchant revokes them (§9).
	s.mu.Lock()
	s.seq++
	key := &APIKey{ID: s.seq, ConsumerKey: "ck_" + randHex(20), ConsumerSecret: "cs_" + randHex(20),
		Description: q.Get("app_name") + " - API (" + time.Now().UTC().Format("2006-01-02 15:04:05") + ")"}
	s.keys = append(s.keys, key)
	s.mu.Unlock()
	body, _ := json.Marshal(map[string]any{"key_id": key.ID, "user_id": q.Get("user_id"), "consumer_key": key.ConsumerKey,
		"consumer_secret": key.ConsumerSecret, "key_permissions": "read_write"})
	resp, err := http.Post(q.Get("callback_url"), "application/json;charset=UTF-8", bytes.NewReader(body))
	if err != nil || resp.StatusCode != http.StatusOK {
		if resp != nil {
			resp.Body.Close()
		}
		// WooCommerce deletes the key and tells the merchant.
		s.mu.Lock()
		s.keys = s.keys[:len(s.keys)-1]
		s.mu.Unlock()
		http.Error(w, "Error: An error occurred in the request and at the time were unable to send the consumer data", http.StatusBadRequest)
		return
	}
	resp.Body.Close()
	ret, _ := url.Parse(q.Get("return_url"))
	rq := ret.Query()
	rq.Set("success", "1")
	rq.Set("user_id", q.Get("user_id"))
	ret.RawQuery = rq.Encode()
	http.Redirect(w, r, ret.String(), http.StatusFound)
}

func gmt(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05") }

// PlaceOrder places a paid order (status processing) and delivers
// order.created and order.updated, as one checkout does. It returns the
// order id and key.
func (s *Sim) PlaceOrder(in OrderInput) (int64, string, error) {
	s.mu.Lock()
	var lines []map[string]any
	var used []*Coupon
	for _, code := range in.Coupons {
		found, err := s.checkCoupon(code, in.Email)
		if err != nil {
			s.mu.Unlock()
			return 0, "", err
		}
		used = append(used, found)
		lines = append(lines, map[string]any{"id": len(lines) + 1, "code": found.Code, "discount": "5"})
	}
	for _, c := range used {
		c.UsageCount++
		c.UsedBy = append(c.UsedBy, strings.ToLower(in.Email))
	}
	s.seq++
	id := s.seq
	now := s.Now()
	key := "wc_order_" + randHex(7)
	meta := []map[string]any{}
	if in.Ref != "" {
		meta = append(meta, map[string]any{"id": 1, "key": "_parrain_ref", "value": in.Ref})
	}
	o := map[string]any{
		"id": id, "number": strconv.FormatInt(id, 10), "status": "processing", "currency": s.Currency, "total": in.Total,
		"customer_id": in.CustomerID, "order_key": key, "created_via": "checkout",
		"billing":          map[string]any{"first_name": in.FirstName, "email": in.Email},
		"shipping":         map[string]any{},
		"meta_data":        meta,
		"coupon_lines":     lines,
		"refunds":          []any{},
		"date_created_gmt": gmt(now), "date_modified_gmt": gmt(now), "date_paid_gmt": gmt(now),
	}
	if in.CustomerID != 0 {
		s.orders[strconv.FormatInt(in.CustomerID, 10)]++
	}
	s.live = append(s.live, o)
	raw, _ := json.Marshal(o)
	s.bodies = append(s.bodies, orderBody{modified: gmt(now), raw: raw})
	s.mu.Unlock()
	s.deliverOrder(id, "order.created", "order.updated")
	return id, key, nil
}

// deliverOrder sends the order's deliveries of one request, at once or
// after DeliveryDelay; the payload is built when the delivery leaves
// (woocommerce.md §1: several saves collapse into what the order is then).
func (s *Sim) deliverOrder(id int64, topics ...string) {
	send := func() {
		s.mu.Lock()
		var raw []byte
		for _, o := range s.live {
			if o["id"].(int64) == id {
				raw, _ = json.Marshal(o)
			}
		}
		s.mu.Unlock()
		for _, t := range topics {
			s.deliver(t, raw)
		}
	}
	delay := s.DeliveryDelay // as it was when the order was saved
	if delay <= 0 {
		send()
		return
	}
	s.pending.Add(1)
	go func() {
		defer s.pending.Done()
		time.Sleep(delay)
		send()
	}()
}

// Refund refunds part of an order and delivers order.updated; a refund of
// the rest makes the order refunded, as WooCommerce does.
func (s *Sim) Refund(orderID int64, amount string) error {
	s.mu.Lock()
	var o map[string]any
	for _, x := range s.live {
		if x["id"].(int64) == orderID {
			o = x
		}
	}
	if o == nil {
		s.mu.Unlock()
		return fmt.Errorf("no order %d", orderID)
	}
	s.seq++
	refunds := append([]any{map[string]any{"id": s.seq, "reason": "", "total": "-" + amount}}, o["refunds"].([]any)...)
	o["refunds"] = refunds
	var refunded, total float64
	fmt.Sscan(o["total"].(string), &total)
	for _, r := range refunds {
		var v float64
		fmt.Sscan(strings.TrimPrefix(r.(map[string]any)["total"].(string), "-"), &v)
		refunded += v
	}
	if refunded >= total-0.001 {
		o["status"] = "refunded"
	}
	// Modified one second later at least: the same second would make the
	// same dedup key as the previous state only if nothing else changed.
	o["date_modified_gmt"] = gmt(s.Now().Add(time.Second))
	raw, _ := json.Marshal(o)
	s.bodies = append(s.bodies, orderBody{modified: o["date_modified_gmt"].(string), raw: raw})
	s.mu.Unlock()
	s.deliverOrder(orderID, "order.updated")
	return nil
}

// deliver sends body to every active webhook of the topic, once: WooCommerce
// does not retry. Success is 200 <= status < 303 and resets the failure
// count; anything else (4xx included, §9) counts a failure, and a count
// past MaxFailures disables the webhook.
func (s *Sim) deliver(topic string, body []byte) {
	type target struct {
		w           *Webhook
		secret, url string
		id          int64
	}
	s.mu.Lock()
	var targets []target
	for _, w := range s.webhooks {
		if w.Topic == topic && w.Status == "active" {
			targets = append(targets, target{w, w.Secret, w.DeliveryURL, w.ID})
		}
	}
	s.mu.Unlock()
	for _, tg := range targets {
		w := tg.w
		m := hmac.New(sha256.New, []byte(tg.secret))
		m.Write(body)
		req, _ := http.NewRequest(http.MethodPost, tg.url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "WooCommerce/10.0.2 Hookshot (WordPress/6.8.3)")
		req.Header.Set("X-WC-Webhook-Source", "http://store.invalid/")
		req.Header.Set("X-WC-Webhook-Topic", topic)
		req.Header.Set("X-WC-Webhook-Resource", "order")
		req.Header.Set("X-WC-Webhook-Event", strings.TrimPrefix(topic, "order."))
		req.Header.Set("X-WC-Webhook-Signature", base64.StdEncoding.EncodeToString(m.Sum(nil)))
		req.Header.Set("X-WC-Webhook-ID", strconv.FormatInt(tg.id, 10))
		req.Header.Set("X-WC-Webhook-Delivery-ID", randHex(16))
		resp, err := http.DefaultClient.Do(req)
		ok := err == nil && resp.StatusCode >= 200 && resp.StatusCode < 303
		if resp != nil {
			resp.Body.Close()
		}
		s.mu.Lock()
		if ok {
			w.FailureCount = 0
		} else if w.FailureCount++; w.FailureCount > MaxFailures {
			w.Status = "disabled"
		}
		s.mu.Unlock()
	}
}

var thankYou = template.Must(template.New("ty").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>Order received</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}</style></head><body>
<h1>Order received</h1><p>Thank you. Your order #{{.ID}} has been received.</p>
{{if .AppURL}}<script async src="{{.AppURL}}/widget/loader.js" data-platform="woocommerce" data-shop="{{.Shop}}" data-order-id="{{.ID}}" data-order-key="{{.Key}}" data-lang="en"></script>{{end}}
</body></html>`))

// orderReceived is WooCommerce's order-received page, with what the
// companion plugin prints on woocommerce_thankyou (widget/woocommerce). Like
// WooCommerce, it shows the order only with its key.
func (s *Sim) orderReceived(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	s.mu.Lock()
	var key string
	for _, o := range s.live {
		if o["id"].(int64) == id {
			key = o["order_key"].(string)
		}
	}
	s.mu.Unlock()
	if key == "" || r.URL.Query().Get("key") != key {
		http.Error(w, "Sorry, this order is invalid and cannot be paid for.", http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	_ = thankYou.Execute(w, map[string]any{"ID": id, "Key": key, "AppURL": s.AppURL, "Shop": r.Host})
}

// Order returns an order as the store holds it now (REST v3 shape), or nil.
func (s *Sim) Order(id int64) json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range s.live {
		if o["id"].(int64) == id {
			raw, _ := json.Marshal(o)
			return raw
		}
	}
	return nil
}

// OrderByEmail returns the id of the latest order with this billing email
// (0 when none).
func (s *Sim) OrderByEmail(email string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var id int64
	for _, o := range s.live {
		if b, ok := o["billing"].(map[string]any); ok && b["email"] == email {
			id = o["id"].(int64)
		}
	}
	return id
}
