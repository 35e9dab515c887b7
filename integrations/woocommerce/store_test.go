package woocommerce_test

import (
	"context"
	"math"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

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
			// What checkout would take off: the coupon's type and amount
			// as the store holds them.
			Gives: func(code string) app.Offer {
				for _, c := range sim.Coupons() {
					if !storetest.Same(c.Code, code) {
						continue
					}
					f, _ := strconv.ParseFloat(c.Amount, 64)
					switch c.DiscountType {
					case "percent":
						return app.Offer{Kind: app.OfferPercent, Percent: int(f)}
					case "fixed_cart":
						if c.FreeShipping && f == 0 {
							return app.Offer{Kind: app.OfferFreeShipping}
						}
						return app.Offer{Kind: app.OfferFixed, AmountMinor: int64(math.Round(f * 100))}
					}
					return app.Offer{Kind: c.DiscountType}
				}
				return app.Offer{}
			},
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

// A campaign changes every coupon of a friend offer, batchLimit a call;
// a coupon the merchant deleted since is skipped, a reference that is no
// coupon's is refused before anything is sent, and an item the store
// refuses is an error.
func TestUpdateFriendOfferInBatches(t *testing.T) {
	sim := wcsim.New("ck_test", "cs_test")
	var batches int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/coupons/batch") {
			batches++
		}
		sim.Handler().ServeHTTP(w, r)
	}))
	defer srv.Close()
	c := &woocommerce.Client{Store: srv.URL, ConsumerKey: "ck_test", ConsumerSecret: "cs_test", HTTP: srv.Client()}
	st := &woocommerce.Store{Clients: oneClient{c}}
	shop := &app.Shop{ID: 1, Platform: "woocommerce", Domain: strings.TrimPrefix(srv.URL, "http://"), ShopDetails: app.ShopDetails{StoreURL: srv.URL}}
	ctx := context.Background()
	offer := app.FriendOffer{Key: "fixed-1000", Spec: app.DiscountSpec{Kind: app.OfferFixed, AmountMinor: 1000, Currency: "EUR", MinOrderMinor: 5000}}

	var refs []string
	for start := 0; start < 150; start += 50 {
		codes := make([]string, 50)
		for i := range codes {
			codes[i] = "FRIEND-N" + strconv.Itoa(start+i)
		}
		res, err := st.AddFriendCodes(ctx, shop, offer, codes)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range res.Codes {
			refs = append(refs, o.Ref)
		}
	}
	// The merchant deletes one coupon for good.
	gone, err := c.CouponByCode(ctx, "FRIEND-N7")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(srv.URL + "/wp-json/wc/v3/coupons/" + strconv.FormatInt(gone.ID, 10) + "?force=true")
	req, _ := http.NewRequest(http.MethodDelete, woocommerce.SignOAuth1(http.MethodDelete, u, "ck_test", "cs_test", time.Now()).String(), nil)
	if resp, err := srv.Client().Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("delete: %v %v", resp, err)
	}

	batches = 0
	terms := offer.Spec
	terms.AmountMinor = 2000
	if err := st.UpdateFriendOffer(ctx, shop, offer, refs, terms); err != nil {
		t.Fatalf("update: %v", err)
	}
	if batches != 2 {
		t.Fatalf("%d batch calls for %d coupons, want 2", batches, len(refs))
	}
	for _, cp := range sim.Coupons() {
		if cp.DiscountType != "fixed_cart" || cp.Amount != "20.00" || cp.MinimumAmount != "50.00" {
			t.Fatalf("%s: %s %s minimum %s, want fixed_cart 20.00 minimum 50.00", cp.Code, cp.DiscountType, cp.Amount, cp.MinimumAmount)
		}
	}

	batches = 0
	if err := st.UpdateFriendOffer(ctx, shop, offer, append([]string{refs[0]}, "gid://shopify/DiscountCodeNode/1"), terms); app.ErrorCode(err) != app.EINVALID || batches != 0 {
		t.Fatalf("a foreign reference: %v after %d calls, want EINVALID before any", err, batches)
	}

	bad := terms
	bad.Kind = "cashback"
	if err := st.UpdateFriendOffer(ctx, shop, offer, refs[:2], bad); app.ErrorCode(err) != app.EINVALID {
		t.Fatalf("unknown kind: %v, want EINVALID", err)
	}
}

// What the store answers item by item is checked: a refused item, or a
// coupon that does not hold the terms afterwards (a plugin rewriting
// coupons on save), is an error naming the coupon.
func TestUpdateFriendOfferChecksTheAnswer(t *testing.T) {
	for _, c := range []struct{ name, answer, want string }{
		{"refused", `{"update":[{"id":5,"discount_type":"fixed_cart","amount":"20.00"},{"id":6,"error":{"code":"woocommerce_rest_cannot_edit","message":"Sorry, you are not allowed to edit this resource.","data":{"status":403}}}]}`, "coupon 6"},
		{"not what was sent", `{"update":[{"id":5,"discount_type":"fixed_cart","amount":"20.00"},{"id":6,"discount_type":"fixed_cart","amount":"10.00"}]}`, "holds fixed_cart 10.00"},
		{"fewer answers", `{"update":[{"id":5,"discount_type":"fixed_cart","amount":"20.00"}]}`, "1 of 2"},
		{"deleted since", `{"update":[{"id":5,"discount_type":"fixed_cart","amount":"20"},{"id":6,"error":{"code":"woocommerce_rest_shop_coupon_invalid_id","message":"Invalid ID.","data":{"status":404}}}]}`, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(c.answer))
			}))
			defer srv.Close()
			st := &woocommerce.Store{Clients: oneClient{&woocommerce.Client{Store: srv.URL, ConsumerKey: "ck", ConsumerSecret: "cs", HTTP: srv.Client()}}}
			shop := &app.Shop{ID: 1, Platform: "woocommerce", Domain: strings.TrimPrefix(srv.URL, "http://")}
			terms := app.DiscountSpec{Kind: app.OfferFixed, AmountMinor: 2000, Currency: "EUR"}
			err := st.UpdateFriendOffer(context.Background(), shop, app.FriendOffer{Key: "k", Spec: terms}, []string{"wc-coupon:5", "wc-coupon:6"}, terms)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("%v, want nil", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("%v, want an error with %q", err, c.want)
			}
		})
	}
}
