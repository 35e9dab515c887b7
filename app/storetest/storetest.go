// Package storetest is the conformance suite of app.StorePlatform: what the
// referral engine relies on from a store, run against each adapter and its
// simulator over HTTP (integrations/shopify, integrations/woocommerce).
package storetest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/parrain/parrain/app"
)

// Fixture is one adapter wired to its simulator, with ways to look into
// the simulated store.
type Fixture struct {
	Store app.StorePlatform
	Shop  *app.Shop
	// Code reports whether the store holds the code (in any case) and
	// whether a shopper could use it now.
	Code func(code string) (exists, usable bool)
	// Codes is how many discount codes the store holds.
	Codes func() int
	// AddOrders gives the store customer n orders.
	AddOrders func(customerID string, n int)
	// CustomerID is a valid customer id on the platform.
	CustomerID string
	// Restriction reads back who may use the code, as the store holds it.
	Restriction func(code string) Restriction
	// ByEmail is true for a platform that restricts codes to an email
	// address (WooCommerce's email_restrictions); false for one that only
	// restricts to its customer ids (Shopify).
	ByEmail bool
	// RefuseDeactivation, when set, makes the store refuse changes to
	// codes with msg (a security plugin, a WAF), or accept them again
	// with "".
	RefuseDeactivation func(msg string)
	// StoreCredits lists the store credits the store holds (every
	// customer); nil for a platform without store credit.
	StoreCredits func() []Credit
	// Throttle and Fail make the store's next n API calls answer
	// "throttled" or a 5xx (nothing done); LoseAnswers makes its next n
	// store credit calls run and then answer a 5xx (done, answer lost).
	// Nil where the simulator has no such fault.
	Throttle, Fail, LoseAnswers func(n int)
	// Land follows a landing URL in the simulated storefront as a browser
	// would (cookies kept) and returns the discount code the store's
	// session holds and the ref the storefront kept for attribution.
	Land func(t *testing.T, landingURL string) (code, ref string)
	// Gives reads back from the store what the code takes off an order
	// now: its kind, and its percent or its amount in minor units.
	Gives func(code string) app.Offer
}

// Credit is one store credit as the store holds it.
type Credit struct {
	CustomerID string
	Amount     app.Money
	ExpiresAt  time.Time
}

// Restriction is who may use a code: at most UsageLimit uses (0: no
// limit), only the customer ids or email addresses listed (none: anyone).
type Restriction struct {
	UsageLimit int
	Customers  []string
	Emails     []string
}

// Run runs the suite; each subtest gets a fresh fixture.
func Run(t *testing.T, newFixture func(t *testing.T) Fixture) {
	ctx := context.Background()
	spec := func(code, kind string) app.DiscountSpec {
		return app.DiscountSpec{Code: code, Title: "Parrain " + code, Kind: kind, Percent: 10, AmountMinor: 1000, Currency: "EUR",
			OncePerCustomer: true, StartsAt: time.Now().Add(-time.Minute)}
	}

	t.Run("create is idempotent by code, whatever its case", func(t *testing.T) {
		f := newFixture(t)
		ref, err := f.Store.CreateDiscount(ctx, f.Shop, spec("FRIEND-ANNA-7K2P", app.OfferPercent))
		if err != nil || ref == "" {
			t.Fatalf("create: %q %v", ref, err)
		}
		for _, again := range []string{"FRIEND-ANNA-7K2P", "friend-anna-7k2p"} {
			ref2, err := f.Store.CreateDiscount(ctx, f.Shop, spec(again, app.OfferPercent))
			if err != nil || ref2 != ref {
				t.Fatalf("create %s again: %q %v, want %q", again, ref2, err, ref)
			}
		}
		if n := f.Codes(); n != 1 {
			t.Fatalf("%d codes in the store, want 1", n)
		}
		if exists, usable := f.Code("FRIEND-ANNA-7K2P"); !exists || !usable {
			t.Fatalf("code exists %v usable %v", exists, usable)
		}
	})

	t.Run("every offer kind", func(t *testing.T) {
		f := newFixture(t)
		exp := time.Now().Add(90 * 24 * time.Hour)
		reward := spec("THANKS-ABCDEFGHJK", app.OfferFixed)
		reward.UsageLimit, reward.CustomerID, reward.CustomerEmail, reward.EndsAt = 1, f.CustomerID, "anna@example.com", &exp
		free := spec("FRIEND-FREE-1", app.OfferFreeShipping)
		free.MinOrderMinor = 5000
		for _, d := range []app.DiscountSpec{spec("FRIEND-PCT-1", app.OfferPercent), free, reward} {
			if _, err := f.Store.CreateDiscount(ctx, f.Shop, d); err != nil {
				t.Fatalf("%s (%s): %v", d.Code, d.Kind, err)
			}
			if exists, usable := f.Code(d.Code); !exists || !usable {
				t.Errorf("%s: exists %v usable %v", d.Code, exists, usable)
			}
		}
		bad := spec("FRIEND-BAD", "cashback")
		if _, err := f.Store.CreateDiscount(ctx, f.Shop, bad); app.ErrorCode(err) != app.EINVALID {
			t.Errorf("unknown kind: %v, want invalid", err)
		}
	})

	// A guest advocate (issue 11) has an email and no customer id: the
	// reward is single use and restricted as far as the platform can, to
	// the email where it restricts by email; never to a customer.
	t.Run("reward of an advocate without a customer id", func(t *testing.T) {
		f := newFixture(t)
		exp := time.Now().Add(90 * 24 * time.Hour)
		reward := spec("THANKS-GUESTGUEST", app.OfferFixed)
		reward.UsageLimit, reward.CustomerEmail, reward.EndsAt = 1, "guest.buyer@example.com", &exp
		if _, err := f.Store.CreateDiscount(ctx, f.Shop, reward); err != nil {
			t.Fatalf("create: %v", err)
		}
		if exists, usable := f.Code(reward.Code); !exists || !usable {
			t.Fatalf("exists %v usable %v", exists, usable)
		}
		r := f.Restriction(reward.Code)
		if r.UsageLimit != 1 || len(r.Customers) != 0 {
			t.Errorf("restriction %+v: want single use, no customer", r)
		}
		if f.ByEmail && (len(r.Emails) != 1 || !strings.EqualFold(r.Emails[0], reward.CustomerEmail)) {
			t.Errorf("emails %v: want only %s", r.Emails, reward.CustomerEmail)
		}
		if !f.ByEmail && len(r.Emails) != 0 {
			t.Errorf("emails %v on a platform that does not restrict by email", r.Emails)
		}
	})

	t.Run("deactivate makes a code unusable; unknown codes are fine", func(t *testing.T) {
		f := newFixture(t)
		if _, err := f.Store.CreateDiscount(ctx, f.Shop, spec("THANKS-REVOKE", app.OfferFixed)); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := f.Store.DeactivateDiscount(ctx, f.Shop, "thanks-revoke"); err != nil {
				t.Fatalf("deactivate: %v", err)
			}
		}
		if exists, usable := f.Code("THANKS-REVOKE"); !exists || usable {
			t.Fatalf("after deactivation: exists %v usable %v", exists, usable)
		}
		if err := f.Store.DeactivateDiscount(ctx, f.Shop, "NEVER-CREATED"); err != nil {
			t.Fatalf("unknown code: %v", err)
		}
	})

	// What the store holds decides, not what it answered: the code is read
	// back from the store after deactivation (woocommerce.md §9: a store
	// can answer 200 and keep the code usable).
	t.Run("a revoked reward code is refused by the store afterwards", func(t *testing.T) {
		f := newFixture(t)
		exp := time.Now().Add(90 * 24 * time.Hour)
		reward := spec("THANKS-READBACK1", app.OfferFixed)
		reward.UsageLimit, reward.CustomerID, reward.CustomerEmail, reward.EndsAt = 1, f.CustomerID, "anna@example.com", &exp
		if _, err := f.Store.CreateDiscount(ctx, f.Shop, reward); err != nil {
			t.Fatal(err)
		}
		if _, usable := f.Code(reward.Code); !usable {
			t.Fatal("the new reward code is not usable")
		}
		for range 2 {
			if err := f.Store.DeactivateDiscount(ctx, f.Shop, reward.Code); err != nil {
				t.Fatalf("deactivate: %v", err)
			}
		}
		if exists, usable := f.Code(reward.Code); !exists || usable {
			t.Fatalf("read back after deactivation: exists %v usable %v", exists, usable)
		}
		if f.RefuseDeactivation == nil {
			return
		}
		other := spec("THANKS-REFUSED1", app.OfferFixed)
		if _, err := f.Store.CreateDiscount(ctx, f.Shop, other); err != nil {
			t.Fatal(err)
		}
		f.RefuseDeactivation("Blocked by the site's security rules")
		err := f.Store.DeactivateDiscount(ctx, f.Shop, other.Code)
		if err == nil || app.ErrorCode(err) != app.EINVALID || !strings.Contains(app.ErrorMessage(err), "the store did not deactivate the code") ||
			!strings.Contains(app.ErrorMessage(err), "Blocked by the site's security rules") {
			t.Fatalf("a refused deactivation: %v, want an invalid error quoting the store", err)
		}
		if _, usable := f.Code(other.Code); !usable {
			t.Fatal("the code changed although the store refused")
		}
		f.RefuseDeactivation("")
		if err := f.Store.DeactivateDiscount(ctx, f.Shop, other.Code); err != nil {
			t.Fatalf("deactivate once the store accepts: %v", err)
		}
	})

	t.Run("a referral link lands on the store with the discount and the ref", func(t *testing.T) {
		f := newFixture(t)
		if _, err := f.Store.CreateDiscount(ctx, f.Shop, spec("FRIEND-LAND-7K2P", app.OfferPercent)); err != nil {
			t.Fatal(err)
		}
		u := f.Store.LandingURL(f.Shop, "FRIEND-LAND-7K2P", "LAND-7K2P")
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			t.Fatalf("landing URL %q is not absolute", u)
		}
		code, ref := f.Land(t, u)
		if !Same(code, "FRIEND-LAND-7K2P") || ref != "LAND-7K2P" {
			t.Fatalf("landed with code %q ref %q from %s", code, ref, u)
		}
		if home := f.Store.LandingURL(f.Shop, "", ""); !strings.HasPrefix(home, "http") || strings.Contains(home, "FRIEND") {
			t.Fatalf("home %q", home)
		}
	})

	t.Run("friend codes in bulk: each once, a batch sent again adds nothing, a code held elsewhere is found", func(t *testing.T) {
		f := newFixture(t)
		offer := app.FriendOffer{Key: "percent-10", Spec: spec("", app.OfferPercent)}
		offer.Spec.Title = ""
		codes := []string{"FRIEND-BULK-A1", "FRIEND-BULK-A2", "FRIEND-BULK-A3", "FRIEND-BULK-A4", "FRIEND-BULK-A5"}
		got, ref := AddAll(t, f.Store, f.Shop, offer, codes)
		offer.Ref = ref
		for _, c := range codes {
			if o := got[c]; o.Ref == "" || o.Err != "" {
				t.Fatalf("%s: %+v (all: %+v)", c, o, got)
			}
			if exists, usable := f.Code(c); !exists || !usable {
				t.Fatalf("%s exists %v usable %v", c, exists, usable)
			}
		}
		if n := f.Codes(); n != len(codes) {
			t.Fatalf("%d codes in the store, want %d", n, len(codes))
		}
		// A worker killed after the store took the batch sends it again.
		again, _ := AddAll(t, f.Store, f.Shop, offer, codes)
		for _, c := range codes {
			if o := again[c]; o.Ref == "" || o.Err != "" {
				t.Fatalf("%s sent again: %+v", c, o)
			}
		}
		if n := f.Codes(); n != len(codes) {
			t.Fatalf("%d codes in the store after the batch was sent again, want %d", n, len(codes))
		}
		// Partly failing: one code of the batch is already another
		// discount's; it is reported with that discount, the others added.
		elsewhere, err := f.Store.CreateDiscount(ctx, f.Shop, spec("FRIEND-BULK-ELSE", app.OfferPercent))
		if err != nil {
			t.Fatal(err)
		}
		mixed, _ := AddAll(t, f.Store, f.Shop, offer, []string{"FRIEND-BULK-B1", "FRIEND-BULK-ELSE"})
		if o := mixed["FRIEND-BULK-ELSE"]; o.Ref != elsewhere {
			t.Fatalf("code held elsewhere: %+v, want ref %s", o, elsewhere)
		}
		if o := mixed["FRIEND-BULK-B1"]; o.Ref == "" {
			t.Fatalf("the batch's other code: %+v", o)
		}
		if n := f.Codes(); n != len(codes)+2 {
			t.Fatalf("%d codes in the store, want %d", n, len(codes)+2)
		}
		// A bulk code lands like any other.
		code, lref := f.Land(t, f.Store.LandingURL(f.Shop, "FRIEND-BULK-A2", "BULK-A2"))
		if !Same(code, "FRIEND-BULK-A2") || lref != "BULK-A2" {
			t.Fatalf("landed with code %q ref %q", code, lref)
		}
		// Removed one by one.
		if err := f.Store.RemoveFriendCode(ctx, f.Shop, offer, "FRIEND-BULK-A3"); err != nil {
			t.Fatalf("remove: %v", err)
		}
		if _, usable := f.Code("FRIEND-BULK-A3"); usable {
			t.Fatal("a removed code is still usable")
		}
		if _, usable := f.Code("FRIEND-BULK-A4"); !usable {
			t.Fatal("removing one code stopped another")
		}
		if err := f.Store.RemoveFriendCode(ctx, f.Shop, offer, "FRIEND-NEVER-MADE"); err != nil {
			t.Fatalf("remove an unknown code: %v", err)
		}
	})

	// A campaign changes what the friend codes already handed out give,
	// and back (app/campaigns.Sync, through the optional
	// app.FriendOfferUpdater).
	t.Run("a friend offer's codes give the campaign's terms, then the standing ones again", func(t *testing.T) {
		f := newFixture(t)
		up, ok := f.Store.(app.FriendOfferUpdater)
		if !ok {
			t.Skip("the platform cannot change its friend discounts")
		}
		offer := app.FriendOffer{Key: "percent-10", Spec: spec("", app.OfferPercent)}
		offer.Spec.Title = ""
		codes := []string{"FRIEND-CAMP-A1", "FRIEND-CAMP-A2", "FRIEND-CAMP-A3"}
		got, ref := AddAll(t, f.Store, f.Shop, offer, codes)
		offer.Ref = ref
		var refs []string
		for _, c := range codes {
			if got[c].Ref == "" {
				t.Fatalf("%s: %+v", c, got[c])
			}
			refs = append(refs, got[c].Ref)
		}
		// A code of another discount, and one code of the offer removed
		// before the campaign: neither may come back to life.
		other := spec("THANKS-CAMP-OTHER", app.OfferFixed)
		if _, err := f.Store.CreateDiscount(ctx, f.Shop, other); err != nil {
			t.Fatal(err)
		}
		if err := f.Store.RemoveFriendCode(ctx, f.Shop, offer, "FRIEND-CAMP-A3"); err != nil {
			t.Fatal(err)
		}
		check := func(when string, want app.Offer) {
			t.Helper()
			for _, c := range codes[:2] {
				g := f.Gives(c)
				if g.Kind != want.Kind || (want.Kind == app.OfferPercent && g.Percent != want.Percent) ||
					(want.Kind == app.OfferFixed && g.AmountMinor != want.AmountMinor) {
					t.Fatalf("%s: %s gives %+v, want %+v", when, c, g, want)
				}
				if _, usable := f.Code(c); !usable {
					t.Fatalf("%s: %s is no longer usable", when, c)
				}
			}
			if _, usable := f.Code("FRIEND-CAMP-A3"); usable {
				t.Fatalf("%s: the removed code is usable again", when)
			}
			if g := f.Gives(other.Code); g.Kind != app.OfferFixed || g.AmountMinor != other.AmountMinor {
				t.Fatalf("%s: another discount changed: %+v", when, g)
			}
		}
		set := func(terms app.DiscountSpec) {
			t.Helper()
			if err := up.UpdateFriendOffer(ctx, f.Shop, offer, refs, terms); err != nil {
				t.Fatalf("update to %+v: %v", terms, err)
			}
		}
		check("before", app.Offer{Kind: app.OfferPercent, Percent: 10})

		double := offer.Spec
		double.Percent = 20
		set(double)
		check("campaign", app.Offer{Kind: app.OfferPercent, Percent: 20})
		set(double) // a retry sends the same terms again
		check("campaign, sent again", app.Offer{Kind: app.OfferPercent, Percent: 20})

		fixed := offer.Spec
		fixed.Kind, fixed.AmountMinor = app.OfferFixed, 1500
		set(fixed)
		check("a fixed amount instead", app.Offer{Kind: app.OfferFixed, AmountMinor: 1500})

		set(offer.Spec)
		check("after the campaign", app.Offer{Kind: app.OfferPercent, Percent: 10})
	})

	t.Run("a batch over the store's limit is refused before it goes", func(t *testing.T) {
		f := newFixture(t)
		n := f.Store.FriendBatchLimit(f.Shop)
		codes := make([]string, n+1)
		for i := range codes {
			codes[i] = "FRIEND-OVER-" + strings.Repeat("X", 1) + string(rune('A'+i%26)) + strings.Repeat("Y", i/26)
		}
		_, err := f.Store.AddFriendCodes(ctx, f.Shop, app.FriendOffer{Key: "k", Spec: spec("", app.OfferPercent)}, codes)
		if app.ErrorCode(err) != app.EINVALID {
			t.Fatalf("%d codes: %v, want EINVALID", len(codes), err)
		}
		if c := f.Codes(); c != 0 {
			t.Fatalf("%d codes in the store", c)
		}
	})

	t.Run("admin pages of an order and a customer", func(t *testing.T) {
		f := newFixture(t)
		for _, u := range []string{f.Store.OrderAdminURL(f.Shop, "4711"), f.Store.CustomerAdminURL(f.Shop, f.CustomerID)} {
			if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
				t.Fatalf("admin URL %q is not absolute", u)
			}
		}
		if u := f.Store.OrderAdminURL(f.Shop, "4711"); !strings.Contains(u, "4711") {
			t.Fatalf("order admin URL %q does not name the order", u)
		}
		if f.Store.OrderAdminURL(f.Shop, "") != "" || f.Store.CustomerAdminURL(f.Shop, "") != "" {
			t.Fatal("no id, yet an admin URL")
		}
	})

	t.Run("store credit: credited once, or refused with the reason", func(t *testing.T) {
		f := newFixture(t)
		f.AddOrders(f.CustomerID, 1) // the customer exists in the store
		exp := app.StoreCreditExpiry(time.Now(), 90, 4711)
		c := app.StoreCredit{Key: "THANKS-CREDIT1", CustomerID: f.CustomerID, Amount: app.Money{Minor: 1250, Currency: "EUR"}, ExpiresAt: exp}
		if err := f.Store.StoreCreditSupport(f.Shop); err != nil {
			// Refused, saying why, both when asked and when tried.
			if app.ErrorCode(err) != app.EINVALID || len(app.ErrorMessage(err)) < 40 {
				t.Fatalf("refusal %v: want EINVALID with a reason", err)
			}
			if _, err := f.Store.CreditStoreCredit(ctx, f.Shop, c); app.ErrorCode(err) != app.EINVALID {
				t.Fatalf("credit on a store without store credit: %v, want EINVALID", err)
			}
			return
		}
		if f.StoreCredits == nil {
			t.Fatal("the platform supports store credit: the fixture must list credits")
		}
		ref, err := f.Store.CreditStoreCredit(ctx, f.Shop, c)
		if err != nil || ref == "" {
			t.Fatalf("credit: %q %v", ref, err)
		}
		again, err := f.Store.CreditStoreCredit(ctx, f.Shop, c)
		if err != nil || again != ref {
			t.Fatalf("credit again: %q %v, want %q", again, err, ref)
		}
		// Another reward (another marker) of the same amount is a credit of its own.
		other := c
		other.Key, other.ExpiresAt = "THANKS-CREDIT2", app.StoreCreditExpiry(time.Now(), 90, 4712)
		ref2, err := f.Store.CreditStoreCredit(ctx, f.Shop, other)
		if err != nil || ref2 == "" || ref2 == ref {
			t.Fatalf("second credit: %q %v", ref2, err)
		}
		got := f.StoreCredits()
		if len(got) != 2 {
			t.Fatalf("%d credits in the store, want 2: %+v", len(got), got)
		}
		for _, g := range got {
			if g.CustomerID != f.CustomerID || g.Amount != c.Amount || !(g.ExpiresAt.Equal(exp) || g.ExpiresAt.Equal(other.ExpiresAt)) {
				t.Fatalf("credit as the store holds it: %+v", g)
			}
		}
		guest := c
		guest.Key, guest.CustomerID = "THANKS-GUEST", ""
		if _, err := f.Store.CreditStoreCredit(ctx, f.Shop, guest); app.ErrorCode(err) != app.EINVALID {
			t.Fatalf("credit to a guest: %v, want EINVALID", err)
		}
	})

	t.Run("store credit: once through throttling, 5xx and a lost answer", func(t *testing.T) {
		f := newFixture(t)
		if f.Store.StoreCreditSupport(f.Shop) != nil || f.Throttle == nil || f.Fail == nil || f.LoseAnswers == nil {
			t.Skip("no store credit, or no faults, in this simulator")
		}
		f.AddOrders(f.CustomerID, 1)
		for i, fault := range []struct {
			name   string
			inject func(int)
		}{{"throttled", f.Throttle}, {"5xx", f.Fail}, {"answer lost", f.LoseAnswers}} {
			c := app.StoreCredit{Key: "THANKS-FAULT" + fault.name, CustomerID: f.CustomerID, Amount: app.Money{Minor: 500, Currency: "EUR"},
				ExpiresAt: app.StoreCreditExpiry(time.Now(), 30, int64(100+i))}
			fault.inject(1)
			var ref string
			var err error
			for try := 0; try < 20; try++ {
				if ref, err = f.Store.CreditStoreCredit(ctx, f.Shop, c); err == nil {
					break
				}
				if app.ErrorCode(err) == app.EINVALID {
					t.Fatalf("%s: refused for good: %v", fault.name, err)
				}
				wait := 50 * time.Millisecond
				var d interface{ RetryDelay() time.Duration }
				if errors.As(err, &d) && d.RetryDelay() < 3*time.Second {
					wait = d.RetryDelay()
				}
				time.Sleep(wait)
			}
			if err != nil || ref == "" {
				t.Fatalf("%s: %q %v", fault.name, ref, err)
			}
			if n := len(f.StoreCredits()); n != i+1 {
				t.Fatalf("%s: %d credits in the store, want %d", fault.name, n, i+1)
			}
		}
	})

	t.Run("customer order count", func(t *testing.T) {
		f := newFixture(t)
		f.AddOrders(f.CustomerID, 3)
		n, err := f.Store.CustomerOrderCount(ctx, f.Shop, f.CustomerID)
		if err != nil || n != 3 {
			t.Fatalf("count: %d %v, want 3", n, err)
		}
	})
}

// AddAll adds the codes as the batching stage does: one AddFriendCodes,
// then FriendCodesAdded until the store says it is done. It returns each
// code's outcome and the offer's reference.
func AddAll(t *testing.T, st app.StorePlatform, shop *app.Shop, offer app.FriendOffer, codes []string) (map[string]app.CodeOutcome, string) {
	t.Helper()
	ctx := context.Background()
	res, err := st.AddFriendCodes(ctx, shop, offer, codes)
	if err != nil {
		t.Fatalf("add friend codes: %v", err)
	}
	got := map[string]app.CodeOutcome{}
	for _, o := range res.Codes {
		got[o.Code] = o
	}
	offer.Ref = res.OfferRef
	for deadline := time.Now().Add(10 * time.Second); !res.Done; {
		if time.Now().After(deadline) {
			t.Fatalf("bulk operation %s not done after 10 s", res.Operation)
		}
		time.Sleep(50 * time.Millisecond)
		if res, err = st.FriendCodesAdded(ctx, shop, offer, res.Operation, codes); err != nil {
			t.Fatalf("follow bulk operation: %v", err)
		}
	}
	for _, o := range res.Codes {
		got[o.Code] = o
	}
	return got, offer.Ref
}

// Same reports whether two codes are the same code (stores may change case).
func Same(a, b string) bool { return strings.EqualFold(a, b) }
