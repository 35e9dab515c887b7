package stack_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/friendcodes"
	"github.com/parrain/parrain/app/referrals"
)

// Friend codes in bulk, against the Shopify simulator over HTTP and the
// real database: every code ends in the store exactly once, whatever
// happens to a batch on the way: more codes than a bulk call takes, codes
// the store already holds (a partly failing bulk operation), THROTTLED
// answers, and a worker that dies after the store took a batch and before
// the database knew.
func TestFriendCodesInBulkNothingLostNothingDoubled(t *testing.T) {
	h := newHarness(t, withSimulator(), withoutWorker())
	stop := h.runWorker()
	const shop = "bulk.myshopify.com"
	sh := h.installAndSync(shop, "EUR")
	stop() // from here on, only this test flushes
	ctx := context.Background()
	repo := h.stack.DB.Referrals()
	prog, err := repo.Program(ctx, sh)
	if err != nil {
		t.Fatal(err)
	}
	offer := referrals.FriendOffer(prog, time.Now())
	n := 0
	// newCodes makes k advocates whose friend codes wait for a batch, as
	// the engine leaves them.
	newCodes := func(k int) []string {
		var codes []string
		for range k {
			n++
			adv, err := repo.EnsureAdvocate(ctx, &app.Advocate{ShopID: sh.ID, CustomerID: fmt.Sprint(9000 + n), FirstName: "Bulk",
				Email: fmt.Sprintf("bulk%d@example.com", n), Code: fmt.Sprintf("BULK-%04d", n), FriendCode: fmt.Sprintf("FRIEND-BULK-%04d", n)})
			if err != nil {
				t.Fatal(err)
			}
			if err := repo.QueueFriendCode(ctx, adv, offer); err != nil {
				t.Fatal(err)
			}
			codes = append(codes, adv.FriendCode)
		}
		return codes
	}
	// flush runs the flush job as the queue would: again after each
	// error that asks for a delay (throttled, bulk operation running).
	flush := func(f *friendcodes.Flusher) {
		t.Helper()
		for range 60 {
			err := f.Flush(ctx, sh.ID)
			if err == nil {
				return
			}
			var d interface{ RetryDelay() time.Duration }
			if !errors.As(err, &d) {
				t.Fatalf("flush: %v", err)
			}
			time.Sleep(min(d.RetryDelay(), time.Second))
		}
		t.Fatal("flush not done after 60 runs")
	}
	inStore := func(code string) int {
		k := 0
		for _, d := range h.sim.Discounts(shop) {
			if strings.EqualFold(d.Code, code) {
				k++
			}
		}
		return k
	}
	check := func(codes []string) {
		t.Helper()
		for _, c := range codes {
			if k := inStore(c); k != 1 {
				t.Fatalf("%s is %d times in the store, want once", c, k)
			}
		}
		if k := h.count("SELECT count(*) FROM advocates WHERE shop_id = $1 AND friend_code_state <> 'created'", sh.ID); k != 0 {
			t.Fatalf("%d friend codes not created", k)
		}
		if k := h.count("SELECT count(*) FROM friend_code_batches WHERE shop_id = $1 AND done_at IS NULL", sh.ID); k != 0 {
			t.Fatalf("%d batches unfinished", k)
		}
	}

	// More codes than one bulk call takes (250): the offer's discount is
	// created with the first, the others added in two batches.
	all := newCodes(300)
	flush(h.stack.FriendCodeFlusher())
	check(all)
	discounts := map[string]bool{}
	for _, d := range h.sim.Discounts(shop) {
		discounts[d.ID] = true
	}
	if len(discounts) != 1 {
		t.Fatalf("%d discounts for one offer, want 1", len(discounts))
	}

	// Partly failing, and throttled: two codes of the next batch are
	// already the store's (another discount holds them), and Shopify
	// answers THROTTLED to the next calls.
	next := newCodes(6)
	for _, c := range next[1:3] {
		spec := offer.Spec
		spec.Code, spec.Title = c, "made by hand"
		if _, err := h.stack.FriendCodeFlusher().Store.CreateDiscount(ctx, sh, spec); err != nil {
			t.Fatal(err)
		}
	}
	throttledBefore := h.sim.Stats(shop).Throttled
	h.sim.ThrottleNext(shop, 2)
	flush(h.stack.FriendCodeFlusher())
	if h.sim.Stats(shop).Throttled == throttledBefore {
		t.Fatal("the store never answered THROTTLED: the test did not test it")
	}
	all = append(all, next...)
	check(all)
	var failed int
	for _, c := range next[1:3] {
		var ref string
		h.direct.QueryRow("SELECT friend_code_ref FROM advocates WHERE friend_code = $1", c).Scan(&ref)
		if discounts[ref] {
			failed++
		}
	}
	if failed != 0 {
		t.Fatal("a code held by another discount was recorded under the offer's")
	}

	// Killed mid-batch: the store took the batch, the worker died before
	// recording its operation. The next worker (once the dead one's lease
	// ran out) learns what the store holds and adds nothing twice.
	killed := newCodes(40)
	dying := h.stack.FriendCodeFlusher()
	dying.AfterSend = func() { panic("worker killed") }
	func() {
		defer func() {
			if r := recover(); r != "worker killed" {
				t.Fatalf("the worker did not die at the fault point: %v", r)
			}
		}()
		_ = dying.Flush(ctx, sh.ID)
	}()
	if k := h.count("SELECT count(*) FROM friend_code_batches WHERE shop_id = $1 AND done_at IS NULL AND sent_at IS NOT NULL AND operation = ''", sh.ID); k != 1 {
		t.Fatalf("%d batches sent without a recorded operation, want the dead worker's", k)
	}
	eventually(t, 10*time.Second, "the store's bulk operation run", func() bool { return inStore(killed[len(killed)-1]) == 1 })
	if _, err := h.direct.Exec("UPDATE friend_code_batches SET leased_until = now() - interval '1 second' WHERE done_at IS NULL"); err != nil {
		t.Fatal(err)
	}
	flush(h.stack.FriendCodeFlusher())
	all = append(all, killed...)
	check(all)
	if k := len(h.sim.Discounts(shop)); k != len(all) {
		t.Fatalf("%d codes in the store, want %d", k, len(all))
	}
}
