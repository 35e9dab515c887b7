package storebudget

import (
	"context"

	"github.com/parrain/parrain/app"
)

// Limited caps the calls in flight to each shop's store (Semaphore) around
// a StorePlatform: for stores without a published budget (WooCommerce on a
// shared host answers a burst with 429s or timeouts). A call that finds no
// free place within the semaphore's MaxWait returns *Deferred, so its job
// comes back later instead of holding a worker. Methods not listed here go
// straight to the embedded platform.
type Limited struct {
	app.StorePlatform
	Sem *Semaphore
}

func (l Limited) acquire(ctx context.Context, shop *app.Shop) (func(), error) {
	return l.Sem.Acquire(ctx, string(shop.Platform)+":"+shop.Domain)
}

// CreateDiscount implements app.StorePlatform.
func (l Limited) CreateDiscount(ctx context.Context, shop *app.Shop, d app.DiscountSpec) (string, error) {
	release, err := l.acquire(ctx, shop)
	if err != nil {
		return "", err
	}
	defer release()
	return l.StorePlatform.CreateDiscount(ctx, shop, d)
}

// DeactivateDiscount implements app.StorePlatform.
func (l Limited) DeactivateDiscount(ctx context.Context, shop *app.Shop, code string) error {
	release, err := l.acquire(ctx, shop)
	if err != nil {
		return err
	}
	defer release()
	return l.StorePlatform.DeactivateDiscount(ctx, shop, code)
}

// CustomerOrderCount implements app.StorePlatform.
func (l Limited) CustomerOrderCount(ctx context.Context, shop *app.Shop, customerID string) (int, error) {
	release, err := l.acquire(ctx, shop)
	if err != nil {
		return 0, err
	}
	defer release()
	return l.StorePlatform.CustomerOrderCount(ctx, shop, customerID)
}
