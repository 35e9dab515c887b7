package attribution

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/parrain/parrain/app"
)

// EvidenceKind says how an order points at an advocate, strongest first.
type EvidenceKind string

// Evidence kinds, strongest first (PRODUCT.md "Rules the engine applies").
const (
	EvidenceDiscountCode  EvidenceKind = "discount_code"  // the advocate's friend code was used
	EvidenceCartAttribute EvidenceKind = "cart_attribute" // parrain_ref written by the storefront script
	EvidenceLandingSite   EvidenceKind = "landing_site"   // ?ref= in the first page the friend landed on
	EvidenceManual        EvidenceKind = "manual"         // attributed by support
)

// CartAttribute is the cart attribute (Shopify note_attributes, WooCommerce
// order meta _parrain_ref) that carries a referral code.
const CartAttribute = "parrain_ref"

// Evidence is one clue that an order was referred.
type Evidence struct {
	Kind EvidenceKind
	// Code is the referral or friend discount code the clue names,
	// normalised with app.NormalizeCode.
	Code string
}

// Describe says it in words for support.
func (e Evidence) Describe() string {
	switch e.Kind {
	case EvidenceDiscountCode:
		return "discount code " + e.Code
	case EvidenceCartAttribute:
		return "referral cart attribute " + e.Code
	case EvidenceLandingSite:
		return "referral link (?ref=" + e.Code + ")"
	case EvidenceManual:
		return "manual attribution by support"
	}
	return string(e.Kind)
}

// Order is what attribution needs to know about an order, whatever the
// platform. Total is in the shop's currency.
type Order struct {
	PlatformID      string
	Name            string
	CustomerID      string
	Email           string
	Phone           string
	ShippingAddress Address
	BrowserIP       string
	Total           app.Money
	DiscountCodes   []string
	CartAttributes  map[string]string
	LandingSite     string
	// Key is the platform's secret order key (WooCommerce's order_key),
	// which the thank-you page shows and the widget API checks.
	Key string
	// ConfirmationNumber is the code Shopify shows the buyer on the
	// thank-you page (the order's confirmation_number): with a guest's
	// session token, it is what proves the page shows this order.
	ConfirmationNumber string `json:",omitempty"`
	Test               bool
	SourceName         string
	CreatedAt          time.Time
}

// Evidences lists the order's clues, strongest first. The caller resolves
// each code to an advocate and keeps the first that resolves: a discount code
// that is not a friend code (a store-wide SALE10) must not hide a ref link.
func Evidences(o Order) []Evidence {
	var out []Evidence
	seen := map[Evidence]bool{}
	add := func(kind EvidenceKind, code string) {
		e := Evidence{Kind: kind, Code: app.NormalizeCode(code)}
		if e.Code != "" && !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	for _, c := range o.DiscountCodes {
		add(EvidenceDiscountCode, c)
	}
	add(EvidenceCartAttribute, o.CartAttributes[CartAttribute])
	add(EvidenceLandingSite, landingRef(o.LandingSite))
	return out
}

// landingRef reads the ref parameter of a landing path such as
// "/products/x?utm_source=y&ref=MARIE-7K2QX".
func landingRef(landing string) string {
	if landing == "" {
		return ""
	}
	u, err := url.Parse(landing)
	if err != nil {
		return ""
	}
	return u.Query().Get("ref")
}

// Advocate is what the self-referral rule compares the friend with: the
// advocate's own identity and what their own orders showed.
type Advocate struct {
	ID         int64
	Code       string
	CustomerID string
	Emails     []string
	Phones     []string
	Addresses  []Address
	IPs        []string
	// CreatedAt is when the advocate got their code; zero when unknown.
	CreatedAt time.Time
}

// Rules are a program's attribution rules.
type Rules struct {
	NewCustomersOnly bool
	// MinOrder is the minimum order total in the shop currency; zero Minor
	// means none.
	MinOrder        app.Money
	ExcludeTest     bool
	ExcludedSources []string // e.g. "pos", "shopify_draft_order"
	CapPerAdvocate  int      // rewards per advocate per CapWindow; 0 means none
	CapWindow       time.Duration
	VelocityPerIP   int // referred orders from one browser IP per VelocityWindow before review; 0 means none
	VelocityPerCode int // referred orders on one advocate per VelocityWindow before review; 0 means none
	VelocityWindow  time.Duration
}

// History is what the caller knows about the past, looked up before
// evaluation.
type History struct {
	// FriendPriorOrders counts the friend's earlier orders, known to us or
	// to the store.
	FriendPriorOrders int
	// AdvocateReferrals counts the advocate's referrals in CapWindow that
	// count towards the cap (not rejected or reversed).
	AdvocateReferrals int
	// IPReferrals and CodeReferrals count referred orders in VelocityWindow
	// from the order's browser IP and on this advocate.
	IPReferrals   int
	CodeReferrals int
	// FriendReferredAdvocate is true when the friend is an advocate who
	// referred this advocate: two people rewarding each other in a circle.
	FriendReferredAdvocate bool
}

// State is where a referral stands after attribution.
type State string

// Attribution outcomes.
const (
	StatePending     State = "pending"      // passes every rule; waits for the holding period
	StateNeedsReview State = "needs_review" // a review rule fired; support decides
	StateRejected    State = "rejected"     // a rule failed
)

// Outcome is one rule's verdict on one order.
type Outcome struct {
	Rule   string `json:"rule"`
	Passed bool   `json:"passed"`
	// Effect is what a failure does: "reject" or "review".
	Effect string `json:"effect"`
	Reason string `json:"reason"`
}

// Decision is the result of attribution, stored with the referral so
// support can see exactly why.
type Decision struct {
	Evidence Evidence  `json:"evidence"`
	Outcomes []Outcome `json:"outcomes"`
	State    State     `json:"state"`
	// Reason is the first failing rule's reason, "" when pending.
	Reason string `json:"reason"`
}

// Explain renders the decision in one line, e.g. "attributed by discount
// code FRIEND-MARIE; new customer ✓; self-referral ✗ (same shipping
// address as advocate)".
func (d Decision) Explain() string {
	parts := []string{"attributed by " + d.Evidence.Describe()}
	for _, o := range d.Outcomes {
		mark := "✓"
		if !o.Passed {
			mark = "✗ (" + o.Reason + ")"
		}
		parts = append(parts, o.Rule+" "+mark)
	}
	return strings.Join(parts, "; ")
}

// Evaluate applies every rule to the order and the advocate it was
// attributed to by ev. Every rule is evaluated, even after one fails, so
// support sees the whole picture.
func Evaluate(o Order, ev Evidence, adv Advocate, r Rules, h History) Decision {
	d := Decision{Evidence: ev}
	add := func(rule, effect string, passed bool, reason string) {
		d.Outcomes = append(d.Outcomes, Outcome{Rule: rule, Passed: passed, Effect: effect, Reason: reason})
	}
	self := selfReferral(o, adv)
	add("self-referral", "reject", self == "", self)

	add("not the advocate's own referrer", "reject", !h.FriendReferredAdvocate, "the friend referred the advocate: they would reward each other")
	if ev.Kind == EvidenceManual && !adv.CreatedAt.IsZero() && !o.CreatedAt.IsZero() {
		// A code found on the order proves the advocate existed; an order
		// attributed by hand carries no such proof.
		add("placed after the advocate joined", "reject", !o.CreatedAt.Before(adv.CreatedAt),
			fmt.Sprintf("the order was placed on %s, before the advocate got their code on %s",
				o.CreatedAt.UTC().Format("2 Jan 2006 15:04 MST"), adv.CreatedAt.UTC().Format("2 Jan 2006 15:04 MST")))
	}
	if r.NewCustomersOnly {
		add("new customer", "reject", h.FriendPriorOrders == 0, fmt.Sprintf("the customer already had %d order(s)", h.FriendPriorOrders))
	}
	if r.MinOrder.Minor > 0 {
		below, err := o.Total.Less(r.MinOrder)
		switch {
		case err != nil:
			add("minimum order", "review", false, fmt.Sprintf("order total %s is not in the program currency %s", o.Total, r.MinOrder.Currency))
		default:
			add("minimum order", "reject", !below, fmt.Sprintf("order total %s is under the minimum %s", o.Total, r.MinOrder))
		}
	}
	if r.ExcludeTest {
		add("not a test order", "reject", !o.Test, "test order")
	}
	if len(r.ExcludedSources) > 0 {
		excluded := false
		for _, s := range r.ExcludedSources {
			excluded = excluded || strings.EqualFold(s, o.SourceName)
		}
		add("sales channel", "reject", !excluded, fmt.Sprintf("orders from %q are excluded", o.SourceName))
	}
	if r.CapPerAdvocate > 0 {
		add("advocate cap", "reject", h.AdvocateReferrals < r.CapPerAdvocate,
			fmt.Sprintf("the advocate already has %d referral(s) in %s (cap %d)", h.AdvocateReferrals, days(r.CapWindow), r.CapPerAdvocate))
	}
	if r.VelocityPerIP > 0 && o.BrowserIP != "" {
		add("velocity (IP)", "review", h.IPReferrals < r.VelocityPerIP,
			fmt.Sprintf("%d referred orders from this IP within %s", h.IPReferrals+1, r.VelocityWindow))
	}
	if r.VelocityPerCode > 0 {
		add("velocity (advocate)", "review", h.CodeReferrals < r.VelocityPerCode,
			fmt.Sprintf("%d referred orders on this advocate within %s", h.CodeReferrals+1, r.VelocityWindow))
	}

	d.State = StatePending
	for _, out := range d.Outcomes {
		if out.Passed {
			continue
		}
		if out.Effect == "reject" {
			d.State, d.Reason = StateRejected, out.Reason
			break
		}
		if d.State == StatePending {
			d.State, d.Reason = StateNeedsReview, out.Reason
		}
	}
	for i := range d.Outcomes {
		if d.Outcomes[i].Passed {
			d.Outcomes[i].Reason = ""
		}
	}
	return d
}

// selfReferral returns why the friend looks like the advocate, or "".
func selfReferral(o Order, adv Advocate) string {
	if o.CustomerID != "" && o.CustomerID == adv.CustomerID {
		return "same customer as the advocate"
	}
	if e := NormalizeEmail(o.Email); e != "" {
		for _, ae := range adv.Emails {
			if NormalizeEmail(ae) == e {
				return "same email as the advocate"
			}
		}
	}
	if p := NormalizePhone(o.Phone); p != "" {
		for _, ap := range adv.Phones {
			if NormalizePhone(ap) == p {
				return "same phone as the advocate"
			}
		}
	}
	if a := NormalizeAddress(o.ShippingAddress); a != "" {
		for _, aa := range adv.Addresses {
			if NormalizeAddress(aa) == a {
				return "same shipping address as the advocate"
			}
		}
	}
	if o.BrowserIP != "" {
		for _, ip := range adv.IPs {
			if ip == o.BrowserIP {
				return "same browser IP as the advocate's orders"
			}
		}
	}
	return ""
}

func days(d time.Duration) string {
	if d <= 0 {
		return "any period"
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}
