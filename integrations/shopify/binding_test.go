package shopify

import (
	"os"
	"strings"
	"testing"

	"github.com/parrain/parrain/app"
)

// Each real payload (fixtures from Shopify's docs and samples) binds to its
// own topic and is refused under every other one.
func TestBindWebhookFixtures(t *testing.T) {
	const shop = "demo.myshopify.com"
	load := func(name string) []byte {
		b, err := os.ReadFile("shopifysim/fixtures/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return []byte(strings.ReplaceAll(string(b), "{shop}.myshopify.com", shop))
	}
	bodies := map[string][]byte{
		"order":        load("order.json"),
		"refund":       load("refund.json"),
		"uninstalled":  load("app-uninstalled.json"),
		"shop_redact":  load("compliance-shop-redact.json"),
		"cust_redact":  load("compliance-customers-redact.json"),
		"data_request": load("compliance-customers-data_request.json"),
	}
	own := map[string]string{
		TopicOrdersCreate: "order", TopicOrdersPaid: "order", TopicOrdersCancelled: "order", TopicRefundsCreate: "refund",
		TopicAppUninstalled: "uninstalled", TopicShopRedact: "shop_redact", TopicCustomersRedact: "cust_redact", TopicCustomersDataReq: "data_request",
	}
	for topic, mine := range own {
		for name, b := range bodies {
			err := BindWebhook(topic, shop, 0, b)
			if name == mine && err != nil {
				t.Errorf("%s body under %s: %v", name, topic, err)
			}
			if name != mine && app.ErrorCode(err) != app.EINVALID {
				t.Errorf("%s body under %s: %v, want EINVALID", name, topic, err)
			}
		}
	}
}

func TestBindWebhookShop(t *testing.T) {
	cases := []struct {
		name, topic, shop string
		known             int64
		body              string
		code              string
	}{
		{"redact, same shop", TopicShopRedact, "a.myshopify.com", 0, `{"shop_id":1,"shop_domain":"a.myshopify.com"}`, ""},
		{"redact, same shop and id", TopicShopRedact, "a.myshopify.com", 1, `{"shop_id":1,"shop_domain":"a.myshopify.com"}`, ""},
		{"redact, other domain", TopicShopRedact, "b.myshopify.com", 0, `{"shop_id":1,"shop_domain":"a.myshopify.com"}`, app.EUNAUTHORIZED},
		{"redact, other id", TopicShopRedact, "a.myshopify.com", 2, `{"shop_id":1,"shop_domain":"a.myshopify.com"}`, app.EUNAUTHORIZED},
		{"redact, no domain", TopicShopRedact, "a.myshopify.com", 0, `{"shop_id":1}`, app.EINVALID},
		{"redact, null domain", TopicShopRedact, "a.myshopify.com", 0, `{"shop_id":1,"shop_domain":null}`, app.EINVALID},
		{"customer redact, other domain", TopicCustomersRedact, "b.myshopify.com", 0, `{"shop_id":1,"shop_domain":"a.myshopify.com","customer":{},"orders_to_redact":[]}`, app.EUNAUTHORIZED},
		{"uninstalled, other domain", TopicAppUninstalled, "b.myshopify.com", 0, `{"id":1,"myshopify_domain":"a.myshopify.com"}`, app.EUNAUTHORIZED},
		{"uninstalled, null domain, known id", TopicAppUninstalled, "a.myshopify.com", 1, `{"id":1,"myshopify_domain":null}`, ""},
		{"uninstalled, null domain, other id", TopicAppUninstalled, "a.myshopify.com", 2, `{"id":1,"myshopify_domain":null}`, app.EUNAUTHORIZED},
		{"uninstalled, case", TopicAppUninstalled, "a.myshopify.com", 0, `{"id":1,"myshopify_domain":"A.myshopify.com"}`, ""},
		{"order with a zero id", TopicOrdersCreate, "a.myshopify.com", 0, `{"id":0}`, app.EINVALID},
		{"order with a string id", TopicOrdersCreate, "a.myshopify.com", 0, `{"id":"7"}`, app.EINVALID},
		{"not an object", TopicOrdersCreate, "a.myshopify.com", 0, `[1]`, app.EINVALID},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := app.ErrorCode(BindWebhook(tc.topic, tc.shop, tc.known, []byte(tc.body))); got != tc.code {
				t.Fatalf("code %q, want %q", got, tc.code)
			}
		})
	}
}
