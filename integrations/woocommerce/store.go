package woocommerce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
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
	in, err := couponFor(d)
	if err != nil {
		return "", err
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

// couponFor is the coupon a discount spec makes.
func couponFor(d app.DiscountSpec) (Coupon, error) {
	in := Coupon{Code: strings.ToLower(d.Code), Description: d.Title, IndividualUse: true}
	switch d.Kind {
	case app.OfferPercent:
		in.DiscountType, in.Amount = "percent", strconv.Itoa(d.Percent)
	case app.OfferFixed:
		in.DiscountType, in.Amount = "fixed_cart", app.Money{Minor: d.AmountMinor, Currency: d.Currency}.Decimal()
	case app.OfferFreeShipping:
		in.DiscountType, in.Amount, in.FreeShipping = "fixed_cart", "0", true
	default:
		return in, app.Errorf(app.EINVALID, "unknown offer kind %q", d.Kind)
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
	return in, nil
}

// batchLimit is WooCommerce's default limit of items per batch request
// (WC_REST_Controller::check_batch_limit: the
// woocommerce_rest_batch_items_limit filter, 100, else 413
// woocommerce_rest_request_entity_too_large).
const batchLimit = 100

// FriendBatchLimit implements app.StorePlatform.
func (s *Store) FriendBatchLimit(*app.Shop) int { return batchLimit }

// AddFriendCodes implements app.StorePlatform: a coupon per code (a
// WooCommerce coupon has one code), created by POST /coupons/batch. The
// batch answers item by item, synchronously: a created coupon, or
// {"id": 0, "error": {code, message}} (WC_REST_Controller::batch_items). A
// code that exists already (the batch sent again after a crash) is looked
// up and reused, as CreateDiscount does.
func (s *Store) AddFriendCodes(ctx context.Context, shop *app.Shop, offer app.FriendOffer, codes []string) (app.BulkAdd, error) {
	out := app.BulkAdd{Done: true}
	if len(codes) == 0 || len(codes) > batchLimit {
		return out, app.Errorf(app.EINVALID, "a coupon batch takes 1 to %d codes, not %d", batchLimit, len(codes))
	}
	c, err := s.Clients.Client(ctx, shop)
	if err != nil {
		return out, err
	}
	create := make([]Coupon, len(codes))
	for i, code := range codes {
		d := offer.Spec
		d.Code, d.CustomerID, d.CustomerEmail, d.UsageLimit = code, "", "", 0
		if d.Title == "" {
			d.Title = "Parrain: friend offer " + offer.Key
		}
		if create[i], err = couponFor(d); err != nil {
			return out, err
		}
	}
	items, err := c.BatchCreateCoupons(ctx, create)
	if err != nil {
		return out, fmt.Errorf("create %d coupons: %w", len(codes), err)
	}
	for i, code := range codes {
		o := app.CodeOutcome{Code: code}
		var it BatchItem
		if i < len(items) {
			it = items[i]
		}
		switch {
		case it.Error == nil && it.ID > 0:
			o.Ref = "wc-coupon:" + strconv.FormatInt(it.ID, 10)
		case it.Error != nil && it.Error.Code == duplicateCode:
			cp, err := c.CouponByCode(ctx, code)
			if app.ErrorCode(err) == app.ENOTFOUND {
				continue // gone since: the next batch creates it
			}
			if err != nil {
				return out, fmt.Errorf("look up coupon %s: %w", code, err)
			}
			o.Ref = "wc-coupon:" + strconv.FormatInt(cp.ID, 10)
		case it.Error != nil:
			o.Err = fmt.Sprintf("WooCommerce refused the coupon %s: %s %s", code, it.Error.Code, it.Error.Message)
		default:
			continue // no answer for it: the next batch asks again
		}
		out.Codes = append(out.Codes, o)
	}
	return out, nil
}

var _ app.FriendOfferUpdater = (*Store)(nil)

// couponNotFound is update_item's answer for an id that is no coupon
// (WC_REST_CRUD_Controller: woocommerce_rest_{post_type}_invalid_id).
const couponNotFound = "woocommerce_rest_shop_coupon_invalid_id"

// UpdateFriendOffer implements app.FriendOfferUpdater: each friend code is
// its own coupon, so the coupons refs names are changed by POST
// /coupons/batch {"update": [...]}, batchLimit a call. Only what a campaign
// changes is sent (discount_type, amount, minimum_amount); expiry, usage
// limits and restrictions are left as the store holds them, so a removed
// code stays expired. The batch answers each coupon as stored: one that
// does not give the terms afterwards is an error (a plugin rewriting
// coupons on save), as is an item the store refused; a coupon deleted in
// the store since is skipped (nothing left to change). Free shipping has
// no value to change (app.Campaign refuses a campaign turning a friend
// offer into or out of it). Sending the same terms again is harmless.
func (s *Store) UpdateFriendOffer(ctx context.Context, shop *app.Shop, offer app.FriendOffer, refs []string, terms app.DiscountSpec) error {
	if len(refs) == 0 || terms.Kind == app.OfferFreeShipping {
		return nil
	}
	want, err := couponFor(terms)
	if err != nil {
		return err
	}
	ids := make([]int64, 0, len(refs))
	for _, ref := range refs {
		id, err := strconv.ParseInt(strings.TrimPrefix(ref, "wc-coupon:"), 10, 64)
		if !strings.HasPrefix(ref, "wc-coupon:") || err != nil || id <= 0 {
			return app.Errorf(app.EINVALID, "friend offer %s: %q is not a WooCommerce coupon reference", offer.Key, ref)
		}
		ids = append(ids, id)
	}
	c, err := s.Clients.Client(ctx, shop)
	if err != nil {
		return err
	}
	for start := 0; start < len(ids); start += batchLimit {
		chunk := ids[start:min(start+batchLimit, len(ids))]
		items := make([]map[string]any, len(chunk))
		for i, id := range chunk {
			items[i] = map[string]any{"id": id, "discount_type": want.DiscountType, "amount": want.Amount, "minimum_amount": want.MinimumAmount}
		}
		got, err := c.BatchUpdateCoupons(ctx, items)
		if err != nil {
			return fmt.Errorf("update %d coupons of friend offer %s: %w", len(chunk), offer.Key, err)
		}
		if len(got) != len(chunk) {
			return app.Errorf(app.EUNAVAILABLE, "friend offer %s: the store answered %d of %d coupon updates", offer.Key, len(got), len(chunk))
		}
		for i, it := range got {
			switch {
			case it.Error != nil && it.Error.Code == couponNotFound:
				continue
			case it.Error != nil:
				return app.Errorf(app.EINVALID, "the store did not update coupon %d of friend offer %s: %s %s", chunk[i], offer.Key, it.Error.Code, it.Error.Message)
			case it.ID != chunk[i] || it.DiscountType != want.DiscountType || !sameDecimal(it.Amount, want.Amount) || !sameDecimal(it.MinimumAmount, want.MinimumAmount):
				return app.Errorf(app.EINVALID, "the store answered the update of coupon %d of friend offer %s, but holds %s %s (minimum %q), not %s %s",
					chunk[i], offer.Key, it.DiscountType, it.Amount, it.MinimumAmount, want.DiscountType, want.Amount)
			}
		}
	}
	return nil
}

// sameDecimal compares two WooCommerce decimal strings ("20", "20.00");
// "" is zero (no minimum).
func sameDecimal(a, b string) bool {
	num := func(s string) (float64, bool) {
		if s == "" {
			return 0, true
		}
		f, err := strconv.ParseFloat(s, 64)
		return f, err == nil
	}
	x, okx := num(a)
	y, oky := num(b)
	return okx && oky && x == y
}

// FriendCodesAdded implements app.StorePlatform: a coupon batch is
// answered at once, so there is no operation to follow.
func (s *Store) FriendCodesAdded(context.Context, *app.Shop, app.FriendOffer, string, []string) (app.BulkAdd, error) {
	return app.BulkAdd{}, app.Errorf(app.EINVALID, "WooCommerce coupon batches have no operation to follow")
}

// RemoveFriendCode implements app.StorePlatform: the coupon is stopped as
// DeactivateDiscount stops any coupon (expired, kept for the merchant).
func (s *Store) RemoveFriendCode(ctx context.Context, shop *app.Shop, _ app.FriendOffer, code string) error {
	return s.DeactivateDiscount(ctx, shop, code)
}

// revokedNote marks a coupon Parrain stopped, for the merchant reading it
// in WooCommerce → Marketing → Coupons.
const revokedNote = "[Revoked by Parrain] "

// DeactivateDiscount implements app.StorePlatform. WooCommerce ignores a
// coupon's status on update (woocommerce.md §9: PUT {"status":"draft"}
// answers 200 and the coupon stays usable), so the coupon is stopped by
// what the store keeps as meta and checks at checkout: date_expires
// in the past. Not usage_limit = usage_count: the codes we stop are unused,
// and a usage_limit of 0 means unlimited. Not DELETE: the coupon stays
// readable for the merchant's audit, and the code keeps existing, so a
// retried create finds it instead of making a fresh live coupon. The
// expiry is a day back, so a store clock a little behind ours still sees
// it past. The coupon is read back: a store that answered but still holds
// a live coupon is an error that says so. Unknown and used coupons are
// left alone (the money is spent; support sees the flagged referral).
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
	now := time.Now()
	if c.Now != nil {
		now = c.Now()
	}
	if cp.UsageCount > 0 || expired(cp, now) || cp.Status == "trash" {
		return nil
	}
	past := now.Add(-24 * time.Hour).UTC().Format(time.RFC3339)
	fields := map[string]any{"date_expires": past}
	if !strings.HasPrefix(cp.Description, revokedNote) {
		fields["description"] = revokedNote + cp.Description
	}
	if err := c.UpdateCoupon(ctx, cp.ID, fields); err != nil {
		if app.ErrorCode(err) == app.EUNAVAILABLE {
			return fmt.Errorf("deactivate coupon %s: %w", code, err)
		}
		return app.Wrap(app.EINVALID, err, "the store did not deactivate the code "+code+": "+storeMessage(err))
	}
	back, err := c.Coupon(ctx, cp.ID)
	if err != nil {
		return fmt.Errorf("deactivate coupon %s: read it back: %w", code, err)
	}
	if !expired(back, now) && back.UsageCount == 0 && back.Status != "trash" {
		return app.Errorf(app.EINVALID, "the store did not deactivate the code %s: it answered the update, but the coupon it holds does not expire (date_expires %s)",
			code, deref(back.DateExpiresGMT))
	}
	return nil
}

// expired reports whether the store's coupon has expired at now, read
// from date_expires_gmt (date_expires is in the store's timezone).
func expired(cp *Coupon, now time.Time) bool {
	if cp.DateExpiresGMT == nil || *cp.DateExpiresGMT == "" {
		return false
	}
	t, err := time.Parse("2006-01-02T15:04:05", *cp.DateExpiresGMT)
	return err == nil && !t.After(now)
}

// storeMessage is what the store said, for the merchant.
func storeMessage(err error) string {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return fmt.Sprintf("%d %s %s", apiErr.Status, apiErr.Code, apiErr.Message)
	}
	return err.Error()
}

func deref(s *string) string {
	if s == nil {
		return "none"
	}
	return *s
}

// CustomerOrderCount implements app.StorePlatform.
func (s *Store) CustomerOrderCount(ctx context.Context, shop *app.Shop, customerID string) (int, error) {
	c, err := s.Clients.Client(ctx, shop)
	if err != nil {
		return 0, err
	}
	return c.CustomerOrderCount(ctx, customerID)
}

// FetchOrder implements app.StorePlatform: WooCommerce delivers through
// Action Scheduler on a later page view, often well after the buyer sees the
// order-received page (woocommerce.md §9), so the popup asks for the order
// itself. The REST body is the delivery's body, and the event id is the
// delivery key, so the delivery that comes later is a duplicate.
func (s *Store) FetchOrder(ctx context.Context, shop *app.Shop, orderID string) (*app.FetchedOrder, error) {
	c, err := s.Clients.Client(ctx, shop)
	if err != nil {
		return nil, err
	}
	raw, err := c.Order(ctx, orderID)
	if err != nil {
		return nil, fmt.Errorf("fetch order %s: %w", orderID, err)
	}
	key, err := DeliveryKey(raw)
	if err != nil {
		return nil, fmt.Errorf("fetch order %s: %w", orderID, err)
	}
	var o struct {
		OrderKey string `json:"order_key"`
	}
	_ = json.Unmarshal(raw, &o)
	return &app.FetchedOrder{Key: o.OrderKey, Event: app.WebhookEvent{ShopID: shop.ID, Platform: app.PlatformWooCommerce,
		Topic: TopicOrderUpdated, EventID: key, Payload: raw}}, nil
}

// LandingURL implements app.StorePlatform: the store's own origin, scheme
// kept (plain-http stores are real, woocommerce.md §9), with ?ref= for the
// companion plugin's cookie and ?parrain_coupon= for the coupon it puts in
// the cart on that first page view.
func (s *Store) LandingURL(shop *app.Shop, friendCode, refCode string) string {
	base := strings.TrimRight(shop.StoreURL, "/")
	if base == "" {
		base = "https://" + shop.Domain
	}
	if friendCode == "" {
		return base + "/"
	}
	return base + "/?" + url.Values{"ref": {refCode}, "parrain_coupon": {friendCode}}.Encode()
}

// adminBase is the store's wp-admin.
func adminBase(shop *app.Shop) string {
	base := strings.TrimRight(shop.StoreURL, "/")
	if base == "" {
		base = "https://" + shop.Domain
	}
	return base + "/wp-admin/"
}

// OrderAdminURL implements app.StorePlatform: the order's edit page in
// wp-admin. The legacy post.php address works with either order storage:
// with HPOS on, WooCommerce redirects it to admin.php?page=wc-orders
// (COTRedirectionController).
func (s *Store) OrderAdminURL(shop *app.Shop, orderID string) string {
	if orderID == "" {
		return ""
	}
	return adminBase(shop) + "post.php?" + url.Values{"post": {orderID}, "action": {"edit"}}.Encode()
}

// CustomerAdminURL implements app.StorePlatform: the customer's WordPress
// user page (customer_id is the user id; 0 is a guest, who has none).
func (s *Store) CustomerAdminURL(shop *app.Shop, customerID string) string {
	if customerID == "" || customerID == "0" {
		return ""
	}
	return adminBase(shop) + "user-edit.php?" + url.Values{"user_id": {customerID}}.Encode()
}
