package stack_test

import (
	"context"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/staff"
	"github.com/parrain/parrain/integrations/shopify/shopifysim"
	"github.com/parrain/parrain/jobs"
)

// storeCreditShop installs a EUR shop whose program pays 15.00 EUR of store
// credit, expiring after 60 days, and makes Marie (customer 501) an
// advocate with one pending referral (Bob's order), held for hold days. It
// returns Bob's order.
func (h *harness) storeCreditShop(shop string, hold int) int64 {
	h.t.Helper()
	h.installAndSync(shop, "EUR")
	h.order(shop, shopifysim.OrderInput{Email: "marie@example.com", FirstName: "Marie", CustomerID: 501, Total: "120.00"})
	var a *advocateView
	eventually(h.t, 15*time.Second, "advocate", func() bool { a = h.advocate("marie@example.com"); return a != nil && a.FriendState == "created" })
	if n := h.count("SELECT count(*) FROM programs"); n != 1 {
		h.t.Fatalf("%d programs", n)
	}
	if _, err := h.direct.Exec(`UPDATE programs SET reward_kind = 'store_credit', reward_amount_minor = 1500, reward_expiry_days = 60, holding_days = $1`, hold); err != nil {
		h.t.Fatal(err)
	}
	b := h.order(shop, shopifysim.OrderInput{Email: "bob@example.com", FirstName: "Bob", Total: "80.00", DiscountCodes: []string{a.FriendCode}})
	eventually(h.t, 15*time.Second, "pending referral", func() bool { s, _, _ := h.referral(b); return s == "pending" })
	return b
}

// checkOneCredit asserts the store holds exactly one credit, Marie's
// 15.00 EUR, with the reward's expiry, recorded on the reward; and no
// reward code.
func (h *harness) checkOneCredit(shop string) {
	h.t.Helper()
	credits := h.sim.StoreCredits(shop)
	if len(credits) != 1 {
		h.t.Fatalf("%d store credits, want exactly 1: %+v", len(credits), credits)
	}
	c := credits[0]
	var ref string
	var exp time.Time
	if err := h.direct.QueryRow(`SELECT store_ref, expires_at FROM rewards WHERE state = 'issued' AND kind = 'store_credit'`).Scan(&ref, &exp); err != nil {
		h.t.Fatal(err)
	}
	if c.CustomerID != "501" || c.Amount != "15.0" || c.Currency != "EUR" || c.ExpiresAt == nil || !c.ExpiresAt.Equal(exp) || c.ID != ref {
		h.t.Fatalf("credit %+v; reward ref %s expires %s", c, ref, exp)
	}
	for _, d := range h.sim.Discounts(shop) {
		if strings.HasPrefix(d.Code, "THANKS-") {
			h.t.Fatalf("a reward code %s was created for a store credit reward", d.Code)
		}
	}
}

// A store credit reward goes through the reward job like a code: Shopify
// answers THROTTLED twice, 503 once, then runs the credit but its answer
// is lost (502). The job retries, finds the credit on Marie's account and
// records it: one credit, one reward-earned email.
func TestStoreCreditRewardOnceThroughThrottlingOutagesAndALostAnswer(t *testing.T) {
	h := newHarness(t, withSimulator())
	const shop = "credit.myshopify.com"
	b := h.storeCreditShop(shop, 14)

	h.sim.ThrottleNext(shop, 2)
	h.sim.FailNext(shop, 1)
	h.sim.LoseNextAnswers(shop, "storeCreditAccountCredit", 1)
	h.advance(15 * 24 * time.Hour)
	if err := h.stack.Mux().ProcessTask(context.Background(), jobs.NewApproveReferralsTask()); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "the store credit issued", func() bool {
		return h.count("SELECT count(*) FROM rewards WHERE state = 'issued'") == 1
	})
	h.checkOneCredit(shop)
	if st := h.sim.Stats(shop); st.Fields["storeCreditAccountCredit"] != 1 || st.Throttled < 2 {
		t.Fatalf("credit mutations run %d (want 1: the retry found the credit), throttled %d", st.Fields["storeCreditAccountCredit"], st.Throttled)
	}
	if s, _, _ := h.referral(b); s != "rewarded" {
		t.Fatalf("referral %s", s)
	}
	if n := h.count("SELECT count(*) FROM email_outbox WHERE kind = 'reward_earned'"); n != 1 {
		t.Fatalf("%d reward-earned emails", n)
	}
}

// The worker process dies right after Shopify credited Marie's account and
// before the database recorded it. The restarted worker looks the credit
// up before crediting: exactly one credit.
func TestStoreCreditCrashBetweenStoreCallAndCommit(t *testing.T) {
	bin := buildParrain(t)
	h := newHarness(t, withSimulator(), withoutWorker())
	const shop = "credit-crash.myshopify.com"
	stop := h.runWorker()
	// The external worker runs on the real clock: no holding period.
	h.storeCreditShop(shop, 0)
	stop() // from here on, only the external worker processes jobs

	if err := h.stack.Mux().ProcessTask(context.Background(), jobs.NewApproveReferralsTask()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	crashing := h.externalWorker(ctx, bin, "exit-after-reward-store-call")
	out, err := crashing.CombinedOutput()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 3 {
		t.Fatalf("the worker did not crash at the fault point: %v\n%s", err, out)
	}
	if n := len(h.sim.StoreCredits(shop)); n != 1 || h.count("SELECT count(*) FROM rewards WHERE state = 'issuing'") != 1 {
		t.Fatalf("after the crash: %d credits, want 1, and the reward still issuing", n)
	}
	if n := h.ageLeases(jobs.QueueDefault); n < 1 {
		t.Fatalf("%d leases, want the dead worker's", n)
	}
	restarted := h.externalWorker(ctx, bin, "")
	if err := restarted.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { restarted.Process.Signal(os.Interrupt); restarted.Wait() }()
	eventually(t, 30*time.Second, "the credit recorded by the restarted worker", func() bool {
		return h.count("SELECT count(*) FROM rewards WHERE state = 'issued'") == 1
	})
	h.checkOneCredit(shop)
}

// Orders in another currency than the shop's are judged in shop money. The
// shop sells in EUR with a 20.00 EUR minimum: Bob pays 21.00 USD (19.44
// EUR), over the minimum in the money he saw but under it in the shop's,
// and is refused; Carl pays 17.85 GBP (21.00 EUR), under it in his money
// but over it in the shop's, and counts.
func TestPresentmentCurrencyOrdersAreJudgedInShopMoney(t *testing.T) {
	h := newHarness(t, withSimulator())
	const shop = "markets.myshopify.com"
	h.installAndSync(shop, "EUR")
	h.order(shop, shopifysim.OrderInput{Email: "marie@example.com", FirstName: "Marie", Total: "120.00"})
	var a *advocateView
	eventually(t, 15*time.Second, "advocate", func() bool { a = h.advocate("marie@example.com"); return a != nil && a.FriendState == "created" })
	h.putProgram(shop, `{"min_order_minor": 2000}`)
	if n := h.count("SELECT count(*) FROM programs WHERE min_order_minor = 2000 AND currency = 'EUR'"); n != 1 {
		t.Fatalf("the program's minimum is not 20.00 EUR (%d)", n)
	}
	bob := h.order(shop, shopifysim.OrderInput{Email: "bob@example.com", FirstName: "Bob", Total: "19.44",
		PresentmentCurrency: "USD", PresentmentRate: "1.08", DiscountCodes: []string{a.FriendCode}})
	carl := h.order(shop, shopifysim.OrderInput{Email: "carl@example.com", FirstName: "Carl", Total: "21.00",
		PresentmentCurrency: "GBP", PresentmentRate: "0.85", DiscountCodes: []string{a.FriendCode}})
	var state, reason string
	eventually(t, 15*time.Second, "Bob's referral", func() bool { state, _, reason = h.referral(bob); return state != "" })
	if state != "rejected" || !strings.Contains(reason, "19.44 EUR") || !strings.Contains(reason, "20.00 EUR") {
		t.Fatalf("Bob (21.00 USD = 19.44 EUR): %s, %q; want rejected under the 20.00 EUR minimum", state, reason)
	}
	eventually(t, 15*time.Second, "Carl's referral", func() bool { state, _, reason = h.referral(carl); return state != "" })
	if state != "pending" {
		t.Fatalf("Carl (17.85 GBP = 21.00 EUR): %s, %q; want pending", state, reason)
	}
	if n := h.count("SELECT count(*) FROM orders WHERE total_minor = 1944 AND currency = 'EUR'"); n != 1 {
		t.Fatalf("Bob's order stored in shop money: %d rows", n)
	}
}

// Store credit is offered where the store has it: the Shopify shop's
// settings list it and the API takes it (with an expiry); a WooCommerce
// shop's settings do not, and the API and the form refuse it saying why.
func TestStoreCreditOfferedWhereTheStoreHasIt(t *testing.T) {
	h := newHarness(t, withSimulator())
	const shop = "credit-api.myshopify.com"
	const woo = "woo-credit.example"
	h.installAndSync(shop, "EUR")
	ctx := context.Background()
	ws, err := h.stack.DB.Shops().Install(ctx, app.PlatformWooCommerce, woo, app.Credentials{AccessToken: "ck_x", RefreshToken: "cs_y"}, h.now())
	if err != nil {
		t.Fatal(err)
	}
	if err := h.stack.DB.Shops().SetDetails(ctx, ws.ID, app.ShopDetails{Name: "Woo", Currency: "EUR", Timezone: "Europe/Paris", StoreURL: "https://woo-credit.example"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.stack.Staff().Add(ctx, "owner@parrain.test", "", staff.Owner, staffPassword, nil); err != nil {
		t.Fatal(err)
	}
	w := &consoleWorld{h: h}
	sc := w.login(t, "owner@parrain.test")

	_, page := sc.get("/console/shops/" + shop + "/settings")
	if !strings.Contains(page, `value="store_credit"`) || !strings.Contains(page, "Store credit on their account") {
		t.Fatal("the Shopify shop's settings do not offer store credit")
	}
	_, page = sc.get("/console/shops/" + woo + "/settings?lang=fr")
	if strings.Contains(page, `value="store_credit"`) {
		t.Fatal("the WooCommerce shop's settings offer store credit")
	}

	status, body := sc.send("PUT", "/api/admin/shops/"+woo+"/program", `{"reward_kind": "store_credit", "reward_amount_minor": 1000}`, sc.csrf)
	if status != 400 || !strings.Contains(body, "WooCommerce has no store credit in core") {
		t.Fatalf("store credit on WooCommerce: %d %s", status, body)
	}
	if n := h.count("SELECT count(*) FROM programs WHERE reward_kind = 'store_credit'"); n != 0 {
		t.Fatalf("%d programs with store credit after refusals", n)
	}
	status, _ = sc.postForm("/console/shops/"+woo+"/settings", url.Values{"reward_kind": {"store_credit"}, "reward_amount": {"10.00"}})
	if status != 400 {
		t.Fatalf("the settings form took store credit for WooCommerce: %d", status)
	}
	status, body = sc.send("PUT", "/api/admin/shops/"+shop+"/program", `{"reward_kind": "store_credit", "reward_amount_minor": 1000, "reward_expiry_days": 0}`, sc.csrf)
	if status != 400 || !strings.Contains(body, "Store credit needs an expiry") {
		t.Fatalf("store credit without an expiry: %d %s", status, body)
	}
	status, body = sc.send("PUT", "/api/admin/shops/"+shop+"/program", `{"reward_kind": "store_credit", "reward_amount_minor": 1000, "reward_expiry_days": 90}`, sc.csrf)
	if status != 200 || !strings.Contains(body, `"reward_kind":"store_credit"`) {
		t.Fatalf("store credit on Shopify: %d %s", status, body)
	}
}

// A store credit worth a percent of the friend's order is worked out on
// what the friend actually paid, in the shop's money: Bob paid 86.40 USD
// (80.00 EUR) and got 21.60 USD (20.00 EUR) back, so 10% is 6.00 EUR, not
// 8.64 nor 8.00.
func TestPercentStoreCreditOnWhatTheFriendPaid(t *testing.T) {
	h := newHarness(t, withSimulator())
	const shop = "credit-percent.myshopify.com"
	h.installAndSync(shop, "EUR")
	h.order(shop, shopifysim.OrderInput{Email: "marie@example.com", FirstName: "Marie", CustomerID: 501, Total: "120.00"})
	var a *advocateView
	eventually(t, 15*time.Second, "advocate", func() bool { a = h.advocate("marie@example.com"); return a != nil && a.FriendState == "created" })
	if _, err := h.direct.Exec(`UPDATE programs SET reward_kind = 'store_credit', reward_amount_minor = 0, reward_percent = 10, reward_expiry_days = 60, min_order_minor = 0`); err != nil {
		t.Fatal(err)
	}
	b := h.order(shop, shopifysim.OrderInput{Email: "bob@example.com", FirstName: "Bob", Total: "80.00", PresentmentCurrency: "USD", PresentmentRate: "1.08",
		DiscountCodes: []string{a.FriendCode}})
	eventually(t, 15*time.Second, "pending referral", func() bool { s, _, _ := h.referral(b); return s == "pending" })
	if _, err := h.sim.Refund(shop, b, "20.00"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "the refund counted in shop money", func() bool {
		return h.count("SELECT count(*) FROM orders WHERE platform_order_id = $1 AND refunded_minor = 2000", strconv.FormatInt(b, 10)) == 1
	})
	h.advance(15 * 24 * time.Hour)
	if err := h.stack.Mux().ProcessTask(context.Background(), jobs.NewApproveReferralsTask()); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the store credit issued", func() bool {
		return h.count("SELECT count(*) FROM rewards WHERE state = 'issued' AND amount_minor = 600 AND currency = 'EUR'") == 1
	})
	credits := h.sim.StoreCredits(shop)
	if len(credits) != 1 || credits[0].Amount != "6.0" || credits[0].Currency != "EUR" || credits[0].CustomerID != "501" {
		t.Fatalf("credits %+v, want 6.00 EUR for customer 501", credits)
	}
}

// Store credit lands in the advocate's own currency. In a EUR shop, Marie
// (customer 501) bought for 129.60 USD (120.00 EUR): her 15.00 EUR reward
// is 16.20 USD on her USD account, credited once although Shopify answers
// THROTTLED, then 503, then runs the credit and loses the answer. Anna
// (customer 502) bought in USD once, then in EUR: her latest paid order
// says EUR, and so is her credit. The cost stays 15.00 EUR each.
func TestStoreCreditInTheAdvocatesCurrency(t *testing.T) {
	h := newHarness(t, withSimulator())
	const shop = "credit-usd.myshopify.com"
	h.installAndSync(shop, "EUR")
	h.order(shop, shopifysim.OrderInput{Email: "marie@example.com", FirstName: "Marie", CustomerID: 501, Total: "120.00",
		PresentmentCurrency: "USD", PresentmentRate: "1.08"})
	h.order(shop, shopifysim.OrderInput{Email: "anna@example.com", FirstName: "Anna", CustomerID: 502, Total: "50.00",
		PresentmentCurrency: "USD", PresentmentRate: "1.08"})
	var marie, anna *advocateView
	eventually(t, 15*time.Second, "advocates", func() bool {
		marie, anna = h.advocate("marie@example.com"), h.advocate("anna@example.com")
		return marie != nil && marie.FriendState == "created" && anna != nil && anna.FriendState == "created"
	})
	h.advance(time.Minute)
	h.order(shop, shopifysim.OrderInput{Email: "anna@example.com", FirstName: "Anna", CustomerID: 502, Total: "60.00"})
	eventually(t, 15*time.Second, "Anna's second order", func() bool {
		return h.count("SELECT count(*) FROM orders WHERE customer_id = '502' AND known AND paid") == 2
	})
	if n := h.count("SELECT count(*) FROM orders WHERE customer_id = '501' AND presentment_currency = 'USD' AND presentment_minor = 12960 AND total_minor = 12000"); n != 1 {
		t.Fatalf("Marie's order does not keep her money beside the shop's (%d)", n)
	}
	if _, err := h.direct.Exec(`UPDATE programs SET reward_kind = 'store_credit', reward_amount_minor = 1500, reward_expiry_days = 60, holding_days = 14`); err != nil {
		t.Fatal(err)
	}

	// Marie's friend: her reward goes through the faults on its own.
	bob := h.order(shop, shopifysim.OrderInput{Email: "bob@example.com", FirstName: "Bob", Total: "80.00", DiscountCodes: []string{marie.FriendCode}})
	eventually(t, 15*time.Second, "Bob's referral", func() bool { s, _, _ := h.referral(bob); return s == "pending" })
	h.sim.ThrottleNext(shop, 1)
	h.sim.FailNext(shop, 1)
	h.sim.LoseNextAnswers(shop, "storeCreditAccountCredit", 1)
	h.advance(15 * 24 * time.Hour)
	if err := h.stack.Mux().ProcessTask(context.Background(), jobs.NewApproveReferralsTask()); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "Marie's credit issued", func() bool {
		return h.count("SELECT count(*) FROM rewards WHERE state = 'issued'") == 1
	})
	credits := h.sim.StoreCredits(shop)
	if len(credits) != 1 || credits[0].CustomerID != "501" || credits[0].Currency != "USD" || credits[0].Amount != "16.2" {
		t.Fatalf("credits %+v, want one of 16.20 USD for customer 501", credits)
	}
	if st := h.sim.Stats(shop); st.Fields["storeCreditAccountCredit"] != 1 {
		t.Fatalf("credit mutations run %d, want 1: the retry found the credit in the USD account", st.Fields["storeCreditAccountCredit"])
	}
	var ref string
	if err := h.direct.QueryRow(`SELECT store_ref FROM rewards WHERE amount_minor = 1500 AND currency = 'EUR'
		AND credit_minor = 1620 AND credit_currency = 'USD' AND state = 'issued'`).Scan(&ref); err != nil || ref != credits[0].ID {
		t.Fatalf("Marie's reward row: ref %q, %v; want the cost in EUR, the credit in USD, ref %s", ref, err, credits[0].ID)
	}
	if n := h.count(`SELECT count(*) FROM events WHERE type = 'reward.issued'
		AND payload #>> '{data,reward,credit,amount}' = '16.20' AND payload #>> '{data,reward,credit,currency}' = 'USD'
		AND payload #>> '{data,reward,value,amount}' = '15.00' AND payload #>> '{data,reward,value,currency}' = 'EUR'`); n != 1 {
		t.Fatalf("%d reward.issued events with the credit in USD and the value in EUR", n)
	}
	eventually(t, 30*time.Second, "Marie's reward email", func() bool {
		for _, m := range h.mail.Messages("marie@example.com") {
			if strings.Contains(m.Text, "$16.20") && !strings.Contains(m.Text, "€15") {
				return true
			}
		}
		return false
	})

	// Anna's friend: her latest order was in euros.
	carl := h.order(shop, shopifysim.OrderInput{Email: "carl@example.com", FirstName: "Carl", Total: "80.00", DiscountCodes: []string{anna.FriendCode}})
	eventually(t, 15*time.Second, "Carl's referral", func() bool { s, _, _ := h.referral(carl); return s == "pending" })
	h.advance(15 * 24 * time.Hour)
	if err := h.stack.Mux().ProcessTask(context.Background(), jobs.NewApproveReferralsTask()); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "Anna's credit issued", func() bool {
		return h.count("SELECT count(*) FROM rewards WHERE state = 'issued'") == 2
	})
	credits = h.sim.StoreCredits(shop)
	if len(credits) != 2 || credits[1].CustomerID != "502" || credits[1].Currency != "EUR" || credits[1].Amount != "15.0" {
		t.Fatalf("credits %+v, want Anna's 15.00 EUR second", credits)
	}
	if n := h.count("SELECT count(*) FROM rewards WHERE amount_minor = 1500 AND currency = 'EUR' AND credit_currency = '' AND state = 'issued'"); n != 1 {
		t.Fatalf("Anna's reward row: %d in EUR without conversion", n)
	}
}
