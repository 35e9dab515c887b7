package experiment

import (
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/parrain/parrain/app"
)

// Test is an A/B test of a shop's offer. Arm A is the standing program (as
// it stands: an edit of the program during the test changes arm A too);
// arm B replaces the friend's discount, the advocate's reward, or both.
// Only advocates created while the test runs take part, each in one arm for
// good; the others keep the standing offer.
type Test struct {
	ID     int64
	ShopID int64
	Name   string
	// SplitB is the percentage of new advocates put in B (1 to 99).
	SplitB int
	// Goal is GoalConversion or GoalNetPerAdvocate.
	Goal string
	// FriendB and RewardB are arm B's sides; nil leaves that side as A's.
	FriendB *app.Offer
	RewardB *app.Offer
	// OfferA is the standing offer when the test started, for the record.
	OfferA    OfferPair
	StartedAt time.Time
	// EndedAt is nil while the test runs.
	EndedAt *time.Time
	// Winner is the arm the statistics named when the test ended ("" for
	// none); Kept the arm the merchant kept.
	Winner Arm
	Kept   Arm
}

// OfferPair is both sides of an offer.
type OfferPair struct {
	Friend app.Offer `json:"friend"`
	Reward app.Offer `json:"reward"`
}

// Running reports whether the test has not ended.
func (t Test) Running() bool { return t.EndedAt == nil }

// InForce reports whether an order or an advocate at instant at falls in
// the test's window [StartedAt, EndedAt).
func (t Test) InForce(at time.Time) bool {
	return !at.Before(t.StartedAt) && (t.EndedAt == nil || at.Before(*t.EndedAt))
}

// Key names the test for Assign: the shop and the test, so two tests
// shuffle advocates differently.
func (t Test) Key() string { return fmt.Sprintf("shop-%d/test-%d", t.ShopID, t.ID) }

// Share is the fraction of advocates in B.
func (t Test) Share() float64 { return float64(t.SplitB) / 100 }

// Apply returns the program as arm arm sees it: A's is the standing one.
func (t Test) Apply(p app.Program, arm Arm) app.Program {
	if arm != ArmB {
		return p
	}
	if t.FriendB != nil {
		p.FriendKind, p.FriendPercent, p.FriendAmountMinor = t.FriendB.Kind, t.FriendB.Percent, t.FriendB.AmountMinor
	}
	if t.RewardB != nil {
		p.RewardKind, p.RewardPercent, p.RewardAmountMinor = t.RewardB.Kind, t.RewardB.Percent, t.RewardB.AmountMinor
	}
	return p
}

// Problems returns every bad field of a test about to start on program p,
// keyed by the API's field names, in plain words. Arm B must make a valid
// program once applied (the same checks as the settings page) and must
// differ from A: a test of an offer against itself measures nothing.
func (t Test) Problems(p app.Program) app.FieldErrors {
	bad := app.FieldErrors{}
	if utf8.RuneCountInString(t.Name) > 100 {
		bad["name"] = "The name must be at most 100 characters."
	}
	if t.SplitB < 1 || t.SplitB > 99 {
		bad["split_b"] = "The share of new advocates in B must be a whole percentage from 1 to 99."
	}
	if t.Goal != GoalConversion && t.Goal != GoalNetPerAdvocate {
		bad["goal"] = fmt.Sprintf("The goal must be %s (friends' orders per click) or %s (referred revenue less rewards, per advocate).",
			GoalConversion, GoalNetPerAdvocate)
	}
	if t.FriendB == nil && t.RewardB == nil {
		bad["arm_b"] = "Arm B must change the friend's discount, the reward, or both."
		return bad
	}
	if t.RewardB != nil && t.RewardB.Kind == app.OfferFreeShipping {
		bad["reward_b"] = "A reward is a percentage or a fixed amount, not free shipping."
	}
	b := t.Apply(p, ArmB)
	sides := map[string]string{}
	if t.FriendB != nil {
		sides["friend_kind"], sides["friend_percent"], sides["friend_amount"] = "friend_b", "friend_b", "friend_b"
	}
	if t.RewardB != nil {
		sides["reward_kind"], sides["reward_percent"], sides["reward_amount"] = "reward_b", "reward_b", "reward_b"
	}
	for field, msg := range b.Problems() {
		key, ok := sides[field]
		if !ok {
			continue // not a side arm B changes: the standing program's own
		}
		if _, dup := bad[key]; !dup {
			bad[key] = "Arm B: " + msg
		}
	}
	if len(bad) == 0 && sameOffer(b.FriendOffer(), p.FriendOffer()) && sameOffer(b.RewardOffer(), p.RewardOffer()) {
		bad["arm_b"] = "Arm B is the standing offer: change the friend's discount or the reward."
	}
	return bad
}

// sameOffer compares what two offers give: a percent's stale amount field
// (or the reverse) is not a difference.
func sameOffer(a, b app.Offer) bool {
	if a.Kind != b.Kind {
		return false
	}
	switch a.Kind {
	case app.OfferPercent:
		return a.Percent == b.Percent
	case app.OfferFixed:
		return a.AmountMinor == b.AmountMinor
	}
	return true
}

// Validate returns an EINVALID error naming every bad field.
func (t Test) Validate(p app.Program) error { return t.Problems(p).Err() }
