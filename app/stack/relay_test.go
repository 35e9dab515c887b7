package stack_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parrain/parrain/integrations/shopify/shopifysim"
	"github.com/parrain/parrain/jobs"
)

// Issue 10 §4: Redis restarted without persistence (every queued task
// lost) while events were queued and stamped by the relay; the relay
// revisited a stamped event only ten minutes later, so the backlog stalled.
// Now the relay notices the loss (its marker key is gone with the rest) and
// re-offers every unprocessed event at once: all are processed within
// WEBHOOK_RELAY_AFTER (300ms here) plus the worker's pace. Seen failing on
// the old code: nothing processed in 5 s.
func TestRedisDataLossIsRecoveredWithinRelayAfter(t *testing.T) {
	h := newHarness(t, withoutWorker())
	h.installShop("flushed.myshopify.com")
	const n = 30
	for i := range n {
		status, body := h.deliver(delivery{topic: "orders/create", shop: "flushed.myshopify.com", eventID: fmt.Sprint("fl-", i), body: []byte(orderBody)})
		if status != http.StatusOK {
			t.Fatalf("delivery %d: %d %s", i, status, body)
		}
	}
	// The dispatcher queued them; past WEBHOOK_RELAY_AFTER the relay
	// offered and stamped them too (no worker runs: they stay queued).
	eventually(t, 5*time.Second, "the relay to stamp every event", func() bool {
		return h.count("SELECT count(*) FROM webhook_events WHERE event_id LIKE 'fl-%' AND enqueued_at IS NOT NULL") == n
	})
	if q := queued(t, h); q != n {
		t.Fatalf("%d jobs queued, want %d", q, n)
	}

	// Redis restarts without persistence: its data is gone.
	if err := h.rdb.FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	lost := time.Now()
	h.runWorker()
	eventually(t, 5*time.Second, "every event processed after the Redis data loss", func() bool {
		return h.count("SELECT count(*) FROM webhook_events WHERE event_id LIKE 'fl-%' AND processed_at IS NOT NULL") == n
	})
	t.Logf("all %d events processed %v after the data loss", n, time.Since(lost).Round(time.Millisecond))
	if a := h.count("SELECT count(*) FROM webhook_events WHERE event_id LIKE 'fl-%' AND attempts <> 1"); a != 0 {
		t.Fatalf("%d events processed more than once", a)
	}
}

// The same Redis data loss, for a reward: approved, its reward:issue job
// queued, then Redis restarts empty. The approval schedule brings the lost
// job back at its next run past max(WEBHOOK_RELAY_AFTER,
// APPROVE_REFERRALS_EVERY), not after the ten minutes the revival of stuck
// rewards waits. Seen failing on the old code (no job two minutes later).
func TestRedisDataLossRequeuesLostRewardJobs(t *testing.T) {
	h := newHarness(t, withSimulator(), withoutWorker())
	const shop = "lostreward.myshopify.com"
	stop := h.runWorker()
	h.installAndSync(shop, "EUR")
	if _, err := h.direct.Exec(`UPDATE programs SET holding_days = 0`); err != nil {
		t.Fatal(err)
	}
	h.order(shop, shopifysim.OrderInput{Email: "marie@example.com", FirstName: "Marie", Total: "120.00"})
	var a *advocateView
	eventually(t, 15*time.Second, "advocate", func() bool { a = h.advocate("marie@example.com"); return a != nil && a.FriendState == "created" })
	b := h.order(shop, shopifysim.OrderInput{Email: "bob@example.com", FirstName: "Bob", Total: "80.00", DiscountCodes: []string{a.FriendCode}})
	eventually(t, 15*time.Second, "pending referral", func() bool { s, _, _ := h.referral(b); return s == "pending" })
	stop()

	approve := func() {
		t.Helper()
		if err := h.stack.Mux().ProcessTask(context.Background(), jobs.NewApproveReferralsTask()); err != nil {
			t.Fatal(err)
		}
	}
	approve() // the reward row, and its job queued
	if n := h.count("SELECT count(*) FROM rewards WHERE state = 'issuing'"); n != 1 {
		t.Fatalf("%d issuing rewards", n)
	}
	if err := h.rdb.FlushDB(context.Background()).Err(); err != nil { // Redis restarted empty
		t.Fatal(err)
	}
	h.advance(2 * time.Minute)
	approve()
	h.runWorker()
	eventually(t, 15*time.Second, "the reward issued after the Redis data loss", func() bool {
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
