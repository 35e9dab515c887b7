package experiment

import (
	"testing"
	"time"

	"github.com/parrain/parrain/app"
)

func TestTestProblems(t *testing.T) {
	p := app.DefaultProgram(1, "EUR") // friend 10% off, reward 10.00
	pct := func(n int) *app.Offer { return &app.Offer{Kind: app.OfferPercent, Percent: n} }
	fixed := func(m int64) *app.Offer { return &app.Offer{Kind: app.OfferFixed, AmountMinor: m} }
	cases := []struct {
		name string
		t    Test
		bad  []string // fields named
	}{
		{"a friend discount against the standing one", Test{SplitB: 50, Goal: GoalConversion, FriendB: pct(20)}, nil},
		{"a reward test on net revenue", Test{SplitB: 10, Goal: GoalNetPerAdvocate, RewardB: fixed(1500)}, nil},
		{"no arm B", Test{SplitB: 50, Goal: GoalConversion}, []string{"arm_b"}},
		{"B is A", Test{SplitB: 50, Goal: GoalConversion, FriendB: pct(10), RewardB: fixed(1000)}, []string{"arm_b"}},
		{"split 0 and 100", Test{SplitB: 0, Goal: GoalConversion, FriendB: pct(20)}, []string{"split_b"}},
		{"split 100", Test{SplitB: 100, Goal: GoalConversion, FriendB: pct(20)}, []string{"split_b"}},
		{"unknown goal", Test{SplitB: 50, Goal: "clicks", FriendB: pct(20)}, []string{"goal"}},
		{"percent over 100", Test{SplitB: 50, Goal: GoalConversion, FriendB: pct(120)}, []string{"friend_b"}},
		{"free-shipping reward", Test{SplitB: 50, Goal: GoalConversion, RewardB: &app.Offer{Kind: app.OfferFreeShipping}}, []string{"reward_b"}},
		{"zero reward", Test{SplitB: 50, Goal: GoalConversion, RewardB: fixed(0)}, []string{"reward_b"}},
		{"unknown kind", Test{SplitB: 50, Goal: GoalConversion, FriendB: &app.Offer{Kind: "gift"}}, []string{"friend_b"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.t.Problems(p)
			if len(got) != len(c.bad) {
				t.Fatalf("problems %v, want fields %v", got, c.bad)
			}
			for _, f := range c.bad {
				if got[f] == "" {
					t.Errorf("no problem named %s: %v", f, got)
				}
			}
			if err := c.t.Validate(p); (err != nil) != (len(c.bad) > 0) || (err != nil && app.ErrorCode(err) != app.EINVALID) {
				t.Errorf("Validate: %v", err)
			}
		})
	}
}

func TestTestApplyAndWindow(t *testing.T) {
	p := app.DefaultProgram(1, "EUR")
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tt := Test{ID: 7, ShopID: 1, SplitB: 50, Goal: GoalConversion, FriendB: &app.Offer{Kind: app.OfferFixed, AmountMinor: 500}, StartedAt: start}
	if a := tt.Apply(p, ArmA); a.FriendKind != p.FriendKind || a.FriendPercent != p.FriendPercent {
		t.Errorf("arm A changed: %+v", a.FriendOffer())
	}
	b := tt.Apply(p, ArmB)
	if b.FriendKind != app.OfferFixed || b.FriendAmountMinor != 500 || b.RewardOffer() != p.RewardOffer() {
		t.Errorf("arm B: friend %+v reward %+v", b.FriendOffer(), b.RewardOffer())
	}
	if tt.InForce(start.Add(-time.Nanosecond)) || !tt.InForce(start) || !tt.InForce(start.AddDate(1, 0, 0)) {
		t.Error("running window wrong")
	}
	end := start.Add(time.Hour)
	tt.EndedAt = &end
	if !tt.InForce(end.Add(-time.Nanosecond)) || tt.InForce(end) {
		t.Error("ended window wrong: the end is excluded")
	}
	if tt.Key() != "shop-1/test-7" {
		t.Errorf("key %s", tt.Key())
	}
}
