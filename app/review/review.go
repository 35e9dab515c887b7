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
	Rule     string // only referrals where this rule failed
	MinMinor int64
	MaxMinor int64
	// Search matches the order name, the friend's or advocate's email, or
	// a code.
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
}

// Click is the last click on the advocate's link before the order.
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
	Click    *Click               `json:"click"`
	Reward   *app.Reward          `json:"reward"`
	Notes    []Note               `json:"notes"`
	Audit    []AuditEntry         `json:"audit"`
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
	// Attribute records a manual referral of the shop's order to the
	// advocate, with its audit line; ECONFLICT if the order has one.
	Attribute(ctx context.Context, shopID int64, orderID, advocateCode, actor, reason string, holdUntil time.Time) (int64, error)
}

// Engine is what review needs from the referral engine.
type Engine interface {
	// NewReward builds the reward a referral earns under the shop's program.
	NewReward(ctx context.Context, shop *app.Shop, referralID, advocateID int64) (*app.Reward, error)
	Hold(ctx context.Context, shop *app.Shop) (time.Duration, error)
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

// Detail returns one referral.
func (s *Service) Detail(ctx context.Context, shop *app.Shop, id int64) (*Detail, error) {
	return s.Store.Detail(ctx, shop.ID, id)
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
	rw, err := s.Engine.NewReward(ctx, shop, d.ID, d.AdvocateID)
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

// Attribute attributes an order no rule attributed to an advocate, by hand.
// The referral waits out the holding period like any other.
func (s *Service) Attribute(ctx context.Context, shop *app.Shop, a Actor, orderID, advocateCode, reason string) (int64, error) {
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
	hold, err := s.Engine.Hold(ctx, shop)
	if err != nil {
		return 0, err
	}
	return s.Store.Attribute(ctx, shop.ID, strings.TrimSpace(orderID), app.NormalizeCode(advocateCode), a.ID, reason, s.Now().Add(hold))
}

func text(field, v string, max int) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" || utf8.RuneCountInString(v) > max {
		return "", app.Errorf(app.EINVALID, "%s: 1 to %d characters", field, max)
	}
	return v, nil
}
