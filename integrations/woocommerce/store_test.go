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
		st := &woocommerce.Store{Clients: oneClient{&woocommerce.Client{Store: srv.URL, ConsumerKey: "ck_test", ConsumerSecret: "cs_test", HTTP: srv.Client()}}}
		return storetest.Fixture{
			Store: st, Shop: &app.Shop{ID: 1, Platform: "woocommerce", Domain: "shop.example"}, CustomerID: "7",
			Code: func(code string) (bool, bool) {
				for _, c := range sim.Coupons() {
					if storetest.Same(c.Code, code) {
						return true, c.Status == "publish"
					}
				}
				return false, false
			},
			Codes:     func() int { return len(sim.Coupons()) },
			AddOrders: sim.AddOrders,
			Restriction: func(code string) storetest.Restriction {
				for _, c := range sim.Coupons() {
					if storetest.Same(c.Code, code) {
						r := storetest.Restriction{Emails: c.EmailRestrictions}
						if c.UsageLimit != nil {
							r.UsageLimit = *c.UsageLimit
						}
						return r
					}
				}
				return storetest.Restriction{}
			},
			ByEmail: true,
		}
	})
}

// Wrong keys are refused by the store, and the error says so.
func TestClientAuthRefused(t *testing.T) {
	sim := wcsim.New("ck_test", "cs_test")
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	c := &woocommerce.Client{Store: srv.URL, ConsumerKey: "ck_test", ConsumerSecret: "cs_wrong", HTTP: srv.Client()}
	if _, err := c.CouponByCode(context.Background(), "x"); app.ErrorCode(err) != app.EUNAUTHORIZED {
		t.Fatalf("wrong secret: %v", err)
	}
}
