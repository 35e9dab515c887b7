package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/attribution"
	"github.com/parrain/parrain/app/referrals"
)

// replayWorld is live attribution (the engine over the real repository,
// the store the WooCommerce adapter against wcsim) and the replay over the
// same database.
type replayWorld struct {
	*guestWorld
	replay *referrals.Replayer
	ids    map[string]int64 // platform order id → orders.id
}

func newReplayWorld(t *testing.T) *replayWorld {
	w := &replayWorld{guestWorld: newGuestWorld(t), ids: map[string]int64{}}
	w.replay = &referrals.Replayer{Store: w.db.Replays(), Programs: w.db.Referrals(), Now: time.Now}
	return w
}

type placed struct {
	id, customer, email, ip, street string
	total                           int64
	at                              time.Time
	codes                           []string
	landing                         string
	test                            bool
}

// place runs a paid order through live attribution.
func (w *replayWorld) place(o placed) string {
	w.t.Helper()
	ev := referrals.OrderEvent{Known: true, Paid: true, FirstName: "Zoé", Order: attribution.Order{
		PlatformID: o.id, Name: "#" + o.id, CustomerID: o.customer, Email: o.email, DiscountCodes: o.codes, BrowserIP: o.ip,
		ShippingAddress: attribution.Address{Line1: o.street, Zip: "75002", Country: "FR"}, LandingSite: o.landing, Test: o.test,
		Total: app.Money{Minor: o.total, Currency: "EUR"}, CreatedAt: o.at,
	}}
	if err := w.engine.HandleOrderEvent(context.Background(), w.shop, ev); err != nil {
		w.t.Fatalf("order %s: %v", o.id, err)
	}
	var id int64
	w.db.SQL().QueryRow("SELECT id FROM orders WHERE shop_id = $1 AND platform_order_id = $2", w.shop.ID, o.id).Scan(&id)
	w.ids[o.id] = id
	return o.id
}

func (w *replayWorld) refund(orderID string, minor int64) {
	w.t.Helper()
	ev := referrals.OrderEvent{RefundID: "r" + orderID, RefundMinor: minor, Order: attribution.Order{PlatformID: orderID}}
	if err := w.engine.HandleOrderEvent(context.Background(), w.shop, ev); err != nil {
		w.t.Fatal(err)
	}
}

func (w *replayWorld) friendCode(customer string) string {
	w.t.Helper()
	var code string
	w.db.SQL().QueryRow("SELECT friend_code FROM advocates WHERE shop_id = $1 AND customer_id = $2", w.shop.ID, customer).Scan(&code)
	if code == "" {
		w.t.Fatalf("customer %s is not an advocate", customer)
	}
	return code
}

func (w *replayWorld) program() app.Program {
	w.t.Helper()
	p, err := w.db.Referrals().Program(context.Background(), w.shop)
	if err != nil {
		w.t.Fatal(err)
	}
	return p
}

type storedReferral struct {
	ID                  int64
	State, Reason, Hold string
	Decision            attribution.Decision
}

func (w *replayWorld) stored() map[int64]storedReferral {
	w.t.Helper()
	rows, err := w.db.SQL().Query("SELECT id, order_id, state, reason, decision::text FROM referrals WHERE shop_id = $1", w.shop.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	defer rows.Close()
	out := map[int64]storedReferral{}
	for rows.Next() {
		var r storedReferral
		var order int64
		var d string
		if err := rows.Scan(&r.ID, &order, &r.State, &r.Reason, &d); err != nil {
			w.t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(d), &r.Decision); err != nil {
			w.t.Fatal(err)
		}
		out[order] = r
	}
	return out
}

// The divergence test: orders of every kind the rules tell apart go
// through live attribution; the replay of the same program over the same
// orders must reach exactly the decisions live attribution stored (every
// rule, its verdict and its reason) and the same outcome, and a replay of
// the program against itself must change nothing. A rule changed on one
// path and not the other fails here.
func TestReplayMatchesLiveAttribution(t *testing.T) {
	w := newReplayWorld(t)
	ctx := context.Background()
	p := w.program()
	// Small caps and velocity so that every rule fires in a few orders.
	p.CapPerAdvocate, p.VelocityPerIP, p.VelocityPerAdvocate, p.MinOrderMinor = 3, 2, 4, 2000
	p.ExcludedSources = []string{"pos"}
	if err := w.db.Referrals().SaveProgram(ctx, p); err != nil {
		t.Fatal(err)
	}
	// Live velocity counts referrals of the last hour of the clock: the
	// orders are placed within the last 50 minutes, in order.
	at := time.Now().Add(-50 * time.Minute)
	next := func() time.Time { at = at.Add(30 * time.Second); return at }
	n := 0
	id := func() string { n++; return fmt.Sprintf("%d", 5000+n) }
	// Advocates A, B and C, each by their own order.
	w.place(placed{id: id(), customer: "A", email: "ann@example.com", ip: "198.51.100.1", street: "1 rue A", total: 5000, at: next()})
	w.place(placed{id: id(), customer: "B", email: "bob@example.com", ip: "198.51.100.2", street: "2 rue B", total: 5000, at: next()})
	w.place(placed{id: id(), customer: "C", email: "cat@example.com", ip: "198.51.100.3", street: "3 rue C", total: 5000, at: next()})
	a, b, c := w.friendCode("A"), w.friendCode("B"), w.friendCode("C")
	ids := []string{
		// Accepted, by code and by link.
		w.place(placed{id: id(), customer: "F1", email: "f1@example.com", ip: "203.0.113.1", street: "11 rue F", total: 4000, at: next(), codes: []string{a}}),
		w.place(placed{id: id(), customer: "F2", email: "f2@example.com", ip: "203.0.113.2", street: "12 rue F", total: 3000, at: next(), landing: "/?ref=" + a[len("FRIEND-"):]}),
		// Under the minimum.
		w.place(placed{id: id(), customer: "F3", email: "f3@example.com", ip: "203.0.113.3", street: "13 rue F", total: 1500, at: next(), codes: []string{b}}),
		// Self-referral: the advocate's own address.
		w.place(placed{id: id(), customer: "F4", email: "f4@example.com", ip: "203.0.113.4", street: "2 rue B", total: 4000, at: next(), codes: []string{b}}),
		// A test order.
		w.place(placed{id: id(), customer: "F5", email: "f5@example.com", ip: "203.0.113.5", street: "15 rue F", total: 4000, at: next(), codes: []string{b}, test: true}),
	}
	// Not a new customer: an earlier order Parrain saw.
	w.place(placed{id: id(), customer: "F6", email: "f6@example.com", ip: "203.0.113.6", street: "16 rue F", total: 2500, at: next()})
	ids = append(ids, w.place(placed{id: id(), customer: "F6", email: "f6@example.com", ip: "203.0.113.6", street: "16 rue F", total: 2500, at: next(), codes: []string{b}}))
	// Not a new customer as the store knows it (orders before Parrain).
	w.store.AddOrders("F7", 3)
	ids = append(ids, w.place(placed{id: id(), customer: "F7", email: "f7@example.com", ip: "203.0.113.7", street: "17 rue F", total: 2500, at: next(), codes: []string{a}}))
	// Velocity by address: three friends behind one IP.
	for i := range 3 {
		ids = append(ids, w.place(placed{id: id(), customer: fmt.Sprintf("V%d", i), email: fmt.Sprintf("v%d@example.com", i), ip: "192.0.2.9",
			street: fmt.Sprintf("%d rue V", i), total: 2500, at: next(), codes: []string{b}}))
	}
	// A's cap (3 counted: F1, F2, F7 is rejected so not counted) and
	// advocate velocity.
	for i := range 3 {
		ids = append(ids, w.place(placed{id: id(), customer: fmt.Sprintf("C%d", i), email: fmt.Sprintf("c%d@example.com", i), ip: fmt.Sprintf("203.0.113.%d", 50+i),
			street: fmt.Sprintf("%d rue C", i), total: 2500, at: next(), codes: []string{a}}))
	}
	// A guest friend, then refunds: one partial under the minimum, one
	// full, and a cancellation.
	ids = append(ids, w.place(placed{id: id(), email: "Guest.Friend@gmail.com", ip: "203.0.113.60", street: "60 rue G", total: 3000, at: next(), codes: []string{c}}))
	part := w.place(placed{id: id(), customer: "R1", email: "r1@example.com", ip: "203.0.113.61", street: "61 rue R", total: 3000, at: next(), codes: []string{c}})
	w.refund(part, 1500)
	full := w.place(placed{id: id(), customer: "R2", email: "r2@example.com", ip: "203.0.113.62", street: "62 rue R", total: 3000, at: next(), codes: []string{c}})
	w.refund(full, 3000)
	ids = append(ids, part, full)
	// A circle: F1 (an advocate now, referred by A) refers A back.
	ids = append(ids, w.place(placed{id: id(), customer: "A", email: "ann@example.com", ip: "198.51.100.1", street: "1 rue A", total: 4000, at: next(), codes: []string{w.friendCode("F1")}}))
	// An unknown code: no referral on either path.
	w.place(placed{id: id(), customer: "U1", email: "u1@example.com", ip: "203.0.113.70", total: 4000, at: next(), codes: []string{"SALE10"}})

	stored := w.stored()
	verdicts, err := w.replay.Verdicts(ctx, w.shop, w.program(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(verdicts) != len(stored) {
		t.Fatalf("the replay judged %d orders, live attribution made %d referrals", len(verdicts), len(stored))
	}
	outcomes := map[string]int{}
	for _, pid := range ids {
		oid := w.ids[pid]
		s, ok := stored[oid]
		if !ok {
			t.Fatalf("order %s has no referral", pid)
		}
		v, ok := verdicts[oid]
		if !ok {
			t.Fatalf("order %s was not replayed", pid)
		}
		if !reflect.DeepEqual(v.Decision, s.Decision) {
			t.Errorf("order %s: live decided\n  %s\nthe replay\n  %s", pid, s.Decision.Explain(), v.Decision.Explain())
		}
		want := map[string]string{app.ReferralPending: referrals.OutcomeAccepted, app.ReferralNeedsReview: referrals.OutcomeFlagged,
			app.ReferralRejected: referrals.OutcomeRejected, app.ReferralReversed: referrals.OutcomeReversed}[s.State]
		if v.Outcome != want {
			t.Errorf("order %s: stored %s, replayed %s (%s)", pid, s.State, v.Outcome, v.Reason)
		}
		outcomes[v.Outcome]++
		for _, o := range v.Decision.Outcomes {
			if !o.Passed {
				outcomes["rule "+o.Rule]++
			}
		}
	}
	// The seed exercised what it means to.
	for _, k := range []string{referrals.OutcomeAccepted, referrals.OutcomeFlagged, referrals.OutcomeRejected, referrals.OutcomeReversed,
		"rule self-referral", "rule new customer", "rule minimum order", "rule not a test order", "rule advocate cap", "rule velocity (IP)",
		"rule velocity (advocate)", "rule not the advocate's own referrer"} {
		if outcomes[k] == 0 {
			t.Errorf("the seed has no %q: %v", k, outcomes)
		}
	}
	rep, _, err := w.replay.Replay(ctx, w.shop, w.program(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if rep.ChangesTotal != 0 || rep.ToApply != 0 || rep.Current != rep.Proposed {
		t.Fatalf("the program replayed against itself changes %d orders: %+v", rep.ChangesTotal, rep.Changes)
	}
}

// A minimum order raised from 20.00 to 40.00 over seeded orders: the
// report lists exactly the orders it changes, with what applying does to
// each, and the reward cost difference; applying moves the open ones
// (audited as a rule change), never the rewarded one, and a second apply
// has nothing left to do.
func TestReplayMinimumOrderChange(t *testing.T) {
	w := newReplayWorld(t)
	ctx := context.Background()
	p := w.program()
	p.MinOrderMinor, p.RewardKind, p.RewardAmountMinor = 2000, app.OfferFixed, 1000
	p.VelocityPerAdvocate, p.VelocityPerIP = 0, 0
	if err := w.db.Referrals().SaveProgram(ctx, p); err != nil {
		t.Fatal(err)
	}
	day := func(d int) time.Time { return time.Now().Add(-time.Duration(d)*24*time.Hour + time.Hour) }
	w.place(placed{id: "1", customer: "A", email: "ann@example.com", ip: "198.51.100.1", street: "1 rue A", total: 5000, at: day(60)})
	a := w.friendCode("A")
	n := 0
	friend := func(total int64, d int) string {
		n++
		return w.place(placed{id: fmt.Sprintf("%d", 100+n), customer: fmt.Sprintf("F%d", n), email: fmt.Sprintf("f%d@example.com", n),
			ip: fmt.Sprintf("203.0.113.%d", n), street: fmt.Sprintf("%d rue F", n), total: total, at: day(d), codes: []string{a}})
	}
	old := friend(2500, 45) // outside the 30 days: not replayed
	under := friend(1500, 28)
	low := friend(2500, 20)
	mid := friend(3500, 15)
	high := friend(4500, 10)
	top := friend(6000, 5)
	paid := friend(3000, 25)
	refunded := friend(5000, 3)
	w.refund(refunded, 1500) // 35.00 paid: fine over 20.00, under 40.00
	st := w.stored()
	for _, pid := range []string{low, mid, high, top, paid, refunded} {
		if s := st[w.ids[pid]]; s.State != app.ReferralPending {
			t.Fatalf("order %s stored %s, want pending", pid, s.State)
		}
	}
	if st[w.ids[under]].State != app.ReferralRejected {
		t.Fatal("the 15.00 order was not rejected under the 20.00 minimum")
	}
	// The 30.00 order's referral was approved and rewarded.
	ref := st[w.ids[paid]]
	rw, err := w.db.Referrals().ApproveReferral(ctx, ref.ID, &app.Reward{ShopID: w.shop.ID, ReferralID: ref.ID, AdvocateID: 1, Code: "THANKS-PAID",
		Kind: app.OfferFixed, AmountMinor: 1000, Currency: "EUR"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.db.Referrals().MarkRewardIssued(ctx, rw.ID, "ref", time.Now()); err != nil {
		t.Fatal(err)
	}

	proposed := w.program()
	proposed.MinOrderMinor = 4000
	rep, _, err := w.replay.Replay(ctx, w.shop, proposed, 30)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range rep.Changes {
		got[c.PlatformOrderID] = c.Current.Outcome + "→" + c.Proposed.Outcome + " " + c.Apply
	}
	want := map[string]string{
		low:      "accepted→rejected change",
		mid:      "accepted→rejected change",
		paid:     "accepted→rejected keep_rewarded",
		refunded: "accepted→reversed change",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("changes:\n got %v\nwant %v", got, want)
	}
	if _, ok := got[old]; ok {
		t.Fatal("an order outside the window was replayed")
	}
	if rep.Orders != 7 || rep.Referred != 7 || rep.Current.Accepted != 6 || rep.Proposed.Accepted != 2 || rep.Current.Rejected != 1 || rep.Proposed.Rejected != 4 || rep.Proposed.Reversed != 1 {
		t.Fatalf("figures: orders %d referred %d current %+v proposed %+v", rep.Orders, rep.Referred, rep.Current, rep.Proposed)
	}
	if !rep.RewardCostKnown || rep.RewardCostDiffMinor != -4000 || rep.ToApply != 3 {
		t.Fatalf("cost diff %d (known %v), to apply %d; want -4000, 3", rep.RewardCostDiffMinor, rep.RewardCostKnown, rep.ToApply)
	}

	before := w.program()
	_, done, err := w.replay.Apply(ctx, w.shop, proposed, 30, "staff:ann@example.com", map[string]any{"min_order_minor": before.MinOrderMinor}, map[string]any{"min_order_minor": proposed.MinOrderMinor})
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != 3 {
		t.Fatalf("applied %d updates, want 3", len(done))
	}
	if w.program().MinOrderMinor != 4000 {
		t.Fatal("the program was not saved")
	}
	after := w.stored()
	for pid, state := range map[string]string{low: "rejected", mid: "rejected", refunded: "reversed", paid: "rewarded", high: "pending", top: "pending", under: "rejected"} {
		if s := after[w.ids[pid]]; s.State != state {
			t.Errorf("order %s: %s after apply, want %s", pid, s.State, state)
		}
	}
	if after[w.ids[low]].Reason == "" || after[w.ids[low]].Decision.State != attribution.StateRejected {
		t.Errorf("a rejected referral keeps its old decision: %+v", after[w.ids[low]])
	}
	var audited []string
	rows, err := w.db.SQL().Query("SELECT subject, actor, before->>'state', after->>'state' FROM audit_log WHERE shop_id = $1 AND action = 'rule_change' ORDER BY subject", w.shop.ID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var subject, actor, from, to string
		rows.Scan(&subject, &actor, &from, &to)
		audited = append(audited, subject+" "+actor+" "+from+"→"+to)
	}
	rows.Close()
	wantAudit := []string{}
	for pid, to := range map[string]string{low: "rejected", mid: "rejected", refunded: "reversed"} {
		wantAudit = append(wantAudit, fmt.Sprintf("referral:%d staff:ann@example.com pending→%s", after[w.ids[pid]].ID, to))
	}
	sort.Strings(wantAudit)
	if !reflect.DeepEqual(audited, wantAudit) {
		t.Fatalf("audit:\n got %v\nwant %v", audited, wantAudit)
	}
	// Again: the new program is the one in force; nothing left to do.
	rep, done, err = w.replay.Apply(ctx, w.shop, proposed, 30, "staff:ann@example.com", nil, nil)
	if err != nil || len(done) != 0 || rep.ChangesTotal != 0 {
		t.Fatalf("second apply: %d updates, %d changes, %v", len(done), rep.ChangesTotal, err)
	}
}

// Bad input gets a clear EINVALID: a window out of range, a program the
// settings form would refuse, another currency.
func TestReplayRefusesBadInput(t *testing.T) {
	w := newReplayWorld(t)
	ctx := context.Background()
	p := w.program()
	for _, days := range []int{0, -1, 366} {
		if _, _, err := w.replay.Replay(ctx, w.shop, p, days); app.ErrorCode(err) != app.EINVALID {
			t.Errorf("days %d: %v, want EINVALID", days, err)
		}
	}
	bad := p
	bad.MinOrderMinor, bad.CapWindowDays = -5, 0
	_, _, err := w.replay.Replay(ctx, w.shop, bad, 30)
	if app.ErrorCode(err) != app.EINVALID || app.FieldsOf(err)["min_order"] == "" || app.FieldsOf(err)["cap_window_days"] == "" {
		t.Errorf("invalid program: %v (fields %v)", err, app.FieldsOf(err))
	}
	other := p
	other.Currency = "USD"
	if _, _, err := w.replay.Replay(ctx, w.shop, other, 30); app.ErrorCode(err) != app.EINVALID {
		t.Errorf("another currency: %v", err)
	}
	if _, _, err := w.replay.Apply(ctx, w.shop, bad, 30, "staff:x", nil, nil); app.ErrorCode(err) != app.EINVALID {
		t.Errorf("apply of an invalid program: %v", err)
	}
	if w.program().MinOrderMinor != p.MinOrderMinor {
		t.Error("a refused apply changed the program")
	}
}
