package review

import (
	"time"

	"github.com/parrain/parrain/app"
)

// CustomerReferral is one referral in a customer's view.
type CustomerReferral struct {
	ID          int64
	OrderName   string
	State       string
	HoldUntil   time.Time
	RewardCode  string
	RewardState string
	Answer      string
}

// Customer is an advocate as support looks them up.
type Customer struct {
	ID              int64
	Email           string
	Code            string
	FriendCode      string
	FriendCodeState string
	Link            string
	Clicks          int64
	Referrals       []CustomerReferral
}

// WhereIsMyReward is the answer support gives, in one sentence.
func WhereIsMyReward(f CustomerReferral) string {
	switch {
	case f.RewardState == app.RewardIssued:
		return "Created in the store: code " + f.RewardCode + " (the email's state is below)."
	case f.RewardState == app.RewardIssuing:
		return "Being created in the store now."
	case f.RewardState == app.RewardFailed:
		return "The store refused the code: reissue it from the referral."
	case f.RewardState == app.RewardRevoked:
		return "Revoked."
	case f.State == app.ReferralPending:
		return "Waiting for the holding period to end on " + f.HoldUntil.Format("2 Jan 2006") + "."
	case f.State == app.ReferralNeedsReview:
		return "Waiting for a support review."
	case f.State == app.ReferralRejected || f.State == app.ReferralReversed:
		return "No reward: the referral was " + f.State + "."
	}
	return "Approved: the reward is on its way."
}
