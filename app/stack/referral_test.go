package stack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/staff"
	"github.com/parrain/parrain/integrations/shopify/shopifysim"
	"github.com/parrain/parrain/integrations/smtp/mailsim"
	"github.com/parrain/parrain/jobs"
)

// installAndSync installs shop through OAuth and waits for its details.
func (h *harness) installAndSync(shop, currency string) *app.Shop {
	h.t.Helper()
	h.sim.AddShop(shop, simShop("Referral Shop", currency, "Europe/Paris"))
	h.install(shop)
	var sh *app.Shop
	eventually(h.t, 15*time.Second, "shop synced", func() bool {
		sh, _ = h.stack.DB.Shops().ShopByDomain(context.Background(), app.PlatformShopify, shop)
		return sh != nil && sh.Currency == currency
	})
	return sh
}

func (h *harness) order(shop string, in shopifysim.OrderInput) int64 {
	h.t.Helper()
	body, err := h.sim.CreateOrder(shop, in)
	if err != nil {
		h.t.Fatal(err)
	}
	var o struct{ ID int64 }
	json.Unmarshal(body, &o)
	return o.ID
}

type advocateView struct {
	ID                            int64
	Code, FriendCode, FriendState string
}

func (h *harness) advocate(email string) *advocateView {
	var a advocateView
	err := h.direct.QueryRow(`SELECT id, code, friend_code, friend_code_state FROM advocates WHERE email = $1`, email).
		Scan(&a.ID, &a.Code, &a.FriendCode, &a.FriendState)
	if err != nil {
		return nil
	}
	return &a
}

func (h *harness) referral(orderID int64) (state, evidence, reason string) {
	h.direct.QueryRow(`SELECT f.state, f.evidence_kind || ':' || f.evidence_code, f.reason FROM referrals f JOIN orders o ON o.id = f.order_id
		WHERE o.platform_order_id = $1`, strconv.FormatInt(orderID, 10)).Scan(&state, &evidence, &reason)
	return
}

func TestReferralLoopEndToEnd(t *testing.T) {
	h := newHarness(t, withSimulator())
	const shop = "loop.myshopify.com"
	h.installAndSync(shop, "EUR")

	// Customer A's paid order makes A an advocate with a friend code in the store.
	h.order(shop, shopifysim.OrderInput{Email: "marie@example.com", FirstName: "Marie", Total: "120.00", Locale: "fr"})
	var a *advocateView
	eventually(t, 15*time.Second, "A to be an advocate with a friend code", func() bool {
		a = h.advocate("marie@example.com")
		return a != nil && a.FriendState == "created"
	})
	if !strings.HasPrefix(a.Code, "MARIE-") || a.FriendCode != "FRIEND-"+a.Code {
		t.Fatalf("advocate codes: %+v", a)
	}
	found := false
	for _, d := range h.sim.Discounts(shop) {
		found = found || d.Code == a.FriendCode
	}
	if !found {
		t.Fatalf("friend code %s not in the store", a.FriendCode)
	}

	// A click on A's link redirects to the store with the code applied.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(h.app.URL + "/r/" + a.Code + "?ch=whatsapp")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.Contains(loc, "/discount/"+a.FriendCode) || !strings.Contains(loc, "ref%3D"+a.Code) {
		t.Fatalf("/r/ answered %d → %s", resp.StatusCode, loc)
	}
	if n := h.count("SELECT count(*) FROM clicks WHERE advocate_id = $1 AND channel = 'whatsapp'", a.ID); n != 1 {
		t.Fatalf("%d clicks recorded", n)
	}

	// Friend B orders with the code: a pending referral with its evidence.
	b := h.order(shop, shopifysim.OrderInput{Email: "bob@example.com", FirstName: "Bob", Total: "80.00",
		DiscountCodes: []string{a.FriendCode}, LandingSite: "/?ref=" + a.Code})
	eventually(t, 15*time.Second, "B's referral", func() bool { s, _, _ := h.referral(b); return s != "" })
	if state, evidence, reason := h.referral(b); state != "pending" || evidence != "discount_code:"+a.FriendCode {
		t.Fatalf("B's referral: %s %s %s", state, evidence, reason)
	}
	// Marie is told, in French (her order's language), by email; Bob is
	// named by his first name and initial (the simulator's default last
	// name is Curie).
	friendMail := h.waitMail(t, "marie@example.com", "Bob C. a commandé")
	if !strings.Contains(friendMail.Text, "Bob C. vient de commander") || strings.Contains(friendMail.Text, "bob@example.com") {
		t.Fatalf("friend-ordered email:\n%s", friendMail.Text)
	}

	// Friend C too; C's order is then refunded in full during the hold.
	c := h.order(shop, shopifysim.OrderInput{Email: "carol@example.com", FirstName: "Carol", Total: "60.00", DiscountCodes: []string{a.FriendCode}})
	eventually(t, 15*time.Second, "C's referral", func() bool { s, _, _ := h.referral(c); return s == "pending" })
	if _, err := h.sim.Refund(shop, c, "60.00"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "C's referral reversed", func() bool { s, _, _ := h.referral(c); return s == "reversed" })

	// Past the 14-day hold, B's referral is approved and A rewarded.
	h.advance(15 * 24 * time.Hour)
	if err := h.stack.Mux().ProcessTask(context.Background(), jobs.NewApproveReferralsTask()); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "B's referral rewarded", func() bool { s, _, _ := h.referral(b); return s == "rewarded" })
	if s, _, _ := h.referral(c); s != "reversed" {
		t.Fatalf("C's referral became %s", s)
	}
	var rewards []shopifysim.Discount
	for _, d := range h.sim.Discounts(shop) {
		if strings.HasPrefix(d.Code, "THANKS-") {
			rewards = append(rewards, d)
		}
	}
	if len(rewards) != 1 {
		t.Fatalf("%d reward codes in the store, want 1 (B only)", len(rewards))
	}
	in, _ := json.Marshal(rewards[0].Input)
	var customerID string
	h.direct.QueryRow("SELECT customer_id FROM advocates WHERE id = $1", a.ID).Scan(&customerID)
	if !strings.Contains(string(in), `"gid://shopify/Customer/`+customerID+`"`) || !strings.Contains(string(in), `"usageLimit":1`) {
		t.Fatalf("reward not restricted to A and single use: %s", in)
	}
	if n := h.count("SELECT count(*) FROM rewards WHERE state = 'issued'"); n != 1 {
		t.Fatalf("%d issued rewards", n)
	}

	// Marie's "reward earned" email reaches the SMTP server: her code, in
	// French, from the shop's name, once.
	rewardMail := h.waitMail(t, "marie@example.com", "Votre récompense")
	if !strings.Contains(rewardMail.Text, rewards[0].Code) || !strings.Contains(rewardMail.Text, "10\u00a0€") ||
		!strings.Contains(rewardMail.HTML, rewards[0].Code) || !strings.Contains(rewardMail.Headers["From"], "Referral Shop") {
		t.Fatalf("reward email: %+v", rewardMail)
	}
	if rewardMail.Headers["List-Unsubscribe"] != "" {
		t.Fatal("a transactional email carries List-Unsubscribe")
	}
	// Both show on the console's customer page with their state.
	if _, err := h.stack.Staff().Add(context.Background(), "owner@parrain.test", "", staff.Owner, staffPassword, nil); err != nil {
		t.Fatal(err)
	}
	owner := (&consoleWorld{h: h}).login(t, "owner@parrain.test")
	status, page := owner.get("/console/shops/" + shop + "/customers?q=marie@example.com")
	if status != 200 || strings.Count(page, "emailed on ") < 2 || !strings.Contains(page, "Reward earned") || !strings.Contains(page, "Friend ordered") ||
		strings.Contains(page, "reward_earned") {
		t.Fatalf("console customer page: %d\n%s", status, page)
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(h.mail.Messages("marie@example.com")); n != 3 { // Bob's and Carol's orders, B's reward
		t.Fatalf("Marie got %d emails, want 3", n)
	}
}

// waitMail waits for a message to addr whose subject contains subject.
func (h *harness) waitMail(t testing.TB, addr, subject string) mailsim.Message {
	t.Helper()
	var got mailsim.Message
	eventually(t, 15*time.Second, "an email to "+addr+" about "+subject, func() bool {
		for _, m := range h.mail.Messages(addr) {
			if strings.Contains(m.Subject, subject) {
				got = m
				return true
			}
		}
		return false
	})
	return got
}

// Throttling (THROTTLED) and a 5xx while issuing a reward are retried with
// Shopify's delay; the reward ends issued, once.
func TestRewardIssuingSurvivesThrottlingAndOutages(t *testing.T) {
	h := newHarness(t, withSimulator())
	const shop = "throttled.myshopify.com"
	h.installAndSync(shop, "EUR")
	h.order(shop, shopifysim.OrderInput{Email: "marie@example.com", FirstName: "Marie", Total: "120.00", Locale: "fr"})
	var a *advocateView
	eventually(t, 15*time.Second, "advocate", func() bool { a = h.advocate("marie@example.com"); return a != nil && a.FriendState == "created" })
	b := h.order(shop, shopifysim.OrderInput{Email: "bob@example.com", FirstName: "Bob", Total: "80.00", DiscountCodes: []string{a.FriendCode}})
	eventually(t, 15*time.Second, "pending referral", func() bool { s, _, _ := h.referral(b); return s == "pending" })

	h.sim.ThrottleNext(shop, 2)
	h.sim.FailNext(shop, 1)
	h.advance(15 * 24 * time.Hour)
	if err := h.stack.Mux().ProcessTask(context.Background(), jobs.NewApproveReferralsTask()); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the reward issued despite throttling", func() bool {
		return h.count("SELECT count(*) FROM rewards WHERE state = 'issued'") == 1
	})
	n := 0
	for _, d := range h.sim.Discounts(shop) {
		if strings.HasPrefix(d.Code, "THANKS-") {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d reward codes", n)
	}
}

func TestProgramAPI(t *testing.T) {
	h := newHarness(t, withSimulator())
	const shop = "settings.myshopify.com"
	h.installAndSync(shop, "EUR")
	h.sim.AddShop("other-settings.myshopify.com", simShop("Other", "USD", "UTC"))
	call := func(method, token, body string) (int, map[string]any) {
		req, _ := http.NewRequest(method, h.app.URL+"/api/admin/program", strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var out map[string]any
		json.Unmarshal([]byte(readAll(resp)), &out)
		return resp.StatusCode, out
	}
	tok := h.sim.SessionToken(shop, 1, time.Minute)
	status, p := call("GET", tok, "")
	if status != 200 || p["holding_days"] != float64(14) || p["currency"] != "EUR" || p["friend_percent"] != float64(10) {
		t.Fatalf("defaults: %d %v", status, p)
	}
	for _, bad := range []struct{ body, msg string }{
		{`{"friend_percent": 150}`, "between 1 and 100"},
		{`{"holding_days": -1}`, "holding period"},
		{`{"reward_kind": "cash"}`, "reward kind"},
		{`{"currency": "USD"}`, "cannot be changed"},
		{`{"holding_dayz": 3}`, "unknown field"},
		{`{"holding_days": "3"}`, "invalid program JSON"},
		{`not json`, "invalid program JSON"},
		{`{"widget": {"accent_color": "red"}}`, "accent colour"},
		{`{"widget": {"language": "de"}}`, "widget language"},
		{`{"widget": {"position": "top"}}`, "widget position"},
		{`{"widget": {"frequency_cap_days": 400}}`, "frequency cap"},
		{`{"widget": {"texts": {"en": {"titel": "x"}}}}`, "unknown text"},
		{`{"widget": {"texts": {"de": {"title": "x"}}}}`, "unknown language"},
		{`{"widget": {"texts": {"en": {"title": " "}}}}`, "1 to 300"},
	} {
		status, out := call("PUT", tok, bad.body)
		if status != 400 || !strings.Contains(fmt.Sprint(out["error"]), bad.msg) {
			t.Errorf("PUT %s: %d %v, want 400 %q", bad.body, status, out, bad.msg)
		}
	}
	status, p = call("PUT", tok, `{"holding_days": 0, "min_order_minor": 5000, "excluded_sources": ["pos"]}`)
	if status != 200 || p["holding_days"] != float64(0) || p["min_order_minor"] != float64(5000) || p["friend_percent"] != float64(10) {
		t.Fatalf("update: %d %v", status, p)
	}
	if n := h.count("SELECT count(*) FROM programs WHERE holding_days = 0 AND min_order_minor = 5000 AND excluded_sources = '{pos}'"); n != 1 {
		t.Fatal("update not stored")
	}
	status, p = call("PUT", tok, `{"widget": {"language": "fr", "accent_color": "#AA3300", "frequency_cap_days": 7, "texts": {"fr": {"title": "Parrainez {shop}"}}}}`)
	w, _ := p["widget"].(map[string]any)
	if status != 200 || w["language"] != "fr" || w["frequency_cap_days"] != float64(7) || w["position"] != "center" {
		t.Fatalf("widget update: %d %v", status, p)
	}
	if n := h.count(`SELECT count(*) FROM programs WHERE widget_language = 'fr' AND widget_accent = '#AA3300' AND widget_cap_days = 7
		AND widget_texts -> 'fr' ->> 'title' = 'Parrainez {shop}'`); n != 1 {
		t.Fatal("widget settings not stored")
	}
	// No token, a forged one, or a shop that has not installed: refused.
	if status, _ := call("GET", "", ""); status != 401 {
		t.Fatalf("no token: %d", status)
	}
	if status, _ := call("GET", h.sim.SessionToken("other-settings.myshopify.com", 1, time.Minute), ""); status != 403 {
		t.Fatalf("token of a shop without Parrain: %d", status)
	}
}

// customerOf is the store customer id of an order as Parrain recorded it.
func (h *harness) customerOf(platformOrderID string) int64 {
	h.t.Helper()
	var id string
	if err := h.direct.QueryRow(`SELECT customer_id FROM orders WHERE platform_order_id = $1`, platformOrderID).Scan(&id); err != nil {
		h.t.Fatal(err)
	}
	n, _ := strconv.ParseInt(id, 10, 64)
	return n
}

// Friends of one advocate ordering at the same moment are counted one after
// the other: the cap holds under concurrency.
func TestAdvocateCapHoldsUnderConcurrentOrders(t *testing.T) {
	h := newHarness(t, withSimulator(), withUnlimitedAPI())
	const shop = "cap-race.myshopify.com"
	h.installAndSync(shop, "EUR")
	h.putProgram(shop, `{"cap_per_advocate": 2}`)
	h.order(shop, shopifysim.OrderInput{Email: "ada@example.com", FirstName: "Ada"})
	var a *advocateView
	eventually(t, 15*time.Second, "advocate", func() bool {
		a = h.advocate("ada@example.com")
		return a != nil && a.FriendState == "created"
	})
	const friends = 8
	var wg sync.WaitGroup
	for i := range friends {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.order(shop, shopifysim.OrderInput{Email: fmt.Sprintf("friend%d@example.com", i), DiscountCodes: []string{a.FriendCode}})
		}()
	}
	wg.Wait()
	eventually(t, 30*time.Second, "every friend order attributed", func() bool {
		return h.count("SELECT count(*) FROM referrals WHERE advocate_id = $1", a.ID) == friends
	})
	if n := h.count("SELECT count(*) FROM referrals WHERE advocate_id = $1 AND state = 'pending'", a.ID); n != 2 {
		t.Fatalf("%d pending referrals, cap is 2", n)
	}
	if n := h.count("SELECT count(*) FROM referrals WHERE advocate_id = $1 AND state = 'rejected' AND reason LIKE '%cap 2%'", a.ID); n != friends-2 {
		t.Fatalf("%d rejected by the cap, want %d", n, friends-2)
	}
}

func (h *harness) referralByID(id int64) (state, evidence, reason string) {
	h.direct.QueryRow(`SELECT state, evidence_kind || ':' || evidence_code, reason FROM referrals WHERE id = $1`, id).Scan(&state, &evidence, &reason)
	return
}

// Every amount a merchant or staff member can type has a ceiling (issue 10
// §6c: a 92 quadrillion EUR reward was accepted): the program API refuses
// it with a message naming the field and the limit and keeps the program;
// the queue's amount filters too.
func TestAmountsHaveACeiling(t *testing.T) {
	h := newHarness(t, withSimulator())
	const shop = "ceiling.myshopify.com"
	h.installAndSync(shop, "EUR")
	h.putProgram(shop, `{"reward_kind":"fixed","reward_amount_minor":1500}`)
	token := h.sim.SessionToken(shop, 1, time.Minute)
	do := func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, h.app.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, readAll(resp)
	}
	for body, msg := range map[string]string{
		`{"reward_kind":"fixed","reward_amount_minor":9223372036854775807}`: "reward amount must be at most 1000000.00 EUR",
		`{"friend_kind":"fixed","friend_amount_minor":100000001}`:           "friend amount must be at most 1000000.00 EUR",
		`{"min_order_minor":9000000000000000000}`:                           "minimum order must be at most",
		`{"reward_expiry_days":100000}`:                                     "at most 3650 days",
	} {
		if status, out := do(http.MethodPut, "/api/admin/program", body); status != 400 || !strings.Contains(out, msg) {
			t.Errorf("PUT %s: %d %s, want 400 %q", body, status, out, msg)
		}
	}
	if _, out := do(http.MethodGet, "/api/admin/program", ""); !strings.Contains(out, `"reward_amount_minor":1500`) {
		t.Errorf("a refused update changed the program: %s", out)
	}
	if status, out := do(http.MethodGet, "/api/admin/shops/"+shop+"/referrals?min=1000000000000", ""); status != 400 || !strings.Contains(out, "at most") {
		t.Errorf("queue filter with a huge amount: %d %s", status, out)
	}
}
