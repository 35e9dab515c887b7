package storebudget

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/testenv"
)

func TestBucketReservesWaitsAndDefersWithATicket(t *testing.T) {
	b := &Bucket{Redis: testenv.Redis(t), DefaultMax: 20, DefaultRate: 100, MaxWait: 250 * time.Millisecond}
	ctx := context.Background()
	// The bucket runs on Redis's clock: each expected wait is measured
	// from the first reservation, less the time the test itself took to
	// get there (a busy machine can take tens of ms between calls).
	start := time.Now()
	// A wait is the nominal one less the time that has passed since the
	// first reservation: never more than nominal, and less by at most the
	// time this test has been running (a loaded machine runs it slowly).
	near := func(got, want time.Duration) bool {
		return got <= want+15*time.Millisecond && got >= want-time.Since(start)-25*time.Millisecond
	}
	var waits []time.Duration
	for i := range 4 {
		r, err := b.Reserve(ctx, "a.example", "op"+string(rune('0'+i)), 10)
		if err != nil {
			t.Fatalf("reservation %d: %v", i, err)
		}
		waits = append(waits, r.Wait)
		// 20 points, 10 each, 100/s: two at once, then one every 100 ms.
		if want := time.Duration(max(i-1, 0)) * 100 * time.Millisecond; (i < 2 && r.Wait != 0) || (i >= 2 && !near(r.Wait, want)) {
			t.Fatalf("waits %v, want ~%s for the last", waits, want)
		}
	}
	// The fifth is 300 ms away: deferred with a ticket.
	_, err := b.Reserve(ctx, "a.example", "late", 10)
	var d *Deferred
	if !errors.As(err, &d) || !near(d.Delay, 300*time.Millisecond) {
		t.Fatalf("fifth: %v, want deferred by ~300 ms", err)
	}
	// The sixth queues behind it, one cost of restore later.
	if _, err := b.Reserve(ctx, "a.example", "later", 10); !errors.As(err, &d) || !near(d.Delay, 400*time.Millisecond) {
		t.Fatalf("sixth: %v, want deferred by ~400 ms", err)
	}
	// Another shop is untouched.
	if r, err := b.Reserve(ctx, "b.example", "x", 10); err != nil || r.Wait != 0 {
		t.Fatalf("another shop: %+v %v", r, err)
	}
	// Back too early: still deferred, by what is left.
	time.Sleep(20 * time.Millisecond)
	if _, err := b.Reserve(ctx, "a.example", "late", 10); !errors.As(err, &d) || d.Delay > 290*time.Millisecond {
		t.Fatalf("early return: %v", err)
	}
	// Back when due: granted, its points taken now.
	time.Sleep(d.Delay)
	r, err := b.Reserve(ctx, "a.example", "late", 10)
	if err != nil || r.Wait > 250*time.Millisecond {
		t.Fatalf("due ticket: %+v %v", r, err)
	}
	// A late return finds its points even though the bucket was full
	// meanwhile (a ticket holding points would have lost them to the cap).
	time.Sleep(500 * time.Millisecond)
	if r, err := b.Reserve(ctx, "a.example", "later", 10); err != nil || r.Wait != 0 {
		t.Fatalf("late return: %+v %v", r, err)
	}
}

func TestBucketSettlesWithTheStoresAccount(t *testing.T) {
	b := &Bucket{Redis: testenv.Redis(t), DefaultMax: 1000, DefaultRate: 50}
	ctx := context.Background()
	r, err := b.Reserve(ctx, "s.example", "lookup", 12)
	if err != nil {
		t.Fatal(err)
	}
	// Alone in flight: the model becomes the store's account exactly, and
	// takes its maximum and restore rate.
	b.Settle(ctx, r, Status{Known: true, Spent: 2, CurrentlyAvailable: 1500, MaximumAvailable: 2000, RestoreRate: 100})
	s, _ := b.Peek(ctx, "s.example")
	if s.Available < 1500 || s.Available > 1510 || s.Max != 2000 || s.Rate != 100 || s.InFlight != 0 {
		t.Fatalf("after settle: %+v", s)
	}
	// With another reservation in flight, the store's higher figure does
	// not erase that reservation.
	r1, _ := b.Reserve(ctx, "s.example", "one", 10)
	r2, _ := b.Reserve(ctx, "s.example", "two", 10)
	b.Settle(ctx, r1, Status{Known: true, Spent: 10, CurrentlyAvailable: 1600, MaximumAvailable: 2000, RestoreRate: 100})
	s, _ = b.Peek(ctx, "s.example")
	if s.Available > 1500 || s.InFlight != 1 {
		t.Fatalf("with one in flight: %+v", s)
	}
	// A refusal gives everything back.
	b.Settle(ctx, r2, Status{})
	s2, _ := b.Peek(ctx, "s.example")
	if s2.Available < s.Available+9 {
		t.Fatalf("refused call not refunded: %.1f → %.1f", s.Available, s2.Available)
	}
}

// Many processes reserving at once never hand out more than the bucket
// restores: 40 reservations of 10 points at 100/s from 20 points take at
// least (400-20)/100 s of waits and deferrals between them.
func TestBucketSharedByConcurrentCallers(t *testing.T) {
	rdb := testenv.Redis(t)
	ctx := context.Background()
	var mu sync.Mutex
	var latest time.Duration
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := &Bucket{Redis: rdb, DefaultMax: 20, DefaultRate: 100, MaxWait: time.Hour} // one client per "process"
			r, err := b.Reserve(ctx, "c.example", "op"+string(rune('a'+i)), 10)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			latest = max(latest, r.Wait)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if latest < 3700*time.Millisecond || latest > 3900*time.Millisecond {
		t.Fatalf("the last of 40 reservations waits %s, want 3.8 s", latest)
	}
}

func TestSemaphoreCapsCallsInFlight(t *testing.T) {
	s := &Semaphore{Redis: testenv.Redis(t), Limit: 2, MaxWait: 100 * time.Millisecond}
	ctx := context.Background()
	r1, err1 := s.Acquire(ctx, "w.example")
	r2, err2 := s.Acquire(ctx, "w.example")
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if _, err := s.Acquire(ctx, "w.example"); !errors.As(err, new(*Deferred)) {
		t.Fatalf("third holder: %v, want deferred", err)
	}
	if rel, err := s.Acquire(ctx, "other.example"); err != nil {
		t.Fatalf("another store: %v", err)
	} else {
		rel()
	}
	r1()
	r3, err := s.Acquire(ctx, "w.example")
	if err != nil {
		t.Fatalf("after a release: %v", err)
	}
	r2()
	r3()
	// A holder that died frees its place when the lease ends.
	short := &Semaphore{Redis: s.Redis, Limit: 1, Lease: 50 * time.Millisecond, MaxWait: 300 * time.Millisecond}
	if _, err := short.Acquire(ctx, "dead.example"); err != nil {
		t.Fatal(err)
	}
	if rel, err := short.Acquire(ctx, "dead.example"); err != nil {
		t.Fatalf("lease of a dead holder never ended: %v", err)
	} else {
		rel()
	}
}

// countingStore records the most calls it saw at once.
type countingStore struct {
	app.StorePlatform
	mu        sync.Mutex
	now, peak int
}

func (c *countingStore) CreateDiscount(ctx context.Context, shop *app.Shop, d app.DiscountSpec) (string, error) {
	c.mu.Lock()
	c.now++
	c.peak = max(c.peak, c.now)
	c.mu.Unlock()
	time.Sleep(20 * time.Millisecond)
	c.mu.Lock()
	c.now--
	c.mu.Unlock()
	return d.Code, nil
}

// Twelve workers, two processes' worth of Limited around one store: never
// more than the limit in flight; the ones that waited too long are told
// when to come back.
func TestLimitedCapsCallsPerStore(t *testing.T) {
	rdb := testenv.Redis(t)
	inner := &countingStore{}
	shop := &app.Shop{Domain: "w.example", Platform: app.PlatformWooCommerce}
	var wg sync.WaitGroup
	var deferred sync.Map
	for i := range 12 {
		l := Limited{StorePlatform: inner, Sem: &Semaphore{Redis: rdb, Limit: 3, MaxWait: 5 * time.Second}}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := l.CreateDiscount(context.Background(), shop, app.DiscountSpec{Code: "C"}); err != nil {
				deferred.Store(i, err)
			}
		}()
	}
	wg.Wait()
	if inner.peak != 3 {
		t.Fatalf("peak %d calls in flight, want 3", inner.peak)
	}
	deferred.Range(func(k, v any) bool { t.Errorf("worker %v: %v", k, v); return true })
}
