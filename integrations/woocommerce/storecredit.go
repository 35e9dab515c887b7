package woocommerce

import (
	"context"

	"github.com/parrain/parrain/app"
)

// errNoStoreCredit says why: WooCommerce core has coupons and gift-card
// plugins sell store credit, but there is no store credit in core nor in
// its REST API (wc/v3 has no store credit or customer balance resource),
// so Parrain has nothing to credit.
var errNoStoreCredit = app.Errorf(app.EINVALID,
	"Store credit is not available on WooCommerce: WooCommerce has no store credit in core (only plugins add it, and its REST API has none), so Parrain cannot put credit on a customer's account. Choose an amount off or a percent off code instead.")

// StoreCreditSupport implements app.StorePlatform: never.
func (s *Store) StoreCreditSupport(*app.Shop) error { return errNoStoreCredit }

// CreditStoreCredit implements app.StorePlatform: refused, with the reason.
func (s *Store) CreditStoreCredit(context.Context, *app.Shop, app.StoreCredit) (string, error) {
	return "", errNoStoreCredit
}
