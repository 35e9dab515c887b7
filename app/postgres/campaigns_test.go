package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/attribution"
	"github.com/parrain/parrain/app/campaigns"
	"github.com/parrain/parrain/app/friendcodes"
	"github.com/parrain/parrain/app/referrals"
)

type rewardIDs []int64

func (r *rewardIDs) EnqueueReward(_ context.Context, id int64) error { *r = append(*r, id); return nil }

// campaignWorld is the engine over the real repository with the campaign
// policy the stack wires, its store the WooCommerce adapter against wcsim.
type campaignWorld struct {
	*guestWorld
	svc   *campaigns.Service
	now   time.Time
	queue rewardIDs
}

func newCampaignWorld(t *testing.T) *campaignWorld {
	w := &campaignWorld{guestWorld: newGuestWorld(t), now: time.Now()}
	w.engine.Offers = []referrals.OfferPolicy{campaigns.Policy{Repo: w.db.Campaigns()}}
	w.engine.Shops = w.db.Shops()
	w.engine.Rewards = &w.queue
	w.engine.Now = func() time.Time { return w.now }
	w.svc = &campaigns.Service{Repo: w.db.Campaigns(), Programs: w.db.Referrals(), Now: func() time.Time { return w.now }}
	return w
}

// orderAt is a paid order placed at the instant, by buyer n (its own IP
// and address), with the codes.
func (w *campaignWorld) orderAt(at time.Time, n int, codes ...string) string {
	w.t.Helper()
	id := fmt.Sprintf("%d", 5000+n)
	ev := referrals.OrderEvent{Known: true, Paid: true, FirstName: fmt.Sprintf("Buyer%d", n), Order: attribution.Order{
		PlatformID: id, Name: "#" + id, Email: fmt.Sprintf("buyer%d@example.com", n), DiscountCodes: codes,
		BrowserIP:       fmt.Sprintf("198.51.100.%d", n),
		ShippingAddress: attribution.Address{Line1: fmt.Sprintf("%d avenue Foch", n), Zip: "75016", Country: "FR"},
		Total:           app.Money{Minor: 8000, Currency: "EUR"}, CreatedAt: at,
	}}
	if err := w.engine.HandleOrderEvent(context.Background(), w.shop, ev); err != nil {
		w.t.Fatalf("order %s: %v", id, err)
	}
	return id
}

func (w *campaignWorld) storedOffer(orderID string) (amount int64, campaignID int64) {
	w.t.Helper()
	err := w.db.SQL().QueryRow(`SELECT (f.offer->'reward'->>'AmountMinor')::bigint, COALESCE((f.offer->>'campaign_id')::bigint, 0)
		FROM referrals f JOIN orders o ON o.id = f.order_id WHERE o.shop_id = $1 AND o.platform_order_id = $2`, w.shop.ID, orderID).
		Scan(&amount, &campaignID)
	if err != nil {
		w.t.Fatalf("stored offer of order %s: %v", orderID, err)
	}
	return
}

// The campaign's window decides the reward, to the second: an order a
// second before the end earns the campaign's reward, one a second after
// the standing one, and one on the start's very second the campaign's.
// The offer is fixed when the friend ordered: editing the program before
// the rewards are issued changes neither.
func TestCampaignWindowDecidesTheReward(t *testing.T) {
	w := newCampaignWorld(t)
	ctx := context.Background()
	p, err := w.db.Referrals().Program(ctx, w.shop)
	if err != nil {
		t.Fatal(err)
	}
	if p.RewardKind != app.OfferFixed || p.RewardAmountMinor != 1000 {
		t.Fatalf("standing reward %s %d, the test expects a fixed 10.00", p.RewardKind, p.RewardAmountMinor)
	}
	start := w.now.Add(-time.Hour).Truncate(time.Second)
	end := w.now.Add(time.Hour).Truncate(time.Second)
	c := &app.Campaign{Name: "Double rewards", Start: start, End: end, Mode: app.CampaignAdd,
		Reward: &app.Offer{Kind: app.OfferFixed, AmountMinor: 1000}}
	if err := w.svc.Save(ctx, w.shop, c); err != nil {
		t.Fatal(err)
	}

	w.orderAt(start.Add(-2*time.Hour), 1) // the advocate
	adv := w.advocates()[0]
	before := w.orderAt(end.Add(-time.Second), 2, adv.FriendCode)
	after := w.orderAt(end.Add(time.Second), 3, adv.FriendCode)
	onStart := w.orderAt(start, 4, adv.FriendCode)
	atEnd := w.orderAt(end, 5, adv.FriendCode)
	for _, tc := range []struct {
		name     string
		order    string
		amount   int64
		campaign int64
	}{
		{"a second before the end", before, 2000, c.ID},
		{"a second after the end", after, 1000, 0},
		{"on the start", onStart, 2000, c.ID},
		{"on the end (excluded)", atEnd, 1000, 0},
	} {
		if amount, id := w.storedOffer(tc.order); amount != tc.amount || id != tc.campaign {
			t.Errorf("%s: stored reward %d from campaign %d, want %d from %d", tc.name, amount, id, tc.amount, tc.campaign)
		}
	}

	// The merchant lowers the standing reward and deletes the campaign
	// before the hold is over: the referrals keep what they earned.
	p.RewardAmountMinor = 300
	if err := w.db.Referrals().SaveProgram(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := w.svc.Delete(ctx, w.shop, c.ID); err != nil {
		t.Fatal(err)
	}
	w.now = end.Add(30 * 24 * time.Hour)
	if n, err := w.engine.ApproveDue(ctx, 100); err != nil || n != 4 {
		t.Fatalf("approved %d: %v", n, err)
	}
	for order, want := range map[string]int64{before: 2000, after: 1000, onStart: 2000, atEnd: 1000} {
		var got int64
		if err := w.db.SQL().QueryRow(`SELECT r.amount_minor FROM rewards r JOIN referrals f ON f.id = r.referral_id JOIN orders o ON o.id = f.order_id
			WHERE o.shop_id = $1 AND o.platform_order_id = $2`, w.shop.ID, order).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("order %s rewarded %d, want %d (the offer stored when the friend ordered)", order, got, want)
		}
	}
}

// Campaigns that overlap are refused with the other's name; bad input is
// refused with a message that says what is wrong; another shop's campaigns
// are neither seen nor touched.
func TestCampaignRulesAndIsolation(t *testing.T) {
	w := newCampaignWorld(t)
	ctx := context.Background()
	day := 24 * time.Hour
	t0 := w.now.Truncate(time.Second)
	first := &app.Campaign{Name: "Black Friday", Start: t0, End: t0.Add(3 * day), Mode: app.CampaignReplace,
		Friend: &app.Offer{Kind: app.OfferPercent, Percent: 25}}
	if err := w.svc.Save(ctx, w.shop, first); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		c    app.Campaign
		code string
		msg  string
	}{
		{"overlap", app.Campaign{Name: "Cyber Monday", Start: t0.Add(2 * day), End: t0.Add(4 * day), Mode: app.CampaignReplace,
			Reward: &app.Offer{Kind: app.OfferFixed, AmountMinor: 1500}}, app.ECONFLICT, `overlaps "Black Friday"`},
		{"end before start", app.Campaign{Name: "Backwards", Start: t0.Add(9 * day), End: t0.Add(8 * day), Mode: app.CampaignReplace,
			Reward: &app.Offer{Kind: app.OfferFixed, AmountMinor: 1500}}, app.EINVALID, "must end after it starts"},
		{"unknown kind", app.Campaign{Name: "Mystery", Start: t0.Add(9 * day), End: t0.Add(10 * day), Mode: app.CampaignReplace,
			Reward: &app.Offer{Kind: "voucher", AmountMinor: 1500}}, app.EINVALID, "reward"},
		{"unknown mode", app.Campaign{Name: "Odd", Start: t0.Add(9 * day), End: t0.Add(10 * day), Mode: "double",
			Reward: &app.Offer{Kind: app.OfferFixed, AmountMinor: 1500}}, app.EINVALID, "mode must be replace or add"},
		{"nothing changed", app.Campaign{Name: "Empty", Start: t0.Add(9 * day), End: t0.Add(10 * day), Mode: app.CampaignReplace},
			app.EINVALID, "must change"},
	} {
		c := tc.c
		err := w.svc.Save(ctx, w.shop, &c)
		if app.ErrorCode(err) != tc.code || !strings.Contains(app.ErrorMessage(err), tc.msg) {
			t.Errorf("%s: %v (%s), want %s with %q", tc.name, err, app.ErrorCode(err), tc.code, tc.msg)
		}
		if c.ID != 0 {
			t.Errorf("%s: refused campaign got id %d", tc.name, c.ID)
		}
	}
	// Right after it (its end is excluded) is no overlap.
	next := &app.Campaign{Name: "Cyber Monday", Start: first.End, End: first.End.Add(day), Mode: app.CampaignReplace,
		Reward: &app.Offer{Kind: app.OfferFixed, AmountMinor: 1500}}
	if err := w.svc.Save(ctx, w.shop, next); err != nil {
		t.Fatalf("adjacent campaign: %v", err)
	}
	// Another shop sees none of them and cannot delete them.
	other := installShop(t, w.db, "other-campaigns.myshopify.com")
	if list, err := w.svc.List(ctx, other); err != nil || len(list) != 0 {
		t.Fatalf("other shop lists %d campaigns: %v", len(list), err)
	}
	if err := w.svc.Delete(ctx, other, first.ID); app.ErrorCode(err) != app.ENOTFOUND {
		t.Fatalf("other shop deleting: %v", err)
	}
	if cur, err := w.svc.Current(ctx, w.shop.ID); err != nil || cur == nil || cur.ID != first.ID {
		t.Fatalf("current campaign: %+v %v", cur, err)
	}
}

// recordingUpdater counts the store updates a sync sends and can make the
// store fail.
type recordingUpdater struct {
	app.StorePlatform
	calls int
	fail  error
}

// flushLater leaves queued friend codes for the test's own flush.
type flushLater struct{}

func (flushLater) FlushFriendCodes(context.Context, int64) error { return nil }

func (r *recordingUpdater) UpdateFriendOffer(ctx context.Context, shop *app.Shop, offer app.FriendOffer, refs []string, terms app.DiscountSpec) error {
	r.calls++

	if r.fail != nil {
		return r.fail
	}
	return r.StorePlatform.(app.FriendOfferUpdater).UpdateFriendOffer(ctx, shop, offer, refs, terms)
}

// campaigns.Sync over the real repository and the WooCommerce adapter
// against wcsim: nothing sent without a friend-side campaign; a store that
// fails leaves the offer unapplied (the retry sends again) while new codes
// already take the campaign's terms; a sync run again sends nothing; a
// batch open while the terms change makes the sync come back
// (ErrBatchOpen) until it can mark the offer applied; an uninstalled shop
// is left alone.
func TestCampaignSyncEdges(t *testing.T) {
	w := newCampaignWorld(t)
	ctx := context.Background()
	w.engine.FriendCodes = flushLater{} // in bulk, as the stack wires it
	rec := &recordingUpdater{StorePlatform: w.engine.Store}
	flush := &friendcodes.Flusher{Repo: w.db.FriendCodes(), Store: w.engine.Store, Shops: w.db.Shops()}
	sync := &campaigns.Sync{Repo: w.db.Campaigns(), Store: rec, Shops: w.db.Shops(), Now: func() time.Time { return w.now }}
	w.orderAt(w.now, 1)
	w.orderAt(w.now, 2)
	if err := flush.Flush(ctx, w.shop.ID); err != nil {
		t.Fatal(err)
	}
	amounts := func() map[string]int {
		out := map[string]int{}
		for _, c := range w.store.Coupons() {
			out[c.DiscountType+" "+c.Amount]++
		}
		return out
	}
	if got := amounts(); got["percent 10"] != 2 || len(got) != 1 {
		t.Fatalf("friend coupons before: %v", got)
	}
	offerState := func() (terms, applied string) {
		t.Helper()
		if err := w.db.SQL().QueryRow(`SELECT COALESCE(terms->>'Percent', ''), COALESCE(applied->>'Percent', '') FROM friend_offers WHERE shop_id = $1`,
			w.shop.ID).Scan(&terms, &applied); err != nil {
			t.Fatal(err)
		}
		return
	}
	run := func(wantCalls int, wantErr error) {
		t.Helper()
		before := rec.calls
		err := sync.Run(ctx, w.shop.ID)
		if (wantErr == nil) != (err == nil) || (wantErr != nil && !errors.Is(err, wantErr)) {
			t.Fatalf("sync: %v, want %v", err, wantErr)
		}
		if n := rec.calls - before; n != wantCalls {
			t.Fatalf("sync sent %d updates, want %d", n, wantCalls)
		}
	}
	run(0, nil) // no campaign

	rewardOnly := &app.Campaign{Name: "Rewards x2", Start: w.now.Add(-time.Hour), End: w.now.Add(time.Hour), Mode: app.CampaignAdd,
		Reward: &app.Offer{Kind: app.OfferFixed, AmountMinor: 1000}}
	if err := w.svc.Save(ctx, w.shop, rewardOnly); err != nil {
		t.Fatal(err)
	}
	run(0, nil) // the friend side stands
	if err := w.svc.Delete(ctx, w.shop, rewardOnly.ID); err != nil {
		t.Fatal(err)
	}

	friend := &app.Campaign{Name: "Friends 25", Start: w.now.Add(-time.Hour), End: w.now.Add(time.Hour), Mode: app.CampaignReplace,
		Friend: &app.Offer{Kind: app.OfferPercent, Percent: 25}}
	if err := w.svc.Save(ctx, w.shop, friend); err != nil {
		t.Fatal(err)
	}
	down := errors.New("store down")
	rec.fail = down
	run(1, down)
	if terms, applied := offerState(); terms != "25" || applied != "" {
		t.Fatalf("after a failed store update: terms %q applied %q, want terms 25 and nothing applied", terms, applied)
	}
	rec.fail = nil
	run(1, nil)
	if got := amounts(); got["percent 25"] != 2 || len(got) != 1 {
		t.Fatalf("friend coupons during the campaign: %v", got)
	}
	if terms, applied := offerState(); terms != "25" || applied != "25" {
		t.Fatalf("during: terms %q applied %q", terms, applied)
	}
	run(0, nil) // applied already: nothing to send

	// A batch of the offer's codes opens; the campaign ends meanwhile.
	if _, err := w.db.SQL().Exec(`INSERT INTO friend_code_batches (shop_id, offer_id) SELECT shop_id, id FROM friend_offers WHERE shop_id = $1`, w.shop.ID); err != nil {
		t.Fatal(err)
	}
	w.now = w.now.Add(2 * time.Hour)
	run(1, campaigns.ErrBatchOpen)
	if got := amounts(); got["percent 10"] != 2 || len(got) != 1 {
		t.Fatalf("friend coupons after the end: %v", got)
	}
	if terms, applied := offerState(); terms != "" || applied != "25" {
		t.Fatalf("with a batch open: terms %q applied %q, want standing terms and the campaign's still marked", terms, applied)
	}
	if _, err := w.db.SQL().Exec(`UPDATE friend_code_batches SET done_at = now() WHERE shop_id = $1`, w.shop.ID); err != nil {
		t.Fatal(err)
	}
	run(1, nil) // sends the standing terms again, now sure of every code
	if terms, applied := offerState(); terms != "" || applied != "" {
		t.Fatalf("after: terms %q applied %q", terms, applied)
	}
	run(0, nil)

	// An uninstalled shop has no token: nothing is tried.
	if err := w.svc.Save(ctx, w.shop, &app.Campaign{Name: "Later", Start: w.now.Add(-time.Minute), End: w.now.Add(time.Hour), Mode: app.CampaignReplace,
		Friend: &app.Offer{Kind: app.OfferPercent, Percent: 30}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.db.SQL().Exec(`UPDATE shops SET status = 'uninstalled' WHERE id = $1`, w.shop.ID); err != nil {
		t.Fatal(err)
	}
	run(0, nil)
}
