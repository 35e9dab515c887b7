package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/postgres"
	"github.com/parrain/parrain/app/testenv"
)

func installShop(t *testing.T, db *postgres.DB, domain string) *app.Shop {
	t.Helper()
	sh, err := db.Shops().Install(context.Background(), app.PlatformShopify, domain, app.Credentials{AccessToken: "a"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return sh
}

func TestStoreEventDeduplicatesConcurrentDeliveries(t *testing.T) {
	db, _ := testenv.OpenDB(t)
	sh := installShop(t, db, "dedupe.myshopify.com")
	svc := db.NewWebhookService(2, 16)
	defer svc.Close()
	ctx := context.Background()

	// 20 distinct events, each delivered 5 times at once: exactly one
	// delivery of each may claim the row, whatever the batching.
	var mu sync.Mutex
	created := map[string]int{}
	var wg sync.WaitGroup
	for i := range 20 {
		for range 5 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ev := &app.WebhookEvent{ShopID: sh.ID, Topic: "orders/create", EventID: fmt.Sprint("evt-", i), Payload: json.RawMessage(`{"id":1}`)}
				id, ok, err := svc.StoreEvent(ctx, ev)
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					if id == 0 {
						t.Error("created without id")
					}
					mu.Lock()
					created[ev.EventID]++
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	var rows int
	db.SQL().QueryRow("SELECT count(*) FROM webhook_events WHERE shop_id = $1", sh.ID).Scan(&rows)
	if rows != 20 || len(created) != 20 {
		t.Fatalf("rows = %d, created keys = %d; want 20 and 20", rows, len(created))
	}
	for k, n := range created {
		if n != 1 {
			t.Fatalf("event %s reported created %d times", k, n)
		}
	}
	// Same event id on another shop is a different event.
	other := installShop(t, db, "dedupe2.myshopify.com")
	if _, ok, err := svc.StoreEvent(ctx, &app.WebhookEvent{ShopID: other.ID, Topic: "orders/create", EventID: "evt-1", Payload: json.RawMessage(`{}`)}); err != nil || !ok {
		t.Fatalf("same event id on another shop: ok=%v err=%v", ok, err)
	}
}

func TestEventLifecycleAndRelayQueue(t *testing.T) {
	db, _ := testenv.OpenDB(t)
	sh := installShop(t, db, "life.myshopify.com")
	svc := db.NewWebhookService(1, 8)
	defer svc.Close()
	ctx := context.Background()
	trig := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	id, ok, err := svc.StoreEvent(ctx, &app.WebhookEvent{ShopID: sh.ID, Topic: "orders/paid", EventID: "e1", WebhookID: "w1", APIVersion: "2026-07", TriggeredAt: &trig, Payload: json.RawMessage(`{"id": 42, "email": "a@b.c"}`)})
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	ev, err := svc.Event(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Topic != "orders/paid" || ev.Platform != app.PlatformShopify || !ev.TriggeredAt.Equal(trig) || !strings.Contains(string(ev.Payload), `"id": 42`) {
		t.Fatalf("event round trip: %+v", ev)
	}
	soon := time.Now().Add(time.Second)
	if waiting, _ := svc.Unprocessed(ctx, time.Now().Add(-time.Minute), soon, 10); len(waiting) != 0 {
		t.Fatalf("an event younger than the cutoff was offered to the relay: %v", waiting)
	}
	waiting, err := svc.Unprocessed(ctx, soon, soon, 10)
	if err != nil || len(waiting) != 1 || waiting[0].ID != id || waiting[0].ShopID != ev.ShopID {
		t.Fatalf("unprocessed = %v %v", waiting, err)
	}
	if err := svc.MarkEnqueued(ctx, []int64{id}); err != nil {
		t.Fatal(err)
	}
	if waiting, _ := svc.Unprocessed(ctx, soon, time.Now().Add(-time.Minute), 10); len(waiting) != 0 {
		t.Fatalf("relayed a minute ago yet offered again: %v", waiting)
	}
	// The sweep after the queue lost its data ignores the stamp.
	if waiting, _ := svc.UnprocessedAfter(ctx, 0, soon, 10); len(waiting) != 1 || waiting[0].ID != id {
		t.Fatalf("sweep: %v", waiting)
	}
	if waiting, _ := svc.UnprocessedAfter(ctx, id, soon, 10); len(waiting) != 0 {
		t.Fatalf("sweep past the cursor: %v", waiting)
	}
	if waiting, _ := svc.Unprocessed(ctx, soon, soon, 10); len(waiting) != 1 {
		t.Fatalf("after the revisit delay an unprocessed event must be offered again: %v", waiting)
	}
	if err := svc.MarkFailed(ctx, id, fmt.Errorf("boom")); err != nil {
		t.Fatal(err)
	}
	// The instant is kept to the microsecond, whatever the zone it is given in.
	paris, _ := time.LoadLocation("Europe/Paris")
	at := time.Date(2026, 11, 1, 11, 0, 1, 123456000, paris)
	if err := svc.MarkProcessed(ctx, id, at); err != nil {
		t.Fatal(err)
	}
	ev, _ = svc.Event(ctx, id)
	if ev.ProcessedAt == nil || !ev.ProcessedAt.Equal(at) || ev.Attempts != 2 || ev.LastError != "" {
		t.Fatalf("after processing at %s: %+v", at, ev)
	}
	if waiting, _ := svc.Unprocessed(ctx, soon, soon, 10); len(waiting) != 0 {
		t.Fatalf("processed event offered to the relay: %v", waiting)
	}
	if waiting, _ := svc.UnprocessedAfter(ctx, 0, soon, 10); len(waiting) != 0 {
		t.Fatalf("processed event offered to the sweep: %v", waiting)
	}
	if _, err := svc.Event(ctx, 987654); app.ErrorCode(err) != app.ENOTFOUND {
		t.Fatalf("missing event: %v", err)
	}
}

func TestStoreEventReportsOutageAsUnavailable(t *testing.T) {
	_, dsn := testenv.OpenDB(t)
	k, _ := testenv.Keyring(t)
	db, err := postgres.Open(context.Background(), dsn, k)
	if err != nil {
		t.Fatal(err)
	}
	svc := db.NewWebhookService(1, 4)
	defer svc.Close()
	db.Close() // every statement now fails without reaching a server
	_, _, err = svc.StoreEvent(context.Background(), &app.WebhookEvent{ShopID: 1, Topic: "orders/create", EventID: "x", Payload: json.RawMessage(`{}`)})
	if app.ErrorCode(err) != app.EUNAVAILABLE {
		t.Fatalf("code = %q (%v), want unavailable", app.ErrorCode(err), err)
	}
}

// JSON allows \u0000 but jsonb refuses it: such a delivery must be refused
// alone, without failing the others that share its batch.
func TestStoreEventIsolatesARowPostgresRefuses(t *testing.T) {
	db, _ := testenv.OpenDB(t)
	sh := installShop(t, db, "nul.myshopify.com")
	svc := db.NewWebhookService(1, 64)
	defer svc.Close()
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			payload := `{"note":"fine"}`
			if i == 3 {
				payload = `{"note":"nul \u0000 here"}`
			}
			_, _, errs[i] = svc.StoreEvent(context.Background(), &app.WebhookEvent{ShopID: sh.ID, Topic: "orders/create", EventID: fmt.Sprint("n", i), Payload: json.RawMessage(payload)})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if i == 3 && app.ErrorCode(err) != app.EINVALID {
			t.Fatalf("bad row: code %q (%v), want invalid", app.ErrorCode(err), err)
		}
		if i != 3 && err != nil {
			t.Fatalf("row %d failed with its batch: %v", i, err)
		}
	}
	var rows int
	db.SQL().QueryRow("SELECT count(*) FROM webhook_events WHERE shop_id = $1", sh.ID).Scan(&rows)
	if rows != 9 {
		t.Fatalf("rows = %d, want 9", rows)
	}
}
