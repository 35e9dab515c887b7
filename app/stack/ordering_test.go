package stack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parrain/parrain/integrations/shopify/shopifysim"
)

// Events may arrive late, twice or out of order: the end state is the same.
// Each scenario is a friend order using the advocate's code, its events sent
// in a different order (each one processed before the next is sent).
func TestOrderEventsInAnyOrderReachTheSameState(t *testing.T) {
	h := newHarness(t, withSimulator())
	const shop = "ordering.myshopify.com"
	h.installAndSync(shop, "EUR")
	h.order(shop, shopifysim.OrderInput{Email: "marie@example.com", FirstName: "Marie", Total: "120.00"})
	var a *advocateView
	eventually(t, 15*time.Second, "advocate", func() bool { a = h.advocate("marie@example.com"); return a != nil && a.FriendState == "created" })

	cases := []struct {
		name   string
		events []string // create, paid, refund (full), dup (paid again, new event id)
		want   string
	}{
		{"create then paid", []string{"create", "paid"}, "pending"},
		{"paid before create", []string{"paid", "create"}, "pending"},
		{"paid twice", []string{"paid", "dup", "create"}, "pending"},
		{"refund before paid", []string{"refund", "paid", "create"}, "reversed"},
		{"refund between", []string{"create", "refund", "paid"}, "reversed"},
		{"refund last", []string{"create", "paid", "refund"}, "reversed"},
		{"refund twice", []string{"paid", "refund", "refund", "create"}, "reversed"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body, err := h.sim.CreateOrder(shop, shopifysim.OrderInput{Email: fmt.Sprintf("friend%d@example.com", i), FirstName: "Friend",
				Total: "80.00", DiscountCodes: []string{a.FriendCode}, Quiet: true})
			if err != nil {
				t.Fatal(err)
			}
			var o struct{ ID int64 }
			json.Unmarshal(body, &o)
			refund, _ := h.sim.RefundBody(shop, o.ID, "80.00")
			for _, ev := range tc.events {
				topic, payload := map[string]string{"create": "orders/create", "paid": "orders/paid", "dup": "orders/paid", "refund": "refunds/create"}[ev], body
				if ev == "refund" {
					payload = refund
				}
				before := h.count("SELECT count(*) FROM webhook_events WHERE processed_at IS NOT NULL")
				if _, err := h.sim.SendWebhook(context.Background(), shop, topic, payload); err != nil {
					t.Fatal(err)
				}
				eventually(t, 20*time.Second, ev+" processed", func() bool {
					return h.count("SELECT count(*) FROM webhook_events WHERE processed_at IS NOT NULL") > before
				})
			}
			state, evidence, _ := h.referral(o.ID)
			if state != tc.want || !strings.HasPrefix(evidence, "discount_code:") {
				t.Fatalf("end state %q (%s), want %q", state, evidence, tc.want)
			}
			if n := h.count("SELECT count(*) FROM referrals f JOIN orders o ON o.id = f.order_id WHERE o.platform_order_id = $1", fmt.Sprint(o.ID)); n != 1 {
				t.Fatalf("%d referrals for one order", n)
			}
			if n := h.count("SELECT refunded_minor FROM orders WHERE platform_order_id = $1", fmt.Sprint(o.ID)); strings.Contains(strings.Join(tc.events, ","), "refund") && n != 8000 {
				t.Fatalf("refunded %d minor units, want 8000 (each refund counted once)", n)
			}
		})
	}
}
