package shopify

import (
	"os"
	"strings"
	"testing"
)

func TestParseRefundEvent(t *testing.T) {
	// Shopify's sample refund, as the simulator replays it.
	fixture, err := os.ReadFile("shopifysim/fixtures/refund.json")
	if err != nil {
		t.Fatal(err)
	}
	// A refund in a shop of another currency than the buyer's: 90.00 EUR
	// paid back, its line worth 100.00 USD to the shop for 90.00 EUR.
	multi := `{"id": 9, "order_id": 5, "transactions": [{"kind": "refund", "status": "success", "amount": "90.00", "currency": "EUR"}],
		"refund_line_items": [{"subtotal_set": {"shop_money": {"amount": "100.00", "currency_code": "USD"}, "presentment_money": {"amount": "90.00", "currency_code": "EUR"}}}]}`
	for _, tc := range []struct {
		name, body string
		want       int64
		bad        bool
	}{
		{"Shopify's sample refund (same currency: the transaction)", string(fixture), 20900, false},
		{"presentment currency converted at the lines' rate", multi, 10000, false},
		{"failed transactions do not count", `{"id": 1, "order_id": 2, "transactions": [{"kind": "refund", "status": "failure", "amount": "5.00", "currency": "USD"}]}`, 0, false},
		{"no order id", `{"id": 1}`, 0, true},
		{"bad amount", `{"id": 1, "order_id": 2, "transactions": [{"kind": "refund", "status": "success", "amount": "1.234", "currency": "USD"}]}`, 0, true},
		{"not JSON", `[`, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := ParseRefundEvent([]byte(tc.body))
			if tc.bad {
				if err == nil {
					t.Fatal("accepted")
				}
				return
			}
			if err != nil || ev.RefundMinor != tc.want || ev.RefundID == "" || strings.TrimSpace(ev.Order.PlatformID) == "" {
				t.Fatalf("got %+v, %v; want %d", ev, err, tc.want)
			}
		})
	}
}
