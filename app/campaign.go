package app

import (
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Offer is one side of a referral offer: what the friend gets off, or what
// the advocate is rewarded with.
type Offer struct {
	Kind        string // OfferPercent, OfferFixed or OfferFreeShipping (friend only)
	Percent     int
	AmountMinor int64
}

// FriendOffer and RewardOffer are the program's standing offers.
func (p Program) FriendOffer() Offer {
	return Offer{Kind: p.FriendKind, Percent: p.FriendPercent, AmountMinor: p.FriendAmountMinor}
}

func (p Program) RewardOffer() Offer {
	return Offer{Kind: p.RewardKind, Percent: p.RewardPercent, AmountMinor: p.RewardAmountMinor}
}

// Campaign modes: a campaign's offer replaces the standing one, or is added
// to it ("double rewards in December" is a fixed reward added to itself).
const (
	CampaignReplace = "replace"
	CampaignAdd     = "add"
)

// Campaign is a time-boxed offer. It is in force from Start (included) to
// End (excluded); both are instants, the console turns the merchant's dates
// in the shop's time zone into them. A nil side leaves that side standing.
type Campaign struct {
	ID     int64
	ShopID int64
	Name   string
	Start  time.Time
	End    time.Time
	Mode   string
	Friend *Offer
	Reward *Offer
}

// InForce reports whether the campaign applies to an order placed at t.
func (c Campaign) InForce(t time.Time) bool {
	return !t.Before(c.Start) && t.Before(c.End)
}

// Validate checks the campaign against the program it changes: each side
// must make a valid offer once applied, so a campaign can never produce an
// offer the program itself would refuse.
func (c Campaign) Validate(p Program) error {
	switch {
	case strings.TrimSpace(c.Name) == "" || utf8.RuneCountInString(c.Name) > 100:
		return Errorf(EINVALID, "campaign name must be 1 to 100 characters")
	case c.Start.IsZero() || c.End.IsZero():
		return Errorf(EINVALID, "campaign needs a start and an end")
	case !c.End.After(c.Start):
		return Errorf(EINVALID, "campaign must end after it starts")
	case c.End.Sub(c.Start) > maxDays*24*time.Hour:
		return Errorf(EINVALID, "campaign can last at most %d days", maxDays)
	case c.Mode != CampaignReplace && c.Mode != CampaignAdd:
		return Errorf(EINVALID, "campaign mode must be replace or add")
	case c.Friend == nil && c.Reward == nil:
		return Errorf(EINVALID, "campaign must change the friend's discount, the reward, or both")
	}
	if err := c.checkAdd(p); err != nil {
		return err
	}
	if c.Friend != nil && (c.Friend.Kind == OfferFreeShipping) != (p.FriendKind == OfferFreeShipping) {
		// The friend codes already handed out are changed in place for the
		// campaign (app/campaigns): a store discount cannot turn from an
		// amount off into free shipping or back.
		return Errorf(EINVALID, "a campaign cannot turn the friend's discount into free shipping or back; keep the %s kind", p.FriendKind)
	}
	return c.Apply(p).Validate()
}

// FriendTerms are a friend offer's store terms while the campaign runs:
// the offer's kind and value changed as the campaign says, everything else
// (minimum, currency, once per customer) kept.
func (c Campaign) FriendTerms(d DiscountSpec) DiscountSpec {
	if c.Friend == nil {
		return d
	}
	o := combine(c.Mode, Offer{Kind: d.Kind, Percent: d.Percent, AmountMinor: d.AmountMinor}, *c.Friend)
	d.Kind, d.Percent, d.AmountMinor = o.Kind, o.Percent, o.AmountMinor
	return d
}

// SameTerms reports whether two discounts give the same thing.
func SameTerms(a, b DiscountSpec) bool {
	return a.Kind == b.Kind && a.Percent == b.Percent && a.AmountMinor == b.AmountMinor && a.MinOrderMinor == b.MinOrderMinor
}

// Apply returns the program as it stands while the campaign runs.
func (c Campaign) Apply(p Program) Program {
	if c.Friend != nil {
		o := combine(c.Mode, p.FriendOffer(), *c.Friend)
		p.FriendKind, p.FriendPercent, p.FriendAmountMinor = o.Kind, o.Percent, o.AmountMinor
	}
	if c.Reward != nil {
		o := combine(c.Mode, p.RewardOffer(), *c.Reward)
		p.RewardKind, p.RewardPercent, p.RewardAmountMinor = o.Kind, o.Percent, o.AmountMinor
	}
	return p
}

// combine adds like to like. A percent added to a fixed amount has no single
// code that expresses it: Validate refuses that campaign (checkAdd).
func combine(mode string, standing, c Offer) Offer {
	if mode == CampaignAdd && standing.Kind == c.Kind {
		return Offer{Kind: c.Kind, Percent: min(100, standing.Percent+c.Percent), AmountMinor: standing.AmountMinor + c.AmountMinor}
	}
	return c
}

// checkAdd refuses an "add" campaign whose kind differs from the standing
// offer's: the result would silently be a replacement.
func (c Campaign) checkAdd(p Program) error {
	if c.Mode != CampaignAdd {
		return nil
	}
	if c.Friend != nil && c.Friend.Kind != p.FriendKind {
		return Errorf(EINVALID, "an added friend discount must be of the standing kind (%s); choose replace to change its kind", p.FriendKind)
	}
	if c.Reward != nil && c.Reward.Kind != p.RewardKind {
		return Errorf(EINVALID, "an added reward must be of the standing kind (%s); choose replace to change its kind", p.RewardKind)
	}
	return nil
}

// CheckOverlap refuses a campaign whose window meets another's: two offers
// in force at once would leave the shopper's offer to chance. The error
// names the campaign it overlaps.
func CheckOverlap(c Campaign, others []Campaign) error {
	sorted := append([]Campaign(nil), others...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Start.Before(sorted[j].Start) })
	for _, o := range sorted {
		if o.ID != 0 && o.ID == c.ID {
			continue
		}
		if c.Start.Before(o.End) && o.Start.Before(c.End) {
			return Errorf(ECONFLICT, "campaign overlaps %q (%s to %s)", o.Name,
				o.Start.UTC().Format(time.RFC3339), o.End.UTC().Format(time.RFC3339))
		}
	}
	return nil
}

// ProgramAt is the program in force for an order placed at t: the standing
// one changed by the campaign running then, if any. Campaigns never
// overlap (CheckOverlap), so at most one applies.
func ProgramAt(p Program, campaigns []Campaign, t time.Time) (Program, *Campaign) {
	for i := range campaigns {
		if campaigns[i].InForce(t) {
			return campaigns[i].Apply(p), &campaigns[i]
		}
	}
	return p, nil
}

// String names a campaign for logs and audit rows.
func (c Campaign) String() string {
	return fmt.Sprintf("campaign %d %q", c.ID, c.Name)
}
