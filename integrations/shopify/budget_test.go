package shopify_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/storebudget"
	"github.com/parrain/parrain/app/testenv"
	"github.com/parrain/parrain/integrations/shopify"
	"github.com/parrain/parrain/integrations/shopify/shopifysim"
)

func friendSpec(code string) app.DiscountSpec {
	return app.DiscountSpec{Code: code, Title: "friend", Kind: app.OfferPercent, Percent: 10, Currency: "EUR",
		OncePerCustomer: true, StartsAt: time.Now().Add(-time.Minute)}
}

// A create that the store refused (THROTTLED) or that the budget held back
// did not create its code: the retry goes straight to the create, instead
// of spending points on a second lookup (issue 12: those repeated lookups
// ate the restored points). Without the budget the simulator throttles the
// create; with it, the create is held back before it is sent.
func TestThrottledCreateDoesNotRepeatItsLookup(t *testing.T) {
	for _, withBudget := range []bool{false, true} {
		name := "throttled by Shopify"
		if withBudget {
			name = "held back by the budget"
		}
		t.Run(name, func(t *testing.T) {
			// 10 points, 5 a second: the lookup (2 asked, 1 charged: no
			// code) leaves 9, the create (10) has to wait 200 ms.
			st, sim, shop := storeAgainstSimulatorWith(t, func(c *shopifysim.Config) { c.GraphQLBucket = 10; c.GraphQLRestore = 5 })
			rdb := testenv.Redis(t)
			st.Absent = &storebudget.Notes{Redis: rdb}
			if withBudget {
				st.Admin.Budget = &storebudget.Bucket{Redis: rdb, MaxWait: time.Millisecond}
			}
			ctx := context.Background()
			_, err := st.CreateDiscount(ctx, shop, friendSpec("FRIEND-ANNA"))
			var re *shopify.RetryError
			if !errors.As(err, &re) || !re.NotSent {
				t.Fatalf("first attempt: %v, want a retry of a call not sent", err)
			}
			if re.Delay < 150*time.Millisecond || re.Delay > 300*time.Millisecond {
				t.Fatalf("delay %s, want the missing point over the restore rate (~200 ms)", re.Delay)
			}
			stats := sim.Stats(shop.Domain)
			if withBudget && stats.Throttled != 0 {
				t.Fatalf("the budget let a call be throttled: %+v", stats)
			}
			time.Sleep(re.Delay)
			ref, err := st.CreateDiscount(ctx, shop, friendSpec("FRIEND-ANNA"))
			if err != nil || ref == "" {
				t.Fatalf("retry: %q %v", ref, err)
			}
			stats = sim.Stats(shop.Domain)
			if n := stats.Fields["codeDiscountNodeByCode"]; n != 1 {
				t.Fatalf("%d lookups, want 1: the retry repeated the lookup", n)
			}
			if n := len(sim.Discounts(shop.Domain)); n != 1 {
				t.Fatalf("%d discounts, want 1", n)
			}
			// Created: the fact is gone, the next create of the code looks
			// first and finds it.
			time.Sleep(500 * time.Millisecond) // the create emptied the bucket
			if ref2, err := st.CreateDiscount(ctx, shop, friendSpec("FRIEND-ANNA")); err != nil || ref2 != ref {
				t.Fatalf("again: %q %v", ref2, err)
			}
			if n := sim.Stats(shop.Domain).Fields["discountCodeBasicCreate"]; n != 1 {
				t.Fatalf("%d creates sent, want 1", n)
			}
		})
	}
}

// A create whose answer was lost may have created the code: no fact is
// kept, the retry looks the code up and finds it, nothing is doubled.
func TestAmbiguousCreateFailureLooksUpAgain(t *testing.T) {
	st, sim, shop := storeAgainstSimulator(t)
	rdb := testenv.Redis(t)
	st.Absent = &storebudget.Notes{Redis: rdb}
	st.Admin.Budget = &storebudget.Bucket{Redis: rdb}
	ctx := context.Background()
	// A fact "absent" from an earlier refusal...
	st.Absent.Set(ctx, "shopify:absent:"+shop.Domain+":FRIEND-CARL", time.Minute)
	// ...but a 503 on the create is not proof either way: the fact goes.
	sim.FailNext(shop.Domain, 1)
	if _, err := st.CreateDiscount(ctx, shop, friendSpec("FRIEND-CARL")); err == nil {
		t.Fatal("503 not reported")
	}
	if st.Absent.Has(ctx, "shopify:absent:"+shop.Domain+":FRIEND-CARL") {
		t.Fatal("a create that may have happened left the fact 'absent'")
	}
	ref, err := st.CreateDiscount(ctx, shop, friendSpec("FRIEND-CARL"))
	if err != nil || ref == "" {
		t.Fatal(ref, err)
	}
	if n := len(sim.Discounts(shop.Domain)); n != 1 {
		t.Fatalf("%d discounts, want 1", n)
	}
}

// Many workers sharing one shop's budget: nothing is THROTTLED and the
// store's points are spent at its restore rate.
func TestBudgetKeepsConcurrentCreatesUnderTheLimit(t *testing.T) {
	st, sim, shop := storeAgainstSimulatorWith(t, func(c *shopifysim.Config) { c.GraphQLBucket = 300; c.GraphQLRestore = 100 })
	rdb := testenv.Redis(t)
	st.Absent = &storebudget.Notes{Redis: rdb}
	st.Admin.Budget = &storebudget.Bucket{Redis: rdb, MaxWait: 10 * time.Second}
	ctx := context.Background()
	// One call first: the model learns the shop's bucket and rate (a shop
	// never seen starts from Shopify's smallest published figures).
	if _, err := st.CreateDiscount(ctx, shop, friendSpec("FRIEND-FIRST")); err != nil {
		t.Fatal(err)
	}
	const n = 60
	errs := make(chan error, n)
	start := time.Now()
	for i := range n {
		go func() {
			_, err := st.CreateDiscount(ctx, shop, friendSpec(fmt.Sprint("FRIEND-C", i)))
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	took := time.Since(start)
	stats := sim.Stats(shop.Domain)
	if stats.Throttled != 0 || len(sim.Discounts(shop.Domain)) != n+1 {
		t.Fatalf("throttled %d, %d discounts", stats.Throttled, len(sim.Discounts(shop.Domain)))
	}
	// 60 × 11 points from under 300 at 100/s: at least 3.6 s.
	if took < 3500*time.Millisecond {
		t.Fatalf("took %s: faster than the store restores", took)
	}
	t.Logf("%d creates in %s, %.0f points spent", n, took.Round(time.Millisecond), stats.Spent)
}

// An order's create and paid events make the same advocate at once: one
// worker creates the code, the other is asked to come back and then finds
// it, so the store sees one create, not a second one answered TAKEN.
func TestConcurrentCreatesOfOneCodeSendOneCreate(t *testing.T) {
	st, sim, shop := storeAgainstSimulator(t)
	rdb := testenv.Redis(t)
	st.Absent = &storebudget.Notes{Redis: rdb}
	st.Admin.Budget = &storebudget.Bucket{Redis: rdb}
	ctx := context.Background()
	type result struct {
		ref string
		err error
	}
	results := make(chan result, 8)
	for range 8 {
		go func() {
			ref, err := st.CreateDiscount(ctx, shop, friendSpec("FRIEND-DUO"))
			results <- result{ref, err}
		}()
	}
	var ref string
	retries := 0
	for range 8 {
		r := <-results
		var re *shopify.RetryError
		switch {
		case errors.As(r.err, &re) && !re.NotSent:
			retries++
		case r.err != nil:
			t.Fatal(r.err)
		default:
			ref = r.ref
		}
	}
	if ref == "" {
		t.Fatal("nobody created the code")
	}
	if again, err := st.CreateDiscount(ctx, shop, friendSpec("FRIEND-DUO")); err != nil || again != ref {
		t.Fatalf("the retry: %q %v, want %q", again, err, ref)
	}
	if n := sim.Stats(shop.Domain).Fields["discountCodeBasicCreate"]; n != 1 || len(sim.Discounts(shop.Domain)) != 1 {
		t.Fatalf("%d creates sent (%d retries asked), want 1", n, retries)
	}
}
