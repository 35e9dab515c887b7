package app

import "time"

// Offer kinds.
const (
	OfferPercent      = "percent"
	OfferFixed        = "fixed"
	OfferFreeShipping = "free_shipping"
)

// Program is a shop's referral program: the two-sided offer and the rules.
// Amounts are in the shop currency's minor units.
type Program struct {
	ID       int64
	ShopID   int64
	Enabled  bool
	Currency string

	FriendKind          string // OfferPercent, OfferFixed or OfferFreeShipping
	FriendPercent       int
	FriendAmountMinor   int64
	FriendMinOrderMinor int64

	RewardKind        string // OfferPercent or OfferFixed
	RewardPercent     int
	RewardAmountMinor int64
	RewardExpiryDays  int

	HoldingDays           int
	NewCustomersOnly      bool
	MinOrderMinor         int64
	ExcludeTestOrders     bool
	ExcludedSources       []string
	CapPerAdvocate        int
	CapWindowDays         int
	VelocityPerIP         int
	VelocityPerAdvocate   int
	VelocityWindowMinutes int
}

// DefaultProgram is what a shop gets on install: friend 10% off, referrer
// 10.00 off their next order, 14-day hold, new customers only.
func DefaultProgram(shopID int64, currency string) Program {
	if currency == "" {
		currency = "USD"
	}
	ten := int64(10)
	for range MinorDigits(currency) {
		ten *= 10
	}
	return Program{
		ShopID: shopID, Enabled: true, Currency: currency,
		FriendKind: OfferPercent, FriendPercent: 10,
		RewardKind: OfferFixed, RewardAmountMinor: ten, RewardExpiryDays: 90,
		HoldingDays: 14, NewCustomersOnly: true, ExcludeTestOrders: true,
		CapPerAdvocate: 10, CapWindowDays: 30, VelocityPerIP: 5, VelocityPerAdvocate: 20, VelocityWindowMinutes: 60,
	}
}

// Validate returns an EINVALID error naming the first bad field.
func (p Program) Validate() error {
	switch {
	case p.FriendKind != OfferPercent && p.FriendKind != OfferFixed && p.FriendKind != OfferFreeShipping:
		return Errorf(EINVALID, "friend offer kind must be percent, fixed or free_shipping")
	case p.FriendKind == OfferPercent && (p.FriendPercent < 1 || p.FriendPercent > 100):
		return Errorf(EINVALID, "friend percent must be between 1 and 100")
	case p.FriendKind == OfferFixed && p.FriendAmountMinor <= 0:
		return Errorf(EINVALID, "friend amount must be positive")
	case p.RewardKind != OfferPercent && p.RewardKind != OfferFixed:
		return Errorf(EINVALID, "reward kind must be percent or fixed")
	case p.RewardKind == OfferPercent && (p.RewardPercent < 1 || p.RewardPercent > 100):
		return Errorf(EINVALID, "reward percent must be between 1 and 100")
	case p.RewardKind == OfferFixed && p.RewardAmountMinor <= 0:
		return Errorf(EINVALID, "reward amount must be positive")
	case p.HoldingDays < 0 || p.HoldingDays > 365:
		return Errorf(EINVALID, "holding period must be between 0 and 365 days")
	case p.MinOrderMinor < 0 || p.FriendMinOrderMinor < 0 || p.RewardExpiryDays < 0:
		return Errorf(EINVALID, "amounts and durations cannot be negative")
	case p.CapPerAdvocate < 0 || p.CapWindowDays < 1 || p.VelocityPerIP < 0 || p.VelocityPerAdvocate < 0 || p.VelocityWindowMinutes < 1:
		return Errorf(EINVALID, "caps must be zero or more and windows at least 1")
	case len(p.Currency) != 3:
		return Errorf(EINVALID, "currency must be an ISO 4217 code")
	}
	return nil
}

// Hold is the holding period.
func (p Program) Hold() time.Duration { return time.Duration(p.HoldingDays) * 24 * time.Hour }
