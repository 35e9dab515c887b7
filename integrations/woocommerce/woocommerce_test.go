package woocommerce

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The secret the recorded webhooks were created with (testdata/SOURCES.md).
const fixtureSecret = "parrain-fixture-secret"

type recorded struct {
	Delivery struct {
		Headers map[string]string `json:"headers"`
		Body    string            `json:"body"`
	} `json:"delivery"`
}

func load(t *testing.T, name string) (http.Header, []byte) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var r recorded
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	for k, v := range r.Delivery.Headers {
		h.Set(k, v)
	}
	return h, []byte(r.Delivery.Body)
}

// Every recorded delivery verifies with its real signature; one changed
// byte does not; pings are recognised and carry no signature.
func TestRecordedDeliveries(t *testing.T) {
	files, _ := filepath.Glob("testdata/delivery-*.json")
	signed, pings := 0, 0
	for _, f := range files {
		name := filepath.Base(f)
		if strings.Contains(name, "wc-auth") || strings.Contains(name, "rest-no-route") {
			continue // not webhook deliveries
		}
		h, body := load(t, name)
		if id, ok := Ping(h, body); ok {
			pings++
			if id <= 0 {
				t.Errorf("%s: ping id %d", name, id)
			}
			continue
		}
		sig := h.Get("X-WC-Webhook-Signature")
		if err := VerifySignature(body, sig, fixtureSecret); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		tampered := append([]byte{}, body...)
		tampered[len(tampered)/2] ^= 1
		if VerifySignature(tampered, sig, fixtureSecret) == nil {
			t.Errorf("%s: a one-byte change verified", name)
		}
		if VerifySignature(body, sig, "another-secret") == nil {
			t.Errorf("%s: verified with another secret", name)
		}
		signed++
	}
	if signed < 6 || pings != 2 {
		t.Fatalf("%d signed deliveries and %d pings checked", signed, pings)
	}
	if VerifySignature([]byte("{}"), "", fixtureSecret) == nil || VerifySignature([]byte("{}"), "not base64!", fixtureSecret) == nil {
		t.Error("missing or malformed signature accepted")
	}
}

func TestParseRecordedOrders(t *testing.T) {
	_, created := load(t, "delivery-order-created.json")
	c, err := ParseOrder(created)
	if err != nil {
		t.Fatal(err)
	}
	o := c.Order
	if !o.Known || !o.Paid || o.Cancelled || o.Order.PlatformID != "12" || o.Order.Total.String() != "45.00 EUR" ||
		o.Order.Email != "friend@example.com" || o.Order.CustomerID != "" || c.Key == "" {
		t.Fatalf("order 12: %+v key %q", o, c.Key)
	}
	if len(o.Order.DiscountCodes) != 1 || o.Order.DiscountCodes[0] != "FRIEND-MARIE-7K2Q" {
		t.Errorf("coupon codes %v: WooCommerce lower-cases them, we compare upper", o.Order.DiscountCodes)
	}
	if o.Order.CartAttributes["parrain_ref"] != "MARIE-7K2Q" || o.Order.CreatedAt.IsZero() {
		t.Errorf("meta/created: %+v", o.Order)
	}

	_, partial := load(t, "delivery-order-updated-3-partial-refund.json")
	c, err = ParseOrder(partial)
	if err != nil || len(c.Refunds) != 1 || c.Refunds[0].RefundMinor != 1000 || c.Refunds[0].RefundID != "wc-refund-13" || c.Order.Cancelled {
		t.Fatalf("partial refund: %+v %v", c, err)
	}
	_, refunded := load(t, "delivery-order-updated-4-refunded.json")
	c, err = ParseOrder(refunded)
	if err != nil || len(c.Refunds) != 2 || !c.Order.Cancelled {
		t.Fatalf("refunded: %+v %v", c, err)
	}
	_, draft := load(t, "delivery-storeapi-order-updated-checkout-draft.json")
	if c, err := ParseOrder(draft); err != nil || c != nil {
		t.Fatalf("checkout draft: %+v %v", c, err)
	}
	for _, bad := range []string{`[`, `{}`, `{"id":1,"status":"processing","total":"1.234","currency":"EUR"}`} {
		if _, err := ParseOrder([]byte(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// One save sends identical created and updated bodies: one key. A later
// change (status, refund) is a new key.
func TestDeliveryKeys(t *testing.T) {
	key := func(name string) string {
		_, body := load(t, name)
		k, err := DeliveryKey(body)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	created, sameSave := key("delivery-order-created.json"), key("delivery-order-updated-1-create-set-paid.json")
	completed, refund := key("delivery-order-updated-2-completed.json"), key("delivery-order-updated-3-partial-refund.json")
	if created != sameSave {
		t.Errorf("same save, two keys: %s %s", created, sameSave)
	}
	if completed == created || refund == completed {
		t.Errorf("distinct changes share a key: %s %s %s", created, completed, refund)
	}
}
