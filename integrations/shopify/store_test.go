package shopify_test

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/storetest"
	"github.com/parrain/parrain/integrations/shopify"
	"github.com/parrain/parrain/integrations/shopify/shopifysim"
)

type fixedToken string

func (f fixedToken) AccessToken(context.Context, int64, string) (string, error) {
	return string(f), nil
}

// storeAgainstSimulator returns the Shopify store adapter talking to the
// simulator over HTTP with a real token from the code grant.
func storeAgainstSimulator(t *testing.T) (*shopify.Store, *shopifysim.Simulator, *app.Shop) {
	return storeAgainstSimulatorWith(t, func(*shopifysim.Config) {})
}

func storeAgainstSimulatorWith(t *testing.T, conf func(*shopifysim.Config)) (*shopify.Store, *shopifysim.Simulator, *app.Shop) {
	t.Helper()
	cfg := shopifysim.Config{APIKey: "k", APISecret: "s", AppURL: "http://app.invalid", AutoApprove: true}
	conf(&cfg)
	sim := shopifysim.New(cfg)
	const domain = "store-test.myshopify.com"
	sim.AddShop(domain, shopifysim.ShopInfo{CurrencyCode: "EUR"})
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	origin, _ := url.Parse(srv.URL)
	o := shopify.Origin{Override: origin}
	// Walk the consent step to get a code, then a token.
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(shopify.AuthorizeURL(o, domain, "k", "write_discounts,read_customers", "https://app.invalid/cb", "st"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := resp.Location()
	creds, err := shopify.NewTokenClient("k", "s", o).ExchangeCode(context.Background(), domain, loc.Query().Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	st := &shopify.Store{Admin: shopify.NewAdmin("k", "s", "2026-07", o), Tokens: fixedToken(creds.AccessToken), Origin: o}
	return st, sim, &app.Shop{ID: 1, Domain: domain}
}

func TestStoreCreateDiscountIsIdempotentByCode(t *testing.T) {
	st, sim, shop := storeAgainstSimulator(t)
	ctx := context.Background()
	spec := app.DiscountSpec{Code: "THANKS-ABC", Title: "reward", Kind: app.OfferFixed, AmountMinor: 1000, Currency: "EUR",
		CustomerID: "42", UsageLimit: 1, OncePerCustomer: true, StartsAt: time.Now()}
	ref1, err := st.CreateDiscount(ctx, shop, spec)
	if err != nil || ref1 == "" {
		t.Fatal(ref1, err)
	}
	ref2, err := st.CreateDiscount(ctx, shop, spec) // a retry after a crash
	if err != nil || ref2 != ref1 {
		t.Fatalf("second create: %q %v, want the first code %q", ref2, err, ref1)
	}
	ds := sim.Discounts(shop.Domain)
	if len(ds) != 1 {
		t.Fatalf("%d discounts, want 1", len(ds))
	}
	in := ds[0].Input
	ctxIn := in["context"].(map[string]any)["customers"].(map[string]any)["add"].([]any)
	amount := in["customerGets"].(map[string]any)["value"].(map[string]any)["discountAmount"].(map[string]any)["amount"]
	if ctxIn[0] != "gid://shopify/Customer/42" || in["usageLimit"] != float64(1) || amount != "10.00" {
		t.Fatalf("discount input: %v", in)
	}
}

func TestStoreOfferKindsAndErrors(t *testing.T) {
	st, sim, shop := storeAgainstSimulator(t)
	ctx := context.Background()
	for _, d := range []app.DiscountSpec{
		{Code: "FRIEND-P", Title: "p", Kind: app.OfferPercent, Percent: 10, StartsAt: time.Now()},
		{Code: "FRIEND-S", Title: "s", Kind: app.OfferFreeShipping, StartsAt: time.Now()},
	} {
		if _, err := st.CreateDiscount(ctx, shop, d); err != nil {
			t.Fatalf("%s: %v", d.Kind, err)
		}
	}
	if got := sim.Discounts(shop.Domain)[0].Input["customerGets"].(map[string]any)["value"].(map[string]any)["percentage"]; got != 0.1 {
		t.Fatalf("10%% sent as %v, want 0.1", got)
	}
	// A store refusal (userErrors with HTTP 200) is a permanent EINVALID.
	if _, err := st.CreateDiscount(ctx, shop, app.DiscountSpec{Code: "NO-TITLE", Kind: app.OfferPercent, Percent: 5, StartsAt: time.Now()}); app.ErrorCode(err) != app.EINVALID {
		t.Fatalf("missing title: %v, want invalid", err)
	}
	if err := st.DeactivateDiscount(ctx, shop, "FRIEND-P"); err != nil {
		t.Fatal(err)
	}
	if err := st.DeactivateDiscount(ctx, shop, "NEVER-CREATED"); err != nil {
		t.Fatalf("deactivating an unknown code must be a no-op: %v", err)
	}
	for _, d := range sim.Discounts(shop.Domain) {
		if d.Code == "FRIEND-P" && d.Status != "EXPIRED" {
			t.Fatalf("FRIEND-P still %s", d.Status)
		}
	}
	if n, err := st.CustomerOrderCount(ctx, shop, "123"); err != nil || n != 0 {
		t.Fatalf("order count: %d %v", n, err)
	}
	// Throttled: a RetryError with Shopify's delay, not a failure.
	sim.ThrottleNext(shop.Domain, 1)
	_, err := st.CustomerOrderCount(ctx, shop, "123")
	var re *shopify.RetryError
	if !errors.As(err, &re) || re.Delay <= 0 {
		t.Fatalf("throttled call: %v, want a RetryError", err)
	}
}

func TestStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Fixture {
		st, sim, shop := storeAgainstSimulator(t)
		return storetest.Fixture{
			Store: st, Shop: shop, CustomerID: "77",
			Code: func(code string) (bool, bool) {
				for _, d := range sim.Discounts(shop.Domain) {
					if storetest.Same(d.Code, code) {
						return true, d.Status == "ACTIVE"
					}
				}
				return false, false
			},
			Codes: func() int { return len(sim.Discounts(shop.Domain)) },
			Restriction: func(code string) storetest.Restriction {
				var r storetest.Restriction
				for _, d := range sim.Discounts(shop.Domain) {
					if !storetest.Same(d.Code, code) {
						continue
					}
					if n, ok := d.Input["usageLimit"].(float64); ok {
						r.UsageLimit = int(n)
					}
					// context {customers: {add: [GIDs]}} (shopify.md §4).
					cx, _ := d.Input["context"].(map[string]any)
					cs, _ := cx["customers"].(map[string]any)
					add, _ := cs["add"].([]any)
					for _, g := range add {
						s, _ := g.(string)
						r.Customers = append(r.Customers, s)
					}
				}
				return r
			},
			// The shareable link puts the code in the session, then the
			// storefront page carries ?ref= for the capture script.
			Land: func(t *testing.T, landing string) (string, string) {
				jar, _ := cookiejar.New(nil)
				resp, err := (&http.Client{Jar: jar}).Get(landing)
				if err != nil || resp.StatusCode != 200 {
					t.Fatalf("land on %s: %v %v", landing, resp, err)
				}
				resp.Body.Close()
				code := ""
				for _, c := range jar.Cookies(resp.Request.URL) {
					if c.Name == "discount_code" {
						code, _ = url.QueryUnescape(c.Value)
					}
				}
				return code, resp.Request.URL.Query().Get("ref")
			},
			StoreCredits: func() []storetest.Credit {
				var out []storetest.Credit
				for _, c := range sim.StoreCredits(shop.Domain) {
					m, err := app.ParseMoney(c.Amount, c.Currency)
					if err != nil {
						t.Fatal(err)
					}
					cr := storetest.Credit{CustomerID: c.CustomerID, Amount: m}
					if c.ExpiresAt != nil {
						cr.ExpiresAt = *c.ExpiresAt
					}
					out = append(out, cr)
				}
				return out
			},
			Throttle:    func(n int) { sim.ThrottleNext(shop.Domain, n) },
			Fail:        func(n int) { sim.FailNext(shop.Domain, n) },
			LoseAnswers: func(n int) { sim.LoseNextAnswers(shop.Domain, "storeCreditAccountCredit", n) },
			// What an order gets from the code: its discount's
			// customerGets as the store holds it (the simulator's orders
			// apply the same).
			Gives: func(code string) app.Offer {
				for _, d := range sim.Discounts(shop.Domain) {
					if !storetest.Same(d.Code, code) {
						continue
					}
					if d.Kind == "DiscountCodeFreeShipping" {
						return app.Offer{Kind: app.OfferFreeShipping}
					}
					cg, _ := d.Input["customerGets"].(map[string]any)
					val, _ := cg["value"].(map[string]any)
					if p, ok := val["percentage"].(float64); ok {
						return app.Offer{Kind: app.OfferPercent, Percent: int(math.Round(p * 100))}
					}
					da, _ := val["discountAmount"].(map[string]any)
					var amount float64
					switch a := da["amount"].(type) {
					case float64:
						amount = a
					case string:
						amount, _ = strconv.ParseFloat(a, 64)
					}
					return app.Offer{Kind: app.OfferFixed, AmountMinor: int64(math.Round(amount * 100))}
				}
				return app.Offer{}
			},
			AddOrders: func(customerID string, n int) {
				id, _ := strconv.ParseInt(customerID, 10, 64)
				for range n {
					if _, err := sim.CreateOrder(shop.Domain, shopifysim.OrderInput{CustomerID: id, Email: "c@example.com", Quiet: true}); err != nil {
						t.Fatal(err)
					}
				}
			},
		}
	})
}
