package app

import (
	"fmt"
	"strconv"
)

// Milestone is one step of a program's ladder (issue 15): an advocate whose
// approved referrals reach Friends earns a bonus reward once, a fixed amount
// or a percent-off code, on top of the reward of each referral.
//
// A milestone is keyed by its threshold: the bonus of "3 friends" is paid
// once per advocate, whatever the retries; a ladder edited later to "4
// friends" is a new milestone, paid at 4.
type Milestone struct {
	// Friends is the number of approved referrals that reaches the step.
	Friends     int    `json:"friends"`
	Kind        string `json:"kind"` // OfferPercent or OfferFixed
	Percent     int    `json:"percent,omitempty"`
	AmountMinor int64  `json:"amount_minor,omitempty"`
}

// MaxMilestones bounds a ladder: each step is a code per advocate in the
// store and a line on the advocate's page; more than a handful is a typo.
const MaxMilestones = 10

// MaxMilestoneFriends bounds a step's threshold, as the caps are bounded.
const MaxMilestoneFriends = 10_000

// Milestone form fields: the settings form names a step's fields by its
// index (milestone_friends_0, milestone_kind_0, milestone_value_0), and
// MilestoneProblems keys its problems the same way.
func MilestoneField(name string, i int) string { return "milestone_" + name + "_" + strconv.Itoa(i) }

// MilestoneProblems returns every bad step of a ladder, keyed by the
// settings form's field names, in plain words. Thresholds must increase
// strictly (two steps at 3 friends would pay twice for one achievement),
// offers are checked as the referral reward's are.
func MilestoneProblems(ladder []Milestone, currency string) FieldErrors {
	bad := FieldErrors{}
	if len(ladder) > MaxMilestones {
		bad["milestones"] = fmt.Sprintf("A program has at most %d milestones.", MaxMilestones)
		return bad
	}
	limit := MaxMinor(MaxOfferMajor, currency)
	for i, m := range ladder {
		step := i + 1
		switch {
		case m.Friends < 1 || m.Friends > MaxMilestoneFriends:
			bad[MilestoneField("friends", i)] = fmt.Sprintf("Milestone %d: the number of friends must be between 1 and %d.", step, MaxMilestoneFriends)
		case i > 0 && m.Friends <= ladder[i-1].Friends:
			bad[MilestoneField("friends", i)] = fmt.Sprintf("Milestone %d: the number of friends must be more than the milestone before (%d).", step, ladder[i-1].Friends)
		}
		switch m.Kind {
		case OfferPercent:
			if m.Percent < 1 || m.Percent > 100 {
				bad[MilestoneField("value", i)] = fmt.Sprintf("Milestone %d: the percent off must be between 1 and 100.", step)
			}
		case OfferFixed:
			if m.AmountMinor <= 0 {
				bad[MilestoneField("value", i)] = fmt.Sprintf("Milestone %d: the amount must be positive.", step)
			} else if m.AmountMinor > limit {
				bad[MilestoneField("value", i)] = fmt.Sprintf("Milestone %d: the amount must be at most %s %s.", step, Money{Minor: limit, Currency: currency}.Decimal(), currency)
			}
		default:
			bad[MilestoneField("kind", i)] = fmt.Sprintf("Milestone %d: the bonus must be a percent off (percent) or an amount off (fixed).", step)
		}
	}
	return bad
}

// MilestoneProgress is where an advocate stands on the ladder.
type MilestoneProgress struct {
	// Approved is the advocate's approved referrals that still stand.
	Approved int
	// Next is the next step not reached, nil when every step is.
	Next *Milestone
	// Reached is how many steps Approved reaches.
	Reached int
}

// ProgressOn says where approved referrals stand on the ladder: "2 of 3
// friends" toward Next.
func ProgressOn(ladder []Milestone, approved int) MilestoneProgress {
	p := MilestoneProgress{Approved: approved}
	for i := range ladder {
		if approved >= ladder[i].Friends {
			p.Reached++
			continue
		}
		m := ladder[i]
		p.Next = &m
		break
	}
	return p
}

// Value is the milestone's bonus in words: "20.00 EUR" or "25%".
func (m Milestone) Value(currency string) string {
	if m.Kind == OfferPercent {
		return strconv.Itoa(m.Percent) + "%"
	}
	return Money{Minor: m.AmountMinor, Currency: currency}.String()
}
