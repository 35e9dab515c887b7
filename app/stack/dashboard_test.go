package stack_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parrain/parrain/app/staff"
	"github.com/parrain/parrain/integrations/shopify/shopifysim"
)

// TestDashboardConversionWithCodeOnlyOrders goes the whole way: three
// clicks on the advocate's link (/r/), one friend who clicked orders, four
// who typed the code order too. The dashboard used to show 5 orders / 3
// clicks = 166.7% conversion; it shows 1 of 3 clicks followed by an order
// (33.3%), and the 4 orders by code only apart.
func TestDashboardConversionWithCodeOnlyOrders(t *testing.T) {
	h := newHarness(t, withSimulator(), withUnlimitedAPI())
	const shop = "honest.myshopify.com"
	h.installAndSync(shop, "EUR")
	h.order(shop, shopifysim.OrderInput{Email: "ada@example.com", FirstName: "Ada"})
	var a *advocateView
	eventually(t, 15*time.Second, "advocate", func() bool { a = h.advocate("ada@example.com"); return a != nil && a.FriendState == "created" })

	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for range 3 {
		resp, err := noFollow.Get(h.app.URL + "/r/" + a.Code + "?ch=whatsapp")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	// Shopify's created_at has whole seconds: the orders come after.
	time.Sleep(1100 * time.Millisecond)
	// The clicker (same address as the clicks: this test's client).
	orders := []int64{h.order(shop, shopifysim.OrderInput{Email: "clicker@example.com", Total: "50.00", BrowserIP: "127.0.0.1",
		DiscountCodes: []string{a.FriendCode}, LandingSite: "/?ref=" + a.Code})}
	for i := range 4 {
		orders = append(orders, h.order(shop, shopifysim.OrderInput{Email: fmt.Sprintf("typed%d@example.com", i), Total: "50.00",
			DiscountCodes: []string{a.FriendCode}}))
	}
	eventually(t, 15*time.Second, "five referrals", func() bool {
		for _, o := range orders {
			if s, _, _ := h.referral(o); s != "pending" {
				return false
			}
		}
		return true
	})
	if _, err := h.stack.Staff().Add(context.Background(), "owner@honest.test", "", staff.Owner, staffPassword, nil); err != nil {
		t.Fatal(err)
	}
	sc := (&consoleWorld{h: h}).login(t, "owner@honest.test")
	status, page := sc.get("/console/shops/" + shop + "/dashboard")
	if status != http.StatusOK {
		t.Fatalf("dashboard: %d", status)
	}
	stat := func(label string) string {
		m := regexp.MustCompile(`<span class="muted">` + regexp.QuoteMeta(label) + `</span><b>([^<]*)</b>`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no %q on the dashboard:\n%s", label, page)
		}
		return m[1]
	}
	for label, want := range map[string]string{
		"Clicks on advocates’ links":       "3",
		"Conversion":                       "33.3%",
		"Referred orders":                  "5",
		"after a click on the link":        "1",
		"by code only (no click recorded)": "4",
	} {
		if got := stat(label); got != want {
			t.Errorf("%s: %s, want %s", label, got, want)
		}
	}
	if !strings.Contains(page, "1 of 3 clicks were followed by an order") || !strings.Contains(page, "Europe/Paris") {
		t.Errorf("the conversion's count or the shop's time zone is missing")
	}
}
