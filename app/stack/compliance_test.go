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
	h := newHarness(t, withSimulator())
	const shop = "privacy.myshopify.com"
	sh := h.installAndSync(shop, "USD")
	other := h.installAndSync("neighbour.myshopify.com", "USD")
	shopID := sh.PlatformShopID
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
		fmt.Sprintf(`{"shop_id":%d,"shop_domain":"privacy.myshopify.com","orders_requested":[299938,280263],"customer":{"id":191167,"email":"john@example.com","phone":"555-625-1199"},"data_request":{"id":9999}}`, shopID))})
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
		fmt.Sprintf(`{"shop_id":%d,"shop_domain":"privacy.myshopify.com","customer":{"id":191167,"email":"john@example.com","phone":"555-625-1199"},"orders_to_redact":[299938,280263]}`, shopID))})
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

	// app/uninstalled (the merchant uninstalls: Shopify revokes the token
	// and sends the webhook) → tokens dropped, data kept.
	if _, err := h.sim.Uninstall(shop); err != nil {
		t.Fatal(err)
	}
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
	mustDeliver(delivery{topic: "shop/redact", shop: shop, eventID: "r1", body: []byte(fmt.Sprintf(`{"shop_id":%d,"shop_domain":"privacy.myshopify.com"}`, shopID))})
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
	if status, _ := h.deliver(delivery{topic: "shop/redact", shop: shop, eventID: "r1", body: []byte(fmt.Sprintf(`{"shop_id":%d,"shop_domain":"privacy.myshopify.com"}`, shopID))}); status != 200 {
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

// Shopify signs the body only; topic and shop are unsigned headers. Genuine
// signed bodies re-sent under another topic or another shop are refused
// with nothing written, and the destructive topics are not acted on while
// the store says the app is installed: the victim stays installed with its
// data. (Before: an order body re-sent as shop/redact erased the shop, and
// as app/uninstalled dropped its token.)
func TestReplayedBodyUnderAnotherTopicOrShopIsRefused(t *testing.T) {
	h := newHarness(t, withSimulator())
	const victim, attacker = "victim.myshopify.com", "attacker.myshopify.com"
	v := h.installAndSync(victim, "USD")
	a := h.installAndSync(attacker, "USD")
	orderA := []byte(`{"id":4242,"name":"#1001","email":"eve@example.com","customer":{"id":77,"email":"eve@example.com"},"total_price":"10.00","currency":"USD","financial_status":"pending"}`)
	orderV := []byte(`{"id":5151,"name":"#1001","email":"vic@example.com","customer":{"id":88,"email":"vic@example.com"},"total_price":"10.00","currency":"USD","financial_status":"pending"}`)
	for _, d := range []delivery{
		{topic: "orders/create", shop: attacker, eventID: "a-o1", body: orderA},
		{topic: "orders/create", shop: victim, eventID: "v-o1", body: orderV},
	} {
		if status, body := h.deliver(d); status != 200 {
			t.Fatalf("genuine order: %d %s", status, body)
		}
	}
	eventually(t, 10*time.Second, "orders processed", func() bool {
		return h.count("SELECT count(*) FROM webhook_events WHERE processed_at IS NOT NULL") == 2
	})
	before := h.count("SELECT count(*) FROM webhook_events")

	// Bodies the attacker can hold, each genuinely signed with the app secret.
	redactA := []byte(fmt.Sprintf(`{"shop_id":%d,"shop_domain":%q}`, a.PlatformShopID, attacker))
	custRedactV := []byte(fmt.Sprintf(`{"shop_id":%d,"shop_domain":%q,"customer":{"id":88,"email":"vic@example.com","phone":null},"orders_to_redact":[5151]}`, v.PlatformShopID, victim))
	uninstA := []byte(fmt.Sprintf(`{"id":%d,"name":"Attacker","domain":%q,"myshopify_domain":%q}`, a.PlatformShopID, attacker, attacker))
	uninstNoDomain := []byte(fmt.Sprintf(`{"id":%d,"name":"Attacker","domain":null,"myshopify_domain":null}`, a.PlatformShopID))
	refund := []byte(`{"id":9,"order_id":4242,"transactions":[]}`)
	cases := []struct {
		name, topic string
		body        []byte
		status      int
	}{
		{"order body as shop/redact", "shop/redact", orderA, 400},
		{"order body as app/uninstalled", "app/uninstalled", orderA, 400},
		{"order body as customers/redact", "customers/redact", orderA, 400},
		{"order body as customers/data_request", "customers/data_request", orderA, 400},
		{"refund body as orders/create", "orders/create", refund, 400},
		{"shop/redact body as orders/paid", "orders/paid", redactA, 400},
		{"another shop's shop/redact", "shop/redact", redactA, 401},
		{"another shop's app/uninstalled", "app/uninstalled", uninstA, 401},
		{"another shop's uninstall by id only", "app/uninstalled", uninstNoDomain, 401},
		{"customers/redact body as shop/redact", "shop/redact", custRedactV, 400},
		{"customers/redact body as data_request", "customers/data_request", custRedactV, 400},
		{"app/uninstalled body as shop/redact", "shop/redact", uninstA, 400},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := h.deliver(delivery{topic: tc.topic, shop: victim, eventID: fmt.Sprint("replay-", i), body: tc.body})
			if status != tc.status {
				t.Fatalf("got %d %s; want %d", status, body, tc.status)
			}
		})
	}
	if n := h.count("SELECT count(*) FROM webhook_events"); n != before {
		t.Fatalf("%d events stored from refused replays", n-before)
	}

	// Bodies that name the victim (a shop/redact or app/uninstalled captured
	// from an earlier install, or forged by nobody: Shopify's own) while the
	// victim is installed: recorded, not acted on.
	redactV := []byte(fmt.Sprintf(`{"shop_id":%d,"shop_domain":%q}`, v.PlatformShopID, victim))
	uninstV := []byte(fmt.Sprintf(`{"id":%d,"name":"Victim","domain":%q,"myshopify_domain":%q}`, v.PlatformShopID, victim, victim))
	for _, d := range []delivery{
		{topic: "app/uninstalled", shop: victim, eventID: "stale-u", body: uninstV},
		{topic: "shop/redact", shop: victim, eventID: "stale-r", body: redactV},
	} {
		if status, body := h.deliver(d); status != 200 {
			t.Fatalf("%s naming the victim: %d %s", d.topic, status, body)
		}
	}
	eventually(t, 10*time.Second, "the stale requests processed", func() bool {
		return h.count("SELECT count(*) FROM webhook_events WHERE event_id IN ('stale-u','stale-r') AND processed_at IS NOT NULL") == 2
	})
	if n := h.count("SELECT count(*) FROM shops WHERE id = $1 AND status = 'installed' AND access_token IS NOT NULL", v.ID); n != 1 {
		t.Fatal("the victim lost its install")
	}
	if n := h.count("SELECT count(*) FROM orders WHERE shop_id = $1", v.ID); n != 1 {
		t.Fatal("the victim lost its orders")
	}
	if n := h.count("SELECT count(*) FROM webhook_events WHERE shop_id = $1 AND topic = 'orders/create'", v.ID); n != 1 {
		t.Fatal("the victim lost its events")
	}
	if _, err := h.stack.DB.Shops().Credentials(context.Background(), v.ID); err != nil {
		t.Fatalf("the victim's credentials: %v", err)
	}
	if !strings.Contains(h.logs.String(), "shop/redact ignored") || !strings.Contains(h.logs.String(), "app/uninstalled ignored") {
		t.Error("the ignored requests are not in the logs")
	}
}
