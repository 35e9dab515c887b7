package stack_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parrain/parrain/app"
)

// Each compliance topic, delivered as Shopify does (bodies shaped like
// shared/fixtures/shopify/compliance-*.json), does what it says in the
// database; app/uninstalled drops the tokens and keeps the data.
func TestComplianceAndUninstallWebhooks(t *testing.T) {
	h := newHarness(t)
	const shop = "privacy.myshopify.com"
	sh := h.installShop(shop)
	other := h.installShop("neighbour.myshopify.com")
	order := func(id int64, customer int64, email string) []byte {
		return []byte(fmt.Sprintf(`{"id":%d,"email":%q,"customer":{"id":%d,"email":%q,"phone":"555-625-1199"},"total_price":"42.00","currency":"USD","shipping_address":{"address1":"1 Rue X"}}`, id, email, customer, email))
	}
	mustDeliver := func(d delivery) {
		t.Helper()
		if status, body := h.deliver(d); status != 200 {
			t.Fatalf("%s: %d %s", d.topic, status, body)
		}
	}
	mustDeliver(delivery{topic: "orders/create", shop: shop, eventID: "o1", body: order(299938, 191167, "john@example.com")})
	mustDeliver(delivery{topic: "orders/create", shop: shop, eventID: "o2", body: order(280263, 191167, "john@example.com")})
	mustDeliver(delivery{topic: "orders/create", shop: shop, eventID: "o3", body: order(111, 5, "ann@example.com")})
	mustDeliver(delivery{topic: "orders/create", shop: "neighbour.myshopify.com", eventID: "o1", body: order(299938, 191167, "john@example.com")})
	processed := func(n int) func() bool {
		return func() bool { return h.count("SELECT count(*) FROM webhook_events WHERE processed_at IS NOT NULL") >= n }
	}
	eventually(t, 10*time.Second, "orders processed", processed(4))

	// customers/data_request → an export of what we hold on John.
	mustDeliver(delivery{topic: "customers/data_request", shop: shop, eventID: "c1", body: []byte(
		`{"shop_id":954889,"shop_domain":"privacy.myshopify.com","orders_requested":[299938,280263],"customer":{"id":191167,"email":"john@example.com","phone":"555-625-1199"},"data_request":{"id":9999}}`)})
	eventually(t, 10*time.Second, "the data export", func() bool {
		return h.count("SELECT count(*) FROM data_exports WHERE shop_id = $1 AND request_id = 9999", sh.ID) == 1
	})
	var export string
	h.direct.QueryRow("SELECT export::text FROM data_exports WHERE shop_id = $1", sh.ID).Scan(&export)
	if strings.Count(export, `"topic"`) != 2 || strings.Contains(export, "ann@example.com") {
		t.Fatalf("export should hold John's two orders and nothing of Ann's: %s", export)
	}

	if n := h.count("SELECT count(*) FROM orders WHERE shop_id = $1 AND facts::text ILIKE '%john@example.com%'", sh.ID); n != 2 {
		t.Fatalf("the engine should hold John's 2 orders before redaction, has %d", n)
	}

	// customers/redact → John's personal data is gone from this shop only.
	mustDeliver(delivery{topic: "customers/redact", shop: shop, eventID: "c2", body: []byte(
		`{"shop_id":954889,"shop_domain":"privacy.myshopify.com","customer":{"id":191167,"email":"john@example.com","phone":"555-625-1199"},"orders_to_redact":[299938,280263]}`)})
	eventually(t, 10*time.Second, "John redacted", func() bool {
		return h.count("SELECT count(*) FROM webhook_events WHERE shop_id = $1 AND topic LIKE 'orders/%' AND payload::text ILIKE '%john@example.com%'", sh.ID) == 0
	})
	if n := h.count("SELECT count(*) FROM webhook_events WHERE shop_id = $1 AND payload::text LIKE '%1 Rue X%' AND payload::text NOT LIKE '%ann@%'", sh.ID); n != 0 {
		t.Fatalf("John's address survived redaction in %d events", n)
	}
	if n := h.count("SELECT count(*) FROM data_exports WHERE shop_id = $1", sh.ID); n != 0 {
		t.Fatal("John's export survived redaction")
	}
	if n := h.count("SELECT count(*) FROM orders WHERE shop_id = $1 AND (facts::text ILIKE '%john@example.com%' OR facts::text LIKE '%1 Rue X%' AND facts::text NOT LIKE '%ann@%')", sh.ID); n != 0 {
		t.Fatalf("John's data survived in %d engine orders", n)
	}
	if n := h.count("SELECT count(*) FROM webhook_events WHERE shop_id = $1 AND payload::text LIKE '%john@example.com%'", other.ID); n != 1 {
		t.Fatal("redaction reached another shop")
	}
	if n := h.count("SELECT count(*) FROM webhook_events WHERE shop_id = $1 AND payload::text LIKE '%ann@example.com%'", sh.ID); n != 1 {
		t.Fatal("redaction reached another customer")
	}

	// app/uninstalled → tokens dropped, data kept.
	mustDeliver(delivery{topic: "app/uninstalled", shop: shop, eventID: "u1", body: []byte(`{"id":954889,"name":"Privacy","domain":null,"myshopify_domain":"privacy.myshopify.com"}`)})
	eventually(t, 10*time.Second, "shop uninstalled", func() bool {
		return h.count("SELECT count(*) FROM shops WHERE id = $1 AND status = 'uninstalled' AND access_token IS NULL AND refresh_token IS NULL", sh.ID) == 1
	})
	if n := h.count("SELECT count(*) FROM webhook_events WHERE shop_id = $1", sh.ID); n < 4 {
		t.Fatal("uninstall erased data before shop/redact")
	}
	if _, err := h.stack.DB.Shops().Credentials(context.Background(), sh.ID); app.ErrorCode(err) != app.ENOTFOUND {
		t.Fatalf("credentials after uninstall: %v", err)
	}

	// shop/redact → everything of the shop erased, a tombstone kept.
	mustDeliver(delivery{topic: "shop/redact", shop: shop, eventID: "r1", body: []byte(`{"shop_id":954889,"shop_domain":"privacy.myshopify.com"}`)})
	eventually(t, 10*time.Second, "shop redacted", func() bool {
		return h.count("SELECT count(*) FROM shops WHERE id = $1 AND status = 'redacted'", sh.ID) == 1
	})
	if n := h.count("SELECT count(*) FROM webhook_events WHERE shop_id = $1", sh.ID); n != 0 {
		t.Fatalf("%d events left after shop/redact", n)
	}
	if n := h.count("SELECT count(*) FROM orders WHERE shop_id = $1", sh.ID); n != 0 {
		t.Fatalf("%d engine orders left after shop/redact", n)
	}
	if n := h.count("SELECT count(*) FROM webhook_events WHERE shop_id = $1", other.ID); n != 1 {
		t.Fatal("shop/redact erased another shop's data")
	}
	// A redelivery of shop/redact is still answered 200 (the tombstone).
	if status, _ := h.deliver(delivery{topic: "shop/redact", shop: shop, eventID: "r1", body: []byte(`{"shop_id":954889,"shop_domain":"privacy.myshopify.com"}`)}); status != 200 {
		t.Fatalf("shop/redact redelivery: %d", status)
	}
}

func TestComplianceWebhooksRefuseBadHMAC(t *testing.T) {
	h := newHarness(t, withoutWorker())
	h.installShop("strict.myshopify.com")
	for _, topic := range []string{"customers/data_request", "customers/redact", "shop/redact"} {
		status, _ := h.deliver(delivery{topic: topic, shop: "strict.myshopify.com", eventID: topic, body: []byte(`{"shop_id":1}`), hmac: signWith([]byte(`{"shop_id":1}`), "wrong")})
		if status != 401 {
			t.Fatalf("%s with a bad HMAC: %d, want 401 (Shopify's compliance check)", topic, status)
		}
	}
	if n := h.count("SELECT count(*) FROM webhook_events"); n != 0 {
		t.Fatal("stored a compliance request with a bad HMAC")
	}
}
