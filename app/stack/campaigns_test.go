package stack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parrain/parrain/integrations/shopify/shopifysim"
	"github.com/parrain/parrain/jobs"
)

// adminCall sends an admin API request as the embedded admin does (the
// shop's session token) and returns the status and body.
func (h *harness) adminCall(shop, method, path, body string) (int, string) {
	h.t.Helper()
	req, _ := http.NewRequest(method, h.app.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+h.sim.SessionToken(shop, 1, time.Minute))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, readAll(resp)
}

// codeDiscount is what the simulated checkout took off an order for a
// code: its value type and value, as the order records them.
func codeDiscount(t *testing.T, order []byte, code string) string {
	t.Helper()
	var o struct {
		DiscountApplications []struct {
			Code      string `json:"code"`
			Value     string `json:"value"`
			ValueType string `json:"value_type"`
		} `json:"discount_applications"`
	}
	if err := json.Unmarshal(order, &o); err != nil {
		t.Fatal(err)
	}
	for _, a := range o.DiscountApplications {
		if strings.EqualFold(a.Code, code) {
			return a.ValueType + " " + a.Value
		}
	}
	return "none"
}

// A campaign that changes the friend's discount changes it in the store,
// over the real pipeline: admin API → queued sync → Shopify's
// discountCodeBasicUpdate in the simulator. A friend ordering during the
// campaign gets its discount at checkout, with a code handed out before
// the campaign as with one handed out during it; after the end, both give
// the standing discount again.
func TestCampaignChangesTheFriendDiscountInTheStore(t *testing.T) {
	h := newHarness(t, withSimulator())
	const shop = "campaign.myshopify.com"
	sh := h.installAndSync(shop, "EUR")
	ctx := context.Background()
	_, before := h.newAdvocate(shop, "anna@example.com", "Anna")

	checkout := func(friend, code, want string) {
		t.Helper()
		body, err := h.sim.CreateOrder(shop, shopifysim.OrderInput{Email: friend, FirstName: "Friend", Total: "90.00", DiscountCodes: []string{code}, Quiet: true})
		if err != nil {
			t.Fatal(err)
		}
		if got := codeDiscount(t, body, code); got != want {
			t.Fatalf("%s with %s got %s off, want %s", friend, code, got, want)
		}
	}
	checkout("f1@example.com", before.FriendCode, "percentage 10.0") // the standing 10 %

	start, end := h.now().Add(-time.Minute), h.now().Add(2*time.Hour)
	status, body := h.adminCall(shop, http.MethodPost, "/api/admin/shops/"+shop+"/campaigns", fmt.Sprintf(
		`{"name":"Black Friday","start":%q,"end":%q,"mode":"replace","friend":{"kind":"percent","percent":25}}`,
		start.Format(time.RFC3339), end.Format(time.RFC3339)))
	if status != http.StatusCreated {
		t.Fatalf("create campaign: %d %s", status, body)
	}
	// The save queued a sync for now; the worker runs it.
	eventually(t, 15*time.Second, "the friend discount set to the campaign's", func() bool {
		for _, d := range h.sim.Discounts(shop) {
			if strings.EqualFold(d.Code, before.FriendCode) {
				cg, _ := d.Input["customerGets"].(map[string]any)
				v, _ := cg["value"].(map[string]any)
				return v["percentage"] == 0.25
			}
		}
		return false
	})
	checkout("f2@example.com", before.FriendCode, "percentage 25.0")
	// An advocate made during the campaign: the code is created with the
	// campaign's terms.
	_, during := h.newAdvocate(shop, "bea@example.com", "Bea")
	checkout("f3@example.com", during.FriendCode, "percentage 25.0")

	// Past the end, the sync queued for the end (or the sweep) sets the
	// standing terms back. The clock is skewed, so the test runs the sync
	// the worker would run at that instant.
	h.advance(3 * time.Hour)
	if err := h.stack.Mux().ProcessTask(ctx, jobs.NewSyncCampaignTask(sh.ID, h.now())); err != nil {
		t.Fatalf("sync after the end: %v", err)
	}
	checkout("f4@example.com", before.FriendCode, "percentage 10.0")
	checkout("f5@example.com", during.FriendCode, "percentage 10.0")
	if n := h.count(`SELECT count(*) FROM friend_offers WHERE shop_id = $1 AND (terms IS NOT NULL OR applied IS NOT NULL)`, sh.ID); n != 0 {
		t.Fatalf("%d friend offers still marked with a campaign's terms", n)
	}
}

// The campaign admin API answers bad input 400 with the reason, an overlap
// 409 naming the other campaign, and another shop's campaign 404: a shop
// can neither read, change nor delete it.
func TestCampaignAdminAPIStatuses(t *testing.T) {
	h := newHarness(t, withSimulator())
	const shopA, shopB = "camp-a.myshopify.com", "camp-b.myshopify.com"
	h.installAndSync(shopA, "EUR")
	h.installAndSync(shopB, "EUR")
	base := func(shop string) string { return "/api/admin/shops/" + shop + "/campaigns" }
	day := 24 * time.Hour
	t0 := h.now().Truncate(time.Hour).Add(day)
	body := func(name string, start, end time.Time, rest string) string {
		return fmt.Sprintf(`{"name":%q,"start":%q,"end":%q,%s}`, name, start.Format(time.RFC3339), end.Format(time.RFC3339), rest)
	}
	const friend20 = `"mode":"replace","friend":{"kind":"percent","percent":20}`
	created := func(shop, b string) int64 {
		t.Helper()
		status, out := h.adminCall(shop, http.MethodPost, base(shop), b)
		if status != http.StatusCreated {
			t.Fatalf("create on %s: %d %s", shop, status, out)
		}
		var c struct{ ID int64 }
		if err := json.Unmarshal([]byte(out), &c); err != nil || c.ID == 0 {
			t.Fatalf("created campaign %s: %v", out, err)
		}
		return c.ID
	}
	spring := created(shopA, body("Spring", t0, t0.Add(7*day), friend20))
	other := created(shopB, body("Shop B's own", t0, t0.Add(7*day), friend20))

	for _, c := range []struct {
		name, method, path, body string
		status                   int
		says                     string
	}{
		{"end before start", http.MethodPost, base(shopA), body("Back", t0.Add(20*day), t0.Add(19*day), friend20), 400, "end after it starts"},
		{"unknown kind", http.MethodPost, base(shopA), body("Cash", t0.Add(20*day), t0.Add(21*day), `"mode":"replace","friend":{"kind":"cashback","percent":20}`), 400, "must be a percent off, an amount off or free shipping"},
		{"unknown mode", http.MethodPost, base(shopA), body("Twice", t0.Add(20*day), t0.Add(21*day), `"mode":"double","friend":{"kind":"percent","percent":20}`), 400, "mode"},
		{"malformed JSON", http.MethodPost, base(shopA), `{"name":"Broken","start":`, 400, "invalid campaign JSON"},
		{"unknown field", http.MethodPost, base(shopA), `{"name":"X","colour":"red"}`, 400, "colour"},
		{"bad id", http.MethodPut, base(shopA) + "/abc", body("Spring", t0, t0.Add(7*day), friend20), 400, "positive number"},
		{"overlap", http.MethodPost, base(shopA), body("Summer", t0.Add(6*day), t0.Add(9*day), friend20), 409, `overlaps \"Spring\"`},
		{"another shop's campaign changed", http.MethodPut, fmt.Sprintf("%s/%d", base(shopA), other), body("Taken", t0.Add(30*day), t0.Add(31*day), friend20), 404, "no campaign"},
		{"another shop's campaign deleted", http.MethodDelete, fmt.Sprintf("%s/%d", base(shopA), other), "", 404, "no campaign"},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, out := h.adminCall(shopA, c.method, c.path, c.body)
			if status != c.status || !strings.Contains(out, c.says) {
				t.Fatalf("%d %s, want %d saying %s", status, out, c.status, c.says)
			}
		})
	}
	// Shop A's session cannot even reach shop B's list.
	if status, out := h.adminCall(shopA, http.MethodGet, base(shopB), ""); status != http.StatusNotFound || strings.Contains(out, "Shop B's own") {
		t.Fatalf("shop A reading shop B's campaigns: %d %s", status, out)
	}
	// Nothing above changed a campaign: A has Spring alone, B its own.
	for shop, want := range map[string]string{shopA: fmt.Sprintf(`"id":%d,"name":"Spring"`, spring), shopB: fmt.Sprintf(`"id":%d,"name":"Shop B's own"`, other)} {
		status, out := h.adminCall(shop, http.MethodGet, base(shop), "")
		if status != http.StatusOK || !strings.Contains(out, want) || strings.Count(out, `"id":`) != 1 {
			t.Fatalf("%s campaigns: %d %s, want only %s", shop, status, out, want)
		}
	}
}
