package woocommerce_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
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
		shop := &app.Shop{ID: 1, Platform: "woocommerce", Domain: strings.TrimPrefix(srv.URL, "http://"), ShopDetails: app.ShopDetails{StoreURL: srv.URL}}
		return storetest.Fixture{
			Store: st, Shop: shop, CustomerID: "7",
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
			Land: func(t *testing.T, landing string) (string, string) {
				jar, _ := cookiejar.New(nil)
				resp, err := (&http.Client{Jar: jar}).Get(landing)
				if err != nil || resp.StatusCode != 200 {
					t.Fatalf("land on %s: %v %v", landing, resp, err)
				}
				resp.Body.Close()
				var code, ref string
				for _, c := range jar.Cookies(resp.Request.URL) {
					switch c.Name {
					case "parrain_ref":
						ref = c.Value
					case "wp_woocommerce_session_sim":
						code, _ = url.QueryUnescape(c.Value)
					}
				}
				return code, ref
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

// The friend lands on the store's own origin, its scheme kept (plain-http
// stores are real, woocommerce.md §9), in its folder when WordPress lives
// in one.
func TestLandingURL(t *testing.T) {
	st := &woocommerce.Store{}
	for _, c := range []struct{ store, domain, want string }{
		{"http://127.0.0.1:8081", "127.0.0.1:8081", "http://127.0.0.1:8081/?parrain_coupon=FRIEND-A-1&ref=A-1"},
		{"https://shop.example/boutique", "shop.example/boutique", "https://shop.example/boutique/?parrain_coupon=FRIEND-A-1&ref=A-1"},
		{"", "shop.example", "https://shop.example/?parrain_coupon=FRIEND-A-1&ref=A-1"},
	} {
		shop := &app.Shop{Domain: c.domain, ShopDetails: app.ShopDetails{StoreURL: c.store}}
		if got := st.LandingURL(shop, "FRIEND-A-1", "A-1"); got != c.want {
			t.Errorf("%s: %s, want %s", c.store, got, c.want)
		}
	}
}
