package wcsim

import (
	"context"
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
