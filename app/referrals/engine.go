// Package referrals is the referral engine's use cases: an order event
// makes its buyer an advocate and may be attributed to another advocate; a
// held referral is approved and rewarded; a refund or cancellation reverses
// it. It speaks to storage and to the store platform through the small
// interfaces below and knows nothing of HTTP, SQL or a platform SDK.
//
// Every use case is idempotent and independent of the order events arrive
// in: the order's state is merged from all its events, and each event
// re-derives what should exist from that merged state.
package referrals

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/attribution"
	"github.com/parrain/parrain/app/logging"
)

// OrderEvent is one platform event about an order, already parsed.
type OrderEvent struct {
	Order     attribution.Order
	FirstName string
	// LastInitial is the first letter of the buyer's last name, upper
	// case, "" when unknown: a friend is shown as "Bob M.", never by email.
	LastInitial string
	// Known is false for a refund event: it carries no order facts.
	Known     bool
	Paid      bool
	Cancelled bool
	// Locale is the buyer's language as the store says it ("fr",
	// "fr-CA"); "" when it does not.
	Locale string
	// MarketingConsent is the buyer's email marketing consent; nil when
	// the event does not say.
	MarketingConsent *bool
	// RefundID and RefundMinor describe a refund event.
	RefundID    string
	RefundMinor int64
	// Presentment is the order's total in the buyer's money when they paid
	// in another currency than the shop's (Shopify Markets); the zero
	// Money otherwise. Rules never read it: they judge Order.Total.
	Presentment app.Money
}

// OrderRecord is an order as merged from all its events.
type OrderRecord struct {
	ID            int64
	ShopID        int64
	Facts         attribution.Order
	FirstName     string
	Known         bool
	Paid          bool
	Cancelled     bool
	RefundedMinor int64
	// NoReferral is true when the repository knows the order has no
	// referral (MergeOrder says so, saving Reconcile a lookup); false is
	// "look it up".
	NoReferral bool
}

// Net is what the customer finally paid.
func (o OrderRecord) Net() app.Money {
	return app.Money{Minor: o.Facts.Total.Minor - o.RefundedMinor, Currency: o.Facts.Total.Currency}
}

// Repo is the storage the engine needs.
type Repo interface {
	Program(ctx context.Context, shop *app.Shop) (app.Program, error)
	MergeOrder(ctx context.Context, shopID int64, ev OrderEvent) (*OrderRecord, error)
	EnsureAdvocate(ctx context.Context, a *app.Advocate) (*app.Advocate, error)
	SetFriendCode(ctx context.Context, advocateID int64, state, ref, errMsg string) error
	// QueueFriendCode puts a pending friend code in line for the batching
	// stage under the offer (kept with its terms the first time); a code
	// already in line, created or failed is left as it is.
	QueueFriendCode(ctx context.Context, adv *app.Advocate, offer app.FriendOffer) error
	AdvocateByCode(ctx context.Context, shopID int64, code string) (*app.Advocate, error)
	AdvocateByID(ctx context.Context, id int64) (*app.Advocate, error)
	AdvocateFacts(ctx context.Context, shopID int64, adv *app.Advocate) (attribution.Advocate, error)
	History(ctx context.Context, o *OrderRecord, adv *app.Advocate, p app.Program) (attribution.History, error)
	CreateReferral(ctx context.Context, r *app.Referral) error
	// WithAdvocateLock runs fn with the advocate's referrals locked: the
	// History and CreateReferral calls it makes see each other's effects.
	WithAdvocateLock(ctx context.Context, advocateID int64, fn func(ctx context.Context) error) error
	ReferralByOrder(ctx context.Context, orderID int64) (*app.Referral, error)
	ReverseReferral(ctx context.Context, referralID int64, reason string) (*app.Reward, error)
	DueReferrals(ctx context.Context, now time.Time, limit int) ([]app.Referral, error)
	ApproveReferral(ctx context.Context, referralID int64, reward *app.Reward) (*app.Reward, error)
	Reward(ctx context.Context, id int64) (*app.Reward, error)
	// ReferralOrderNet is what the friend finally paid for the referral's
	// order: its total in the shop's money less refunds.
	ReferralOrderNet(ctx context.Context, referralID int64) (app.Money, error)
	// AdvocatePaidIn is the total of the advocate's most recent paid
	// order, in the shop's money and in the money they paid in; a zero
	// presentment when that order was in the shop's currency or there is
	// none.
	AdvocatePaidIn(ctx context.Context, shopID int64, adv *app.Advocate) (shop, presentment app.Money, err error)
	MarkRewardIssued(ctx context.Context, id int64, ref string, at time.Time) error
	MarkRewardFailed(ctx context.Context, id int64, msg string) error
	// SetRevokedRewardError records (or clears, with "") why a revoked
	// reward's code could not be stopped in the store, for support.
	SetRevokedRewardError(ctx context.Context, id int64, msg string) error
}

// FriendCodeQueue asks for a shop's waiting friend codes to be flushed
// soon.
type FriendCodeQueue interface {
	FlushFriendCodes(ctx context.Context, shopID int64) error
}

// RewardQueue enqueues the issuing of a reward.
type RewardQueue interface {
	EnqueueReward(ctx context.Context, rewardID int64) error
}

// OfferPolicy shapes the program in force for an advocate at an instant:
// the campaign running then, the advocate's A/B arm. Policies only change
// offers (friend discount, reward), never the rules.
type OfferPolicy interface {
	Shape(ctx context.Context, shop *app.Shop, p app.Program, adv *app.Advocate, at time.Time) (app.Program, app.OfferSource, error)
}

// Engine runs the use cases.
type Engine struct {
	// Offers shape the program in force, in order (each sees the one
	// before it: an A/B arm first, then a campaign on top). None: the
	// standing program.
	Offers []OfferPolicy
	Repo   Repo
	Store  app.StorePlatform
	Shops  interface {
		ShopByID(ctx context.Context, id int64) (*app.Shop, error)
	}
	Rewards RewardQueue
	// FriendCodes, when set, sends new friend codes through the batching
	// stage (app/friendcodes): the advocate's row is written, the code is
	// queued and the flush job adds it to the store with others of the
	// same offer. Nil: each code is created on its own, at once.
	FriendCodes FriendCodeQueue
	Now         func() time.Time
	// CodeKey derives reward codes from referral ids.
	CodeKey []byte
	// Orders, when set, lets one event of an order at a time through
	// HandleOrderEvent in this process and skips the reconcile of an
	// event that changed nothing since the last one (OrderGate).
	Orders *OrderGate
	// AfterStoreCall, when set, runs right after a reward was created in
	// the store and before it is recorded: tests use it to kill the worker
	// at the worst moment.
	AfterStoreCall func()
	// Milestones, when set, settles the ladder's bonuses
	// (SettleMilestones); nil: milestones are never paid.
	Milestones MilestoneRepo
}

// HandleOrderEvent merges the event into the order and derives what follows.
func (e *Engine) HandleOrderEvent(ctx context.Context, shop *app.Shop, ev OrderEvent) error {
	defer e.Orders.lock(shop.ID, ev.Order.PlatformID)()
	o, err := e.Repo.MergeOrder(ctx, shop.ID, ev)
	if err != nil {
		return fmt.Errorf("merge order %s: %w", ev.Order.PlatformID, err)
	}
	if e.Orders.reconciled(o) {
		return nil // this very state was reconciled: nothing has changed
	}
	if err := e.Reconcile(ctx, shop, o); err != nil {
		return err
	}
	e.Orders.remember(o)
	return nil
}

// RecordOrderEvent merges the event without calling the store: for shops
// whose token is gone (uninstalled), so a refund is still counted and a
// later reconcile (after reinstall) sees it.
func (e *Engine) RecordOrderEvent(ctx context.Context, shop *app.Shop, ev OrderEvent) error {
	if _, err := e.Repo.MergeOrder(ctx, shop.ID, ev); err != nil {
		return fmt.Errorf("merge order %s: %w", ev.Order.PlatformID, err)
	}
	return nil
}

// Reconcile makes the referral state follow the order's merged state. It
// runs after every event about the order; each step checks what exists
// before acting, so running it again changes nothing.
func (e *Engine) Reconcile(ctx context.Context, shop *app.Shop, o *OrderRecord) error {
	if !o.Known || !o.Paid {
		return nil
	}
	p, err := e.Repo.Program(ctx, shop)
	if err != nil {
		return err
	}
	var advErr error
	switch {
	case !p.Enabled:
	case o.Facts.CustomerID == "" && attribution.NormalizeEmail(o.Facts.Email) == "":
		// Nothing to know the buyer by again (a POS sale without a
		// customer, an order whose email was withheld): no advocate. The
		// order may still be a friend's, attributed below.
		logging.From(ctx).Info("buyer not made an advocate: the order has neither a store customer nor an email",
			"shop_id", shop.ID, "order", o.Facts.PlatformID)
	default:
		// The buyer's own friend code failing must not keep this order
		// from being attributed to whoever referred it: go on, and return
		// the error at the end so the job retries the advocate part.
		_, advErr = e.EnsureAdvocate(ctx, shop, p, o)
	}
	var ref *app.Referral
	if !o.NoReferral {
		if ref, err = e.Repo.ReferralByOrder(ctx, o.ID); err != nil && app.ErrorCode(err) != app.ENOTFOUND {
			return err
		}
	}
	if ref == nil && p.Enabled {
		if ref, err = e.attribute(ctx, shop, p, o); err != nil {
			return err
		}
	}
	if ref != nil {
		o.NoReferral = false // as the next merge will say
	}
	if ref != nil {
		if err := e.reverseIfNeeded(ctx, shop, p, o, ref); err != nil {
			return err
		}
	}
	return advErr
}

// EnsureAdvocate makes the order's buyer an advocate (once) with a friend
// discount in the store. The buyer is a store customer or, for a guest
// checkout, an email address; the repository finds a guest again by
// normalised email and attaches the customer id when the same email comes
// back with one. The row is written first with its codes, then the
// discount is created, idempotent by code: a crash in between leaves a
// pending row that the next event completes without a second discount.
func (e *Engine) EnsureAdvocate(ctx context.Context, shop *app.Shop, p app.Program, o *OrderRecord) (*app.Advocate, error) {
	var adv *app.Advocate
	var err error
	for range 5 { // retry the rare code collision
		code, cerr := app.NewReferralCode(o.FirstName)
		if cerr != nil {
			return nil, cerr
		}
		adv, err = e.Repo.EnsureAdvocate(ctx, &app.Advocate{
			ShopID: shop.ID, CustomerID: o.Facts.CustomerID, FirstName: o.FirstName, Email: o.Facts.Email,
			Code: code, FriendCode: "FRIEND-" + code,
		})
		if app.ErrorCode(err) != app.ECONFLICT {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("ensure advocate for the buyer of order %s: %w", o.Facts.PlatformID, err)
	}
	if adv.FriendCodeState == "created" {
		return adv, nil
	}
	if adv.FriendCodeState == "failed" {
		// The store refused this code for good; support sees the error.
		return adv, nil
	}
	// The friend's offer is the advocate's (their A/B arm's, say): codes
	// of one offer share one store discount.
	p, _, err = e.ProgramFor(ctx, shop, p, adv, e.Now())
	if err != nil {
		return nil, err
	}
	spec := app.DiscountSpec{
		Code: adv.FriendCode, Title: "Parrain: friend of " + adv.Code, Kind: p.FriendKind, Percent: p.FriendPercent,
		AmountMinor: p.FriendAmountMinor, Currency: p.Currency, MinOrderMinor: p.FriendMinOrderMinor,
		OncePerCustomer: true, StartsAt: e.Now().Add(-time.Minute),
	}
	if e.FriendCodes != nil {
		// In bulk: in line now, in the store within seconds. The popup
		// and the link work meanwhile (the code says "ready in a moment").
		offer := FriendOffer(p, e.Now())
		if err := e.Repo.QueueFriendCode(ctx, adv, offer); err != nil {
			return nil, fmt.Errorf("queue friend code %s: %w", adv.FriendCode, err)
		}
		if err := e.FriendCodes.FlushFriendCodes(ctx, shop.ID); err != nil {
			// The code waits in Postgres; the sweep queues the flush.
			logging.From(ctx).Warn("queue friend code flush", "shop_id", shop.ID, "error", err.Error())
		}
		return adv, nil
	}
	storeRef, err := e.Store.CreateDiscount(ctx, shop, spec)
	if err != nil {
		if app.ErrorCode(err) == app.EINVALID {
			_ = e.Repo.SetFriendCode(ctx, adv.ID, "failed", "", err.Error())
		}
		return nil, fmt.Errorf("create friend code %s: %w", adv.FriendCode, err)
	}
	if err := e.Repo.SetFriendCode(ctx, adv.ID, "created", storeRef, ""); err != nil {
		return nil, err
	}
	adv.FriendCodeState, adv.FriendCodeRef = "created", storeRef
	return adv, nil
}

// FriendOffer is the offer the program's friend codes share: keyed by its
// terms, so codes of one offer are one store discount, and a changed offer
// starts another (an A/B arm or a campaign would be keyed the same way).
// Anyone may use it, once per customer; it starts a minute before now.
func FriendOffer(p app.Program, now time.Time) app.FriendOffer {
	key := fmt.Sprintf("%s-%d-%d-%s-%d", p.FriendKind, p.FriendPercent, p.FriendAmountMinor, p.Currency, p.FriendMinOrderMinor)
	return app.FriendOffer{Key: key, Spec: app.DiscountSpec{
		Title: "Parrain: friend offer " + key, Kind: p.FriendKind, Percent: p.FriendPercent, AmountMinor: p.FriendAmountMinor,
		Currency: p.Currency, MinOrderMinor: p.FriendMinOrderMinor, OncePerCustomer: true, StartsAt: now.Add(-time.Minute),
	}}
}

// attribute finds the advocate behind the order, applies the rules and
// records the referral. Orders with no evidence that resolves are simply not
// referred.
func (e *Engine) attribute(ctx context.Context, shop *app.Shop, p app.Program, o *OrderRecord) (*app.Referral, error) {
	var adv *app.Advocate
	var ev attribution.Evidence
	for _, cand := range attribution.Evidences(o.Facts) {
		a, err := e.Repo.AdvocateByCode(ctx, shop.ID, cand.Code)
		if app.ErrorCode(err) == app.ENOTFOUND {
			continue
		}
		if err != nil {
			return nil, err
		}
		adv, ev = a, cand
		break
	}
	if adv == nil {
		return nil, nil
	}
	if o.Facts.CreatedAt.IsZero() {
		// An order without a creation time would get a hold that ended
		// in year 1, i.e. none: hold from now instead.
		o.Facts.CreatedAt = e.Now()
	}
	facts, storePrior, err := e.prepare(ctx, shop, p, o, adv)
	if err != nil {
		return nil, err
	}
	// The offer earned is the one in force when the friend ordered, for
	// this advocate (campaign, A/B arm): fixed now, stored with the
	// referral, so later edits never change it.
	inForce, src, err := e.ProgramFor(ctx, shop, p, adv, o.Facts.CreatedAt)
	if err != nil {
		return nil, err
	}
	terms := app.TermsFrom(inForce, src)
	// Counting the advocate's referrals and adding this one happen under
	// the advocate's lock: concurrent orders cannot both see room under
	// the cap.
	err = e.Repo.WithAdvocateLock(ctx, adv.ID, func(ctx context.Context) error {
		d, err := e.decide(ctx, p, o, adv, ev, facts, storePrior)
		if err != nil {
			return err
		}
		decision, _ := json.Marshal(d)
		return e.Repo.CreateReferral(ctx, &app.Referral{
			ShopID: shop.ID, AdvocateID: adv.ID, OrderID: o.ID, EvidenceKind: string(ev.Kind), EvidenceCode: ev.Code,
			Decision: decision, State: string(d.State), Reason: d.Reason, HoldUntil: o.Facts.CreatedAt.Add(p.Hold()),
			Offer: &terms,
		})
	})
	if err != nil {
		return nil, err
	}
	return e.Repo.ReferralByOrder(ctx, o.ID)
}

// prepare gathers what the rules need that can be read without the
// advocate's lock: the advocate's identity from their own orders, and the
// store's count of the friend's orders (an HTTP call, made before any lock).
func (e *Engine) prepare(ctx context.Context, shop *app.Shop, p app.Program, o *OrderRecord, adv *app.Advocate) (attribution.Advocate, int, error) {
	facts, err := e.Repo.AdvocateFacts(ctx, shop.ID, adv)
	if err != nil {
		return facts, 0, err
	}
	facts.CreatedAt = adv.CreatedAt
	storePrior := 0
	if p.NewCustomersOnly && o.Facts.CustomerID != "" && e.Store != nil {
		n, err := e.Store.CustomerOrderCount(ctx, shop, o.Facts.CustomerID)
		if err != nil {
			return facts, 0, fmt.Errorf("count orders of customer %s: %w", o.Facts.CustomerID, err)
		}
		storePrior = n - 1 // the store's count includes this order
	}
	return facts, storePrior, nil
}

// decide applies every rule: the one place attribution, "why not?" and
// attribution by hand get a Decision from.
func (e *Engine) decide(ctx context.Context, p app.Program, o *OrderRecord, adv *app.Advocate, ev attribution.Evidence, facts attribution.Advocate, storePrior int) (attribution.Decision, error) {
	hist, err := e.Repo.History(ctx, o, adv, p)
	if err != nil {
		return attribution.Decision{}, err
	}
	return Judge(p, o, ev, facts, hist, storePrior), nil
}

// Judge is the rules' verdict on an order attributed to an advocate, given
// what is known of the past: the one function live attribution, "why
// not?", attribution by hand and the replay of a rule change (replay.go)
// all get a Decision from. storePrior is the store's count of the friend's
// earlier orders (-1 or 0 when not asked).
func Judge(p app.Program, o *OrderRecord, ev attribution.Evidence, facts attribution.Advocate, hist attribution.History, storePrior int) attribution.Decision {
	hist.FriendPriorOrders = max(hist.FriendPriorOrders, storePrior)
	return attribution.Evaluate(o.Facts, ev, facts, Rules(p), hist)
}

// EvaluateManual runs every rule on an order support wants to attribute by
// hand to adv, without writing anything: the same rules as an automatic
// attribution, plus the order's date against the advocate's.
func (e *Engine) EvaluateManual(ctx context.Context, shop *app.Shop, o *OrderRecord, adv *app.Advocate) (attribution.Decision, error) {
	p, err := e.Repo.Program(ctx, shop)
	if err != nil {
		return attribution.Decision{}, err
	}
	facts, storePrior, err := e.prepare(ctx, shop, p, o, adv)
	if err != nil {
		return attribution.Decision{}, err
	}
	return e.decide(ctx, p, o, adv, attribution.Evidence{Kind: attribution.EvidenceManual, Code: adv.Code}, facts, storePrior)
}

// Clue is one piece of evidence found on an order and what it led to.
type Clue struct {
	Evidence attribution.Evidence `json:"evidence"`
	// Advocate is the advocate the code belongs to, nil when no advocate
	// of the shop has it (a store-wide code, a mistyped link).
	Advocate *app.Advocate `json:"advocate,omitempty"`
}

// Explanation is why an order is, or is not, a referral, as the engine
// sees it now.
type Explanation struct {
	// Order is the merged order; not serialised (its facts hold the
	// store's secret order key): the evidence fields below are.
	Order         *OrderRecord `json:"-"`
	OrderID       string       `json:"order_id"`
	OrderName     string       `json:"order_name"`
	OrderedAt     time.Time    `json:"ordered_at"`
	DiscountCodes []string     `json:"discount_codes"`
	CartAttribute string       `json:"cart_attribute"`
	LandingSite   string       `json:"landing_site"`
	// Stopped names what stopped the engine before any rule (one of the
	// Stopped* constants); "" when the rules ran.
	Stopped string `json:"stopped"`
	Clues   []Clue `json:"clues"`
	// Decision is the rules' verdict on the first clue that names an
	// advocate: the recorded one when the order has a referral, else what
	// the rules say now.
	Decision *attribution.Decision `json:"decision,omitempty"`
	Referral *app.Referral         `json:"referral,omitempty"`
}

// What stopped an order before the rules, in Explanation.Stopped.
const (
	StoppedNotKnown    = "not_known"    // only a refund of the order has arrived
	StoppedNotPaid     = "not_paid"     // the order is not paid
	StoppedProgramOff  = "program_off"  // the program is switched off
	StoppedNoEvidence  = "no_evidence"  // no code, no cart attribute, no ?ref=
	StoppedUnknownCode = "unknown_code" // no code on the order is an advocate's
)

// Explain says why the order is or is not a referral: the evidence the
// engine saw, which code named an advocate, and the rule or missing
// evidence that stopped it. It writes nothing; the rules are the
// engine's own (decide), so the answer is the one attribution gives.
func (e *Engine) Explain(ctx context.Context, shop *app.Shop, o *OrderRecord) (*Explanation, error) {
	x := &Explanation{Order: o, OrderID: o.Facts.PlatformID, OrderName: o.Facts.Name, OrderedAt: o.Facts.CreatedAt,
		DiscountCodes: o.Facts.DiscountCodes, CartAttribute: o.Facts.CartAttributes[attribution.CartAttribute], LandingSite: o.Facts.LandingSite}
	for _, ev := range attribution.Evidences(o.Facts) {
		a, err := e.Repo.AdvocateByCode(ctx, shop.ID, ev.Code)
		if err != nil && app.ErrorCode(err) != app.ENOTFOUND {
			return nil, err
		}
		x.Clues = append(x.Clues, Clue{Evidence: ev, Advocate: a})
	}
	ref, err := e.Repo.ReferralByOrder(ctx, o.ID)
	if err != nil && app.ErrorCode(err) != app.ENOTFOUND {
		return nil, err
	}
	if ref != nil {
		x.Referral = ref
		var d attribution.Decision
		if json.Unmarshal(ref.Decision, &d) == nil {
			x.Decision = &d
		}
		return x, nil
	}
	p, err := e.Repo.Program(ctx, shop)
	if err != nil {
		return nil, err
	}
	var clue *Clue
	for i := range x.Clues {
		if x.Clues[i].Advocate != nil {
			clue = &x.Clues[i]
			break
		}
	}
	switch {
	case !o.Known:
		x.Stopped = StoppedNotKnown
	case !o.Paid:
		x.Stopped = StoppedNotPaid
	case !p.Enabled:
		x.Stopped = StoppedProgramOff
	case len(x.Clues) == 0:
		x.Stopped = StoppedNoEvidence
	case clue == nil:
		x.Stopped = StoppedUnknownCode
	}
	if x.Stopped != "" || clue == nil {
		return x, nil
	}
	facts, storePrior, err := e.prepare(ctx, shop, p, o, clue.Advocate)
	if err != nil {
		return nil, err
	}
	d, err := e.decide(ctx, p, o, clue.Advocate, clue.Evidence, facts, storePrior)
	if err != nil {
		return nil, err
	}
	x.Decision = &d
	return x, nil
}

// Rules converts a program into the attribution rules.
func Rules(p app.Program) attribution.Rules {
	r := attribution.Rules{
		NewCustomersOnly: p.NewCustomersOnly, ExcludeTest: p.ExcludeTestOrders, ExcludedSources: p.ExcludedSources,
		CapPerAdvocate: p.CapPerAdvocate, CapWindow: time.Duration(p.CapWindowDays) * 24 * time.Hour,
		VelocityPerIP: p.VelocityPerIP, VelocityPerCode: p.VelocityPerAdvocate,
		VelocityWindow: time.Duration(p.VelocityWindowMinutes) * time.Minute,
	}
	if p.MinOrderMinor > 0 {
		r.MinOrder = app.Money{Minor: p.MinOrderMinor, Currency: p.Currency}
	}
	return r
}

// reverseIfNeeded reverses the referral when the order was cancelled, fully
// refunded, or refunded under the program minimum. A rewarded referral is
// flagged for support and its reward code deactivated.
func (e *Engine) reverseIfNeeded(ctx context.Context, shop *app.Shop, p app.Program, o *OrderRecord, r *app.Referral) error {
	reason := ReversalReason(p, o)
	if reason == "" || r.State == app.ReferralReversed || r.State == app.ReferralRejected {
		return nil
	}
	reward, err := e.Repo.ReverseReferral(ctx, r.ID, reason)
	if err != nil {
		return err
	}
	if reward != nil && reward.Code != "" {
		// Safe to repeat: deactivating an inactive or unknown code is a no-op.
		return e.deactivateReward(ctx, shop, reward)
	}
	return nil
}

// ReversalReason says why the order's referral must be reversed under the
// program (cancelled, fully refunded, refunded under the minimum), "" when
// it stands. Live reconciliation and the replay of a rule change share it.
func ReversalReason(p app.Program, o *OrderRecord) string {
	net := o.Net()
	switch {
	case o.Cancelled:
		return "order cancelled"
	case o.RefundedMinor > 0 && net.Minor <= 0:
		return "order fully refunded"
	case o.RefundedMinor > 0 && p.MinOrderMinor > 0 && net.Minor < p.MinOrderMinor:
		return fmt.Sprintf("partial refund took the order to %s, under the minimum %s", net, app.Money{Minor: p.MinOrderMinor, Currency: p.Currency})
	}
	return ""
}

// IdentityFacts is what the self-referral rule knows of an advocate: their
// email and what their own orders showed (newest first, at most
// IdentityOrders of them). The repository's AdvocateFacts and the replay
// both build it here.
func IdentityFacts(adv *app.Advocate, orders []attribution.Order) attribution.Advocate {
	out := attribution.Advocate{ID: adv.ID, Code: adv.Code, CustomerID: adv.CustomerID, Emails: []string{adv.Email}}
	for _, f := range orders {
		out.Emails = append(out.Emails, f.Email)
		out.Phones = append(out.Phones, f.Phone)
		out.Addresses = append(out.Addresses, f.ShippingAddress)
		if f.BrowserIP != "" {
			out.IPs = append(out.IPs, f.BrowserIP)
		}
	}
	return out
}

// IdentityOrders is how many of an advocate's latest orders IdentityFacts
// reads.
const IdentityOrders = 50

// deactivateReward stops a revoked reward's code in the store. When the
// store does not (it refused, or still holds a usable code), the reward
// keeps the store's answer for support to see, and the error goes back to
// the job, which retries.
func (e *Engine) deactivateReward(ctx context.Context, shop *app.Shop, rw *app.Reward) error {
	if rw.Kind == app.OfferStoreCredit {
		// Credit on the advocate's account is not a code to stop, and
		// Parrain does not take money back on its own: support decides
		// (the referral is flagged) and can debit it in the store.
		if rw.StoreRef == "" || rw.Error != "" {
			return nil
		}
		return e.Repo.SetRevokedRewardError(ctx, rw.ID, "the store credit stays on the advocate's account: Parrain does not take credit back; debit it from the customer's page in the store admin if needed")
	}
	err := e.Store.DeactivateDiscount(ctx, shop, rw.Code)
	msg := ""
	if err != nil {
		// The adapter's message names the store's answer ("the store did
		// not deactivate the code …"); other failures are retried.
		msg = app.ErrorMessage(err)
		if app.ErrorCode(err) != app.EINVALID {
			msg = "the store did not deactivate the code " + rw.Code + " yet (" + msg + "); Parrain keeps trying"
		}
	}
	if msg != "" || rw.Error != "" {
		if serr := e.Repo.SetRevokedRewardError(ctx, rw.ID, msg); serr != nil && err == nil {
			return serr
		}
	}
	if err != nil {
		return fmt.Errorf("deactivate reward %s: %w", rw.Code, err)
	}
	return nil
}

// RewardCode derives the reward code of a referral: stable across retries,
// unguessable without the key.
func RewardCode(key []byte, shopID, referralID int64) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(strconv.FormatInt(shopID, 10) + ":" + strconv.FormatInt(referralID, 10)))
	s := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(m.Sum(nil))
	return "THANKS-" + strings.NewReplacer("0", "Q", "1", "W", "O", "X", "I", "Y").Replace(s[:10])
}

// NewReward builds the reward a referral earns under the offer stored with
// it (the one in force when the friend ordered), its code derived from the
// referral so a retry finds the same one. A referral older than stored
// offers (nil) earns the program's current terms, as it always did.
func (e *Engine) NewReward(ctx context.Context, shop *app.Shop, offer *app.OfferTerms, referralID, advocateID int64) (*app.Reward, error) {
	if offer == nil {
		p, err := e.Repo.Program(ctx, shop)
		if err != nil {
			return nil, err
		}
		t := p.Terms()
		offer = &t
	}
	rw := offer.NewRewardFor(shop.ID, referralID, advocateID, RewardCode(e.CodeKey, shop.ID, referralID), e.Now())
	if offer.Reward.Kind == app.OfferStoreCredit && offer.Reward.AmountMinor == 0 && offer.Reward.Percent > 0 {
		// A percent of what the friend actually paid: the order's total
		// in the shop's money, less refunds, rounded to the nearest minor
		// unit (half up).
		net, err := e.Repo.ReferralOrderNet(ctx, referralID)
		if err != nil {
			return nil, err
		}
		if net.Currency != offer.Currency {
			return nil, app.Errorf(app.EINVALID, "referral %d: the order is in %s, the program in %s", referralID, net.Currency, offer.Currency)
		}
		rw.AmountMinor = PercentOf(net.Minor, offer.Reward.Percent)
	}
	if offer.ExpiryDays > 0 && offer.Reward.Kind == app.OfferStoreCredit {
		// The expiry is the credit's marker in the store: fixed here,
		// unique per referral, so every retry looks for the same one.
		exp := app.StoreCreditExpiry(e.Now(), offer.ExpiryDays, referralID)
		rw.ExpiresAt = &exp
	}
	if offer.Reward.Kind == app.OfferStoreCredit {
		if err := e.creditInAdvocateCurrency(ctx, shop, rw); err != nil {
			return nil, err
		}
	}
	return rw, nil
}

// creditInAdvocateCurrency sets the store credit's amount in the money the
// advocate pays in: the presentment currency of their most recent paid
// order, at that order's own rate (its total in their money over its total
// in the shop's), rounded half up. Decided here, once, with the row: every
// retry credits, and looks up, the same amount in the same currency. An
// advocate Parrain knows no other currency of (their latest order in the
// shop's money, a store that does not say) is credited in the shop's.
func (e *Engine) creditInAdvocateCurrency(ctx context.Context, shop *app.Shop, rw *app.Reward) error {
	adv, err := e.Repo.AdvocateByID(ctx, rw.AdvocateID)
	if err != nil {
		return err
	}
	shopTotal, paid, err := e.Repo.AdvocatePaidIn(ctx, shop.ID, adv)
	if err != nil {
		return err
	}
	if paid.Currency == "" || paid.Currency == rw.Currency || shopTotal.Currency != rw.Currency || shopTotal.Minor <= 0 || paid.Minor <= 0 {
		return nil
	}
	credit, err := app.Money{Minor: rw.AmountMinor, Currency: rw.Currency}.Convert(paid, shopTotal)
	if err != nil {
		return fmt.Errorf("store credit of advocate %d in %s: %w", adv.ID, paid.Currency, err)
	}
	if credit.Minor <= 0 {
		return nil // too small to show in their money: the shop's, as it is
	}
	rw.CreditMinor, rw.CreditCurrency = credit.Minor, credit.Currency
	return nil
}

// ProgramFor is the program in force for the advocate at t: the standing
// program shaped by each offer policy in turn, with where its offer came
// from.
func (e *Engine) ProgramFor(ctx context.Context, shop *app.Shop, p app.Program, adv *app.Advocate, at time.Time) (app.Program, app.OfferSource, error) {
	var src app.OfferSource
	for _, pol := range e.Offers {
		shaped, s, err := pol.Shape(ctx, shop, p, adv, at)
		if err != nil {
			return p, src, fmt.Errorf("offer in force for advocate %d: %w", adv.ID, err)
		}
		p = shaped
		if s.CampaignID != 0 {
			src.CampaignID = s.CampaignID
		}
		if s.Arm != "" {
			src.Arm = s.Arm
		}
	}
	return p, src, nil
}

// Hold is the shop's holding period.
func (e *Engine) Hold(ctx context.Context, shop *app.Shop) (time.Duration, error) {
	p, err := e.Repo.Program(ctx, shop)
	if err != nil {
		return 0, err
	}
	return p.Hold(), nil
}

// ApproveDue approves referrals whose holding period is over and queues
// their rewards. It returns how many it approved. Approval and the reward
// row are one transaction, so a crash leaves either both or neither.
func (e *Engine) ApproveDue(ctx context.Context, limit int) (int, error) {
	due, err := e.Repo.DueReferrals(ctx, e.Now(), limit)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range due {
		shop, err := e.Shops.ShopByID(ctx, r.ShopID)
		if err != nil {
			return n, err
		}
		rw, err := e.NewReward(ctx, shop, r.Offer, r.ID, r.AdvocateID)
		if err != nil {
			return n, err
		}
		rw, err = e.Repo.ApproveReferral(ctx, r.ID, rw)
		if err != nil {
			return n, err
		}
		if rw == nil {
			continue // reversed since it was listed
		}
		n++
		if err := e.Rewards.EnqueueReward(ctx, rw.ID); err != nil {
			// The reward row waits in issuing; the next ApproveDue run
			// does not see it (approved), so the reward sweep re-queues it.
			return n, fmt.Errorf("queue reward %d: %w", rw.ID, err)
		}
	}
	return n, nil
}

// IssueReward creates the reward code in the store, restricted to the
// advocate, single use, and records it. Safe to retry at any point: the
// code is fixed in the reward row, and CreateDiscount finds an existing code
// instead of creating a second one, so a crash between the store call and
// the commit ends with exactly one code.
func (e *Engine) IssueReward(ctx context.Context, rewardID int64) error {
	rw, err := e.Repo.Reward(ctx, rewardID)
	if err != nil {
		return err
	}
	if rw.State != app.RewardIssuing && rw.State != app.RewardRevoked {
		return nil
	}
	shop, err := e.Shops.ShopByID(ctx, rw.ShopID)
	if err != nil {
		return err
	}
	if rw.State == app.RewardRevoked {
		// Reversed while (or after) the code was being created: make sure
		// no live code is left. Idempotent: unknown or used codes are left.
		return e.deactivateReward(ctx, shop, rw)
	}
	adv, err := e.Repo.AdvocateByID(ctx, rw.AdvocateID)
	if err != nil {
		return err
	}
	if rw.Kind == app.OfferStoreCredit {
		return e.issueStoreCredit(ctx, shop, rw, adv)
	}
	// Restricted to the advocate as far as the store can: to the customer
	// (Shopify) or the email (WooCommerce). A guest advocate has no
	// customer id, so on Shopify the code is single use (UsageLimit 1) for
	// whoever holds it, and only the advocate is given it.
	title := "Parrain: thank you, " + adv.Code
	if rw.MilestoneFriends > 0 {
		title = fmt.Sprintf("Parrain: %d-friend milestone, %s", rw.MilestoneFriends, adv.Code)
	}
	spec := app.DiscountSpec{
		Code: rw.Code, Title: title, Kind: rw.Kind, Percent: rw.Percent,
		AmountMinor: rw.AmountMinor, Currency: rw.Currency, CustomerID: adv.CustomerID, CustomerEmail: adv.Email, UsageLimit: 1,
		OncePerCustomer: true, StartsAt: e.Now().Add(-time.Minute), EndsAt: rw.ExpiresAt,
	}
	ref, err := e.Store.CreateDiscount(ctx, shop, spec)
	if err != nil {
		if app.ErrorCode(err) == app.EINVALID {
			// The store refused the code itself: retrying will not help;
			// support sees the store's message.
			return e.Repo.MarkRewardFailed(ctx, rw.ID, err.Error())
		}
		return fmt.Errorf("create reward %s: %w", rw.Code, err)
	}
	return e.recordIssued(ctx, shop, rw, ref)
}

// recordIssued records a reward the store now holds (a code, a credit).
// A refund may have reversed the referral while the store call ran: the
// reversal found nothing to stop then, so it is done now.
func (e *Engine) recordIssued(ctx context.Context, shop *app.Shop, rw *app.Reward, ref string) error {
	if e.AfterStoreCall != nil {
		e.AfterStoreCall()
	}
	if err := e.Repo.MarkRewardIssued(ctx, rw.ID, ref, e.Now()); err != nil {
		return err
	}
	after, err := e.Repo.Reward(ctx, rw.ID)
	if err != nil {
		return err
	}
	if after.State == app.RewardRevoked {
		return e.deactivateReward(ctx, shop, after)
	}
	return nil
}

// issueStoreCredit puts the reward on the advocate's customer account as
// store credit, in the currency the row says (the advocate's, or the
// shop's), with the reward's expiry (its
// marker: CreditStoreCredit looks the credit up by amount and expiry before
// crediting, so a retry after a crash between the store call and the
// commit, a THROTTLED or a 5xx whose call ran, credits once). A store that
// refuses for good (no store credit on the platform, a guest advocate
// without a customer account) marks the reward failed with its words.
func (e *Engine) issueStoreCredit(ctx context.Context, shop *app.Shop, rw *app.Reward, adv *app.Advocate) error {
	if rw.ExpiresAt == nil {
		return e.Repo.MarkRewardFailed(ctx, rw.ID, "store credit without an expiry: Parrain could not recognise it after a retry, so it was not sent")
	}
	ref, err := e.Store.CreditStoreCredit(ctx, shop, app.StoreCredit{
		Key: rw.Code, CustomerID: adv.CustomerID, Amount: rw.Credited(), ExpiresAt: *rw.ExpiresAt,
	})
	if err != nil {
		if app.ErrorCode(err) == app.EINVALID {
			return e.Repo.MarkRewardFailed(ctx, rw.ID, app.ErrorMessage(err))
		}
		return fmt.Errorf("store credit %s: %w", rw.Code, err)
	}
	return e.recordIssued(ctx, shop, rw, ref)
}

// PercentOf is percent % of minor, rounded half up; nothing of a negative
// amount.
func PercentOf(minor int64, percent int) int64 {
	if minor <= 0 || percent <= 0 {
		return 0
	}
	return (minor*int64(percent) + 50) / 100
}
