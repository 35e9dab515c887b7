package shopify_test

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/integrations/shopify"
	"github.com/parrain/parrain/integrations/shopify/shopifysim"
)

// Orders are judged in shop money: the total the engine sees is
// total_price_set.shop_money, whatever the buyer paid in.
func TestOrderTotalIsInShopMoney(t *testing.T) {
	fixture, err := os.ReadFile("shopifysim/fixtures/order.json")
	if err != nil {
		t.Fatal(err)
	}
	sim := shopifysim.New(shopifysim.Config{APIKey: "k", APISecret: "s", AppURL: "http://app.invalid"})
	const domain = "eur.myshopify.com"
	sim.AddShop(domain, shopifysim.ShopInfo{CurrencyCode: "EUR"})
	usd, err := sim.CreateOrder(domain, shopifysim.OrderInput{Total: "19.44", PresentmentCurrency: "USD", PresentmentRate: "1.08", Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	gbp, err := sim.CreateOrder(domain, shopifysim.OrderInput{Total: "21.00", PresentmentCurrency: "GBP", PresentmentRate: "0.85", Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		Presentment string `json:"presentment_currency"`
		Set         struct {
			P struct{ Amount, CurrencyCode string } `json:"presentment_money"`
		} `json:"total_price_set"`
	}
	if err := json.Unmarshal(usd, &o); err != nil || o.Presentment != "USD" || o.Set.P.Amount != "21.00" {
		t.Fatalf("the simulator's presentment order: %+v %v", o, err)
	}
	if _, err := sim.CreateOrder(domain, shopifysim.OrderInput{PresentmentCurrency: "USD", PresentmentRate: "cheap", Quiet: true}); err == nil {
		t.Fatal("a presentment order without a rate was placed")
	}
	// Beside the shop-money total, the buyer's money when it is another
	// currency (the rate store credit is converted at); nothing when the
	// buyer paid in the shop's currency or the payload does not say.
	for _, tc := range []struct {
		name       string
		body       []byte
		want, pres app.Money
	}{
		{"Shopify's sample order (USD shop, USD buyer)", fixture, app.Money{Minor: 59894, Currency: "USD"}, app.Money{}},
		{"EUR shop, buyer paid 21.00 USD", usd, app.Money{Minor: 1944, Currency: "EUR"}, app.Money{Minor: 2100, Currency: "USD"}},
		{"EUR shop, buyer paid 17.85 GBP", gbp, app.Money{Minor: 2100, Currency: "EUR"}, app.Money{Minor: 1785, Currency: "GBP"}},
		{"no *_set: total_price in currency", []byte(`{"id": 1, "total_price": "5.00", "currency": "EUR"}`), app.Money{Minor: 500, Currency: "EUR"}, app.Money{}},
		{"the set wins over total_price", []byte(`{"id": 1, "total_price": "5.00", "currency": "USD",
			"total_price_set": {"shop_money": {"amount": "4.50", "currency_code": "EUR"}, "presentment_money": {"amount": "5.00", "currency_code": "USD"}}}`),
			app.Money{Minor: 450, Currency: "EUR"}, app.Money{Minor: 500, Currency: "USD"}},
		{"a malformed presentment amount is ignored", []byte(`{"id": 1, "total_price": "4.50", "currency": "EUR",
			"total_price_set": {"shop_money": {"amount": "4.50", "currency_code": "EUR"}, "presentment_money": {"amount": "five", "currency_code": "USD"}}}`),
			app.Money{Minor: 450, Currency: "EUR"}, app.Money{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := shopify.ParseOrderEvent(tc.body, true)
			if err != nil || ev.Order.Total != tc.want || ev.Presentment != tc.pres {
				t.Fatalf("total %v, presentment %v, %v; want %v, %v", ev.Order.Total, ev.Presentment, err, tc.want, tc.pres)
			}
		})
	}
}
