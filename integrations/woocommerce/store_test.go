package woocommerce_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/storetest"
	"github.com/parrain/parrain/integrations/woocommerce"
	"github.com/parrain/parrain/integrations/woocommerce/wcsim"
)

type oneClient struct{ c *woocommerce.Client }

func (o oneClient) Client(context.Context, *app.Shop) (*woocommerce.Client, error) { return o.c, nil }

func TestStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Fixture {
		sim := wcsim.New("ck_test", "cs_test")
		srv := httptest.NewServer(sim.Handler())
		t.Cleanup(srv.Close)
		// An http store: the client must sign with OAuth 1.0a.
		st := &woocommerce.Store{Clients: oneClient{&woocommerce.Client{Store: srv.URL, ConsumerKey: "ck_test", ConsumerSecret: "cs_test"}}}
		return storetest.Fixture{
			Store: st, Shop: &app.Shop{ID: 1, Platform: "woocommerce", Domain: "shop.example"}, CustomerID: "7",
			// Usable as the store's checkout decides, for the email the
			// coupon is restricted to.
			Code: func(code string) (bool, bool) {
				for _, c := range sim.Coupons() {
					if storetest.Same(c.Code, code) {
						email := "shopper@example.com"
						if len(c.EmailRestrictions) > 0 {
							email = c.EmailRestrictions[0]
						}
						return true, sim.CouponUsable(code, email) == nil
					}
				}
				return false, false
			},
			RefuseDeactivation: sim.RefuseCouponUpdates,
			Codes:              func() int { return len(sim.Coupons()) },
			AddOrders:          sim.AddOrders,
		}
	})
}

// Wrong keys are refused by the store, and the error says so.
func TestClientAuthRefused(t *testing.T) {
	sim := wcsim.New("ck_test", "cs_test")
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	c := &woocommerce.Client{Store: srv.URL, ConsumerKey: "ck_test", ConsumerSecret: "cs_wrong"}
	if _, err := c.CouponByCode(context.Background(), "x"); app.ErrorCode(err) != app.EUNAUTHORIZED {
		t.Fatalf("wrong secret: %v", err)
	}
}
