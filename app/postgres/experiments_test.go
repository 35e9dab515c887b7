package postgres_test

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/experiment"
	"github.com/parrain/parrain/app/postgres"
	"github.com/parrain/parrain/app/testenv"
)

// abWorld seeds a shop for A/B tests with plain SQL: the figures are
// counted by hand from what is inserted here.
type abWorld struct {
	t    *testing.T
	db   *postgres.DB
	sql  *sql.DB
	shop *app.Shop
	n    int
}

func newABWorld(t *testing.T, db *postgres.DB, domain string) *abWorld {
	sh := installShop(t, db, domain)
	if err := db.Shops().SetDetails(context.Background(), sh.ID, app.ShopDetails{Currency: "EUR", Timezone: "Europe/Paris"}); err != nil {
		t.Fatal(err)
	}
	sh.Currency = "EUR"
	return &abWorld{t: t, db: db, sql: db.SQL(), shop: sh}
}

func (w *abWorld) one(q string, args ...any) int64 {
	w.t.Helper()
	var id int64
	if err := w.sql.QueryRow(q, args...).Scan(&id); err != nil {
		w.t.Fatalf("%s: %v", q, err)
	}
	return id
}

func (w *abWorld) advocate(created time.Time) *app.Advocate {
	w.n++
	code := fmt.Sprintf("AB%d-%d", w.shop.ID, w.n)
	id := w.one(`INSERT INTO advocates (shop_id, customer_id, code, friend_code, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		w.shop.ID, code, code, "FRIEND-"+code, created)
	return &app.Advocate{ID: id, ShopID: w.shop.ID, Code: code, CreatedAt: created}
}

func (w *abWorld) click(adv int64, at time.Time) int64 {
	return w.one(`INSERT INTO clicks (shop_id, advocate_id, at) VALUES ($1, $2, $3) RETURNING id`, w.shop.ID, adv, at)
}

// order is a friend's order referred by adv: total and refund in cents,
// the referral's state, the click it followed (0: none) and its reward.
func (w *abWorld) order(adv int64, at time.Time, total, refunded int64, state string, click int64, reward *app.Offer, rewardState string) {
	w.t.Helper()
	w.n++
	o := w.one(`INSERT INTO orders (shop_id, platform_order_id, total_minor, refunded_minor, known, paid, placed_at, currency)
		VALUES ($1, $2, $3, $4, true, true, $5, 'EUR') RETURNING id`, w.shop.ID, fmt.Sprintf("o%d", w.n), total, refunded, at)
	var clickID any
	if click != 0 {
		clickID = click
	}
	r := w.one(`INSERT INTO referrals (shop_id, advocate_id, order_id, evidence_kind, evidence_code, decision, state, hold_until, click_id, created_at)
		VALUES ($1, $2, $3, 'discount_code', 'X', '{}', $4, $5, $6, $5) RETURNING id`, w.shop.ID, adv, o, state, at, clickID)
	if reward != nil {
		w.one(`INSERT INTO rewards (shop_id, referral_id, advocate_id, code, kind, percent, amount_minor, currency, state)
			VALUES ($1, $2, $3, $4, $5, $6, $7, 'EUR', $8) RETURNING id`, w.shop.ID, r, adv, fmt.Sprintf("THANKS-%d", r),
			reward.Kind, reward.Percent, reward.AmountMinor, rewardState)
	}
}

func (w *abWorld) start(t experiment.Test) *experiment.Test {
	w.t.Helper()
	t.ShopID = w.shop.ID
	if err := w.db.Experiments().Start(context.Background(), &t); err != nil {
		w.t.Fatal(err)
	}
	return w.backdate(&t)
}

// backdate moves the test's start a day back, so its seeded advocates,
// clicks and orders are in the past when it ends.
func (w *abWorld) backdate(t *experiment.Test) *experiment.Test {
	w.t.Helper()
	if _, err := w.sql.Exec(`UPDATE experiments SET started_at = started_at - interval '1 day' WHERE id = $1`, t.ID); err != nil {
		w.t.Fatal(err)
	}
	got, err := w.db.Experiments().Test(context.Background(), w.shop.ID, t.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	return got
}

// Each new advocate's arm is stored the first time it is asked for and
// read back ever after: a restart (a new policy on a new connection pool),
// a change of split or a retry gives the same arm; over 10,000 advocates
// the share in B is within 2 points of the split. Advocates from before
// the test are in no arm.
func TestABAssignmentIsStoredStableAndFollowsTheSplit(t *testing.T) {
	db, dsn := testenv.OpenDB(t)
	ctx := context.Background()
	w := newABWorld(t, db, "ab-assign.myshopify.com")
	test := w.start(experiment.Test{SplitB: 30, Goal: experiment.GoalConversion, FriendB: &app.Offer{Kind: app.OfferPercent, Percent: 20}})
	before := w.advocate(test.StartedAt.Add(-time.Hour))
	const n = 10000
	if _, err := w.sql.Exec(`INSERT INTO advocates (shop_id, customer_id, code, friend_code, created_at)
		SELECT $1, 'n' || g, 'N' || $4 || '-' || g, 'FRIEND-N' || $4 || '-' || g, $2 FROM generate_series(1, $3) g`,
		w.shop.ID, test.StartedAt.Add(time.Second), n, fmt.Sprint(w.shop.ID)); err != nil {
		t.Fatal(err)
	}
	rows, err := w.sql.Query(`SELECT id, created_at FROM advocates WHERE shop_id = $1 AND customer_id LIKE 'n%' ORDER BY id`, w.shop.ID)
	if err != nil {
		t.Fatal(err)
	}
	var advs []*app.Advocate
	for rows.Next() {
		a := &app.Advocate{ShopID: w.shop.ID}
		if err := rows.Scan(&a.ID, &a.CreatedAt); err != nil {
			t.Fatal(err)
		}
		advs = append(advs, a)
	}
	rows.Close()
	p := app.DefaultProgram(w.shop.ID, "EUR")

	shape := func(pol *experiment.Policy) map[int64]string {
		arms := make(map[int64]string, n)
		var mu sync.Mutex
		var wg sync.WaitGroup
		work := make(chan *app.Advocate)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for a := range work {
					got, src, err := pol.Shape(ctx, w.shop, p, a, time.Now())
					if err != nil {
						t.Error(err)
						continue
					}
					if (src.Arm == "B") != (got.FriendPercent == 20) {
						t.Errorf("advocate %d in %q has %d%% off", a.ID, src.Arm, got.FriendPercent)
					}
					mu.Lock()
					arms[a.ID] = src.Arm
					mu.Unlock()
				}
			}()
		}
		for _, a := range advs {
			work <- a
		}
		close(work)
		wg.Wait()
		return arms
	}
	first := shape(&experiment.Policy{Store: db.Experiments()})
	b := 0
	for _, arm := range first {
		if arm == "B" {
			b++
		}
	}
	if share := float64(b) / n; math.Abs(share-0.30) > 0.02 {
		t.Errorf("%.4f of %d advocates in B, want 0.30 ± 0.02", share, n)
	}
	var stored int
	w.sql.QueryRow(`SELECT count(*) FROM advocate_arms WHERE experiment_id = $1 AND shop_id = $2`, test.ID, w.shop.ID).Scan(&stored)
	if stored != n {
		t.Fatalf("%d arms stored, want %d", stored, n)
	}

	// A restart: another pool, another policy. And a split changed behind
	// the test's back: the stored arms stand.
	k, _ := testenv.Keyring(t)
	db2, err := postgres.Open(ctx, dsn, k)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	w.sql.Exec(`UPDATE experiments SET split_b = 90 WHERE id = $1`, test.ID)
	again := shape(&experiment.Policy{Store: db2.Experiments()})
	for id, arm := range first {
		if again[id] != arm {
			t.Fatalf("advocate %d: %s, then %s after a restart", id, arm, again[id])
		}
	}

	// The advocate from before the test keeps the standing offer.
	got, src, err := (&experiment.Policy{Store: db.Experiments()}).Shape(ctx, w.shop, p, before, time.Now())
	if err != nil || src.Arm != "" || got.FriendPercent != p.FriendPercent {
		t.Fatalf("advocate from before the test: %q %d%% %v", src.Arm, got.FriendPercent, err)
	}
	if w.one(`SELECT count(*) FROM advocate_arms WHERE advocate_id = $1`, before.ID) != 0 {
		t.Fatal("an advocate from before the test was given an arm")
	}
}

// The per-arm figures of a seeded test match a count by hand; another
// shop's test, advocates from before the test, rejected and reversed
// referrals and orders after the end are left out.
func TestABCountsMatchAHandCount(t *testing.T) {
	db, _ := testenv.OpenDB(t)
	ctx := context.Background()
	w := newABWorld(t, db, "ab-count.myshopify.com")
	other := newABWorld(t, db, "ab-count-other.myshopify.com")
	test := w.start(experiment.Test{SplitB: 50, Goal: experiment.GoalNetPerAdvocate, RewardB: &app.Offer{Kind: app.OfferFixed, AmountMinor: 1500}})
	otherTest := other.start(experiment.Test{SplitB: 50, Goal: experiment.GoalConversion, RewardB: &app.Offer{Kind: app.OfferFixed, AmountMinor: 1500}})
	old := w.advocate(test.StartedAt.Add(-time.Hour))
	at := test.StartedAt.Add(time.Minute)
	repo := db.Experiments()
	put := func(w *abWorld, tst *experiment.Test, arm experiment.Arm) int64 {
		a := w.advocate(at)
		if got, err := repo.SetArm(ctx, tst, a.ID, arm); err != nil || got != arm {
			t.Fatalf("set arm: %s %v", got, err)
		}
		return a.ID
	}
	fixed := func(minor int64) *app.Offer { return &app.Offer{Kind: app.OfferFixed, AmountMinor: minor} }
	a1, a2 := put(w, test, "A"), put(w, test, "A")
	b1, b2, b3 := put(w, test, "B"), put(w, test, "B"), put(w, test, "B")

	// A1: 3 clicks; two orders after clicks (50.00 with a 10.00 reward
	// issued; 30.00 less 5.00 refunded, reward issuing), one by code only
	// (20.00, rejected: left out).
	c1, c2 := w.click(a1, at), w.click(a1, at.Add(time.Second))
	w.click(a1, at.Add(2*time.Second))
	w.order(a1, at.Add(time.Hour), 5000, 0, app.ReferralRewarded, c1, fixed(1000), app.RewardIssued)
	w.order(a1, at.Add(time.Hour), 3000, 500, app.ReferralApproved, c2, fixed(1000), app.RewardIssuing)
	w.order(a1, at.Add(time.Hour), 2000, 0, app.ReferralRejected, 0, nil, "")
	// A2: 1 click, nothing else.
	w.click(a2, at)
	// B1: 2 clicks, both orders after the same click (the click counts
	// once): 40.00 with a 15.00 reward, and 60.00 with a percent reward
	// (no known cost).
	c3 := w.click(b1, at)
	w.click(b1, at)
	w.order(b1, at.Add(time.Hour), 4000, 0, app.ReferralRewarded, c3, fixed(1500), app.RewardIssued)
	w.order(b1, at.Add(time.Hour), 6000, 0, app.ReferralRewarded, c3, &app.Offer{Kind: app.OfferPercent, Percent: 10}, app.RewardIssued)
	// B2: an order by code (25.00, pending), a reversed one (left out), a
	// revoked reward (no cost).
	w.order(b2, at.Add(time.Hour), 2500, 0, app.ReferralPending, 0, nil, "")
	w.order(b2, at.Add(time.Hour), 9900, 9900, app.ReferralReversed, 0, nil, "")
	w.order(b2, at.Add(time.Hour), 1000, 0, app.ReferralRewarded, 0, fixed(1500), app.RewardRevoked)
	// B3: 4 clicks, none followed.
	for range 4 {
		w.click(b3, at)
	}
	// Not counted: the advocate from before the test, and the other shop.
	w.click(old.ID, at)
	w.order(old.ID, at.Add(time.Hour), 7777, 0, app.ReferralApproved, 0, nil, "")
	ob := put(other, otherTest, "B")
	other.click(ob, at)
	other.order(ob, at.Add(time.Hour), 8888, 0, app.ReferralApproved, 0, fixed(999), app.RewardIssued)

	a, b, err := repo.Counts(ctx, test)
	if err != nil {
		t.Fatal(err)
	}
	// By hand. Net per advocate: A1 = 5000+2500−2000 = 5500, A2 = 0;
	// B1 = 10000−1500 = 8500, B2 = 2500+1000 = 3500, B3 = 0.
	wantA := experiment.Counts{Advocates: 2, Clicks: 4, Orders: 2, ClickOrders: 2, RevenueMinor: 7500, RewardCostMinor: 2000,
		NetSquaresMinor: 5500 * 5500}
	wantB := experiment.Counts{Advocates: 3, Clicks: 6, Orders: 4, ClickOrders: 1, RevenueMinor: 13500, RewardCostMinor: 1500,
		NetSquaresMinor: 8500*8500 + 3500*3500}
	if a != wantA {
		t.Errorf("arm A:\n got %+v\nwant %+v", a, wantA)
	}
	if b != wantB {
		t.Errorf("arm B:\n got %+v\nwant %+v", b, wantB)
	}

	// Ended: an order after the end is not the test's.
	svc := &experiment.Service{Store: repo, Programs: db.Referrals()}
	if _, err := svc.End(ctx, w.shop, test.ID, experiment.ArmA); err != nil {
		t.Fatal(err)
	}
	ended, _ := repo.Test(ctx, w.shop.ID, test.ID)
	w.order(b3, ended.EndedAt.Add(time.Minute), 4200, 0, app.ReferralApproved, 0, nil, "")
	if _, b2nd, _ := repo.Counts(ctx, ended); b2nd != wantB {
		t.Errorf("after the end: %+v, want %+v", b2nd, wantB)
	}
	// Another shop cannot read it.
	if _, err := svc.Results(ctx, other.shop, test.ID); app.ErrorCode(err) != app.ENOTFOUND {
		t.Errorf("another shop's results: %v", err)
	}
}

// On a data set whose answer is known (B's friends order five times as
// often after a click), the verdict names B; on one too close to call it
// asks for more orders. Ending keeps B's offer in the program, once.
func TestABVerdictAndEnd(t *testing.T) {
	db, _ := testenv.OpenDB(t)
	ctx := context.Background()
	w := newABWorld(t, db, "ab-verdict.myshopify.com")
	svc := &experiment.Service{Store: db.Experiments(), Programs: db.Referrals()}
	seed := func(test *experiment.Test, arm experiment.Arm, advocates, clicksEach, ordersEach int) {
		at := test.StartedAt.Add(time.Minute)
		for i := range advocates {
			a := w.advocate(at)
			db.Experiments().SetArm(ctx, test, a.ID, arm)
			var clicks []int64
			for range clicksEach {
				clicks = append(clicks, w.click(a.ID, at))
			}
			if i < ordersEach {
				w.order(a.ID, at.Add(time.Hour), 5000, 0, app.ReferralApproved, clicks[0], nil, "")
			}
		}
	}
	test, err := svc.Start(ctx, w.shop, experiment.Test{SplitB: 50, Goal: experiment.GoalConversion, FriendB: &app.Offer{Kind: app.OfferPercent, Percent: 25}})
	if err != nil {
		t.Fatal(err)
	}
	test = w.backdate(test)
	// A: 200 advocates × 2 clicks, 8 orders; B: 200 × 2 clicks, 40 orders.
	seed(test, "A", 200, 2, 8)
	seed(test, "B", 200, 2, 40)
	res, err := svc.Results(ctx, w.shop, test.ID)
	if err != nil {
		t.Fatal(err)
	}
	if v := res.Result.Verdict(); v != "B converts better, 95% confident" {
		t.Fatalf("verdict %q (%+v)", v, res.Result.Delta)
	}

	// A second test while one runs is refused, also when two race.
	if _, err := svc.Start(ctx, w.shop, experiment.Test{SplitB: 50, Goal: experiment.GoalConversion, RewardB: &app.Offer{Kind: app.OfferFixed, AmountMinor: 500}}); app.ErrorCode(err) != app.ECONFLICT {
		t.Fatalf("second test: %v", err)
	}

	ended, err := svc.End(ctx, w.shop, test.ID, experiment.ArmB)
	if err != nil {
		t.Fatal(err)
	}
	if ended.Test.Kept != "B" || ended.Test.Winner != "B" || ended.Test.Running() {
		t.Fatalf("ended: %+v", ended.Test)
	}
	p, _ := db.Referrals().Program(ctx, w.shop)
	if p.FriendKind != app.OfferPercent || p.FriendPercent != 25 {
		t.Fatalf("kept B, program gives %s %d%%", p.FriendKind, p.FriendPercent)
	}
	if _, err := svc.End(ctx, w.shop, test.ID, experiment.ArmA); app.ErrorCode(err) != app.ECONFLICT {
		t.Fatalf("ending twice: %v", err)
	}
	if _, err := svc.End(ctx, w.shop, test.ID, "C"); app.ErrorCode(err) != app.EINVALID {
		t.Fatalf("keep C: %v", err)
	}

	// Two starts at once: one wins, the other is told a test runs.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = svc.Start(ctx, w.shop, experiment.Test{SplitB: 50, Goal: experiment.GoalConversion, RewardB: &app.Offer{Kind: app.OfferFixed, AmountMinor: 700 + int64(i)}})
		}()
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) || !strings.Contains(app.ErrorMessage(errs[0])+app.ErrorMessage(errs[1]), "already running") {
		t.Fatalf("concurrent starts: %v / %v", errs[0], errs[1])
	}
	running, _ := svc.Running(ctx, w.shop)
	running = w.backdate(running)
	// Too close to call: 12 vs 13 orders over 300 clicks each.
	seed(running, "A", 150, 2, 12)
	seed(running, "B", 150, 2, 13)
	res, err = svc.Results(ctx, w.shop, running.ID)
	if err != nil {
		t.Fatal(err)
	}
	if v := res.Result.Verdict(); res.Result.Winner != "" || !strings.HasPrefix(v, "not enough data yet: ~") || !strings.HasSuffix(v, " more orders needed") {
		t.Fatalf("close call: %q", v)
	}
}

// After a test ended keeping A: a B advocate's friend discount stays B's
// (their code carries it), their friends earn the standing reward, and the
// advocates who join later get the standing offer and no arm.
func TestABAfterTheEnd(t *testing.T) {
	db, _ := testenv.OpenDB(t)
	ctx := context.Background()
	w := newABWorld(t, db, "ab-after.myshopify.com")
	svc := &experiment.Service{Store: db.Experiments(), Programs: db.Referrals()}
	test := w.start(experiment.Test{SplitB: 50, Goal: experiment.GoalConversion,
		FriendB: &app.Offer{Kind: app.OfferFixed, AmountMinor: 700}, RewardB: &app.Offer{Kind: app.OfferFixed, AmountMinor: 2000}})
	inA, inB := w.advocate(test.StartedAt.Add(time.Minute)), w.advocate(test.StartedAt.Add(time.Minute))
	db.Experiments().SetArm(ctx, test, inA.ID, experiment.ArmA)
	db.Experiments().SetArm(ctx, test, inB.ID, experiment.ArmB)
	pol := &experiment.Policy{Store: db.Experiments()}
	p, _ := db.Referrals().Program(ctx, w.shop)
	during, src, err := pol.Shape(ctx, w.shop, p, inB, time.Now())
	if err != nil || src.Arm != "B" || during.FriendAmountMinor != 700 || during.RewardAmountMinor != 2000 {
		t.Fatalf("B during the test: %+v %+v %v", during.FriendOffer(), src, err)
	}
	if _, err := svc.End(ctx, w.shop, test.ID, experiment.ArmA); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Minute)
	got, src, err := pol.Shape(ctx, w.shop, p, inB, later)
	if err != nil || src.Arm != "" || got.FriendKind != app.OfferFixed || got.FriendAmountMinor != 700 || got.RewardOffer() != p.RewardOffer() {
		t.Errorf("B after the end: friend %+v reward %+v arm %q %v", got.FriendOffer(), got.RewardOffer(), src.Arm, err)
	}
	// A friend's order placed during the test, processed late: B's reward.
	if got, src, _ := pol.Shape(ctx, w.shop, p, inB, test.StartedAt.Add(time.Hour)); src.Arm != "B" || got.RewardAmountMinor != 2000 {
		t.Errorf("late order from the test's window: %+v %q", got.RewardOffer(), src.Arm)
	}
	for _, a := range []*app.Advocate{inA, w.advocate(time.Now().Add(time.Second))} {
		got, src, err := pol.Shape(ctx, w.shop, p, a, later)
		if err != nil || src.Arm != "" || got.FriendOffer() != p.FriendOffer() || got.RewardOffer() != p.RewardOffer() {
			t.Errorf("advocate %d after the end: %+v %+v %q %v", a.ID, got.FriendOffer(), got.RewardOffer(), src.Arm, err)
		}
	}
	if n := w.one(`SELECT count(*) FROM advocate_arms WHERE experiment_id = $1`, test.ID); n != 2 {
		t.Errorf("%d arms stored, want the 2 from the test", n)
	}
}

// BenchmarkABCounts times one results query over a test of 10,000
// advocates (500 with BENCH_SMALL), each with 5 clicks, a friend's order
// for one in five, a fixed reward for half of those, in a shop beside
// another of the same size.
func BenchmarkABCounts(b *testing.B) {
	n := 10000
	if os.Getenv("BENCH_SMALL") != "" {
		n = 500
	}
	db, _ := testenv.OpenDB(b)
	ctx := context.Background()
	var test *experiment.Test
	for i, domain := range []string{"ab-bench.myshopify.com", "ab-bench-other.myshopify.com"} {
		sh, err := db.Shops().Install(ctx, app.PlatformShopify, domain, app.Credentials{AccessToken: "a"}, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		tst := experiment.Test{ShopID: sh.ID, SplitB: 50, Goal: experiment.GoalConversion, RewardB: &app.Offer{Kind: app.OfferFixed, AmountMinor: 1500}}
		if err := db.Experiments().Start(ctx, &tst); err != nil {
			b.Fatal(err)
		}
		shop, test_ := sh.ID, tst.ID
		for _, q := range []string{
			fmt.Sprintf(`INSERT INTO advocates (shop_id, customer_id, code, friend_code, created_at)
				SELECT %[1]d, 'b' || g, 'B%[1]d-' || g, 'FRIEND-B%[1]d-' || g, now() FROM generate_series(1, %[2]d) g`, shop, n),
			fmt.Sprintf(`INSERT INTO advocate_arms (experiment_id, advocate_id, shop_id, arm)
				SELECT %d, id, shop_id, CASE WHEN id %% 2 = 0 THEN 'A' ELSE 'B' END FROM advocates WHERE shop_id = %d`, test_, shop),
			fmt.Sprintf(`INSERT INTO clicks (shop_id, advocate_id, at) SELECT %[1]d, a.id, now() FROM advocates a, generate_series(1, 5) WHERE a.shop_id = %[1]d`, shop),
			fmt.Sprintf(`INSERT INTO orders (shop_id, platform_order_id, total_minor, known, paid, placed_at, currency)
				SELECT %[1]d, 'bo' || id, 5000, true, true, now(), 'EUR' FROM advocates WHERE shop_id = %[1]d AND id %% 5 = 0`, shop),
			fmt.Sprintf(`INSERT INTO referrals (shop_id, advocate_id, order_id, evidence_kind, evidence_code, decision, state, hold_until, click_id)
				SELECT %[1]d, a.id, o.id, 'discount_code', 'X', '{}', 'approved', now(), (SELECT min(c.id) FROM clicks c WHERE c.advocate_id = a.id)
				FROM advocates a JOIN orders o ON o.shop_id = %[1]d AND o.platform_order_id = 'bo' || a.id WHERE a.shop_id = %[1]d`, shop),
			fmt.Sprintf(`INSERT INTO rewards (shop_id, referral_id, advocate_id, code, kind, amount_minor, currency, state)
				SELECT %[1]d, f.id, f.advocate_id, 'T-' || f.id, 'fixed', 1000, 'EUR', 'issued' FROM referrals f WHERE f.shop_id = %[1]d AND f.id %% 2 = 0`, shop),
		} {
			if _, err := db.SQL().Exec(q); err != nil {
				b.Fatalf("%s: %v", q, err)
			}
		}
		if i == 0 {
			test = &tst
		}
	}
	if _, err := db.SQL().Exec(`ANALYZE`); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		a, bb, err := db.Experiments().Counts(ctx, test)
		if err != nil || a.Advocates+bb.Advocates != int64(n) || a.Clicks+bb.Clicks != int64(5*n) {
			b.Fatalf("%+v %+v %v", a, bb, err)
		}
	}
	b.ReportMetric(float64(n), "advocates")
}
