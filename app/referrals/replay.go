package referrals

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/attribution"
)

// The replay of a rule change: before saving a program, the merchant sees
// what it would have done to the last N days of stored orders. Every order
// is judged twice, under the program in force and under the proposed one,
// by the engine's own rule code (Judge, ReversalReason, IdentityFacts over
// attribution.Evaluate); only the history the rules read (earlier orders,
// the advocate's referrals, velocity) is counted from stored rows in
// memory instead of one query per order, so 100,000 orders take seconds.
// TestReplayMatchesLiveAttribution (app/postgres) fails when the two
// paths stop agreeing.
//
// What a replay approximates (docs/program.md "Replay"):
//   - The store's count of a friend's earlier orders (new customers only)
//     is not asked again: a referral whose stored decision ran that rule
//     reuses the count it recorded; otherwise Parrain's own orders count.
//   - Caps, velocity and the circle rule count referrals at the order's
//     placement; referrals reversed since count as reversed throughout.
//   - Orders attributed by hand are not judged again (support decided).
//   - The program's on/off switch is not part of a replay.

// Replay bounds: the last N days, N between these.
const (
	ReplayMinDays = 1
	ReplayMaxDays = 365
	// ReplayListMax is how many changed orders a report lists; its
	// figures count every one.
	ReplayListMax = 500
)

// ReplayOrder is a stored order a replay judges again, with its stored
// referral (nil when it has none).
type ReplayOrder struct {
	Order    OrderRecord
	PlacedAt time.Time
	Referral *app.Referral
}

// PastReferral is a stored referral a replay does not judge again but whose
// count the rules read: made before the window (caps and velocity look
// back), or attributed by hand.
type PastReferral struct {
	AdvocateID int64
	BrowserIP  string
	At         time.Time
	// Counts is true when the cap counts it (not rejected, not reversed).
	Counts bool
}

// ReferredBuyer is one stored referral as the circle rule reads it: who
// bought (the referred order's buyer) and who referred them.
type ReferredBuyer struct {
	OrderID                           int64
	PlacedAt                          time.Time
	BuyerCustomerID, BuyerEmail       string
	ReferrerCustomerID, ReferrerEmail string
}

// DatedOrder is one of an advocate's own orders, for IdentityFacts.
type DatedOrder struct {
	PlacedAt time.Time
	Facts    attribution.Order
}

// ReplayStore is the stored data a replay reads, and the one transaction
// that applies it. Every method is scoped to the shop.
type ReplayStore interface {
	// ReplayOrders lists the shop's known, paid orders placed since from,
	// oldest first, with their referrals.
	ReplayOrders(ctx context.Context, shopID int64, from time.Time) ([]ReplayOrder, error)
	// AdvocatesByCodes finds the shop's advocates by referral or friend
	// code (normalised), keyed by each of their codes.
	AdvocatesByCodes(ctx context.Context, shopID int64, codes []string) (map[string]*app.Advocate, error)
	// AdvocateOrders lists each advocate's own orders (by customer id or
	// normalised email, as AdvocateFacts finds them), newest first.
	AdvocateOrders(ctx context.Context, shopID int64, advs []*app.Advocate) (map[int64][]DatedOrder, error)
	// PriorOrders counts, for each order, the buyer's known orders placed
	// before it (History's FriendPriorOrders).
	PriorOrders(ctx context.Context, shopID int64, orderIDs []int64) (map[int64]int, error)
	// EarlierReferrals lists referrals made since since whose orders were
	// placed before from.
	EarlierReferrals(ctx context.Context, shopID int64, since, from time.Time) ([]PastReferral, error)
	// ReferredBuyers lists the shop's referrals that are not rejected.
	ReferredBuyers(ctx context.Context, shopID int64) ([]ReferredBuyer, error)
	// ApplyReplay saves the program and makes the updates, each only if
	// its referral is still in the state it was read in, audited, in one
	// transaction (before and after are the program as the audit log
	// keeps it); it returns the updates made.
	ApplyReplay(ctx context.Context, p app.Program, actor string, before, after any, updates []ReplayUpdate) ([]ReplayUpdate, error)
}

// Outcome of an order under a program, in a replay.
const (
	OutcomeAccepted = "accepted" // passes every rule: held, then rewarded
	OutcomeFlagged  = "flagged"  // a review rule fired: support decides
	OutcomeRejected = "rejected" // a rule failed
	OutcomeReversed = "reversed" // cancelled or refunded (under the minimum)
)

// Verdict is what a program does to one order.
type Verdict struct {
	Outcome  string               `json:"outcome"`
	Reason   string               `json:"reason,omitempty"`
	Decision attribution.Decision `json:"-"`
	// HoldUntil is when an accepted referral would be approved.
	HoldUntil time.Time `json:"hold_until"`
}

// state is the referral state the verdict stands for.
func (v Verdict) state() string {
	switch v.Outcome {
	case OutcomeAccepted:
		return app.ReferralPending
	case OutcomeFlagged:
		return app.ReferralNeedsReview
	case OutcomeRejected:
		return app.ReferralRejected
	}
	return app.ReferralReversed
}

// What applying does to a changed order.
const (
	ApplyChange       = "change"        // an open referral (held or to review) takes the new verdict
	ApplyKeepRewarded = "keep_rewarded" // approved or rewarded: never changed
	ApplyKeepClosed   = "keep_closed"   // rejected or reversed: left as it is
	ApplyNoReferral   = "no_referral"   // no referral was made (program off): none is made
)

// ReplayChange is an order the proposed program judges differently.
type ReplayChange struct {
	OrderID         int64     `json:"-"`
	PlatformOrderID string    `json:"order_id"`
	OrderName       string    `json:"order_name"`
	PlacedAt        time.Time `json:"placed_at"`
	TotalMinor      int64     `json:"total_minor"`
	AdvocateCode    string    `json:"advocate_code"`
	// ReferralID and StoredState are the stored referral, 0 and "" when
	// the order has none.
	ReferralID  int64   `json:"referral_id,omitempty"`
	StoredState string  `json:"stored_state,omitempty"`
	Current     Verdict `json:"current"`
	Proposed    Verdict `json:"proposed"`
	// Apply says what applying the change does to the order's referral.
	Apply string `json:"apply"`
}

// ReplayTotals are a program's figures over the window.
type ReplayTotals struct {
	Accepted int `json:"accepted"`
	Flagged  int `json:"flagged"`
	Rejected int `json:"rejected"`
	Reversed int `json:"reversed"`
	// RewardCostMinor is the fixed rewards the accepted referrals earn;
	// 0 with a percent reward (its cost is a share of a future order).
	RewardCostMinor int64 `json:"reward_cost_minor"`
}

// ReplayReport is what a proposed program would have done.
type ReplayReport struct {
	Days     int          `json:"days"`
	From     time.Time    `json:"from"`
	To       time.Time    `json:"to"`
	Currency string       `json:"currency"`
	Orders   int          `json:"orders"`
	Referred int          `json:"referred"`
	Manual   int          `json:"manual_not_replayed"`
	Current  ReplayTotals `json:"current"`
	Proposed ReplayTotals `json:"proposed"`
	// RewardCostKnown is false when a program's reward is a percent:
	// the cost difference then only counts fixed rewards.
	RewardCostKnown     bool  `json:"reward_cost_known"`
	RewardCostDiffMinor int64 `json:"reward_cost_diff_minor"`
	// ParrainCountsOnly counts orders judged on Parrain's own orders for
	// "new customers only" (the store's count was never recorded).
	ParrainCountsOnly int `json:"new_customer_judged_on_parrain_orders"`
	// HoldMoved counts held referrals whose approval date the new holding
	// period moves; DueNow those it makes due at once.
	HoldMoved     int            `json:"hold_moved"`
	DueNow        int            `json:"due_now"`
	ChangesTotal  int            `json:"changes_total"`
	ToApply       int            `json:"to_apply"`
	Changes       []ReplayChange `json:"changes"`
	ElapsedMillis int64          `json:"elapsed_ms"`
	// all is every change and hold move, for Apply.
	all []ReplayChange
	// holds are the held referrals whose hold end moves.
	holds   []ReplayUpdate
	current app.Program
}

// ReplayUpdate is one referral change Apply makes.
type ReplayUpdate struct {
	ReferralID    int64
	FromState     string
	ToState       string
	Reason        string
	Decision      []byte
	FromHoldUntil time.Time
	HoldUntil     time.Time
}

// Replayer runs replays of a shop's program.
type Replayer struct {
	Store    ReplayStore
	Programs interface {
		Program(ctx context.Context, shop *app.Shop) (app.Program, error)
	}
	Now func() time.Time
}

// CheckDays refuses a window outside ReplayMinDays..ReplayMaxDays.
func CheckDays(days int) error {
	if days < ReplayMinDays || days > ReplayMaxDays {
		return app.Errorf(app.EINVALID, "days must be between %d and %d (got %d)", ReplayMinDays, ReplayMaxDays, days)
	}
	return nil
}

// Replay judges the last days of the shop's orders under its program and
// under proposed. proposed must be valid (EINVALID names every bad field).
func (r *Replayer) Replay(ctx context.Context, shop *app.Shop, proposed app.Program, days int) (*ReplayReport, app.Program, error) {
	if err := CheckDays(days); err != nil {
		return nil, app.Program{}, err
	}
	current, err := r.Programs.Program(ctx, shop)
	if err != nil {
		return nil, app.Program{}, err
	}
	if proposed.Currency != current.Currency {
		return nil, current, app.Errorf(app.EINVALID, "currency is the shop's (%s) and cannot be changed", current.Currency)
	}
	// The switch is not a rule: a replay keeps the one in force.
	proposed.ID, proposed.ShopID, proposed.Enabled = current.ID, current.ShopID, current.Enabled
	if err := proposed.Validate(); err != nil {
		return nil, current, err
	}
	start := time.Now()
	now := r.Now()
	from := now.Add(-time.Duration(days) * 24 * time.Hour)
	data, err := r.load(ctx, shop.ID, from, current, proposed)
	if err != nil {
		return nil, current, err
	}
	rep := Compare(data, current, proposed, now)
	rep.Days, rep.From, rep.To = days, from, now
	rep.ElapsedMillis = time.Since(start).Milliseconds()
	return rep, current, nil
}

// Apply replays the change again and, in one transaction, saves proposed
// and moves every open referral (held or to review) the change judges
// differently to its new verdict, each audited as a rule change with the
// state before and after. Approved and rewarded referrals are never
// changed, nor are rejected or reversed ones, and orders that had no
// referral get none (ApplyKeep*, ApplyNoReferral). A held referral whose
// hold end the new holding period moves gets the new one. A referral that
// left its state since the replay read it is skipped.
func (r *Replayer) Apply(ctx context.Context, shop *app.Shop, proposed app.Program, days int, actor string, before, after any) (*ReplayReport, []ReplayUpdate, error) {
	rep, _, err := r.Replay(ctx, shop, proposed, days)
	if err != nil {
		return nil, nil, err
	}
	updates := append([]ReplayUpdate(nil), rep.holds...)
	for _, c := range rep.all {
		if c.Apply != ApplyChange {
			continue
		}
		d, _ := json.Marshal(c.Proposed.Decision)
		u := ReplayUpdate{ReferralID: c.ReferralID, FromState: c.StoredState, ToState: c.Proposed.state(), Reason: c.Proposed.Reason, Decision: d}
		if u.ToState == app.ReferralPending || u.ToState == app.ReferralNeedsReview {
			u.HoldUntil = c.Proposed.HoldUntil
		}
		updates = append(updates, u)
	}
	proposed.ID, proposed.ShopID, proposed.Enabled = rep.current.ID, shop.ID, rep.current.Enabled
	done, err := r.Store.ApplyReplay(ctx, proposed, actor, before, after, updates)
	if err != nil {
		return nil, nil, fmt.Errorf("apply the program change of shop %d: %w", shop.ID, err)
	}
	return rep, done, nil
}

// Verdicts judges the last days of the shop's orders under p, by order
// id: what p decides on each order the engine would attribute. The
// divergence test compares it with what live attribution stored.
func (r *Replayer) Verdicts(ctx context.Context, shop *app.Shop, p app.Program, days int) (map[int64]Verdict, error) {
	if err := CheckDays(days); err != nil {
		return nil, err
	}
	now := r.Now()
	from := now.Add(-time.Duration(days) * 24 * time.Hour)
	data, err := r.load(ctx, shop.ID, from, p)
	if err != nil {
		return nil, err
	}
	out := map[int64]Verdict{}
	for i, v := range judgeAll(data, p, nil) {
		if v != nil {
			out[data.Orders[i].Order.ID] = *v
		}
	}
	return out, nil
}

// ReplayData is what a replay reads, loaded once.
type ReplayData struct {
	Orders     []ReplayOrder
	Advocates  map[string]*app.Advocate
	AdvOrders  map[int64][]DatedOrder
	Prior      map[int64]int
	Earlier    []PastReferral
	Referred   []ReferredBuyer
	candidates map[int64]candidate
}

type candidate struct {
	adv *app.Advocate
	ev  attribution.Evidence
}

func (r *Replayer) load(ctx context.Context, shopID int64, from time.Time, programs ...app.Program) (*ReplayData, error) {
	d := &ReplayData{candidates: map[int64]candidate{}}
	var err error
	if d.Orders, err = r.Store.ReplayOrders(ctx, shopID, from); err != nil {
		return nil, err
	}
	// The advocates the window's orders name.
	codes := map[string]bool{}
	for _, o := range d.Orders {
		if o.Referral != nil {
			codes[app.NormalizeCode(o.Referral.EvidenceCode)] = true
			continue
		}
		for _, ev := range attribution.Evidences(o.Order.Facts) {
			codes[ev.Code] = true
		}
	}
	list := make([]string, 0, len(codes))
	for c := range codes {
		list = append(list, c)
	}
	if d.Advocates, err = r.Store.AdvocatesByCodes(ctx, shopID, list); err != nil {
		return nil, err
	}
	byID := map[int64]*app.Advocate{}
	for _, a := range d.Advocates {
		byID[a.ID] = a
	}
	// Each order's advocate, found as attribute finds it: the stored
	// referral's (live never attributes an order twice), else the first
	// evidence whose code is an advocate's.
	var ids []int64
	for _, o := range d.Orders {
		var c candidate
		if f := o.Referral; f != nil {
			if f.EvidenceKind == string(attribution.EvidenceManual) {
				continue
			}
			if c.adv = byID[f.AdvocateID]; c.adv == nil {
				continue // the advocate is gone (redacted): nothing to judge
			}
			c.ev = attribution.Evidence{Kind: attribution.EvidenceKind(f.EvidenceKind), Code: f.EvidenceCode}
		} else {
			for _, ev := range attribution.Evidences(o.Order.Facts) {
				if a := d.Advocates[ev.Code]; a != nil {
					c = candidate{adv: a, ev: ev}
					break
				}
			}
			if c.adv == nil {
				continue
			}
		}
		d.candidates[o.Order.ID] = c
		ids = append(ids, o.Order.ID)
	}
	advs := make([]*app.Advocate, 0, len(byID))
	for _, a := range byID {
		advs = append(advs, a)
	}
	if d.AdvOrders, err = r.Store.AdvocateOrders(ctx, shopID, advs); err != nil {
		return nil, err
	}
	if d.Prior, err = r.Store.PriorOrders(ctx, shopID, ids); err != nil {
		return nil, err
	}
	look := time.Duration(0)
	for _, p := range programs {
		look = max(look, time.Duration(p.CapWindowDays)*24*time.Hour, time.Duration(p.VelocityWindowMinutes)*time.Minute)
	}
	if d.Earlier, err = r.Store.EarlierReferrals(ctx, shopID, from.Add(-look), from); err != nil {
		return nil, err
	}
	if d.Referred, err = r.Store.ReferredBuyers(ctx, shopID); err != nil {
		return nil, err
	}
	return d, nil
}

// Compare judges every order of data under both programs and reports the
// orders whose verdict differs. It is pure: tests call it on seeded data.
func Compare(data *ReplayData, current, proposed app.Program, now time.Time) *ReplayReport {
	rep := &ReplayReport{Currency: current.Currency, Orders: len(data.Orders), RewardCostKnown: current.RewardKind == app.OfferFixed && proposed.RewardKind == app.OfferFixed}
	rep.current = current
	cur := judgeAll(data, current, rep)
	prop := judgeAll(data, proposed, nil)
	for i, o := range data.Orders {
		a, b := cur[i], prop[i]
		if a == nil || b == nil {
			if f := o.Referral; f != nil && f.EvidenceKind == string(attribution.EvidenceManual) {
				rep.Manual++
			}
			continue
		}
		rep.Referred++
		tally(&rep.Current, a.Outcome, current)
		tally(&rep.Proposed, b.Outcome, proposed)
		f := o.Referral
		if f != nil && f.State == app.ReferralPending && a.Outcome == b.Outcome && b.Outcome == OutcomeAccepted && !a.HoldUntil.Equal(b.HoldUntil) {
			rep.HoldMoved++
			if !b.HoldUntil.After(now) {
				rep.DueNow++
			}
			rep.holds = append(rep.holds, ReplayUpdate{ReferralID: f.ID, FromState: f.State, ToState: f.State, Reason: f.Reason,
				Decision: f.Decision, FromHoldUntil: f.HoldUntil, HoldUntil: b.HoldUntil})
		}
		if a.Outcome == b.Outcome {
			continue
		}
		c := ReplayChange{OrderID: o.Order.ID, PlatformOrderID: o.Order.Facts.PlatformID, OrderName: o.Order.Facts.Name, PlacedAt: o.PlacedAt,
			TotalMinor: o.Order.Facts.Total.Minor, AdvocateCode: data.candidates[o.Order.ID].adv.Code, Current: *a, Proposed: *b, Apply: ApplyNoReferral}
		if f != nil {
			c.ReferralID, c.StoredState = f.ID, f.State
			switch f.State {
			case app.ReferralApproved, app.ReferralRewarded:
				c.Apply = ApplyKeepRewarded
			case app.ReferralRejected, app.ReferralReversed:
				c.Apply = ApplyKeepClosed
			default:
				c.Apply = ApplyChange
				if f.State == b.state() {
					c.Apply = ApplyKeepClosed // already there (stored before the program in force)
				}
			}
		}
		if c.Apply == ApplyChange {
			rep.ToApply++
		}
		rep.all = append(rep.all, c)
	}
	rep.ToApply += len(rep.holds)
	rep.ChangesTotal = len(rep.all)
	rep.Changes = rep.all[:min(len(rep.all), ReplayListMax)]
	rep.RewardCostDiffMinor = rep.Proposed.RewardCostMinor - rep.Current.RewardCostMinor
	return rep
}

func tally(t *ReplayTotals, outcome string, p app.Program) {
	switch outcome {
	case OutcomeAccepted:
		t.Accepted++
		if p.RewardKind == app.OfferFixed {
			t.RewardCostMinor += p.RewardAmountMinor
		}
	case OutcomeFlagged:
		t.Flagged++
	case OutcomeRejected:
		t.Rejected++
	case OutcomeReversed:
		t.Reversed++
	}
}

// timeline is one advocate's or one address's replayed referrals, in
// placement order, with a running count of those the cap counts.
type timeline struct {
	at     []time.Time
	counts []int // counts[i]: referrals 0..i the cap counts
}

func (t *timeline) add(at time.Time, counts bool) {
	n := 0
	if len(t.counts) > 0 {
		n = t.counts[len(t.counts)-1]
	}
	if counts {
		n++
	}
	t.at, t.counts = append(t.at, at), append(t.counts, n)
}

// since counts entries after cut (all of them, and those the cap counts).
func (t *timeline) since(cut time.Time) (all, counted int) {
	if t == nil || len(t.at) == 0 {
		return 0, 0
	}
	i := sort.Search(len(t.at), func(i int) bool { return t.at[i].After(cut) })
	all = len(t.at) - i
	counted = t.counts[len(t.counts)-1]
	if i > 0 {
		counted -= t.counts[i-1]
	}
	return all, counted
}

// judgeAll judges every candidate order under p, oldest first, counting
// the history each order's rules read as live attribution would have at
// the order's placement. rep, when set, gets the count of orders judged on
// Parrain's orders only.
func judgeAll(data *ReplayData, p app.Program, rep *ReplayReport) []*Verdict {
	out := make([]*Verdict, len(data.Orders))
	byAdv, byIP := map[int64]*timeline{}, map[string]*timeline{}
	get := func(m map[int64]*timeline, k int64) *timeline {
		if m[k] == nil {
			m[k] = &timeline{}
		}
		return m[k]
	}
	getIP := func(k string) *timeline {
		if byIP[k] == nil {
			byIP[k] = &timeline{}
		}
		return byIP[k]
	}
	// Referrals not judged again still count, at their own time: merged
	// into the replay's order of events below.
	fixed := append([]PastReferral(nil), data.Earlier...)
	for _, o := range data.Orders {
		if f := o.Referral; f != nil && f.EvidenceKind == string(attribution.EvidenceManual) {
			fixed = append(fixed, PastReferral{AdvocateID: f.AdvocateID, BrowserIP: o.Order.Facts.BrowserIP, At: o.PlacedAt,
				Counts: f.State != app.ReferralRejected && f.State != app.ReferralReversed})
		}
	}
	sort.SliceStable(fixed, func(i, j int) bool { return fixed[i].At.Before(fixed[j].At) })
	next := 0
	addFixed := func(upTo time.Time) {
		for next < len(fixed) && !fixed[next].At.After(upTo) {
			f := fixed[next]
			get(byAdv, f.AdvocateID).add(f.At, f.Counts)
			if f.BrowserIP != "" {
				getIP(f.BrowserIP).add(f.At, f.Counts)
			}
			next++
		}
	}
	circles := newCircles(data.Referred)
	capWindow := time.Duration(p.CapWindowDays) * 24 * time.Hour
	vel := time.Duration(p.VelocityWindowMinutes) * time.Minute
	for i := range data.Orders {
		o := &data.Orders[i]
		c, ok := data.candidates[o.Order.ID]
		if !ok {
			continue
		}
		t := o.PlacedAt
		addFixed(t)
		rec := o.Order
		if rec.Facts.CreatedAt.IsZero() {
			rec.Facts.CreatedAt = t
		}
		facts := IdentityFacts(c.adv, identityAt(data.AdvOrders[c.adv.ID], t))
		facts.CreatedAt = c.adv.CreatedAt
		var h attribution.History
		h.FriendPriorOrders = data.Prior[rec.ID]
		if n, ok := recordedPrior(o.Referral); ok {
			h.FriendPriorOrders = n
		} else if p.NewCustomersOnly && rep != nil {
			rep.ParrainCountsOnly++
		}
		_, h.AdvocateReferrals = byAdv[c.adv.ID].since(t.Add(-capWindow))
		h.CodeReferrals, _ = byAdv[c.adv.ID].since(t.Add(-vel))
		if ip := rec.Facts.BrowserIP; ip != "" {
			h.IPReferrals, _ = byIP[ip].since(t.Add(-vel))
		}
		h.FriendReferredAdvocate = circles.referred(rec, c.adv, t)
		d := Judge(p, &rec, c.ev, facts, h, 0)
		v := &Verdict{Decision: d, Reason: d.Reason, HoldUntil: rec.Facts.CreatedAt.Add(p.Hold())}
		switch d.State {
		case attribution.StatePending:
			v.Outcome = OutcomeAccepted
		case attribution.StateNeedsReview:
			v.Outcome = OutcomeFlagged
		default:
			v.Outcome = OutcomeRejected
		}
		if v.Outcome != OutcomeRejected {
			if why := ReversalReason(p, &rec); why != "" {
				v.Outcome, v.Reason = OutcomeReversed, why
			}
		}
		out[i] = v
		counts := v.Outcome == OutcomeAccepted || v.Outcome == OutcomeFlagged
		get(byAdv, c.adv.ID).add(t, counts)
		if ip := rec.Facts.BrowserIP; ip != "" {
			getIP(ip).add(t, counts)
		}
	}
	return out
}

// identityAt is the advocate's orders placed by t, newest first, at most
// IdentityOrders: what AdvocateFacts read when the order came.
func identityAt(orders []DatedOrder, t time.Time) []attribution.Order {
	i := sort.Search(len(orders), func(i int) bool { return !orders[i].PlacedAt.After(t) })
	end := min(len(orders), i+IdentityOrders)
	out := make([]attribution.Order, 0, end-i)
	for _, o := range orders[i:end] {
		out = append(out, o.Facts)
	}
	return out
}

// recordedPrior is the friend's earlier-order count the stored decision
// used for "new customer" (the larger of Parrain's and the store's count,
// attribution.Evaluate's reason "the customer already had %d order(s)"),
// so a replay needs no store call; ok is false when it did not run it.
func recordedPrior(f *app.Referral) (int, bool) {
	if f == nil || len(f.Decision) == 0 {
		return 0, false
	}
	var d attribution.Decision
	if json.Unmarshal(f.Decision, &d) != nil {
		return 0, false
	}
	for _, o := range d.Outcomes {
		if o.Rule != "new customer" {
			continue
		}
		if o.Passed {
			return 0, true
		}
		var n int
		if _, err := fmt.Sscanf(o.Reason, "the customer already had %d order(s)", &n); err == nil {
			return n, true
		}
	}
	return 0, false
}

// circles answers History's FriendReferredAdvocate from stored referrals.
type circles struct {
	byCustomer, byEmail map[string][]ReferredBuyer
}

func newCircles(rs []ReferredBuyer) *circles {
	c := &circles{byCustomer: map[string][]ReferredBuyer{}, byEmail: map[string][]ReferredBuyer{}}
	for _, r := range rs {
		if r.BuyerCustomerID != "" {
			c.byCustomer[r.BuyerCustomerID] = append(c.byCustomer[r.BuyerCustomerID], r)
		}
		if r.BuyerEmail != "" {
			c.byEmail[r.BuyerEmail] = append(c.byEmail[r.BuyerEmail], r)
		}
	}
	return c
}

// referred is true when one of the advocate's own orders placed before t
// was referred by an advocate who is this order's buyer (same customer id
// or email key), as the repository's History asks it.
func (c *circles) referred(o OrderRecord, adv *app.Advocate, t time.Time) bool {
	friendEmail := attribution.NormalizeEmail(o.Facts.Email)
	if o.Facts.CustomerID == "" && friendEmail == "" {
		return false
	}
	match := func(rs []ReferredBuyer) bool {
		for _, r := range rs {
			if r.OrderID == o.ID || !r.PlacedAt.Before(t) {
				continue
			}
			if (o.Facts.CustomerID != "" && r.ReferrerCustomerID == o.Facts.CustomerID) || (friendEmail != "" && r.ReferrerEmail == friendEmail) {
				return true
			}
		}
		return false
	}
	if adv.CustomerID != "" && match(c.byCustomer[adv.CustomerID]) {
		return true
	}
	e := attribution.NormalizeEmail(adv.Email)
	return e != "" && match(c.byEmail[e])
}
