package stack_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
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

// The replay API over HTTP: a window out of range, an invalid program,
// unknown fields and another currency are a 400 with a clear message and
// change nothing; a good request answers the report.
func TestReplayAPIRefusesBadInput(t *testing.T) {
	h := newHarness(t, withSimulator())
	shop := "replay-api.myshopify.com"
	h.installAndSync(shop, "EUR")
	post := func(path, body string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, h.app.URL+"/api/admin/program/replay"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+h.sim.SessionToken(shop, 1, time.Minute))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		return resp.StatusCode, readAll(resp)
	}
	for _, c := range []struct{ path, body, want string }{
		{"", `{"days": 0}`, "days must be between 1 and 365"},
		{"", `{"days": 400, "program": {"min_order_minor": 4000}}`, "days must be between 1 and 365"},
		{"", `{"days": 30, "program": {"min_order_minor": -1, "cap_window_days": 0}}`, "minimum order cannot be negative"},
		{"/apply", `{"days": 30, "program": {"holding_days": 999}}`, "holding period must be between 0 and 365 days"},
		{"", `{"days": 30, "program": {"currency": "USD"}}`, "currency is the shop's (EUR)"},
		{"", `{"days": 30, "nope": 1}`, "invalid replay JSON"},
	} {
		status, body := post(c.path, c.body)
		if status != http.StatusBadRequest || !strings.Contains(body, c.want) {
			t.Errorf("%s %s: %d %s, want 400 with %q", c.path, c.body, status, body, c.want)
		}
	}
	status, body := post("", `{"days": 30, "program": {"min_order_minor": 4000}}`)
	if status != http.StatusOK || !strings.Contains(body, `"changes_total":0`) {
		t.Fatalf("replay: %d %s", status, body)
	}
	if n := h.count("SELECT count(*) FROM programs WHERE min_order_minor = 4000"); n != 0 {
		t.Fatal("a replay saved the program")
	}
}
