package stack_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parrain/parrain/app/staff"
	"github.com/parrain/parrain/integrations/woocommerce"
	"github.com/parrain/parrain/integrations/woocommerce/wcsim"
	"github.com/parrain/parrain/jobs"
)

// wcConnect walks the merchant through wc-auth: Parrain → the store's
// approval (which makes a new key each time) → keys to Parrain → return.
func wcConnect(t *testing.T, h *harness, store string) {
	t.Helper()
	resp, err := http.Get(h.app.URL + "/auth/woocommerce/start?store=" + url.QueryEscape(store))
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(resp); resp.StatusCode != 200 || !strings.Contains(body, "Parrain is connected") {
		t.Fatalf("connect: %d %s", resp.StatusCode, body)
	}
}

// A reconnect (new keys, woocommerce.md §9: the store's webhooks keep their
// secret) leaves deliveries verifying; webhooks an earlier install left with
// a secret Parrain does not know are given the shop's secret; the merchant
// is told the previous key can be revoked, by the name the store lists it
// under; the shop is named by the store's title; a webhook the store
// disabled is recreated (a fresh failure count) and the merchant told why
// deliveries failed.
func TestWooCommerceReconnect(t *testing.T) {
	h := newHarness(t)
	store := wcsim.New("ck_manual", "cs_manual")
	store.Title = "Chez Marie &amp; fils"
	srv := httptest.NewServer(store.Handler())
	defer srv.Close()
	domain := strings.TrimPrefix(srv.URL, "http://")
	ctx := context.Background()

	// Webhooks left by an earlier install, with a secret nobody knows now.
	old := &woocommerce.Client{Store: srv.URL, ConsumerKey: "ck_manual", ConsumerSecret: "cs_manual", HTTP: srv.Client()}
	if _, _, err := old.EnsureWebhooks(ctx, h.app.URL+"/webhooks/woocommerce/"+domain, "lost-secret", false); err != nil {
		t.Fatal(err)
	}
	wcConnect(t, h, srv.URL)
	eventually(t, 15*time.Second, "the webhooks given the shop's secret", func() bool {
		return h.count("SELECT count(*) FROM shops WHERE domain = $1 AND webhook_secret_synced AND webhook_secret IS NOT NULL", domain) == 1
	})
	if n := len(store.Webhooks()); n != 3 {
		t.Fatalf("%d webhooks, want the 3 existing ones kept", n)
	}
	events := func() int { return h.count("SELECT count(*) FROM webhook_events WHERE topic LIKE 'order.%'") }
	if _, _, err := store.PlaceOrder(wcsim.OrderInput{Email: "first@example.com", Total: "20.00"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "the first order's delivery stored", func() bool { return events() == 1 })

	// Reconnect: the store makes a second key; deliveries keep verifying,
	// before and after the setup job runs again.
	wcConnect(t, h, srv.URL)
	if _, _, err := store.PlaceOrder(wcsim.OrderInput{Email: "second@example.com", Total: "20.00"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "a delivery after the reconnect stored", func() bool { return events() == 2 })
	eventually(t, 15*time.Second, "setup after the reconnect", func() bool {
		return h.count("SELECT count(*) FROM shops WHERE domain = $1 AND webhook_secret_synced", domain) == 1
	})
	if _, _, err := store.PlaceOrder(wcsim.OrderInput{Email: "third@example.com", Total: "20.00"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "a delivery after the second setup stored", func() bool { return events() == 3 })
	for _, w := range store.Webhooks() {
		if w.Status != "active" || w.FailureCount != 0 {
			t.Fatalf("webhook after reconnect: %+v", w)
		}
	}
	keys := store.Keys()
	if len(keys) != 3 {
		t.Fatalf("%d keys in the store, want the manual one and one per approval", len(keys))
	}
	if h.count("SELECT count(*) FROM shops WHERE domain = $1 AND name = 'Chez Marie & fils'", domain) != 1 {
		t.Fatal("the shop is not named by the store's title")
	}
	if h.count("SELECT count(*) FROM audit_log WHERE action = 'woocommerce_reconnected' AND after->>'key_ending' = $1", keys[1].TruncatedKey()) != 1 {
		t.Fatal("no audit row naming the previous key")
	}
	if _, err := h.stack.Staff().Add(ctx, "owner@parrain.test", "", staff.Owner, staffPassword, nil); err != nil {
		t.Fatal(err)
	}
	owner := (&consoleWorld{h: h}).login(t, "owner@parrain.test")
	status, page := owner.get("/console/shops/" + domain + "/dashboard")
	if status != 200 || !strings.Contains(page, "Settings → Advanced → REST API") || !strings.Contains(page, keys[1].TruncatedKey()) ||
		!strings.Contains(page, "Parrain - API ("+keys[1].Description[len("Parrain - API ("):len("Parrain - API (2006-01-02 15:04")]) {
		t.Fatalf("dashboard after reconnect: %d\n%s", status, page)
	}

	// A delivery Parrain refused (a bad signature), then the store disables
	// a webhook: recreated at a failure count of 0, the merchant told why.
	req, _ := http.NewRequest(http.MethodPost, h.app.URL+"/webhooks/woocommerce/"+domain, bytes.NewReader([]byte(`{"id":1}`)))
	req.Header.Set("X-WC-Webhook-Signature", woocommerce.Sign([]byte(`{"id":1}`), "lost-secret"))
	req.Header.Set("X-WC-Webhook-Topic", "order.updated")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 401 {
		t.Fatalf("badly signed delivery: %v %v", resp, err)
	}
	disabled := store.Webhooks()[0]
	store.Disable(disabled.ID)
	if err := h.stack.Mux().ProcessTask(ctx, jobs.NewWooCommerceMaintainTask()); err != nil {
		t.Fatal(err)
	}
	for _, w := range store.Webhooks() {
		if w.ID == disabled.ID || w.Status != "active" || w.FailureCount != 0 {
			t.Fatalf("after maintenance: %+v (disabled was %d)", w, disabled.ID)
		}
	}
	if _, page := owner.get("/console/shops/" + domain + "/dashboard"); !strings.Contains(page, "Why the deliveries failed: a delivery&#39;s signature did not match") {
		t.Fatalf("dashboard does not say why:\n%s", page)
	}
}
