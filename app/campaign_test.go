package app

import (
	"errors"
	"testing"
	"time"
)

func TestProgramAtDecidesByTheOrderTime(t *testing.T) {
	p := DefaultProgram(1, "EUR") // friend 10%, reward 10.00
	paris, _ := time.LoadLocation("Europe/Paris")
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, paris)
	end := time.Date(2027, 1, 1, 0, 0, 0, 0, paris)
	double := Campaign{ID: 7, Name: "Double rewards in December", Start: start, End: end, Mode: CampaignAdd,
		Reward: &Offer{Kind: OfferFixed, AmountMinor: 1000}}
	cases := []struct {
		at     time.Time
		reward int64
		in     bool
	}{
		{start.Add(-time.Second), 1000, false},
		{start, 2000, true},
		{end.Add(-time.Second), 2000, true},
		{end, 1000, false},
		{end.Add(time.Second), 1000, false},
	}
	for _, c := range cases {
		got, running := ProgramAt(p, []Campaign{double}, c.at)
		if got.RewardAmountMinor != c.reward || (running != nil) != c.in {
			t.Errorf("%s: reward %d running %v, want %d %v", c.at, got.RewardAmountMinor, running != nil, c.reward, c.in)
		}
		if got.FriendPercent != 10 {
			t.Errorf("%s: the friend's side changed: %d%%", c.at, got.FriendPercent)
		}
	}
	// Replace, on the friend's side only.
	swap := Campaign{Name: "Free shipping week", Start: start, End: end, Mode: CampaignReplace, Friend: &Offer{Kind: OfferFreeShipping}}
	got, _ := ProgramAt(p, []Campaign{swap}, start)
	if got.FriendKind != OfferFreeShipping || got.RewardAmountMinor != 1000 {
		t.Errorf("replace: %+v", got)
	}
}

func TestCampaignValidate(t *testing.T) {
	p := DefaultProgram(1, "EUR")
	s := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	ok := Campaign{Name: "Dec", Start: s, End: s.AddDate(0, 1, 0), Mode: CampaignAdd, Reward: &Offer{Kind: OfferFixed, AmountMinor: 500}}
	if err := ok.Validate(p); err != nil {
		t.Fatalf("valid campaign refused: %v", err)
	}
	bad := map[string]func(c *Campaign){
		"no name":             func(c *Campaign) { c.Name = " " },
		"ends before start":   func(c *Campaign) { c.End = c.Start.Add(-time.Hour) },
		"ends at start":       func(c *Campaign) { c.End = c.Start },
		"no change":           func(c *Campaign) { c.Reward = nil },
		"unknown mode":        func(c *Campaign) { c.Mode = "double" },
		"add another kind":    func(c *Campaign) { c.Reward = &Offer{Kind: OfferPercent, Percent: 5} },
		"reward over ceiling": func(c *Campaign) { c.Reward = &Offer{Kind: OfferFixed, AmountMinor: MaxMinor(MaxOfferMajor, "EUR")} },
		"percent over 100":    func(c *Campaign) { c.Mode = CampaignReplace; c.Friend = &Offer{Kind: OfferPercent, Percent: 120} },
		"no start":            func(c *Campaign) { c.Start = time.Time{} },
	}
	for name, mutate := range bad {
		c := ok
		mutate(&c)
		err := c.Validate(p)
		var e *Error
		if !errors.As(err, &e) || e.Code != EINVALID {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestCheckOverlap(t *testing.T) {
	d := func(day int) time.Time { return time.Date(2026, 12, day, 0, 0, 0, 0, time.UTC) }
	existing := []Campaign{{ID: 1, Name: "Week 1", Start: d(1), End: d(8)}, {ID: 2, Name: "Week 3", Start: d(15), End: d(22)}}
	cases := []struct {
		c       Campaign
		overlap bool
	}{
		{Campaign{Start: d(8), End: d(15)}, false},       // touches both ends
		{Campaign{Start: d(7), End: d(9)}, true},         // crosses week 1's end
		{Campaign{Start: d(16), End: d(17)}, true},       // inside week 3
		{Campaign{Start: d(1), End: d(31)}, true},        // covers both
		{Campaign{ID: 1, Start: d(2), End: d(8)}, false}, // week 1 edited
	}
	for _, c := range cases {
		err := CheckOverlap(c.c, existing)
		if (err != nil) != c.overlap {
			t.Errorf("%s–%s: %v", c.c.Start, c.c.End, err)
		}
	}
}
