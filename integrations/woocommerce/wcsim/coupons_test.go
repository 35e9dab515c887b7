package wcsim

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parrain/parrain/integrations/woocommerce"
)

// Coupons behave as on the real store (woocommerce.md §9): status cannot be
// changed through REST, checkout refuses expired, used-up and
// email-restricted coupons, DELETE ?force=true removes.
func TestCouponsLikeTheRealStore(t *testing.T) {
	sim := New("ck_a", "cs_a")
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	c := &woocommerce.Client{Store: srv.URL, ConsumerKey: "ck_a", ConsumerSecret: "cs_a", HTTP: srv.Client()}
	ctx := context.Background()
	one := 1
	mk := func(code string, in woocommerce.Coupon) *woocommerce.Coupon {
		in.Code, in.DiscountType, in.Amount = code, "fixed_cart", "10.00"
		out, err := c.CreateCoupon(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	plain := mk("PLAIN", woocommerce.Coupon{})
	if plain.Code != "plain" || plain.Status != "publish" {
		t.Fatalf("created %+v", plain)
	}

	// PUT status draft: 200, nothing changes, still usable.
	if err := c.UpdateCoupon(ctx, plain.ID, map[string]any{"status": "draft"}); err != nil {
		t.Fatalf("PUT status: %v, want 200", err)
	}
	if back, _ := c.Coupon(ctx, plain.ID); back.Status != "publish" || sim.CouponUsable("PLAIN", "x@example.com") != nil {
		t.Fatalf("status changed through REST: %+v", back)
	}

	// An expiry in the past (sent with an offset) is stored and refused.
	if err := c.UpdateCoupon(ctx, plain.ID, map[string]any{"date_expires": time.Now().Add(-time.Hour).Format(time.RFC3339)}); err != nil {
		t.Fatal(err)
	}
	back, _ := c.Coupon(ctx, plain.ID)
	if back.DateExpiresGMT == nil || strings.Contains(*back.DateExpiresGMT, "Z") {
		t.Fatalf("date_expires_gmt %v: WooCommerce answers without offset", back.DateExpiresGMT)
	}
	if err := sim.CouponUsable("plain", "x@example.com"); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired coupon: %v", err)
	}
	if _, _, err := sim.PlaceOrder(OrderInput{Email: "x@example.com", Total: "5.00", Coupons: []string{"PLAIN"}}); err == nil {
		t.Fatal("checkout took an expired coupon")
	}

	// Usage limit and email restrictions, checked at checkout.
	mk("ONCE", woocommerce.Coupon{UsageLimit: &one, EmailRestrictions: []string{"anna@example.com"}})
	if _, _, err := sim.PlaceOrder(OrderInput{Email: "bob@example.com", Total: "5.00", Coupons: []string{"once"}}); err == nil || !strings.Contains(err.Error(), "email") {
		t.Fatalf("another email: %v", err)
	}
	if _, _, err := sim.PlaceOrder(OrderInput{Email: "Anna@example.com", Total: "5.00", Coupons: []string{"ONCE"}}); err != nil {
		t.Fatalf("the right email: %v", err)
	}
	if _, _, err := sim.PlaceOrder(OrderInput{Email: "anna@example.com", Total: "5.00", Coupons: []string{"ONCE"}}); err == nil || !strings.Contains(err.Error(), "usage limit") {
		t.Fatalf("second use of a single-use coupon: %v", err)
	}

	// DELETE without force trashes, with force removes.
	gone := mk("GONE", woocommerce.Coupon{})
	if _, err := c.CouponByCode(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	req := func(q string) {
		u := *mustURL(t, srv.URL+"/wp-json/wc/v3/coupons/"+itoa(gone.ID)+q)
		signed := woocommerce.SignOAuth1("DELETE", &u, "ck_a", "cs_a", time.Now())
		r := httptest.NewRequest("DELETE", signed.String(), nil)
		r.Host = u.Host
		w := httptest.NewRecorder()
		sim.Handler().ServeHTTP(w, r)
		if w.Code != 200 {
			t.Fatalf("DELETE%s: %d %s", q, w.Code, w.Body)
		}
	}
	req("")
	if sim.CouponUsable("gone", "x@example.com") == nil {
		t.Fatal("a trashed coupon is usable")
	}
	req("?force=true")
	if _, err := c.CouponByCode(ctx, "gone"); err == nil {
		t.Fatal("force-deleted coupon still listed")
	}
}

// POST /coupons/batch {"update": [...]} as WC_REST_Controller::batch_items
// answers it: item by item, in order, the coupon as stored or the item's
// error with the id sent; over 100 items in all is 413.
func TestBatchUpdateCoupons(t *testing.T) {
	sim := New("ck_a", "cs_a")
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	c := &woocommerce.Client{Store: srv.URL, ConsumerKey: "ck_a", ConsumerSecret: "cs_a", HTTP: srv.Client()}
	ctx := context.Background()
	a, err := c.CreateCoupon(ctx, woocommerce.Coupon{Code: "A", DiscountType: "percent", Amount: "10", Description: "kept"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.CreateCoupon(ctx, woocommerce.Coupon{Code: "B", DiscountType: "percent", Amount: "10"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.BatchUpdateCoupons(ctx, []map[string]any{
		{"id": a.ID, "amount": "25", "status": "draft"},
		{"id": 999, "amount": "25"},
		{"id": b.ID, "code": "a"},
		{"id": b.ID, "discount_type": "cashback"},
		{"amount": "25"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 {
		t.Fatalf("%d items, want 5", len(got))
	}
	if got[0].Error != nil || got[0].ID != a.ID || got[0].Amount != "25" || got[0].DiscountType != "percent" || got[0].Description != "kept" || got[0].Status != "publish" {
		t.Fatalf("updated item %+v: amount changed, the rest kept, status ignored", got[0])
	}
	for i, code := range map[int]string{1: "woocommerce_rest_shop_coupon_invalid_id", 2: "woocommerce_rest_coupon_code_already_exists", 3: "coupon_invalid_discount_type", 4: "woocommerce_rest_shop_coupon_invalid_id"} {
		if got[i].Error == nil || got[i].Error.Code != code {
			t.Errorf("item %d: %+v, want error %s", i, got[i], code)
		}
	}
	if got[1].ID != 999 {
		t.Errorf("refused item's id %d, want the id sent", got[1].ID)
	}
	if back, _ := c.Coupon(ctx, b.ID); back.Code != "b" || back.DiscountType != "percent" {
		t.Fatalf("a refused item changed the coupon: %+v", back)
	}
	if err := sim.CouponUsable("a", "x@example.com"); err != nil {
		t.Fatal(err)
	}

	// Create and update count together against the limit.
	items := make([]map[string]any, 100)
	for i := range items {
		items[i] = map[string]any{"id": a.ID, "amount": "30"}
	}
	var apiErr *woocommerce.APIError
	if _, err := c.BatchUpdateCoupons(ctx, items); err != nil {
		t.Fatalf("100 updates: %v", err)
	}
	if _, err := c.BatchUpdateCoupons(ctx, append(items, items[0])); !errors.As(err, &apiErr) || apiErr.Status != 413 {
		t.Fatalf("101 updates: %v, want 413", err)
	}
}
