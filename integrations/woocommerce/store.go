package woocommerce

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/parrain/parrain/app"
)

// Clients gives the REST client of a shop (its store URL and keys).
type Clients interface {
	Client(ctx context.Context, shop *app.Shop) (*Client, error)
}

// Store implements app.StorePlatform with coupons.
type Store struct{ Clients Clients }

var _ app.StorePlatform = (*Store)(nil)

const duplicateCode = "woocommerce_rest_coupon_code_already_exists"

// CreateDiscount implements app.StorePlatform: a coupon (percent or
// fixed_cart, free shipping as a zero fixed_cart with free_shipping),
// created once: a duplicate answer is looked up and reused.
func (s *Store) CreateDiscount(ctx context.Context, shop *app.Shop, d app.DiscountSpec) (string, error) {
	c, err := s.Clients.Client(ctx, shop)
	if err != nil {
		return "", err
	}
	in := Coupon{Code: strings.ToLower(d.Code), Description: d.Title, IndividualUse: true}
	switch d.Kind {
	case app.OfferPercent:
		in.DiscountType, in.Amount = "percent", strconv.Itoa(d.Percent)
	case app.OfferFixed:
		in.DiscountType, in.Amount = "fixed_cart", app.Money{Minor: d.AmountMinor, Currency: d.Currency}.Decimal()
	case app.OfferFreeShipping:
		in.DiscountType, in.Amount, in.FreeShipping = "fixed_cart", "0", true
	default:
		return "", app.Errorf(app.EINVALID, "unknown offer kind %q", d.Kind)
	}
	if d.MinOrderMinor > 0 {
		in.MinimumAmount = app.Money{Minor: d.MinOrderMinor, Currency: d.Currency}.Decimal()
	}
	if d.UsageLimit > 0 {
		in.UsageLimit = &d.UsageLimit
	}
	if d.OncePerCustomer {
		one := 1
		in.UsageLimitPerUser = &one
	}
	if d.CustomerEmail != "" {
		in.EmailRestrictions = []string{d.CustomerEmail}
	}
	if d.EndsAt != nil {
		// With an explicit offset: without one WooCommerce reads the
		// site's timezone (woocommerce.md §5).
		exp := d.EndsAt.UTC().Format(time.RFC3339)
		in.DateExpires = &exp
	}
	out, err := c.CreateCoupon(ctx, in)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Code == duplicateCode {
		// Created before (a retry after a crash, or the same code
		// differently cased): reuse it, never a second coupon.
		out, err = c.CouponByCode(ctx, d.Code)
	}
	if err != nil {
		return "", fmt.Errorf("create coupon %s: %w", d.Code, err)
	}
	return "wc-coupon:" + strconv.FormatInt(out.ID, 10), nil
}

// DeactivateDiscount implements app.StorePlatform: the coupon goes back to
// draft, which WooCommerce refuses at checkout. Unknown and used coupons are
// left alone.
func (s *Store) DeactivateDiscount(ctx context.Context, shop *app.Shop, code string) error {
	c, err := s.Clients.Client(ctx, shop)
	if err != nil {
		return err
	}
	cp, err := c.CouponByCode(ctx, code)
	if app.ErrorCode(err) == app.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	if cp.UsageCount > 0 || cp.Status == "draft" {
		return nil
	}
	if err := c.UpdateCoupon(ctx, cp.ID, map[string]any{"status": "draft"}); err != nil {
		return fmt.Errorf("deactivate coupon %s: %w", code, err)
	}
	return nil
}

// CustomerOrderCount implements app.StorePlatform.
func (s *Store) CustomerOrderCount(ctx context.Context, shop *app.Shop, customerID string) (int, error) {
	c, err := s.Clients.Client(ctx, shop)
	if err != nil {
		return 0, err
	}
	return c.CustomerOrderCount(ctx, customerID)
}
