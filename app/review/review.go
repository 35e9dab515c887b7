// Package review is the support staff's work on attributed orders: the
// queue and its filters, one referral with everything that explains it, and
// the actions (approve, reject, attribute by hand, reissue, revoke, note),
// each authorized, idempotent and audited. Storage and the engine are behind
// small interfaces; it knows nothing of HTTP or SQL.
package review

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/attribution"
	"github.com/parrain/parrain/app/referrals"
)

// Actor is who acts: a staff member or a merchant in the Shopify admin.
type Actor struct {
	// ID is what the audit log records: "staff:ann@example.com",
	// "shopify:shop.myshopify.com/42".
	ID string
	// CanAct is false for read-only viewers.
	CanAct bool
}

// Filter narrows the queue. Zero values mean "any".
type Filter struct {
	State    string
	From, To time.Time
	Advocate string // advocate code
	Flagged  bool   // only flagged referrals
	// Attention is what needs someone: referrals to review or flagged,
	// and rewards the store refused. The queue opens on it.
	Attention bool
	Rule      string // only referrals where this rule failed
	MinMinor  int64
	MaxMinor  int64
	// Search matches part of the order name or number, of the friend's or
	// advocate's email or name, or of a code.
	Search string
	// Before continues after the last item of a page (keyset).
	Before *Cursor
	Limit  int
}

// Cursor is a position in the queue (newest first).
type Cursor struct {
	CreatedAt time.Time
	ID        int64
}

// Item is one row of the queue.
type Item struct {
	ID            int64     `json:"id"`
	State         string    `json:"state"`
	Flagged       bool      `json:"flagged"`
	Reason        string    `json:"reason"`
	CreatedAt     time.Time `json:"created_at"`
	HoldUntil     time.Time `json:"hold_until"`
	OrderID       string    `json:"order_id"`
	OrderName     string    `json:"order_name"`
	TotalMinor    int64     `json:"total_minor"`
	RefundedMinor int64     `json:"refunded_minor"`
	Currency      string    `json:"currency"`
	FriendEmail   string    `json:"friend_email"`
	AdvocateID    int64     `json:"advocate_id"`
	AdvocateCode  string    `json:"advocate_code"`
	AdvocateEmail string    `json:"advocate_email"`
	EvidenceKind  string    `json:"evidence_kind"`
	EvidenceCode  string    `json:"evidence_code"`
	RewardState   string    `json:"reward_state"`
	// OrderedAt is when the order was placed; BrowserIP where from (only
	// to find the click that led to it, never shown).
	OrderedAt      time.Time `json:"ordered_at"`
	BrowserIP      string    `json:"-"`
	CustomerID     string    `json:"-"`
	AdvocateCustID string    `json:"-"`
}

// Click is the click on the advocate's link that led to the order: the
// last one before the order from the same browser address.
type Click struct {
	Channel   string    `json:"channel"`
	UserAgent string    `json:"user_agent"`
	At        time.Time `json:"at"`
}

// Note is a support note on a referral.
type Note struct {
	Author string    `json:"author"`
	Body   string    `json:"body"`
	At     time.Time `json:"at"`
}

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	Actor   string    `json:"actor"`
	Action  string    `json:"action"`
	Subject string    `json:"subject"`
	Before  any       `json:"before,omitempty"`
	After   any       `json:"after,omitempty"`
	Reason  string    `json:"reason,omitempty"`
	At      time.Time `json:"at"`
}

// Detail is one referral with everything that explains it.
type Detail struct {
	Item
	Decision attribution.Decision `json:"decision"`
	Explain  string               `json:"explain"`
	// Offer is what the referral earns, fixed when the friend ordered
	// (nil for referrals older than stored offers: the program's).
	Offer  *app.OfferTerms `json:"offer,omitempty"`
	Click  *Click          `json:"click"`
	Reward *app.Reward     `json:"reward"`
	Notes  []Note          `json:"notes"`
	Audit  []AuditEntry    `json:"audit"`
	// RewardCreatedAt and RewardIssuedAt date the reward's steps.
	RewardCreatedAt *time.Time `json:"-"`
	RewardIssuedAt  *time.Time `json:"-"`
	// Timeline is everything that happened to the referral, oldest first.
	Timeline []Event `json:"timeline"`
	// OrderAdminURL and AdvocateAdminURL open the store's own pages.
	OrderAdminURL    string `json:"order_admin_url,omitempty"`
	AdvocateAdminURL string `json:"advocate_admin_url,omitempty"`
	// MilestoneReviews are paid milestone bonuses this referral's
	// reversal took the advocate back under: kept, for support to review.
	MilestoneReviews []MilestoneReview `json:"milestone_reviews,omitempty"`
}

// MilestoneReview is a paid milestone bonus the advocate no longer
// reaches, with their count of approved referrals now.
type MilestoneReview struct {
	Reward   app.Reward `json:"reward"`
	Approved int        `json:"approved"`
}

// Change is one state change with its audit line, applied atomically by the
// store: the referral (and reward) row is locked, From must hold, To is
// written with the audit row in the same transaction.
type Change struct {
	ShopID     int64
	ReferralID int64
	Actor      string
	Action     string
	Reason     string
	// From are the referral states the action applies to; To the new one.
	From []string
	To   string
	// Done are states in which the action counts as already done.
	Done []string
	// NewReward, when set, is inserted with the change (approve).
	NewReward *app.Reward
	// RewardFrom/RewardTo change the referral's reward state instead.
	RewardFrom []string
	RewardTo   string
}

// Store is the storage review needs. Every method is scoped by shop: an id
// of another shop's referral is ENOTFOUND.
type Store interface {
	Queue(ctx context.Context, shopID int64, f Filter) ([]Item, error)
	Detail(ctx context.Context, shopID, referralID int64) (*Detail, error)
	// Apply applies the change; changed is false when the referral was
	// already in the target state (nothing written, no audit line).
	Apply(ctx context.Context, c Change) (changed bool, reward *app.Reward, err error)
	AddNote(ctx context.Context, shopID, referralID int64, author, body string) error
	// ReferralClick is the click that led to the referral's order, as
	// recorded when it was attributed (referrals.click_id: the one the
	// dashboard's conversion counts); nil when there is none.
	ReferralClick(ctx context.Context, shopID, referralID int64) (*Click, error)
	// FindOrders finds the shop's orders by number, name or buyer email,
	// newest first.
	FindOrders(ctx context.Context, shopID int64, q string, limit int) ([]*referrals.OrderRecord, error)
	// Advocate finds the shop's advocate by referral or friend code.
	Advocate(ctx context.Context, shopID int64, code string) (*app.Advocate, error)
	// Attribute records a manual referral with its decision and audit
	// line; ECONFLICT if the order has one.
	Attribute(ctx context.Context, m Manual) (int64, error)
}

// Manual is an attribution by hand, as it is recorded.
type Manual struct {
	ShopID    int64
	OrderID   int64 // the order's row
	Advocate  *app.Advocate
	Decision  attribution.Decision
	Actor     string
	Reason    string
	Override  bool
	HoldUntil time.Time
}

// Engine is what review needs from the referral engine.
type Engine interface {
	// NewReward builds the reward a referral earns under the shop's program.
	NewReward(ctx context.Context, shop *app.Shop, offer *app.OfferTerms, referralID, advocateID int64) (*app.Reward, error)
	Hold(ctx context.Context, shop *app.Shop) (time.Duration, error)
	// EvaluateManual runs the attribution rules on an order attributed
	// by hand; Explain says why an order is or is not a referral.
	EvaluateManual(ctx context.Context, shop *app.Shop, o *referrals.OrderRecord, adv *app.Advocate) (attribution.Decision, error)
	Explain(ctx context.Context, shop *app.Shop, o *referrals.OrderRecord) (*referrals.Explanation, error)
}

// Links are the store's admin pages, from the platform adapter.
type Links interface {
	OrderAdminURL(shop *app.Shop, orderID string) string
	CustomerAdminURL(shop *app.Shop, customerID string) string
}

// Rewards queues a reward's job (issue, or deactivate a revoked one).
type Rewards interface {
	EnqueueReward(ctx context.Context, rewardID int64) error
}

// Service runs the queue and the actions.
type Service struct {
	Store   Store
	Engine  Engine
	Rewards Rewards
	Now     func() time.Time
	// Links, when set, give the store's admin pages of an order and a
	// customer.
	Links Links
	// Events add lines to the timeline (emails sent, outgoing events…).
	Events []EventSource
}

var errViewer = app.Errorf(app.EFORBIDDEN, "your role is read-only")

// Queue returns a page of the shop's referrals, newest first.
func (s *Service) Queue(ctx context.Context, shop *app.Shop, f Filter) ([]Item, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	f.Search = strings.TrimSpace(f.Search)
	return s.Store.Queue(ctx, shop.ID, f)
}

// Detail returns one referral: the click that led to this order (not the
// advocate's latest), the store's pages, and the timeline.
func (s *Service) Detail(ctx context.Context, shop *app.Shop, id int64) (*Detail, error) {
	d, err := s.Store.Detail(ctx, shop.ID, id)
	if err != nil {
		return nil, err
	}
	if d.Click, err = s.Store.ReferralClick(ctx, shop.ID, id); err != nil {
		return nil, err
	}
	if s.Links != nil {
		d.OrderAdminURL = s.Links.OrderAdminURL(shop, d.OrderID)
		if d.AdvocateCustID != "" {
			d.AdvocateAdminURL = s.Links.CustomerAdminURL(shop, d.AdvocateCustID)
		}
	}
	var extra []Event
	for _, src := range s.Events {
		ev, err := src.Events(ctx, shop.ID, id)
		if err != nil {
			return nil, err
		}
		extra = append(extra, ev...)
	}
	d.Timeline = Timeline(d, extra...)
	return d, nil
}

// Approve approves a pending or flagged-for-review referral now (before its
// hold ends, or overruling a rule) and queues its reward.
func (s *Service) Approve(ctx context.Context, shop *app.Shop, a Actor, id int64) error {
	if !a.CanAct {
		return errViewer
	}
	d, err := s.Store.Detail(ctx, shop.ID, id)
	if err != nil {
		return err
	}
	rw, err := s.Engine.NewReward(ctx, shop, d.Offer, d.ID, d.AdvocateID)
	if err != nil {
		return err
	}
	changed, rw, err := s.Store.Apply(ctx, Change{ShopID: shop.ID, ReferralID: id, Actor: a.ID, Action: "approve",
		From: []string{app.ReferralPending, app.ReferralNeedsReview}, To: app.ReferralApproved, Done: []string{app.ReferralRewarded}, NewReward: rw})
	if err != nil || !changed {
		return err
	}
	return s.Rewards.EnqueueReward(ctx, rw.ID)
}

// Reject rejects a pending or flagged referral, with a reason.
func (s *Service) Reject(ctx context.Context, shop *app.Shop, a Actor, id int64, reason string) error {
	if !a.CanAct {
		return errViewer
	}
	reason, err := text("reason", reason, 500)
	if err != nil {
		return err
	}
	_, _, err = s.Store.Apply(ctx, Change{ShopID: shop.ID, ReferralID: id, Actor: a.ID, Action: "reject", Reason: reason,
		From: []string{app.ReferralPending, app.ReferralNeedsReview}, To: app.ReferralRejected})
	return err
}

// Reissue retries a reward the store refused.
func (s *Service) Reissue(ctx context.Context, shop *app.Shop, a Actor, id int64) error {
	return s.changeReward(ctx, shop, a, id, "reissue_reward", "", []string{app.RewardFailed}, app.RewardIssuing)
}

// Revoke revokes a reward: its code is deactivated in the store (by the
// reward's job, which deactivates revoked codes).
func (s *Service) Revoke(ctx context.Context, shop *app.Shop, a Actor, id int64, reason string) error {
	if !a.CanAct {
		return errViewer
	}
	reason, err := text("reason", reason, 500)
	if err != nil {
		return err
	}
	return s.changeReward(ctx, shop, a, id, "revoke_reward", reason,
		[]string{app.RewardIssuing, app.RewardIssued, app.RewardFailed}, app.RewardRevoked)
}

// changeReward moves the referral's reward from one of from to to, and
// queues the reward's job, which issues an issuing reward or deactivates a
// revoked one.
func (s *Service) changeReward(ctx context.Context, shop *app.Shop, a Actor, id int64, action, reason string, from []string, to string) error {
	if !a.CanAct {
		return errViewer
	}
	changed, rw, err := s.Store.Apply(ctx, Change{ShopID: shop.ID, ReferralID: id, Actor: a.ID, Action: action, Reason: reason,
		RewardFrom: from, RewardTo: to})
	if err != nil || !changed {
		return err
	}
	return s.Rewards.EnqueueReward(ctx, rw.ID)
}

// AddNote adds a note.
func (s *Service) AddNote(ctx context.Context, shop *app.Shop, a Actor, id int64, body string) error {
	if !a.CanAct {
		return errViewer
	}
	body, err := text("note", body, 2000)
	if err != nil {
		return err
	}
	return s.Store.AddNote(ctx, shop.ID, id, a.ID, body)
}

// Check is what attribution by hand would do: the order, the advocate and
// every rule's outcome, nothing written.
type Check struct {
	Order    *referrals.OrderRecord
	Advocate *app.Advocate
	Decision attribution.Decision
}

// Passes reports whether every rule passed.
func (c *Check) Passes() bool { return c.Decision.State == attribution.StatePending }

// CheckAttribution runs the attribution rules on orderRef (number, name)
// and the advocate's code.
func (s *Service) CheckAttribution(ctx context.Context, shop *app.Shop, orderRef, advocateCode string) (*Check, error) {
	orderRef, advocateCode = strings.TrimSpace(orderRef), strings.TrimSpace(advocateCode)
	if orderRef == "" || advocateCode == "" {
		return nil, app.Errorf(app.EINVALID, "order_id and advocate_code are required")
	}
	orders, err := s.Store.FindOrders(ctx, shop.ID, orderRef, 2)
	if err != nil {
		return nil, err
	}
	var o *referrals.OrderRecord
	for _, c := range orders {
		if c.Known && (c.Facts.PlatformID == orderRef || strings.TrimPrefix(c.Facts.Name, "#") == strings.TrimPrefix(orderRef, "#")) {
			o = c
			break
		}
	}
	if o == nil {
		return nil, app.Errorf(app.ENOTFOUND, "order_id: no order %s in this shop", orderRef)
	}
	adv, err := s.Store.Advocate(ctx, shop.ID, app.NormalizeCode(advocateCode))
	if app.ErrorCode(err) == app.ENOTFOUND {
		return nil, app.Errorf(app.ENOTFOUND, "advocate_code: no advocate %s in this shop", app.NormalizeCode(advocateCode))
	}
	if err != nil {
		return nil, err
	}
	d, err := s.Engine.EvaluateManual(ctx, shop, o, adv)
	if err != nil {
		return nil, err
	}
	return &Check{Order: o, Advocate: adv, Decision: d}, nil
}

// Attribute attributes an order no rule attributed to an advocate, by
// hand. The same rules as an automatic attribution run first; when one
// fails, the attribution needs override and the reason says why. The
// referral always waits for a review (needs_review): a referral made by
// hand is never paid without a second look.
func (s *Service) Attribute(ctx context.Context, shop *app.Shop, a Actor, orderID, advocateCode, reason string, override bool) (int64, error) {
	if !a.CanAct {
		return 0, errViewer
	}
	if strings.TrimSpace(orderID) == "" || strings.TrimSpace(advocateCode) == "" {
		return 0, app.Errorf(app.EINVALID, "order_id and advocate_code are required")
	}
	reason, err := text("reason", reason, 500)
	if err != nil {
		return 0, err
	}
	chk, err := s.CheckAttribution(ctx, shop, orderID, advocateCode)
	if err != nil {
		return 0, err
	}
	if !chk.Passes() && !override {
		return 0, &app.Error{Code: app.EINVALID, Message: "override: a rule refuses this attribution (" + chk.Decision.Reason +
			"); tick the override and say why to attribute it anyway", Err: RulesFailed{Check: chk}}
	}
	hold, err := s.Engine.Hold(ctx, shop)
	if err != nil {
		return 0, err
	}
	return s.Store.Attribute(ctx, Manual{ShopID: shop.ID, OrderID: chk.Order.ID, Advocate: chk.Advocate, Decision: chk.Decision,
		Actor: a.ID, Reason: reason, Override: override && !chk.Passes(), HoldUntil: s.Now().Add(hold)})
}

// RulesFailed is carried by the error of an attribution by hand that a
// rule refuses: the check, for the page to show each rule's outcome.
type RulesFailed struct{ Check *Check }

func (RulesFailed) Error() string { return "a rule refuses the attribution" }

// WhyNot looks up orders by number, name or email and says, for each, why
// it is or is not a referral (the engine's own explanation).
func (s *Service) WhyNot(ctx context.Context, shop *app.Shop, q string) ([]*referrals.Explanation, error) {
	q = strings.TrimSpace(q)
	if q == "" || utf8.RuneCountInString(q) > 200 {
		return nil, app.Errorf(app.EINVALID, "q: an order number or an email, 1 to 200 characters")
	}
	orders, err := s.Store.FindOrders(ctx, shop.ID, q, 10)
	if err != nil {
		return nil, err
	}
	out := make([]*referrals.Explanation, 0, len(orders))
	for _, o := range orders {
		x, err := s.Engine.Explain(ctx, shop, o)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}

func text(field, v string, max int) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" || utf8.RuneCountInString(v) > max {
		return "", app.Errorf(app.EINVALID, "%s: 1 to %d characters", field, max)
	}
	return v, nil
}
