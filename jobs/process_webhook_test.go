package jobs

import (
	"context"
	"encoding/json"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/testenv"
	"github.com/parrain/parrain/integrations/shopify"
)

// A job carrying the intake's inline copy runs from it while its event is
// pending; once the event is processed it is skipped, and once redacted the
// handler gets the stored (redacted) body, never the copy taken before.
func TestProcessWebhookRunsFromTheInlineCopyOnlyWhilePending(t *testing.T) {
	db, _ := testenv.OpenDB(t)
	ctx := context.Background()
	sh, err := db.Shops().Install(ctx, app.PlatformShopify, "inline.myshopify.com", app.Credentials{AccessToken: "a"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	svc := db.NewWebhookService(1, 4)
	defer svc.Close()
	store := func(eventID string) int64 {
		id, created, err := svc.StoreEvent(ctx, &app.WebhookEvent{ShopID: sh.ID, Topic: "orders/create", EventID: eventID,
			Payload: json.RawMessage(`{"id":7,"email":"stored@example.com"}`)})
		if err != nil || !created {
			t.Fatalf("store: %v %v", created, err)
		}
		return id
	}
	var got []string
	p := &WebhookProcessor{Webhooks: svc, Shops: db.Shops(), Now: time.Now, Topics: map[string]TopicHandler{
		"orders/create": func(ctx context.Context, shop *app.Shop, ev *app.WebhookEvent) error {
			got = append(got, string(ev.Payload))
			return nil
		},
	}}
	inline := json.RawMessage(`{"id":7,"email":"inline@example.com"}`)
	run := func(id int64) {
		t.Helper()
		task := NewProcessWebhookTask(app.EventRef{ID: id, ShopID: sh.ID, Topic: "orders/create", Inline: inline})
		if err := p.ProcessTask(ctx, task); err != nil {
			t.Fatal(err)
		}
	}

	id := store("pending")
	run(id)
	run(id) // processed now: skipped
	if len(got) != 1 || got[0] != string(inline) {
		t.Fatalf("handler got %q, want the inline copy once", got)
	}

	got = nil
	id = store("redacted")
	if _, err := db.SQL().Exec(`UPDATE webhook_events SET payload = '{"id":7,"redacted":true}', redacted_at = now() WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	run(id)
	if len(got) != 1 || got[0] == string(inline) {
		t.Fatalf("handler got %q, want the stored redacted body", got)
	}

	got = nil
	id = store("erased")
	if _, err := db.SQL().Exec(`DELETE FROM webhook_events WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	run(id)
	if len(got) != 0 {
		t.Fatalf("an erased event ran: %q", got)
	}
}

// The job's payload is written by hand (appendJSON); it must be the bytes
// json.Marshal gives for the intake's inline copy of a real order, for a
// relay's job and for a topic needing escapes, and the same JSON value for
// an inline copy not escaped as encoding/json escapes. An invalid inline copy is
// dropped (the job then loads the stored event) rather than making a job
// its worker cannot read.
func TestProcessWebhookPayloadJSON(t *testing.T) {
	body, err := os.ReadFile("../integrations/shopify/shopifysim/fixtures/order.json")
	if err != nil {
		t.Fatal(err)
	}
	wb, err := shopify.ReadWebhook(shopify.TopicOrdersCreate, body)
	if err != nil || len(wb.Inline) == 0 {
		t.Fatalf("inline copy: %v", err)
	}
	for _, c := range []struct {
		ev   app.EventRef
		want ProcessWebhookPayload
	}{
		{app.EventRef{ID: 12, ShopID: 3, Topic: shopify.TopicOrdersCreate, Inline: wb.Inline},
			ProcessWebhookPayload{EventID: 12, ShopID: 3, Topic: shopify.TopicOrdersCreate, Inline: wb.Inline}},
		{app.EventRef{ID: 13, ShopID: 3}, ProcessWebhookPayload{EventID: 13}},
		{app.EventRef{ID: 14, ShopID: 0, Topic: `a<b>&"c"`, Inline: json.RawMessage(`{"x":"<&>"}`)},
			ProcessWebhookPayload{EventID: 14, Topic: `a<b>&"c"`, Inline: json.RawMessage(`{"x":"<&>"}`)}},
		{app.EventRef{ID: 15, ShopID: 3, Topic: shopify.TopicOrdersPaid, Inline: json.RawMessage(`{"x":`)},
			ProcessWebhookPayload{EventID: 15}},
	} {
		want, err := json.Marshal(c.want)
		if err != nil {
			t.Fatal(err)
		}
		got := NewProcessWebhookTask(c.ev).Payload()
		if c.ev.ID == 14 {
			// Not escaped as encoding/json escapes (the intake's copy
			// is): the same JSON value, not the same bytes.
			var g, w any
			if json.Unmarshal(got, &g) != nil || json.Unmarshal(want, &w) != nil || !reflect.DeepEqual(g, w) {
				t.Errorf("event %d:\n got %s\nwant %s", c.ev.ID, got, want)
			}
			continue
		}
		if string(got) != string(want) {
			t.Errorf("event %d:\n got %s\nwant %s", c.ev.ID, got, want)
		}
	}
}
