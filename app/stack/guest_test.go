package stack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parrain/parrain/app/staff"
	"github.com/parrain/parrain/integrations/shopify/shopifysim"
	"github.com/parrain/parrain/integrations/woocommerce/wcsim"
	"github.com/parrain/parrain/jobs"
)

// guestAdvocate is the advocate row of a guest, found by its email key.
type guestAdvocate struct {
	advocateView
	CustomerID, Email, EmailNorm, FirstName string
}

func (h *harness) advocateByEmailNorm(emailNorm string) *guestAdvocate {
	var a guestAdvocate
	err := h.direct.QueryRow(`SELECT id, code, friend_code, friend_code_state, customer_id, email, email_norm, first_name
		FROM advocates WHERE email_norm = $1`, emailNorm).
		Scan(&a.ID, &a.Code, &a.FriendCode, &a.FriendState, &a.CustomerID, &a.Email, &a.EmailNorm, &a.FirstName)
	if err != nil {
		return nil
	}
	return &a
}

// A Shopify order without a customer ("customer": null, the buyer known by
// email) through the real intake: the guest becomes an advocate, their
// order-status popup shows their link and code, a friend's order earns them
// a reward (single use, for anyone: Shopify cannot restrict a code to an
// email), support finds them by email, and customers/data_request and
// customers/redact by email reach them.
func TestShopifyGuestOrderMakesAnAdvocate(t *testing.T) {
	h := newHarness(t, withSimulator())
	const shop = "guest-loop.myshopify.com"
	h.installAndSync(shop, "EUR")

	gina := h.order(shop, shopifysim.OrderInput{Guest: true, Email: "Gina.Guest@gmail.com", FirstName: "Gina"})
	var adv *guestAdvocate
	eventually(t, 15*time.Second, "the guest an advocate with a friend code", func() bool {
		adv = h.advocateByEmailNorm("ginaguest@gmail.com")
		return adv != nil && adv.FriendState == "created"
	})
	if adv.CustomerID != "" || !strings.HasPrefix(adv.Code, "GINA-") {
		t.Fatalf("guest advocate: %+v", adv)
	}
	if n := h.count("SELECT count(*) FROM webhook_events WHERE customer_id IS NOT NULL"); n != 0 {
		t.Fatalf("the simulator sent a customer with the guest order (%d events)", n)
	}

	// The popup, proven by the order's email or by a guest's checkout token.
	oid := strconv.FormatInt(gina, 10)
	for name, tc := range map[string]struct {
		body  map[string]any
		token string
	}{
		"email":               {map[string]any{"shop": shop, "order_id": oid, "email": "gina.guest@GMAIL.com"}, ""},
		"guest session token": {map[string]any{"order_id": oid, "confirmation_number": h.simConfirmationNumber(shop, gina)}, h.sim.CheckoutSessionToken(shop, 0, time.Minute)},
	} {
		status, got, raw := h.widgetSession(tc.body, tc.token)
		if status != 200 || got.Link != h.app.URL+"/r/"+adv.Code || got.Code != adv.FriendCode {
			t.Fatalf("popup by %s: %d %s", name, status, raw)
		}
	}

	// A friend buys with the code; after the hold, the guest's reward.
	fred := h.order(shop, shopifysim.OrderInput{Email: "fred@example.com", FirstName: "Fred", Total: "80.00", DiscountCodes: []string{adv.FriendCode}})
	eventually(t, 15*time.Second, "Fred's referral", func() bool { s, _, _ := h.referral(fred); return s == "pending" })
	h.advance(15 * 24 * time.Hour)
	if err := h.stack.Mux().ProcessTask(context.Background(), jobs.NewApproveReferralsTask()); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "Fred's referral rewarded", func() bool { s, _, _ := h.referral(fred); return s == "rewarded" })
	for _, d := range h.sim.Discounts(shop) {
		if strings.HasPrefix(d.Code, "THANKS-") {
			in, _ := json.Marshal(d.Input)
			if !strings.Contains(string(in), `"usageLimit":1`) || !strings.Contains(string(in), `"context":{"all":"ALL"}`) {
				t.Fatalf("guest's reward: %s", in)
			}
		}
	}

	// Support looks the guest up by email, written as they like.
	if _, err := h.stack.Staff().Add(context.Background(), "owner@parrain.test", "", staff.Owner, staffPassword, nil); err != nil {
		t.Fatal(err)
	}
	sc := (&consoleWorld{h: h}).login(t, "owner@parrain.test")
	for _, q := range []string{"Gina.Guest@gmail.com", "ginaguest@gmail.com"} {
		status, page := sc.get("/console/shops/" + shop + "/customers?q=" + url.QueryEscape(q))
		if status != 200 || !strings.Contains(page, "advocate "+adv.Code) || !strings.Contains(page, "rewarded") {
			t.Fatalf("customer lookup %q: %d %s", q, status, page)
		}
	}

	// customers/data_request and customers/redact for the guest's email,
	// with no order listed: the email alone must reach the advocate.
	if _, err := h.sim.SendCompliance(shop, "customers-data_request", shopifysim.ComplianceRequest{Email: "gina.guest@gmail.com", Orders: []int64{}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "the export", func() bool {
		return h.count(`SELECT count(*) FROM data_exports WHERE export::text LIKE '%' || $1 || '%'`, adv.Code) == 1
	})
	if _, err := h.sim.SendCompliance(shop, "customers-redact", shopifysim.ComplianceRequest{Email: "gina.guest@gmail.com", Orders: []int64{}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "the guest redacted", func() bool {
		return h.count(`SELECT count(*) FROM advocates WHERE id = $1 AND email = '' AND email_norm = '' AND first_name = ''`, adv.ID) == 1
	})
	if n := h.count(`SELECT count(*) FROM orders WHERE platform_order_id = $1 AND (email_norm <> '' OR facts::text ILIKE '%gina%')`, oid); n != 0 {
		t.Fatal("the guest's order kept their email")
	}
	if n := h.count(`SELECT count(*) FROM rewards WHERE advocate_id = $1`, adv.ID); n != 1 {
		t.Fatal("redaction lost the books: the reward row is gone")
	}
}

// A WooCommerce guest (customer_id 0, only billing.email) through the real
// intake: an advocate with a friend coupon, the popup with the order key, a
// reward coupon restricted to the guest's email; when the guest orders
// again with an account, the same advocate gets the customer id and no
// second coupon.
func TestWooCommerceGuestAdvocate(t *testing.T) {
	h := newHarness(t)
	store := wcsim.New("ck_guest", "cs_guest")
	store.Now = h.now
	srv := httptest.NewServer(store.Handler())
	defer srv.Close()
	resp, err := http.Get(h.app.URL + "/auth/woocommerce/start?store=" + url.QueryEscape(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(resp); resp.StatusCode != 200 {
		t.Fatalf("install: %d %s", resp.StatusCode, body)
	}
	eventually(t, 15*time.Second, "webhooks", func() bool { return len(store.Webhooks()) == 3 })
	domain := strings.TrimPrefix(srv.URL, "http://")

	gus, key, err := store.PlaceOrder(wcsim.OrderInput{CustomerID: 0, Email: "Gus.Guest@gmail.com", FirstName: "Gus", Total: "60.00"})
	if err != nil {
		t.Fatal(err)
	}
	var adv *guestAdvocate
	eventually(t, 15*time.Second, "the guest an advocate", func() bool {
		adv = h.advocateByEmailNorm("gusguest@gmail.com")
		return adv != nil && adv.FriendState == "created"
	})
	if adv.CustomerID != "" || len(store.Coupons()) != 1 {
		t.Fatalf("guest advocate %+v, coupons %+v", adv, store.Coupons())
	}
	status, popup, raw := h.widgetSession(map[string]any{"platform": "woocommerce", "shop": domain,
		"order_id": strconv.FormatInt(gus, 10), "order_key": key}, "")
	if status != 200 || popup.Link != h.app.URL+"/r/"+adv.Code || popup.Code != adv.FriendCode {
		t.Fatalf("popup: %d %s", status, raw)
	}

	bob, _, err := store.PlaceOrder(wcsim.OrderInput{Email: "bob@example.com", FirstName: "Bob", Total: "45.00", Coupons: []string{adv.FriendCode}})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "Bob's referral", func() bool { s, _, _ := h.referral(bob); return s == "pending" })
	h.advance(15 * 24 * time.Hour)
	if err := h.stack.Mux().ProcessTask(context.Background(), jobs.NewApproveReferralsTask()); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "Bob's referral rewarded", func() bool { s, _, _ := h.referral(bob); return s == "rewarded" })
	rewards := 0
	for _, c := range store.Coupons() {
		if strings.HasPrefix(c.Code, "thanks-") {
			rewards++
			if c.UsageLimit == nil || *c.UsageLimit != 1 || len(c.EmailRestrictions) != 1 || c.EmailRestrictions[0] != "Gus.Guest@gmail.com" {
				t.Fatalf("reward coupon: %+v", c)
			}
		}
	}
	if rewards != 1 {
		t.Fatalf("%d reward coupons", rewards)
	}

	// Gus makes an account and orders again: the same advocate.
	again, _, err := store.PlaceOrder(wcsim.OrderInput{CustomerID: 31, Email: "gusguest@gmail.com", FirstName: "Gus", Total: "30.00"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "the order processed", func() bool {
		return h.count("SELECT count(*) FROM orders WHERE platform_order_id = $1 AND paid", fmt.Sprint(again)) == 1
	})
	eventually(t, 15*time.Second, "the customer id attached", func() bool {
		a := h.advocateByEmailNorm("gusguest@gmail.com")
		return a != nil && a.CustomerID == "31" && a.ID == adv.ID && a.Code == adv.Code
	})
	if n := h.count("SELECT count(*) FROM advocates"); n != 2 {
		t.Fatalf("%d advocates, want Gus and Bob", n)
	}
	// Bob's friend code goes to the store with the next batch.
	eventually(t, 15*time.Second, "Bob's friend code in the store", func() bool {
		return h.count("SELECT count(*) FROM advocates WHERE friend_code_state = 'created'") == 2
	})
	if n := len(store.Coupons()); n != 3 {
		t.Fatalf("%d coupons, want Gus's and Bob's friend codes and Gus's reward", n)
	}
}
