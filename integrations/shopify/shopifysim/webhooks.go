package shopifysim

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// APIVersion is the version stamped on deliveries (X-Shopify-API-Version).
const APIVersion = "2026-07"

// SendWebhook signs and delivers one event to every subscription of the
// topic, or to the app's default address when there is none (TOML
// app-specific subscriptions, compliance topics). It returns the event id at
// once; deliveries, retries and duplicates run in the background (WaitIdle
// waits for them).
func (s *Simulator) SendWebhook(ctx context.Context, domain, topic string, payload []byte) (string, error) {
	s.mu.Lock()
	sh := s.shops[domain]
	if sh == nil {
		s.mu.Unlock()
		return "", fmt.Errorf("unknown shop %s", domain)
	}
	targets := map[string]bool{}
	enum := strings.ToUpper(strings.ReplaceAll(topic, "/", "_"))
	for _, sub := range sh.subs {
		if sub.topic == enum {
			targets[sub.url] = true
		}
	}
	s.mu.Unlock()
	if len(targets) == 0 {
		targets[s.cfg.AppURL+"/webhooks/shopify"] = true
	}
	eventID := newUUID()
	triggered := s.cfg.Now().UTC()
	for target := range targets {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.deliver(domain, topic, target, eventID, triggered, payload)
		}()
	}
	return eventID, nil
}

// WaitIdle blocks until no delivery or retry is in flight, or ctx ends.
func (s *Simulator) WaitIdle(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// deliver posts until a 2xx or the retries run out, as Shopify does: any
// non-2xx, redirects included, and any timeout is a failure. A delivered
// event is sometimes sent again (DuplicateRate): Shopify documents that
// subscribers may receive the same webhook more than once.
func (s *Simulator) deliver(domain, topic, target, eventID string, triggered time.Time, payload []byte) {
	webhookID := newUUID()
	for attempt := 0; ; attempt++ {
		status, err := s.post(domain, topic, target, eventID, webhookID, triggered, payload, attempt)
		if err == nil && status >= 200 && status < 300 {
			if s.cfg.DuplicateRate > 0 && rand.Float64() < s.cfg.DuplicateRate {
				s.post(domain, topic, target, eventID, newUUID(), triggered, payload, attempt+1)
			}
			return
		}
		if attempt >= len(s.cfg.RetryBackoff) {
			return
		}
		time.Sleep(s.cfg.RetryBackoff[attempt])
	}
}

func (s *Simulator) post(domain, topic, target, eventID, webhookID string, triggered time.Time, payload []byte, attempt int) (int, error) {
	req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(payload))
	if err != nil {
		return 0, err
	}
	m := hmac.New(sha256.New, []byte(s.cfg.APISecret))
	m.Write(payload)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Shopify-Topic", topic)
	req.Header.Set("X-Shopify-Hmac-Sha256", base64.StdEncoding.EncodeToString(m.Sum(nil)))
	req.Header.Set("X-Shopify-Shop-Domain", domain)
	req.Header.Set("X-Shopify-API-Version", APIVersion)
	req.Header.Set("X-Shopify-Webhook-Id", webhookID)
	req.Header.Set("X-Shopify-Event-Id", eventID)
	req.Header.Set("X-Shopify-Triggered-At", triggered.Format("2006-01-02T15:04:05.000000000Z"))
	d := Delivery{EventID: eventID, WebhookID: webhookID, Topic: topic, URL: target, Attempt: attempt, At: s.cfg.Now()}
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		d.Err = err.Error()
	} else {
		d.Status = resp.StatusCode
		resp.Body.Close()
	}
	s.mu.Lock()
	if sh := s.shops[domain]; sh != nil {
		sh.deliveries = append(sh.deliveries, d)
		if len(sh.deliveries) > 1000 {
			sh.deliveries = sh.deliveries[len(sh.deliveries)-1000:]
		}
	}
	s.mu.Unlock()
	s.cfg.Logger.Info("webhook delivery", "shop", domain, "topic", topic, "attempt", attempt, "status", d.Status, "error", d.Err)
	return d.Status, err
}

func newUUID() string {
	b := []byte(randHex(16))
	return string(b[0:8]) + "-" + string(b[8:12]) + "-4" + string(b[13:16]) + "-a" + string(b[17:20]) + "-" + string(b[20:32])
}

// OrderInput describes an order to place. Empty fields get defaults.
type OrderInput struct {
	Email          string            `json:"email"`
	FirstName      string            `json:"first_name"`
	LastName       string            `json:"last_name"`
	Phone          string            `json:"phone"`
	CustomerID     int64             `json:"customer_id"`
	Total          string            `json:"total"`
	Currency       string            `json:"currency"`
	DiscountCodes  []string          `json:"discount_codes"`
	NoteAttributes map[string]string `json:"note_attributes"`
	LandingSite    string            `json:"landing_site"`
	BrowserIP      string            `json:"browser_ip"`
	Address1       string            `json:"address1"`
	Zip            string            `json:"zip"`
	Test           bool              `json:"test"`
	// Quiet stores the order without sending its webhooks, for tests
	// that deliver events in an order of their choosing.
	Quiet bool `json:"-"`
}

// CreateOrder builds a paid order from Shopify's sample order
// (fixtures/order.json) with fresh ids, the given customer and evidence,
// stores it, and fires orders/create then orders/paid.
func (s *Simulator) CreateOrder(domain string, in OrderInput) ([]byte, error) {
	o, err := fixtureMap("order.json")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	sh := s.shops[domain]
	if sh == nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("unknown shop %s", domain)
	}
	s.gids++
	id := 5_000_000_000 + s.gids
	number := sh.nextOrder
	sh.nextOrder++
	currency := in.Currency
	if currency == "" {
		currency = sh.info.CurrencyCode
	}
	s.mu.Unlock()

	if in.Email == "" {
		in.Email = fmt.Sprintf("customer%d@example.com", id)
	}
	if in.FirstName == "" {
		in.FirstName = "Marie"
	}
	if in.LastName == "" {
		in.LastName = "Curie"
	}
	if in.CustomerID == 0 {
		in.CustomerID = customerID(in.Email)
	}
	if in.Total == "" {
		in.Total = "120.00"
	}
	// Different shoppers get different IPs and addresses, as in life; the
	// fixture's single address would make every friend look like a
	// self-referral.
	if in.BrowserIP == "" {
		in.BrowserIP = fmt.Sprintf("198.51.100.%d", in.CustomerID%250+1)
	}
	if in.Address1 == "" {
		in.Address1 = fmt.Sprintf("%d Referral Street", in.CustomerID%997+1)
	}
	if in.Zip == "" {
		in.Zip = fmt.Sprintf("%05d", in.CustomerID%99999)
	}
	now := s.cfg.Now().UTC().Format(time.RFC3339)
	o["id"] = id
	o["admin_graphql_api_id"] = fmt.Sprintf("gid://shopify/Order/%d", id)
	o["name"] = "#" + strconv.Itoa(number)
	o["order_number"] = number
	o["number"] = number - 1000
	o["email"], o["contact_email"] = in.Email, in.Email
	o["phone"] = in.Phone
	o["created_at"], o["updated_at"], o["processed_at"] = now, now, now
	o["cancelled_at"], o["cancel_reason"], o["closed_at"] = nil, nil, nil
	o["financial_status"] = "paid"
	o["currency"], o["presentment_currency"] = currency, currency
	o["total_price"], o["current_total_price"], o["subtotal_price"] = in.Total, in.Total, in.Total
	o["test"] = in.Test
	o["browser_ip"] = in.BrowserIP
	o["landing_site"] = nilIfEmpty(in.LandingSite)
	o["refunds"] = []any{}
	codes := []any{}
	for _, c := range in.DiscountCodes {
		codes = append(codes, map[string]any{"code": c, "amount": "10.00", "type": "percentage"})
	}
	o["discount_codes"] = codes
	notes := []any{}
	for k, v := range in.NoteAttributes {
		notes = append(notes, map[string]any{"name": k, "value": v})
	}
	o["note_attributes"] = notes
	for _, k := range []string{"shipping_address", "billing_address"} {
		if a, ok := o[k].(map[string]any); ok {
			a["address1"], a["zip"], a["first_name"], a["last_name"] = in.Address1, in.Zip, in.FirstName, in.LastName
			a["name"], a["phone"] = in.FirstName+" "+in.LastName, nilIfEmpty(in.Phone)
		}
	}
	if cd, ok := o["client_details"].(map[string]any); ok {
		cd["browser_ip"] = in.BrowserIP
	}
	cust, _ := o["customer"].(map[string]any)
	if cust == nil {
		cust = map[string]any{}
	}
	cust["id"] = in.CustomerID
	cust["admin_graphql_api_id"] = fmt.Sprintf("gid://shopify/Customer/%d", in.CustomerID)
	cust["email"], cust["phone"] = in.Email, nilIfEmpty(in.Phone)
	cust["first_name"], cust["last_name"] = in.FirstName, in.LastName
	o["customer"] = cust
	body, err := json.Marshal(o)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	sh.orders = append(sh.orders, o)
	s.mu.Unlock()
	if in.Quiet {
		return body, nil
	}
	for _, topic := range []string{"orders/create", "orders/paid"} {
		if _, err := s.SendWebhook(context.Background(), domain, topic, body); err != nil {
			return nil, err
		}
	}
	return body, nil
}

// fixtureMap decodes one of Shopify's sample payloads for editing.
func fixtureMap(name string) (map[string]any, error) {
	raw, err := fixtures.ReadFile("fixtures/" + name)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("fixture %s: %w", name, err)
	}
	return m, nil
}

// customerID derives a stable customer id from the email, so the same
// shopper is the same customer across orders, as in a real store.
func customerID(email string) int64 {
	h := sha256.Sum256([]byte(strings.ToLower(email)))
	var n int64
	for _, b := range h[:6] {
		n = n<<8 | int64(b)
	}
	return 7_000_000_000_000 + n%1_000_000_000_000
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
