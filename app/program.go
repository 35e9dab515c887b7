package app

import (
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

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

	Widget WidgetSettings
}

// Widget positions.
const (
	PositionCenter      = "center"
	PositionBottomRight = "bottom-right"
	PositionBottomLeft  = "bottom-left"
)

// Languages the popup speaks; LanguageAuto follows the shopper's page.
const LanguageAuto = "auto"

// Languages are the languages the popup has texts for.
var Languages = []string{"en", "fr"}

// WidgetTextKeys are the popup texts a merchant may override.
var WidgetTextKeys = []string{"title", "offer", "link_label", "copy", "copied", "copy_manual", "code_label",
	"share_label", "share_message", "terms", "no_thanks", "close", "launcher"}

// WidgetSettings is how the shopper's popup looks and behaves.
type WidgetSettings struct {
	Enabled bool
	// Language is LanguageAuto or one of Languages.
	Language string
	// Texts overrides built-in texts: language → key → text.
	Texts           map[string]map[string]string
	AccentColor     string
	BackgroundColor string
	TextColor       string
	Position        string
	// CapDays is how long a shopper who closed the popup is left alone.
	CapDays  int
	Launcher bool
}

// DefaultWidget is the popup a new program gets.
func DefaultWidget() WidgetSettings {
	return WidgetSettings{Enabled: true, Language: LanguageAuto, Texts: map[string]map[string]string{},
		AccentColor: "#1f6f5c", BackgroundColor: "#ffffff", TextColor: "#1a1a1a", Position: PositionCenter, CapDays: 30}
}

var colorShape = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// Validate returns an EINVALID error naming the first bad widget setting.
func (w WidgetSettings) Validate() error {
	if w.Language != LanguageAuto && !slices.Contains(Languages, w.Language) {
		return Errorf(EINVALID, "widget language must be auto, %s", strings.Join(Languages, " or "))
	}
	for name, c := range map[string]string{"accent": w.AccentColor, "background": w.BackgroundColor, "text": w.TextColor} {
		if !colorShape.MatchString(c) {
			return Errorf(EINVALID, "widget %s colour must look like #1f6f5c", name)
		}
	}
	if w.Position != PositionCenter && w.Position != PositionBottomRight && w.Position != PositionBottomLeft {
		return Errorf(EINVALID, "widget position must be center, bottom-right or bottom-left")
	}
	if w.CapDays < 0 || w.CapDays > 365 {
		return Errorf(EINVALID, "widget frequency cap must be between 0 and 365 days")
	}
	for lang, texts := range w.Texts {
		if !slices.Contains(Languages, lang) {
			return Errorf(EINVALID, "widget texts: unknown language %q", lang)
		}
		for k, v := range texts {
			switch {
			case !slices.Contains(WidgetTextKeys, k):
				return Errorf(EINVALID, "widget texts: unknown text %q (known: %s)", k, strings.Join(WidgetTextKeys, ", "))
			case strings.TrimSpace(v) == "" || utf8.RuneCountInString(v) > 300:
				return Errorf(EINVALID, "widget texts: %s.%s must be 1 to 300 characters", lang, k)
			}
		}
	}
	return nil
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
		Widget: DefaultWidget(),
	}
}

// Ceilings on what a program may say. An amount has no natural upper bound
// in int64 minor units (a 92 quadrillion EUR reward was accepted once), and
// a store would create whatever code it is asked to: a payout or discount
// over a million currency units is a typo or an attack, not a program.
const (
	// MaxOfferMajor bounds discounts and rewards, in major units of the
	// shop's currency (1,000,000.00 EUR, 1,000,000 JPY).
	MaxOfferMajor = 1_000_000
	// MaxThresholdMajor bounds order-value thresholds and filters, which
	// pay nothing but must stay far from overflow.
	MaxThresholdMajor = 1_000_000_000
	maxDays           = 3650
	maxCount          = 1_000_000
)

// MaxMinor is major units of currency in minor units (1,000,000 EUR →
// 100,000,000 cents).
func MaxMinor(major int64, currency string) int64 {
	for range MinorDigits(currency) {
		major *= 10
	}
	return major
}

// CheckAmount returns an EINVALID error naming the field when minor is
// negative or over max major units of the currency.
func CheckAmount(field string, minor, maxMajor int64, currency string) error {
	if minor < 0 {
		return Errorf(EINVALID, "%s cannot be negative", field)
	}
	if limit := MaxMinor(maxMajor, currency); minor > limit {
		return Errorf(EINVALID, "%s must be at most %s %s", field, Money{Minor: limit, Currency: currency}.Decimal(), currency)
	}
	return nil
}

// Validate returns an EINVALID error naming the first bad field.
func (p Program) Validate() error {
	for _, a := range []struct {
		field string
		minor int64
		max   int64
	}{
		{"friend amount", p.FriendAmountMinor, MaxOfferMajor},
		{"reward amount", p.RewardAmountMinor, MaxOfferMajor},
		{"minimum order", p.MinOrderMinor, MaxThresholdMajor},
		{"friend minimum order", p.FriendMinOrderMinor, MaxThresholdMajor},
	} {
		if err := CheckAmount(a.field, a.minor, a.max, p.Currency); err != nil {
			return err
		}
	}
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
	case p.RewardExpiryDays > maxDays || p.CapWindowDays > maxDays:
		return Errorf(EINVALID, "reward expiry and cap window must be at most %d days", maxDays)
	case p.VelocityWindowMinutes > maxDays*24*60:
		return Errorf(EINVALID, "velocity window must be at most %d minutes", maxDays*24*60)
	case p.CapPerAdvocate > maxCount || p.VelocityPerIP > maxCount || p.VelocityPerAdvocate > maxCount:
		return Errorf(EINVALID, "caps must be at most %d", maxCount)
	case len(p.Currency) != 3:
		return Errorf(EINVALID, "currency must be an ISO 4217 code")
	}
	return p.Widget.Validate()
}

// Hold is the holding period.
func (p Program) Hold() time.Duration { return time.Duration(p.HoldingDays) * 24 * time.Hour }
