package app

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
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

	RewardKind        string // OfferPercent, OfferFixed or OfferStoreCredit
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

	// Milestones is the ladder of bonuses over an advocate's approved
	// referrals (app/milestone.go); empty: none.
	Milestones []Milestone
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

// Problems returns every bad widget setting at once, keyed by the
// settings form's field name, in plain words.
func (w WidgetSettings) Problems() FieldErrors {
	bad := FieldErrors{}
	if w.Language != LanguageAuto && !slices.Contains(Languages, w.Language) {
		bad["language"] = "The widget language must be auto (the shopper's page), " + strings.Join(Languages, " or ") + "."
	}
	for _, c := range []struct{ field, name, v string }{
		{"accent_color", "accent", w.AccentColor}, {"background_color", "background", w.BackgroundColor}, {"text_color", "text", w.TextColor},
	} {
		if !colorShape.MatchString(c.v) {
			bad[c.field] = "The " + c.name + " colour must look like #1f6f5c."
		}
	}
	if w.Position != PositionCenter && w.Position != PositionBottomRight && w.Position != PositionBottomLeft {
		bad["position"] = "The widget position must be center, bottom-right or bottom-left."
	}
	if w.CapDays < 0 || w.CapDays > 365 {
		bad["cap_days"] = "The widget frequency cap must be between 0 and 365 days."
	}
	for lang, texts := range w.Texts {
		if !slices.Contains(Languages, lang) {
			bad["texts"] = fmt.Sprintf("Widget texts: unknown language %q.", lang)
			continue
		}
		for k, v := range texts {
			switch {
			case !slices.Contains(WidgetTextKeys, k):
				bad["texts"] = fmt.Sprintf("Widget texts: unknown text %q (known: %s).", k, strings.Join(WidgetTextKeys, ", "))
			case strings.TrimSpace(v) == "" || utf8.RuneCountInString(v) > 300:
				bad[k+"_"+lang] = fmt.Sprintf("Widget texts: %s.%s must be 1 to 300 characters.", lang, k)
			}
		}
	}
	return bad
}

// Validate returns an EINVALID error naming every bad widget setting.
func (w WidgetSettings) Validate() error { return w.Problems().Err() }

// MinContrast is WCAG 2's minimum contrast ratio for normal text (1.4.3, AA).
const MinContrast = 4.5

// ContrastWarnings says which of the popup's colour pairs are hard to read
// (under MinContrast): the shopper would not see the offer. A warning, not
// a refusal: the merchant may know their theme better.
func (w WidgetSettings) ContrastWarnings() FieldErrors {
	out := FieldErrors{}
	if r, ok := ContrastRatio(w.TextColor, w.BackgroundColor); ok && r < MinContrast {
		out["text_color"] = fmt.Sprintf("The text on the background has a contrast of %.1f:1; shoppers need at least %.1f:1 to read it.", r, MinContrast)
	}
	// The accent is the button's background under white text.
	if r, ok := ContrastRatio("#ffffff", w.AccentColor); ok && r < MinContrast {
		out["accent_color"] = fmt.Sprintf("White button text on the accent colour has a contrast of %.1f:1; shoppers need at least %.1f:1 to read it.", r, MinContrast)
	}
	return out
}

// ContrastRatio is WCAG 2's contrast ratio of two #rrggbb colours (1 to 21);
// ok is false when either is not a colour.
func ContrastRatio(a, b string) (float64, bool) {
	la, ok1 := luminance(a)
	lb, ok2 := luminance(b)
	if !ok1 || !ok2 {
		return 0, false
	}
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05), true
}

// luminance is WCAG 2's relative luminance of a #rrggbb colour.
func luminance(hex string) (float64, bool) {
	if !colorShape.MatchString(hex) {
		return 0, false
	}
	var rgb [3]float64
	for i := range rgb {
		v, _ := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		c := float64(v) / 255
		if c <= 0.03928 {
			c /= 12.92
		} else {
			c = math.Pow((c+0.055)/1.055, 2.4)
		}
		rgb[i] = c
	}
	return 0.2126*rgb[0] + 0.7152*rgb[1] + 0.0722*rgb[2], true
}

// FieldErrors are problems keyed by the field they are about (the settings
// form's field names), in plain words.
type FieldErrors map[string]string

// Err is nil when there is no problem, else one EINVALID error naming them
// all, in a stable order.
func (f FieldErrors) Err() error {
	if len(f) == 0 {
		return nil
	}
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	msgs := make([]string, len(keys))
	for i, k := range keys {
		msgs[i] = strings.TrimSuffix(f[k], ".")
	}
	return &Error{Code: EINVALID, Message: strings.Join(msgs, "; "), Err: fieldErrors(f)}
}

// fieldErrors carries the fields inside the EINVALID error, for FieldsOf.
type fieldErrors FieldErrors

func (f fieldErrors) Error() string { return fmt.Sprintf("%d invalid fields", len(f)) }

// FieldsOf returns the per-field problems an error carries, or nil.
func FieldsOf(err error) FieldErrors {
	var f fieldErrors
	if errors.As(err, &f) {
		return FieldErrors(f)
	}
	return nil
}

// DefaultProgram is what a shop gets on install: friend 10% off, referrer
// 10.00 off their next order, 14-day hold, new customers only, and a
// minimum order of twice the reward (20.00): a 5.00 order must not earn a
// 10.00 reward, and with the friend's 10% the referral then costs the shop
// at most 60% of the first order's value, the usual ceiling of a
// customer-acquisition cost for a first order (docs/program.md).
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
		HoldingDays: 14, NewCustomersOnly: true, ExcludeTestOrders: true, MinOrderMinor: 2 * ten,
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

// Validate returns an EINVALID error naming every bad field; FieldsOf
// gives them per field.
func (p Program) Validate() error { return p.Problems().Err() }

// Problems returns every bad field at once, keyed by the settings form's
// field name, in plain words. Only the fields of the chosen offer kinds are
// checked: a hidden percent field does not block saving a fixed reward.
func (p Program) Problems() FieldErrors {
	bad := FieldErrors{}
	set := func(field, format string, args ...any) {
		if _, dup := bad[field]; !dup {
			bad[field] = fmt.Sprintf(format, args...)
		}
	}
	amount := func(field, name string, minor, maxMajor int64) {
		if minor < 0 {
			set(field, "The %s cannot be negative.", name)
		} else if limit := MaxMinor(maxMajor, p.Currency); minor > limit {
			set(field, "The %s must be at most %s %s.", name, Money{Minor: limit, Currency: p.Currency}.Decimal(), p.Currency)
		}
	}
	amount("friend_amount", "friend amount", p.FriendAmountMinor, MaxOfferMajor)
	amount("reward_amount", "reward amount", p.RewardAmountMinor, MaxOfferMajor)
	amount("min_order", "minimum order", p.MinOrderMinor, MaxThresholdMajor)
	amount("friend_min_order", "friend minimum order", p.FriendMinOrderMinor, MaxThresholdMajor)
	switch p.FriendKind {
	case OfferPercent:
		if p.FriendPercent < 1 || p.FriendPercent > 100 {
			set("friend_percent", "The friend's percent off must be between 1 and 100.")
		}
	case OfferFixed:
		if p.FriendAmountMinor <= 0 {
			set("friend_amount", "The friend amount must be positive.")
		}
	case OfferFreeShipping:
	default:
		set("friend_kind", "The friend's offer must be a percent off, an amount off or free shipping.")
	}
	switch p.RewardKind {
	case OfferPercent:
		if p.RewardPercent < 1 || p.RewardPercent > 100 {
			set("reward_percent", "The reward percent must be between 1 and 100.")
		}
	case OfferFixed:
		if p.RewardAmountMinor <= 0 {
			set("reward_amount", "The reward amount must be positive.")
		}
	case OfferStoreCredit:
		// An amount, or a percent of what the friend paid (in the shop's
		// money, refunds taken off), worked out when the referral is
		// approved.
		switch {
		case p.RewardAmountMinor > 0 && p.RewardPercent > 0:
			set("reward_percent", "Store credit is an amount or a percent of what the friend paid, not both: set the other to 0.")
		case p.RewardAmountMinor <= 0 && p.RewardPercent == 0:
			set("reward_amount", "The store credit amount must be positive (or give a percent of what the friend paid).")
		case p.RewardAmountMinor <= 0 && (p.RewardPercent < 1 || p.RewardPercent > 100):
			set("reward_percent", "The store credit percent must be between 1 and 100.")
		}
		// The expiry is how Parrain finds a credit again after a retry
		// (StoreCreditExpiry): a credit without one could be paid twice.
		if p.RewardExpiryDays < 1 {
			set("reward_expiry_days", "Store credit needs an expiry of 1 to %d days: Parrain recognises a credit it already gave by its expiry, so that a retry never pays twice.", maxDays)
		}
	default:
		set("reward_kind", "The reward kind must be a percent off (percent), an amount off (fixed) or store credit (store_credit).")
	}
	if p.HoldingDays < 0 || p.HoldingDays > 365 {
		set("holding_days", "The holding period must be between 0 and 365 days.")
	}
	if p.RewardExpiryDays < 0 || p.RewardExpiryDays > maxDays {
		set("reward_expiry_days", "The reward expiry must be at most %d days (0: it never expires).", maxDays)
	}
	if p.CapWindowDays < 1 || p.CapWindowDays > maxDays {
		set("cap_window_days", "The cap window must be between 1 and %d days.", maxDays)
	}
	if p.VelocityWindowMinutes < 1 || p.VelocityWindowMinutes > maxDays*24*60 {
		set("velocity_window_minutes", "The velocity window must be between 1 and %d minutes.", maxDays*24*60)
	}
	for _, c := range []struct {
		field, name string
		v           int
	}{{"cap_per_advocate", "referrals per advocate", p.CapPerAdvocate}, {"velocity_per_ip", "orders per address", p.VelocityPerIP},
		{"velocity_per_advocate", "orders per advocate", p.VelocityPerAdvocate}} {
		if c.v < 0 || c.v > maxCount {
			set(c.field, "The cap on %s must be between 0 (none) and at most %d.", c.name, maxCount)
		}
	}
	for _, s := range p.ExcludedSources {
		if strings.TrimSpace(s) == "" || len(s) > 100 {
			set("excluded_sources", "Each excluded sales channel is a name of 1 to 100 characters.")
		}
	}
	if len(p.Currency) != 3 {
		set("currency", "The currency must be an ISO 4217 code.")
	}
	for k, v := range p.Widget.Problems() {
		set(k, "%s", v)
	}
	for k, v := range MilestoneProblems(p.Milestones, p.Currency) {
		set(k, "%s", v)
	}
	return bad
}

// Hold is the holding period.
func (p Program) Hold() time.Duration { return time.Duration(p.HoldingDays) * 24 * time.Hour }
