package referrals

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parrain/parrain/app"
)

// Two events of one order take turns; other orders do not wait for them.
func TestOrderGateTurns(t *testing.T) {
	g := &OrderGate{}
	var inside, most atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer g.lock(1, "1001")()
			n := inside.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			time.Sleep(2 * time.Millisecond)
			inside.Add(-1)
		}()
	}
	wg.Wait()
	if m := most.Load(); m != 1 {
		t.Fatalf("%d events of one order inside at once, want 1", m)
	}
	// Same order id in another shop, or another order: no wait.
	unlock := g.lock(1, "1001")
	done := make(chan struct{})
	go func() {
		g.lock(2, "1001")()
		g.lock(1, "1002")()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("another shop's or order's event waited for this order")
	}
	unlock()
	if len(g.locks) != 0 {
		t.Fatalf("%d order locks left after every event ended", len(g.locks))
	}
}

func TestOrderGateRemembersTheReconciledState(t *testing.T) {
	o := OrderRecord{ID: 7, ShopID: 1, Known: true, Paid: true}
	o.Facts.PlatformID, o.Facts.Email = "1001", "ada@example.com"
	o.Facts.Total = app.Money{Minor: 8000, Currency: "EUR"}
	for _, tc := range []struct {
		name   string
		change func(*OrderRecord)
		same   bool
	}{
		{"the same state", func(*OrderRecord) {}, true},
		{"now cancelled", func(r *OrderRecord) { r.Cancelled = true }, false},
		{"a refund", func(r *OrderRecord) { r.RefundedMinor = 500 }, false},
		{"another email", func(r *OrderRecord) { r.Facts.Email = "bob@example.com" }, false},
		{"a discount code", func(r *OrderRecord) { r.Facts.DiscountCodes = []string{"FRIEND-ADA"} }, false},
		{"another order", func(r *OrderRecord) { r.ID = 8 }, false},
	} {
		g := &OrderGate{}
		if g.reconciled(&o) {
			t.Fatal("an order never reconciled counts as reconciled")
		}
		g.remember(&o)
		next := o
		tc.change(&next)
		if got := g.reconciled(&next); got != tc.same {
			t.Errorf("%s: reconciled %v, want %v", tc.name, got, tc.same)
		}
	}
	var nilGate *OrderGate
	nilGate.remember(&o)
	if nilGate.reconciled(&o) {
		t.Fatal("no gate must never skip a reconcile")
	}
	// Past Max the memory starts again: an order forgotten is reconciled.
	g := &OrderGate{Max: 2}
	for id := int64(1); id <= 3; id++ {
		r := o
		r.ID = id
		g.remember(&r)
	}
	first, last := o, o
	first.ID, last.ID = 1, 3
	if g.reconciled(&first) || !g.reconciled(&last) {
		t.Fatal("past Max, order 1 must be forgotten and order 3 remembered")
	}
}
