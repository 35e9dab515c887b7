package app

import (
	"strings"
	"testing"
)

func TestMilestoneProblems(t *testing.T) {
	fixed := func(friends int, minor int64) Milestone {
		return Milestone{Friends: friends, Kind: OfferFixed, AmountMinor: minor}
	}
	pct := func(friends, percent int) Milestone {
		return Milestone{Friends: friends, Kind: OfferPercent, Percent: percent}
	}
	eleven := make([]Milestone, MaxMilestones+1)
	for i := range eleven {
		eleven[i] = fixed(i+1, 100)
	}
	ten := eleven[:MaxMilestones]
	for _, tc := range []struct {
		name   string
		ladder []Milestone
		want   map[string]string // field → part of the message
	}{
		{"none", nil, nil},
		{"the issue's ladder", []Milestone{fixed(3, 2000), pct(10, 25)}, nil},
		{"ten steps", ten, nil},
		{"eleven steps", eleven, map[string]string{"milestones": "at most 10"}},
		{"zero friends", []Milestone{fixed(0, 2000)}, map[string]string{"milestone_friends_0": "between 1 and 10000"}},
		{"negative friends", []Milestone{fixed(-2, 2000)}, map[string]string{"milestone_friends_0": "between 1"}},
		{"too many friends", []Milestone{fixed(MaxMilestoneFriends+1, 2000)}, map[string]string{"milestone_friends_0": "between 1"}},
		{"same threshold twice", []Milestone{fixed(3, 2000), pct(3, 25)}, map[string]string{"milestone_friends_1": "more than the milestone before (3)"}},
		{"decreasing", []Milestone{fixed(10, 2000), pct(3, 25)}, map[string]string{"milestone_friends_1": "Milestone 2"}},
		{"percent 0", []Milestone{pct(3, 0)}, map[string]string{"milestone_value_0": "between 1 and 100"}},
		{"percent 101", []Milestone{pct(3, 101)}, map[string]string{"milestone_value_0": "between 1 and 100"}},
		{"amount 0", []Milestone{fixed(3, 0)}, map[string]string{"milestone_value_0": "positive"}},
		{"amount negative", []Milestone{fixed(3, -5)}, map[string]string{"milestone_value_0": "positive"}},
		{"amount over the ceiling", []Milestone{fixed(3, MaxMinor(MaxOfferMajor, "EUR")+1)}, map[string]string{"milestone_value_0": "at most 1000000.00 EUR"}},
		{"free shipping is not a bonus", []Milestone{{Friends: 3, Kind: OfferFreeShipping}}, map[string]string{"milestone_kind_0": "percent off"}},
		{"unknown kind", []Milestone{{Friends: 3, Kind: "cash"}}, map[string]string{"milestone_kind_0": "Milestone 1"}},
		{"every problem at once", []Milestone{fixed(5, 0), {Friends: 5, Kind: "x"}},
			map[string]string{"milestone_value_0": "positive", "milestone_friends_1": "more than", "milestone_kind_1": "percent off"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := MilestoneProblems(tc.ladder, "EUR")
			if len(got) != len(tc.want) {
				t.Fatalf("problems %v, want fields %v", got, tc.want)
			}
			for f, part := range tc.want {
				if !strings.Contains(got[f], part) {
					t.Errorf("%s: %q, want it to say %q", f, got[f], part)
				}
			}
			// The program reports them too, as field errors.
			p := DefaultProgram(1, "EUR")
			p.Milestones = tc.ladder
			fields := FieldsOf(p.Validate())
			for f := range tc.want {
				if fields[f] == "" {
					t.Errorf("Program.Validate does not name %s: %v", f, fields)
				}
			}
			if len(tc.want) == 0 && p.Validate() != nil {
				t.Errorf("a good ladder refused: %v", p.Validate())
			}
		})
	}
}

func TestProgressOn(t *testing.T) {
	ladder := []Milestone{{Friends: 3, Kind: OfferFixed, AmountMinor: 2000}, {Friends: 10, Kind: OfferPercent, Percent: 25}}
	for _, tc := range []struct {
		approved, reached, next int
	}{{0, 0, 3}, {2, 0, 3}, {3, 1, 10}, {9, 1, 10}, {10, 2, 0}, {50, 2, 0}} {
		p := ProgressOn(ladder, tc.approved)
		next := 0
		if p.Next != nil {
			next = p.Next.Friends
		}
		if p.Approved != tc.approved || p.Reached != tc.reached || next != tc.next {
			t.Errorf("%d approved: %+v (next %d), want %d reached, next %d", tc.approved, p, next, tc.reached, tc.next)
		}
	}
	if p := ProgressOn(nil, 4); p.Next != nil || p.Reached != 0 {
		t.Errorf("no ladder: %+v", p)
	}
	if v := ladder[0].Value("EUR"); v != "20.00 EUR" {
		t.Errorf("value %q", v)
	}
	if v := ladder[1].Value("EUR"); v != "25%" {
		t.Errorf("value %q", v)
	}
}
