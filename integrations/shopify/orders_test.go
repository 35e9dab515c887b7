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

// An order without a customer (guest checkout, POS, API): no customer id,
// the buyer known by email or contact_email, named by the addresses.
func TestParseOrderEventWithoutCustomer(t *testing.T) {
	for _, tc := range []struct {
		name, body, email, first string
	}{
		{"customer null, email", `{"id":1,"email":"gina@example.com","customer":null,"billing_address":{"first_name":"Gina"},"total_price":"10.00","currency":"EUR"}`, "gina@example.com", "Gina"},
		{"only contact_email, shipping name", `{"id":2,"email":"","contact_email":"gus@example.com","shipping_address":{"first_name":"Gus"},"total_price":"10.00","currency":"EUR"}`, "gus@example.com", "Gus"},
		{"nothing at all", `{"id":3,"customer":null,"total_price":"10.00","currency":"EUR"}`, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := ParseOrderEvent([]byte(tc.body), true)
			if err != nil {
				t.Fatal(err)
			}
			if ev.Order.CustomerID != "" || ev.Order.Email != tc.email || ev.FirstName != tc.first {
				t.Fatalf("customer %q email %q first name %q", ev.Order.CustomerID, ev.Order.Email, ev.FirstName)
			}
		})
	}
}

// The buyer's language and email marketing consent: Shopify's sample order
// says not_subscribed and no locale; the customer's consent state decides,
// the checkout box only for a guest.
func TestParseOrderEventConsentAndLocale(t *testing.T) {
	fixture, err := os.ReadFile("shopifysim/fixtures/order.json")
	if err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	for _, tc := range []struct {
		name, body string
		consent    *bool
		locale     string
	}{
		{"Shopify's sample order", string(fixture), &no, ""},
		{"subscribed", `{"id":1,"total_price":"1.00","currency":"EUR","customer_locale":"fr-CA","customer":{"id":2,"email_marketing_consent":{"state":"subscribed"}}}`, &yes, "fr-CA"},
		{"pending double opt-in is no", `{"id":1,"total_price":"1.00","currency":"EUR","customer":{"id":2,"email_marketing_consent":{"state":"pending"}}}`, &no, ""},
		{"guest ticked the box", `{"id":1,"total_price":"1.00","currency":"EUR","buyer_accepts_marketing":true,"customer":null}`, &yes, ""},
		{"nothing said", `{"id":1,"total_price":"1.00","currency":"EUR"}`, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := ParseOrderEvent([]byte(tc.body), true)
			if err != nil {
				t.Fatal(err)
			}
			if (ev.MarketingConsent == nil) != (tc.consent == nil) || (tc.consent != nil && *ev.MarketingConsent != *tc.consent) || ev.Locale != tc.locale {
				t.Fatalf("consent %v locale %q", ev.MarketingConsent, ev.Locale)
			}
		})
	}
}
