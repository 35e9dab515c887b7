package shopify

import (
	"encoding/json"
	"os"
	"testing"
)

// Seeds: Shopify's documented order and refund (shopifysim/fixtures), and
// a few shapes the parsers must refuse cleanly. `go test` runs the seeds
// (and testdata/fuzz regressions); `make fuzz` explores.
func addShopifySeeds(f *testing.F, files ...string) {
	for _, name := range files {
		b, err := os.ReadFile("shopifysim/fixtures/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, true)
		f.Add(b, false)
	}
	for _, s := range []string{`{}`, `null`, `[]`, `{"id":1}`, `{"id":1,"total_price":"1e400","currency":"EUR"}`,
		`{"id":-1,"total_price":"-5.00","currency":"EUR"}`, `{"id":9223372036854775807,"total_price":"99999999999999999999.99","currency":"JPY"}`,
		`{"id":1,"order_id":2,"transactions":[{"kind":"refund","status":"success","amount":"-1","currency":"EUR"}]}`,
		`{"id":1,"total_price":"10.00","currency":"EUR","note_attributes":[{"name":"parrain_ref","value":{"x":1}}],"customer":{"id":0}}`} {
		f.Add([]byte(s), false)
	}
}

// An order body is parsed or refused with EINVALID-style errors; never a
// panic, and a parsed event always names its order.
func FuzzParseOrderEvent(f *testing.F) {
	addShopifySeeds(f, "order.json")
	f.Fuzz(func(t *testing.T, payload []byte, paid bool) {
		ev, err := ParseOrderEvent(payload, paid)
		if err != nil {
			if ev.Order.PlatformID != "" {
				t.Fatalf("error %v with a half-filled event", err)
			}
			return
		}
		if !json.Valid(payload) {
			t.Fatalf("accepted invalid JSON %q", payload)
		}
		if ev.Order.PlatformID == "" || ev.Order.PlatformID == "0" || !ev.Known {
			t.Fatalf("parsed event without its order: %+v", ev)
		}
		if paid && !ev.Paid {
			t.Fatal("orders/paid not paid")
		}
		if ev.Order.CartAttributes == nil {
			t.Fatal("nil cart attributes")
		}
	})
}

// A refund body is parsed or refused; a parsed refund names its order and
// refund and never refunds a negative amount.
func FuzzParseRefundEvent(f *testing.F) {
	addShopifySeeds(f, "refund.json")
	f.Fuzz(func(t *testing.T, payload []byte, _ bool) {
		ev, err := ParseRefundEvent(payload)
		if err != nil {
			return
		}
		if ev.Order.PlatformID == "" || ev.RefundID == "" {
			t.Fatalf("refund without ids: %+v", ev)
		}
		if ev.RefundMinor < 0 {
			t.Fatalf("negative refund %d from %q", ev.RefundMinor, payload)
		}
	})
}
