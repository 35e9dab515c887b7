package referrals

import (
	"reflect"
	"strconv"
	"sync"
)

// OrderGate spares a process the second reconcile of an order whose
// events arrive together (Shopify sends orders/create and orders/paid for
// one checkout; queued back to back, two workers took them at once and
// both made the buyer an advocate, one waiting on the other's lock: most
// of a burst's worker time was that double). It lets one event of an
// order at a time through merge and reconcile in this process, and
// remembers the merged state each order was last reconciled at without
// error: an event that merges into exactly that state has nothing left to
// do.
//
// It is only ever a shortcut. It lives in memory, so a new process (after
// a crash between the merge and the reconcile, say) remembers nothing and
// reconciles; a reconcile that failed is not remembered, so its retry
// reconciles; two processes may still both reconcile an order, which the
// engine's idempotence already makes safe.
type OrderGate struct {
	mu    sync.Mutex
	locks map[string]*gateLock
	done  map[int64]OrderRecord
	// Max bounds the remembered orders (default 50,000); past it the
	// memory starts again, which only costs reconciles.
	Max int
}

type gateLock struct {
	mu   sync.Mutex
	refs int
}

// lock takes the order's turn; the returned func gives it back.
func (g *OrderGate) lock(shopID int64, platformID string) func() {
	if g == nil {
		return func() {}
	}
	key := strconv.FormatInt(shopID, 10) + "/" + platformID
	g.mu.Lock()
	if g.locks == nil {
		g.locks = map[string]*gateLock{}
	}
	l := g.locks[key]
	if l == nil {
		l = &gateLock{}
		g.locks[key] = l
	}
	l.refs++
	g.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		g.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(g.locks, key)
		}
		g.mu.Unlock()
	}
}

// reconciled reports whether the order was last reconciled at exactly
// this merged state.
func (g *OrderGate) reconciled(o *OrderRecord) bool {
	if g == nil {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	prev, ok := g.done[o.ID]
	return ok && reflect.DeepEqual(prev, *o)
}

// remember records that the order was reconciled at this merged state.
func (g *OrderGate) remember(o *OrderRecord) {
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.done == nil || len(g.done) >= g.limit() {
		g.done = map[int64]OrderRecord{}
	}
	g.done[o.ID] = *o
}

func (g *OrderGate) limit() int {
	if g.Max > 0 {
		return g.Max
	}
	return 50_000
}
