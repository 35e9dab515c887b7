package stack_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/parrain/parrain/app/staff"
	"github.com/parrain/parrain/integrations/shopify/shopifysim"
)

// TestReplayInBrowser runs widget/test/replay.test.mjs: the merchant
// previews the effect of a higher minimum order on the settings page (the
// report lists the orders it changes and the reward cost difference),
// applies it, and finds the change on the referral's timeline; the same
// inside the Shopify admin (App Bridge stood in), and the report in French.
func TestReplayInBrowser(t *testing.T) {
	root, testDir, chromium := browserTests(t)
	h := newHarness(t, withSimulator(), withUnlimitedAPI())
	shop := "replay.myshopify.com"
	h.installAndSync(shop, "EUR")
	h.order(shop, shopifysim.OrderInput{Email: "ada@example.com", FirstName: "Ada"})
	var a *advocateView
	eventually(t, 15*time.Second, "advocate", func() bool { a = h.advocate("ada@example.com"); return a != nil && a.FriendState == "created" })
	var orders []int64
	for i, total := range []string{"30.00", "50.00", "80.00"} {
		orders = append(orders, h.order(shop, shopifysim.OrderInput{Email: fmt.Sprintf("friend%d@example.com", i), Total: total, DiscountCodes: []string{a.FriendCode}}))
	}
	eventually(t, 15*time.Second, "referrals", func() bool {
		for _, o := range orders {
			if s, _, _ := h.referral(o); s != "pending" {
				return false
			}
		}
		return true
	})
	var first int64
	h.direct.QueryRow(`SELECT f.id FROM referrals f JOIN orders o ON o.id = f.order_id WHERE o.platform_order_id = $1`, fmt.Sprint(orders[0])).Scan(&first)
	if _, err := h.stack.Staff().Add(context.Background(), "owner@parrain.test", "", staff.Owner, staffPassword, nil); err != nil {
		t.Fatal(err)
	}
	runNodeTests(t, testDir, "replay.test.mjs", "APP_URL="+h.app.URL, "SHOP="+shop, "PASSWORD="+staffPassword,
		"FIRST_REFERRAL="+fmt.Sprint(first), "TOKEN="+h.sim.SessionToken(shop, 42, 10*time.Minute),
		"OUT_DIR="+filepath.Join(root, "test-output", "replay"), "CHROMIUM="+chromium)
	for i, want := range []string{"rejected", "rejected", "rejected"} {
		if s, _, _ := h.referral(orders[i]); s != want {
			t.Errorf("order %d: %s after the two applies, want %s", i, s, want)
		}
	}
	if n := h.count("SELECT count(*) FROM audit_log WHERE action = 'rule_change'"); n != 3 {
		t.Errorf("%d rule_change audit rows, want 3", n)
	}
}
