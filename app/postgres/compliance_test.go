package postgres_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/testenv"
)

func TestComplianceExportRedactAndShopRedact(t *testing.T) {
	db, _ := testenv.OpenDB(t)
	ctx := context.Background()
	sh := installShop(t, db, "gdpr.myshopify.com")
	bystander := installShop(t, db, "bystander.myshopify.com")
	svc := db.NewWebhookService(1, 8)
	defer svc.Close()
	store := func(shopID int64, topic, eventID, payload string) {
		var p struct {
			Customer *struct{ ID int64 } `json:"customer"`
		}
		if err := json.Unmarshal([]byte(payload), &p); err != nil {
			t.Fatal(err)
		}
		ev := &app.WebhookEvent{ShopID: shopID, Topic: topic, EventID: eventID, Payload: json.RawMessage(payload)}
		if p.Customer != nil {
			ev.CustomerID = p.Customer.ID
		}
		if _, _, err := svc.StoreEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	store(sh.ID, "orders/create", "1", `{"id":299938,"email":"john@example.com","customer":{"id":191167,"email":"john@example.com","phone":"555-625-1199"},"total_price":"10.00"}`)
	store(sh.ID, "refunds/create", "2", `{"id":5,"order_id":299938,"note":"john@example.com"}`)
	store(sh.ID, "orders/create", "3", `{"id":1,"email":"Guest@Example.com","customer":null}`)
	store(sh.ID, "orders/create", "4", `{"id":2,"email":"else@example.com","customer":{"id":7,"email":"else@example.com"}}`)
	store(bystander.ID, "orders/create", "1", `{"id":299938,"email":"john@example.com","customer":{"id":191167,"email":"john@example.com"}}`)

	comp := db.Compliance()
	john := app.CustomerRef{ID: 191167, Email: "john@example.com", OrderIDs: []int64{299938}}
	exportID, err := comp.ExportCustomer(ctx, sh.ID, 9999, john, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var export string
	db.SQL().QueryRow("SELECT export::text FROM data_exports WHERE id = $1 AND shop_id = $2", exportID, sh.ID).Scan(&export)
	var doc struct {
		Events []struct{ Topic string } `json:"webhook_events"`
	}
	json.Unmarshal([]byte(export), &doc)
	if len(doc.Events) != 2 {
		t.Fatalf("export has %d events, want john's order and refund: %s", len(doc.Events), export)
	}
	// A redelivered request replaces, not duplicates.
	if again, err := comp.ExportCustomer(ctx, sh.ID, 9999, john, time.Now()); err != nil || again != exportID {
		t.Fatalf("redelivered export: id %d (want %d) err %v", again, exportID, err)
	}

	n, err := comp.RedactCustomer(ctx, sh.ID, john, time.Now())
	if err != nil || n != 3 { // order, refund, export
		t.Fatalf("redacted %d records (%v), want 3", n, err)
	}
	var leaks int
	db.SQL().QueryRow("SELECT count(*) FROM webhook_events WHERE shop_id = $1 AND payload::text ILIKE '%john@example.com%'", sh.ID).Scan(&leaks)
	if leaks != 0 {
		t.Fatalf("%d events still carry the redacted email", leaks)
	}
	var kept string
	db.SQL().QueryRow("SELECT payload::text FROM webhook_events WHERE shop_id = $1 AND event_id = '1'", sh.ID).Scan(&kept)
	if !strings.Contains(kept, `"total_price": "10.00"`) || !strings.Contains(kept, `"redacted": true`) {
		t.Fatalf("redacted payload lost bookkeeping fields: %s", kept)
	}
	var others int
	db.SQL().QueryRow("SELECT count(*) FROM webhook_events WHERE payload::text ILIKE '%example.com%' AND redacted_at IS NULL").Scan(&others)
	if others != 3 { // guest, else@, and the other shop's john
		t.Fatalf("redaction touched other customers or shops: %d untouched rows, want 3", others)
	}
	// Guest checkout, by email only, case-insensitive.
	if n, _ := comp.RedactCustomer(ctx, sh.ID, app.CustomerRef{Email: "guest@example.com"}, time.Now()); n != 1 {
		t.Fatalf("guest redaction changed %d rows, want 1", n)
	}
	if n, _ := comp.RedactCustomer(ctx, sh.ID, app.CustomerRef{}, time.Now()); n != 0 {
		t.Fatalf("an empty customer reference redacted %d rows", n)
	}

	if err := comp.RedactShop(ctx, sh.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	var events, exports int
	db.SQL().QueryRow("SELECT count(*) FROM webhook_events WHERE shop_id = $1", sh.ID).Scan(&events)
	db.SQL().QueryRow("SELECT count(*) FROM data_exports WHERE shop_id = $1", sh.ID).Scan(&exports)
	got, _ := db.Shops().ShopByID(ctx, sh.ID)
	var figures int
	db.SQL().QueryRow(`SELECT (SELECT count(*) FROM dashboard_days WHERE shop_id = $1) + (SELECT count(*) FROM dashboard_customers WHERE shop_id = $1)
		+ (SELECT count(*) FROM dashboard_cohort_days WHERE shop_id = $1) + (SELECT count(*) FROM dashboard_advocate_totals WHERE shop_id = $1)`, sh.ID).Scan(&figures)
	if figures != 0 {
		t.Fatalf("after shop redact: %d dashboard rows left", figures)
	}
	if events != 0 || exports != 0 || got.Status != app.ShopRedacted || got.Name != "" {
		t.Fatalf("after shop redact: events=%d exports=%d shop=%+v", events, exports, got)
	}
	if _, err := db.Shops().Credentials(ctx, sh.ID); app.ErrorCode(err) != app.ENOTFOUND {
		t.Fatal("redacted shop still has credentials")
	}
	var bystanderEvents int
	db.SQL().QueryRow("SELECT count(*) FROM webhook_events WHERE shop_id = $1", bystander.ID).Scan(&bystanderEvents)
	if bystanderEvents != 1 {
		t.Fatal("shop redact touched another shop")
	}
}
