package app

import (
	"context"
	"time"
)

// Advocate is a customer who shares: their referral code (in links) and the
// friend discount code that exists in the store for them.
type Advocate struct {
	ID              int64
	ShopID          int64
	CustomerID      string
	FirstName       string
	Email           string
	Code            string
	FriendCode      string
	FriendCodeState string // pending, created, failed
	FriendCodeRef   string
	CreatedAt       time.Time
}

// Referral states.
const (
	ReferralPending     = "pending"
	ReferralNeedsReview = "needs_review"
	ReferralRejected    = "rejected"
	ReferralApproved    = "approved"
	ReferralRewarded    = "rewarded"
	ReferralReversed    = "reversed"
)

// Referral links a friend's order to the advocate who referred it.
type Referral struct {
	ID           int64
	ShopID       int64
	AdvocateID   int64
	OrderID      int64
	EvidenceKind string
	EvidenceCode string
	Decision     []byte // JSON of attribution.Decision
	State        string
	Reason       string
	HoldUntil    time.Time
	Flagged      bool
	// Offer is what the referral earns, fixed when the friend ordered; nil
	// for referrals made before offers were stored (they follow the program).
	Offer     *OfferTerms
	CreatedAt time.Time
}

// Reward states.
const (
	RewardIssuing = "issuing"
	RewardIssued  = "issued"
	RewardFailed  = "failed"
	RewardRevoked = "revoked"
)

// Reward is the referrer's reward for one referral.
type Reward struct {
	ID          int64
	ShopID      int64
	ReferralID  int64
	AdvocateID  int64
	Code        string
	Kind        string // OfferPercent, OfferFixed or OfferStoreCredit
	Percent     int
	AmountMinor int64
	Currency    string
	ExpiresAt   *time.Time
	State       string
	StoreRef    string
	Error       string
	// MilestoneFriends is the milestone a bonus reward is for (the
	// ladder's threshold); 0 for a referral's reward. A milestone reward
	// has no referral (ReferralID 0).
	MilestoneFriends int
	// ReviewSince is when a reversal took the advocate back under the
	// milestone of this paid bonus: kept, not clawed back, for support.
	ReviewSince *time.Time
	// CreditMinor in CreditCurrency is what a store credit reward puts on
	// the advocate's account when it is in their own currency, not the
	// shop's (decided once, with the row); "" when it is AmountMinor in
	// Currency. AmountMinor and Currency stay the reward in the shop's
	// money: its cost.
	CreditMinor    int64
	CreditCurrency string
}

// Credited is what the advocate receives, in their currency: the store
// credit's own amount when it was converted, else the reward's amount.
func (r *Reward) Credited() Money {
	if r.CreditCurrency != "" {
		return Money{Minor: r.CreditMinor, Currency: r.CreditCurrency}
	}
	return Money{Minor: r.AmountMinor, Currency: r.Currency}
}

// DiscountSpec is a discount code to create in the store.
type DiscountSpec struct {
	Code          string
	Title         string
	Kind          string // OfferPercent, OfferFixed or OfferFreeShipping
	Percent       int
	AmountMinor   int64
	Currency      string
	MinOrderMinor int64
	// CustomerID restricts the code to one customer; "" means anyone.
	// Platforms that restrict by email instead (WooCommerce) use
	// CustomerEmail.
	CustomerID    string
	CustomerEmail string
	// UsageLimit is the total number of uses; 0 means unlimited.
	UsageLimit      int
	OncePerCustomer bool
	StartsAt        time.Time
	EndsAt          *time.Time
}

// StorePlatform is what the engine needs from a store platform. Shopify and
// WooCommerce adapters implement it and pass the same conformance suite.
// Every create is idempotent by code: creating a code that exists returns
// the existing one's reference instead of a second code.
type StorePlatform interface {
	// CreateDiscount creates the code (or finds it) and returns the
	// platform's reference to it.
	CreateDiscount(ctx context.Context, shop *Shop, d DiscountSpec) (ref string, err error)
	// DeactivateDiscount makes the code unusable; unknown codes are not an
	// error.
	DeactivateDiscount(ctx context.Context, shop *Shop, code string) error
	// CustomerOrderCount returns how many orders the store knows for the
	// customer.
	CustomerOrderCount(ctx context.Context, shop *Shop, customerID string) (int, error)
	// LandingURL is where a friend who followed an advocate's link lands:
	// the store's own origin, the friend's discount already applied where
	// the store can, and refCode kept for attribution. An empty friendCode
	// is the store's home page.
	LandingURL(shop *Shop, friendCode, refCode string) string
	// FetchOrder reads one order from the store as the webhook event its
	// delivery would be (same topic, same event id, same payload), so that
	// storing it is deduplicated against the delivery itself. It is for a
	// store whose deliveries can lag behind the shopper's order page; nil,
	// nil where the platform's deliveries need no such help.
	FetchOrder(ctx context.Context, shop *Shop, orderID string) (*FetchedOrder, error)
	// OrderAdminURL and CustomerAdminURL are the store admin's own pages
	// of an order and of a customer, for support to open; "" when there
	// is none (a guest has no customer page).
	OrderAdminURL(shop *Shop, orderID string) string
	CustomerAdminURL(shop *Shop, customerID string) string

	// FriendBatchLimit is how many friend codes one AddFriendCodes call
	// may carry (Shopify's discountRedeemCodeBulkAdd: 250; WooCommerce's
	// coupons/batch: 100).
	FriendBatchLimit(shop *Shop) int
	// AddFriendCodes puts codes in the store, all with the offer's terms:
	// under the offer's one discount where the platform holds many codes
	// per discount (offer.Ref, created with the first code when empty and
	// returned in BulkAdd.OfferRef), else a discount each. A code the
	// store already holds (a retry after a crash) is reported created
	// with the discount that holds it, never added twice. When the store
	// works asynchronously the answer is not Done: follow Operation with
	// FriendCodesAdded.
	AddFriendCodes(ctx context.Context, shop *Shop, offer FriendOffer, codes []string) (BulkAdd, error)
	// FriendCodesAdded reads what the store did with an AddFriendCodes
	// operation: Done false while it is still running.
	FriendCodesAdded(ctx context.Context, shop *Shop, offer FriendOffer, operation string, codes []string) (BulkAdd, error)
	// RemoveFriendCode removes one friend code from the store; an unknown
	// code is not an error.
	RemoveFriendCode(ctx context.Context, shop *Shop, offer FriendOffer, code string) error

	// StoreCrediter pays rewards as store credit where the platform can
	// (Shopify); others refuse with the reason (WooCommerce has no store
	// credit in core).
	StoreCrediter
}

// FriendOffer is the discount many friend codes share: its terms (Spec,
// whose Code is ignored) and the store's reference to it once it exists.
type FriendOffer struct {
	Key  string
	Ref  string
	Spec DiscountSpec
}

// BulkAdd is what the store did with a batch of friend codes.
type BulkAdd struct {
	// OfferRef is the offer's discount in the store (Shopify), "" where
	// each code is its own discount (WooCommerce).
	OfferRef string
	// Operation is the store's asynchronous job to follow; "" when the
	// store answered at once.
	Operation string
	// Done is true when Codes holds the outcome of every code.
	Done  bool
	Codes []CodeOutcome
}

// CodeOutcome is one code of a batch: Ref set when the store holds it,
// Err when the store refused it for good (its message).
type CodeOutcome struct {
	Code string
	Ref  string
	Err  string
}

// FetchedOrder is an order read from the store, ready for the intake, and
// the order's own key (WooCommerce's order_key) for the caller's proof.
type FetchedOrder struct {
	Event WebhookEvent
	Key   string
}

// FriendOfferUpdater changes the terms of a friend offer's codes already in
// the store (a campaign starts or ends). It is optional for a platform
// adapter, like StoreSetup. refs are the store references of the offer's
// codes, for platforms where each code is its own discount (WooCommerce);
// a platform that holds an offer's codes under one discount (Shopify)
// changes offer.Ref and ignores them. Setting the same terms again is
// harmless: a retry after a crash sends them again.
type FriendOfferUpdater interface {
	UpdateFriendOffer(ctx context.Context, shop *Shop, offer FriendOffer, refs []string, terms DiscountSpec) error
}
