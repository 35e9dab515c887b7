package storebudget

import (
	"context"

	"github.com/parrain/parrain/app"
)

// Limited caps the calls in flight to each shop's store (Semaphore) around
// a StorePlatform: for stores without a published budget (WooCommerce on a
// shared host answers a burst with 429s or timeouts). A call that finds no
// free place within the semaphore's MaxWait returns *Deferred, so its job
// comes back later instead of holding a worker. Every method that calls the
// store goes through the limit; LandingURL, which builds a URL, goes
// straight to the embedded platform.
type Limited struct {
	app.StorePlatform
	Sem *Semaphore
}

// within runs call while holding one of the shop's places.
func within[T any](ctx context.Context, l Limited, shop *app.Shop, call func() (T, error)) (T, error) {
	release, err := l.Sem.Acquire(ctx, string(shop.Platform)+":"+shop.Domain)
	if err != nil {
		var zero T
		return zero, err
	}
	defer release()
	return call()
}

// CreateDiscount implements app.StorePlatform.
func (l Limited) CreateDiscount(ctx context.Context, shop *app.Shop, d app.DiscountSpec) (string, error) {
	return within(ctx, l, shop, func() (string, error) { return l.StorePlatform.CreateDiscount(ctx, shop, d) })
}

// DeactivateDiscount implements app.StorePlatform.
func (l Limited) DeactivateDiscount(ctx context.Context, shop *app.Shop, code string) error {
	_, err := within(ctx, l, shop, func() (struct{}, error) { return struct{}{}, l.StorePlatform.DeactivateDiscount(ctx, shop, code) })
	return err
}

// CustomerOrderCount implements app.StorePlatform.
func (l Limited) CustomerOrderCount(ctx context.Context, shop *app.Shop, customerID string) (int, error) {
	return within(ctx, l, shop, func() (int, error) { return l.StorePlatform.CustomerOrderCount(ctx, shop, customerID) })
}

// FetchOrder implements app.StorePlatform.
func (l Limited) FetchOrder(ctx context.Context, shop *app.Shop, orderID string) (*app.FetchedOrder, error) {
	return within(ctx, l, shop, func() (*app.FetchedOrder, error) { return l.StorePlatform.FetchOrder(ctx, shop, orderID) })
}

// AddFriendCodes implements app.StorePlatform.
func (l Limited) AddFriendCodes(ctx context.Context, shop *app.Shop, offer app.FriendOffer, codes []string) (app.BulkAdd, error) {
	return within(ctx, l, shop, func() (app.BulkAdd, error) { return l.StorePlatform.AddFriendCodes(ctx, shop, offer, codes) })
}

// FriendCodesAdded implements app.StorePlatform.
func (l Limited) FriendCodesAdded(ctx context.Context, shop *app.Shop, offer app.FriendOffer, op string, codes []string) (app.BulkAdd, error) {
	return within(ctx, l, shop, func() (app.BulkAdd, error) { return l.StorePlatform.FriendCodesAdded(ctx, shop, offer, op, codes) })
}

// RemoveFriendCode implements app.StorePlatform.
func (l Limited) RemoveFriendCode(ctx context.Context, shop *app.Shop, offer app.FriendOffer, code string) error {
	_, err := within(ctx, l, shop, func() (struct{}, error) { return struct{}{}, l.StorePlatform.RemoveFriendCode(ctx, shop, offer, code) })
	return err
}

// CreditStoreCredit implements app.StorePlatform.
func (l Limited) CreditStoreCredit(ctx context.Context, shop *app.Shop, c app.StoreCredit) (string, error) {
	return within(ctx, l, shop, func() (string, error) { return l.StorePlatform.CreditStoreCredit(ctx, shop, c) })
}
