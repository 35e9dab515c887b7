package shopify

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/parrain/parrain/app"
)

// ReadWebhook + Bind (one decode for order topics) decide as BindWebhook
// does, on the real payloads under every topic and on crafted order bodies.
func TestReadWebhookBindsAsBindWebhook(t *testing.T) {
	const shop = "demo.myshopify.com"
	bodies := map[string]string{
		"order with a zero id":      `{"id":0}`,
		"order with a string id":    `{"id":"7"}`,
		"order with a null id":      `{"id":null}`,
		"order with an upper ID":    `{"ID":7}`,
		"order and null order_id":   `{"id":7,"order_id":null}`,
		"order and shop_id":         `{"id":7,"shop_id":1}`,
		"order and Shop_Id":         `{"id":7,"Shop_Id":1}`,
		"order and shop_domain":     `{"id":7,"shop_domain":"x"}`,
		"order and myshopify":       `{"id":7,"myshopify_domain":"x"}`,
		"order and data_request":    `{"id":7,"data_request":{}}`,
		"order, total as a number":  `{"id":7,"total_price":12.5}`,
		"order, minimal":            `{"id":7}`,
		"not an object":             `[1]`,
		"not JSON":                  `{"id":7,`,
		"order, unknown deep field": `{"id":7,"line_items":[{"x":[1,{"y":null}]}]}`,
	}
	for _, name := range []string{"order.json", "refund.json", "app-uninstalled.json", "compliance-shop-redact.json",
		"compliance-customers-redact.json", "compliance-customers-data_request.json"} {
		b, err := os.ReadFile("shopifysim/fixtures/" + name)
		if err != nil {
			t.Fatal(err)
		}
		bodies[name] = strings.ReplaceAll(string(b), "{shop}.myshopify.com", shop)
	}
	// As the intake always did: a customer id of the wrong type is refused
	// with the JSON check, before the binding.
	if _, err := ReadWebhook(TopicRefundsCreate, []byte(`{"id":7,"order_id":1,"customer":{"id":"x"}}`)); app.ErrorCode(err) != app.EINVALID {
		t.Errorf("customer id as a string: %v, want EINVALID", err)
	}
	topics := []string{TopicOrdersCreate, TopicOrdersPaid, TopicOrdersCancelled, TopicRefundsCreate, TopicAppUninstalled,
		TopicShopRedact, TopicCustomersRedact, TopicCustomersDataReq}
	for name, body := range bodies {
		for _, topic := range topics {
			want := app.ErrorCode(BindWebhook(topic, shop, 0, []byte(body)))
			var got string
			wb, err := ReadWebhook(topic, []byte(body))
			if err != nil {
				got = app.ErrorCode(err)
			} else {
				got = app.ErrorCode(wb.Bind(shop, 0))
			}
			if got != want {
				t.Errorf("%s under %s: %q, want %q as BindWebhook", name, topic, got, want)
			}
		}
	}
}

// The compact order the job carries gives the engine the same event as the
// whole body.
func TestReadWebhookInlineParsesAsTheBody(t *testing.T) {
	b, err := os.ReadFile("shopifysim/fixtures/order.json")
	if err != nil {
		t.Fatal(err)
	}
	variants := map[string]string{
		"fixture": string(b),
		"guest":   `{"id":9,"email":"g@example.com","total_price":"10.00","currency":"EUR","customer":null,"billing_address":{"first_name":"Gi"},"note_attributes":[{"name":"parrain_ref","value":"ABC"},{"name":"n","value":3}],"discount_codes":[{"code":"FRIEND-X"}],"confirmation_number":"XPAV"}`,
		"nulls":   `{"id":9,"total_price":"10.00","currency":"EUR","phone":null,"landing_site":null,"shipping_address":null,"cancelled_at":"2026-01-01T00:00:00Z"}`,
	}
	for name, body := range variants {
		wb, err := ReadWebhook(TopicOrdersPaid, []byte(body))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if wb.Inline == nil || len(wb.Inline) >= len(body) && name == "fixture" {
			t.Fatalf("%s: inline %d bytes for a %d-byte body", name, len(wb.Inline), len(body))
		}
		for _, paid := range []bool{false, true} {
			want, err1 := ParseOrderEvent([]byte(body), paid)
			got, err2 := ParseOrderEvent(wb.Inline, paid)
			if err1 != nil || err2 != nil {
				t.Fatalf("%s: %v / %v", name, err1, err2)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: from inline %+v\nfrom body %+v", name, got, want)
			}
		}
	}
	if wb, _ := ReadWebhook(TopicRefundsCreate, []byte(`{"id":1,"order_id":2}`)); wb == nil || wb.Inline != nil {
		t.Fatalf("refunds carry no inline form: %+v", wb)
	}
}
