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
