package campaigns

import (
	"context"
	"fmt"
	"time"

	"github.com/parrain/parrain/app"
)

// OfferState is one friend offer as the sync sees it: its standing terms
// (Spec), what its new codes are to give now (Terms, nil: Spec) and what
// every code of it in the store was last set to (Applied, nil: Spec).
type OfferState struct {
	ID      int64
	Offer   app.FriendOffer
	Terms   *app.DiscountSpec
	Applied *app.DiscountSpec
}

// SyncRepo is the storage the sync needs (app/postgres). Scoped by shop.
type SyncRepo interface {
	CampaignAt(ctx context.Context, shopID int64, t time.Time) (*app.Campaign, error)
	FriendOffers(ctx context.Context, shopID int64) ([]OfferState, error)
	// SetOfferTerms records what the offer's new codes give from now on
	// (the batching stage creates them so); nil: the standing terms.
	SetOfferTerms(ctx context.Context, shopID, offerID int64, terms *app.DiscountSpec) error
	// OfferCodeRefs are the store references of the offer's codes in the
	// store, and when (storage's clock) they were listed.
	OfferCodeRefs(ctx context.Context, shopID int64, offerKey string) ([]string, time.Time, error)
	// MarkOfferApplied records that every code of the offer gives terms;
	// false (nothing recorded) while a batch of the offer's codes is on
	// its way or was finished since listedAt: it may have been made with
	// the terms before.
	MarkOfferApplied(ctx context.Context, shopID, offerID int64, terms *app.DiscountSpec, listedAt time.Time) (bool, error)
}

// ErrBatchOpen means an offer's codes were being added while its terms
// changed: the sync must run again once the batch is done.
var ErrBatchOpen = app.Errorf(app.EUNAVAILABLE, "friend codes are being added; the offer's terms are checked again shortly")

// Sync makes the store's friend discounts give what the campaign in force
// says, and the standing offer again once it ends.
//
// Why in the store: a friend code is a store discount, and the friend gets
// what the store gives at checkout. Friend codes are keyed by the standing
// offer (never by a campaign), so a code handed out during a campaign does
// not keep the campaign's discount forever: every code of an offer is
// changed at the start and changed back at the end (Shopify: the offer's
// one discount, discountCodeBasicUpdate; WooCommerce: each code's coupon,
// coupons/batch by 100).
//
// Nothing lost, nothing doubled: the new terms are recorded first (codes
// added from then on are made with them), then the store is set (the same
// value again on a retry), then the offer is marked applied, unless a
// batch was under way, which may have used the old terms: the next run
// sets them all again.
type Sync struct {
	Repo  SyncRepo
	Store app.StorePlatform
	Shops interface {
		ShopByID(ctx context.Context, id int64) (*app.Shop, error)
	}
	Now func() time.Time
}

// Run brings one shop's friend offers to the campaign in force now.
func (s *Sync) Run(ctx context.Context, shopID int64) error {
	shop, err := s.Shops.ShopByID(ctx, shopID)
	if err != nil {
		return err
	}
	if shop.Status != app.ShopInstalled {
		return nil // no token; a reinstall syncs again
	}
	c, err := s.Repo.CampaignAt(ctx, shopID, s.Now())
	if err != nil {
		return err
	}
	offers, err := s.Repo.FriendOffers(ctx, shopID)
	if err != nil {
		return err
	}
	var again bool
	for _, o := range offers {
		want := o.Offer.Spec
		if c != nil {
			want = c.FriendTerms(o.Offer.Spec)
		}
		var wantPtr *app.DiscountSpec
		if !app.SameTerms(want, o.Offer.Spec) {
			wantPtr = &want
		}
		if !sameOrStanding(o.Terms, wantPtr, o.Offer.Spec) {
			if err := s.Repo.SetOfferTerms(ctx, shopID, o.ID, wantPtr); err != nil {
				return err
			}
		}
		if sameOrStanding(o.Applied, wantPtr, o.Offer.Spec) {
			continue
		}
		up, ok := s.updater(shop)
		if !ok {
			return app.Errorf(app.EINVALID, "the %s store cannot change its friend discounts for a campaign", shop.Platform)
		}
		refs, listedAt, err := s.Repo.OfferCodeRefs(ctx, shopID, o.Offer.Key)
		if err != nil {
			return err
		}
		if err := up.UpdateFriendOffer(ctx, shop, o.Offer, refs, want); err != nil {
			return fmt.Errorf("set friend offer %s of shop %d to the campaign's terms: %w", o.Offer.Key, shopID, err)
		}
		done, err := s.Repo.MarkOfferApplied(ctx, shopID, o.ID, wantPtr, listedAt)
		if err != nil {
			return err
		}
		again = again || !done
	}
	if again {
		return ErrBatchOpen
	}
	return nil
}

// updater finds the store's FriendOfferUpdater behind wrappers
// (stack.platformStores answers it for the shop's platform).
func (s *Sync) updater(shop *app.Shop) (app.FriendOfferUpdater, bool) {
	if r, ok := s.Store.(interface {
		FriendOfferUpdaterFor(shop *app.Shop) (app.FriendOfferUpdater, bool)
	}); ok {
		return r.FriendOfferUpdaterFor(shop)
	}
	u, ok := s.Store.(app.FriendOfferUpdater)
	return u, ok
}

// sameOrStanding compares two recorded terms, nil meaning the standing
// ones.
func sameOrStanding(a, b *app.DiscountSpec, standing app.DiscountSpec) bool {
	x, y := standing, standing
	if a != nil {
		x = *a
	}
	if b != nil {
		y = *b
	}
	return app.SameTerms(x, y)
}
