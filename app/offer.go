package app

import "time"

// OfferTerms are the terms a referral earns, fixed when the friend ordered:
// the advocate's reward, and where they came from (a campaign, an A/B arm).
// They are stored with the referral, so editing the program, ending a
// campaign or an A/B test later never changes a reward already earned.
type OfferTerms struct {
	Reward     Offer  `json:"reward"`
	Currency   string `json:"currency"`
	ExpiryDays int    `json:"expiry_days"`
	// CampaignID is the campaign in force when the friend ordered, if any.
	CampaignID int64 `json:"campaign_id,omitempty"`
	// Arm is the advocate's A/B arm, if a test was running.
	Arm string `json:"arm,omitempty"`
}

// Terms are the program's reward terms, with no campaign or arm.
func (p Program) Terms() OfferTerms {
	return OfferTerms{Reward: p.RewardOffer(), Currency: p.Currency, ExpiryDays: p.RewardExpiryDays}
}

// OfferSource tells which campaign and arm shaped a program in force.
type OfferSource struct {
	CampaignID int64
	Arm        string
}

// TermsFrom are the terms of a program in force, marked with where its
// offer came from.
func TermsFrom(p Program, src OfferSource) OfferTerms {
	t := p.Terms()
	t.CampaignID, t.Arm = src.CampaignID, src.Arm
	return t
}

// NewRewardFor builds the reward row the terms pay: its code is given by
// the caller (derived from the referral, or the milestone, so a retry finds
// the same one).
func (t OfferTerms) NewRewardFor(shopID, referralID, advocateID int64, code string, now time.Time) *Reward {
	rw := &Reward{
		ShopID: shopID, ReferralID: referralID, AdvocateID: advocateID, Code: code,
		Kind: t.Reward.Kind, Percent: t.Reward.Percent, AmountMinor: t.Reward.AmountMinor, Currency: t.Currency, State: RewardIssuing,
	}
	if t.ExpiryDays > 0 {
		exp := now.Add(time.Duration(t.ExpiryDays) * 24 * time.Hour)
		rw.ExpiresAt = &exp
	}
	return rw
}
