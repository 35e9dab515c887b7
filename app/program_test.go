package app

import (
	"strings"
	"testing"
)

func TestProgramAmountCeilings(t *testing.T) {
	ok := DefaultProgram(1, "EUR")
	if err := ok.Validate(); err != nil {
		t.Fatalf("default program: %v", err)
	}
	cases := []struct {
		name string
		mut  func(*Program)
		msg  string // "" = valid
	}{
		{"92 quadrillion EUR reward", func(p *Program) { p.RewardAmountMinor = 9_223_372_036_854_775_807 }, "reward amount must be at most 1000000.00 EUR"},
		{"reward one cent over", func(p *Program) { p.RewardAmountMinor = 100_000_001 }, "reward amount must be at most"},
		{"reward at the ceiling", func(p *Program) { p.RewardAmountMinor = 100_000_000 }, ""},
		{"friend fixed over", func(p *Program) { p.FriendKind, p.FriendAmountMinor = OfferFixed, 1<<40 }, "friend amount must be at most"},
		{"JPY has no cents", func(p *Program) { p.Currency, p.RewardAmountMinor = "JPY", 1_000_001 }, "at most 1000000 JPY"},
		{"minimum order huge", func(p *Program) { p.MinOrderMinor = 1 << 62 }, "minimum order must be at most"},
		{"friend minimum order negative", func(p *Program) { p.FriendMinOrderMinor = -1 }, "cannot be negative"},
		{"percent over 100", func(p *Program) { p.RewardKind, p.RewardPercent = OfferPercent, 101 }, "between 1 and 100"},
		{"expiry of a century", func(p *Program) { p.RewardExpiryDays = 36500 }, "at most 3650 days"},
		{"cap of a billion", func(p *Program) { p.CapPerAdvocate = 1_000_000_000 }, "at most 1000000"},
		{"velocity window of years", func(p *Program) { p.VelocityWindowMinutes = 1 << 30 }, "velocity window"},
		{"store credit", func(p *Program) { p.RewardKind = OfferStoreCredit }, ""},
		{"store credit of nothing", func(p *Program) { p.RewardKind, p.RewardAmountMinor = OfferStoreCredit, 0 }, "store credit amount must be positive"},
		{"store credit that never expires", func(p *Program) { p.RewardKind, p.RewardExpiryDays = OfferStoreCredit, 0 }, "Store credit needs an expiry"},
		{"store credit over the ceiling", func(p *Program) { p.RewardKind, p.RewardAmountMinor = OfferStoreCredit, 100_000_001 }, "reward amount must be at most"},
		{"store credit as a percent of what the friend paid", func(p *Program) { p.RewardKind, p.RewardAmountMinor, p.RewardPercent = OfferStoreCredit, 0, 5 }, ""},
		{"store credit as both", func(p *Program) { p.RewardKind, p.RewardPercent = OfferStoreCredit, 5 }, "not both"},
		{"store credit percent over 100", func(p *Program) { p.RewardKind, p.RewardAmountMinor, p.RewardPercent = OfferStoreCredit, 0, 150 }, "between 1 and 100"},
		{"unknown reward kind", func(p *Program) { p.RewardKind = "gift_card" }, "store credit (store_credit)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := DefaultProgram(1, "EUR")
			tc.mut(&p)
			err := p.Validate()
			if tc.msg == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if ErrorCode(err) != EINVALID || !strings.Contains(ErrorMessage(err), tc.msg) {
				t.Fatalf("got %v, want EINVALID %q", err, tc.msg)
			}
		})
	}
}
