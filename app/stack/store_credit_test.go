package stack_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

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
