package wcsim

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parrain/parrain/integrations/woocommerce"
)

// The store behaviours of woocommerce.md §9, one test each.

func setup(t *testing.T) (*Sim, *httptest.Server, *receiver, *httptest.Server, *woocommerce.Client) {
	t.Helper()
	rec := &receiver{status: 200}
	app := httptest.NewServer(rec)
	t.Cleanup(app.Close)
	sim := New("ck_a", "cs_a")
	store := httptest.NewServer(sim.Handler())
	t.Cleanup(store.Close)
	c := &woocommerce.Client{Store: store.URL, ConsumerKey: "ck_a", ConsumerSecret: "cs_a", HTTP: store.Client()}
	if _, _, err := c.EnsureWebhooks(context.Background(), app.URL+"/hook", "s3cret", false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return rec.count() == 3 }) // the pings
	return sim, store, rec, app, c
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (r *receiver) body(i int) []byte { r.mu.Lock(); defer r.mu.Unlock(); return r.bodies[i] }
func (r *receiver) setStatus(s int)   { r.mu.Lock(); r.status = s; r.mu.Unlock() }

// Each wc-auth approval creates a new key named "{app_name} - API ({GMT
// date})"; the earlier keys stay valid; webhooks keep the secret they were
// created with.
func TestKeysPerApproval(t *testing.T) {
	sim, store, rec, _, _ := setup(t)
	var got []map[string]any
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var k map[string]any
		_ = json.NewDecoder(r.Body).Decode(&k)
		got = append(got, k)
	}))
	defer cb.Close()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for range 2 {
		resp, err := noFollow.Get(store.URL + "/wc-auth/v1/authorize?app_name=Parrain&scope=read_write&user_id=st&return_url=" + cb.URL + "&callback_url=" + cb.URL)
		if err != nil || resp.StatusCode != http.StatusFound {
			t.Fatalf("approve: %v %v", resp, err)
		}
	}
	if len(got) != 2 || got[0]["consumer_key"] == got[1]["consumer_key"] || got[0]["consumer_key"] == "ck_a" {
		t.Fatalf("keys sent: %v", got)
	}
	for _, k := range append(got, map[string]any{"consumer_key": "ck_a", "consumer_secret": "cs_a"}) {
		c := &woocommerce.Client{Store: store.URL, ConsumerKey: k["consumer_key"].(string), ConsumerSecret: k["consumer_secret"].(string), HTTP: store.Client()}
		if _, err := c.StoreCurrency(context.Background()); err != nil {
			t.Fatalf("key %v no longer valid: %v", k["consumer_key"], err)
		}
	}
	keys := sim.Keys()
	if len(keys) != 3 || !strings.HasPrefix(keys[1].Description, "Parrain - API (") || len(keys[1].TruncatedKey()) != 7 {
		t.Fatalf("keys: %+v", keys)
	}
	sim.RevokeKey(keys[1].ID)
	c := &woocommerce.Client{Store: store.URL, ConsumerKey: keys[1].ConsumerKey, ConsumerSecret: keys[1].ConsumerSecret, HTTP: store.Client()}
	if _, err := c.StoreCurrency(context.Background()); err == nil {
		t.Fatal("a revoked key still works")
	}
	// The webhooks still sign with the secret they were created with.
	if _, _, err := sim.PlaceOrder(OrderInput{Email: "a@example.com", Total: "1.00"}); err != nil {
		t.Fatal(err)
	}
	if err := woocommerce.VerifySignature(rec.body(3), rec.got[3].Header.Get("X-WC-Webhook-Signature"), "s3cret"); err != nil {
		t.Fatal(err)
	}
}

// Setting a disabled webhook active keeps its failure count: the next
// failure disables it again. Recreating it (what EnsureWebhooks does)
// starts at 0.
func TestFailureCountKeptOnReenable(t *testing.T) {
	sim, _, rec, app, c := setup(t)
	ctx := context.Background()
	// A 4xx answer is a failure too (§9).
	rec.setStatus(http.StatusBadRequest)
	for range MaxFailures + 1 {
		if _, _, err := sim.PlaceOrder(OrderInput{Email: "a@example.com", Total: "1.00"}); err != nil {
			t.Fatal(err)
		}
	}
	var created Webhook
	for _, w := range sim.Webhooks() {
		if w.Topic == "order.created" {
			created = w
		}
	}
	if created.Status != "disabled" || created.FailureCount != MaxFailures+1 {
		t.Fatalf("after 4xx answers: %+v", created)
	}
	// PUT status active: count kept, one more failure disables it.
	signed := woocommerce.SignOAuth1("PUT", mustURL(t, c.Store+"/wp-json/wc/v3/webhooks/"+itoa(created.ID)), "ck_a", "cs_a", time.Now())
	req, _ := http.NewRequest("PUT", signed.String(), strings.NewReader(`{"status":"active"}`))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("PUT active: %v %v", resp, err)
	}
	if _, _, err := sim.PlaceOrder(OrderInput{Email: "a@example.com", Total: "1.00"}); err != nil {
		t.Fatal(err)
	}
	for _, w := range sim.Webhooks() {
		if w.ID == created.ID && w.Status != "disabled" {
			t.Fatalf("re-enabled webhook survived a failure: %+v", w)
		}
	}
	// Recreated: a new webhook at 0 that survives one failure.
	_, recreated, err := c.EnsureWebhooks(ctx, app.URL+"/hook", "s3cret", false)
	if err != nil || len(recreated) != 2 {
		t.Fatalf("recreate: %v %v", recreated, err)
	}
	if _, _, err := sim.PlaceOrder(OrderInput{Email: "a@example.com", Total: "1.00"}); err != nil {
		t.Fatal(err)
	}
	for _, w := range sim.Webhooks() {
		if w.Status != "active" || w.ID == created.ID {
			t.Fatalf("after recreation and one failure: %+v", w)
		}
	}
}

// Deliveries can lag (Action Scheduler): none right after the checkout; the
// late delivery carries the order as it is when it leaves, here with a
// refund made meanwhile.
func TestAsynchronousDeliveries(t *testing.T) {
	sim, _, rec, _, _ := setup(t)
	sim.DeliveryDelay = 300 * time.Millisecond
	id, _, err := sim.PlaceOrder(OrderInput{Email: "a@example.com", Total: "10.00"})
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Refund(id, "10.00"); err != nil {
		t.Fatal(err)
	}
	if n := rec.count(); n != 3 {
		t.Fatalf("%d requests right after the checkout, want only the 3 pings", n)
	}
	sim.WaitDeliveries()
	if n := rec.count(); n != 6 {
		t.Fatalf("%d requests after the delay, want 3 pings and 3 deliveries", n)
	}
	var o struct {
		Status  string
		Refunds []any
	}
	_ = json.Unmarshal(rec.body(3), &o)
	if o.Status != "refunded" || len(o.Refunds) != 1 {
		t.Fatalf("first late delivery: %s", rec.body(3))
	}
}

// Guest checkout: customer_id 0, only the billing email.
func TestGuestOrder(t *testing.T) {
	sim, _, rec, _, _ := setup(t)
	if _, _, err := sim.PlaceOrder(OrderInput{Email: "guest@example.com", Total: "10.00"}); err != nil {
		t.Fatal(err)
	}
	var o struct {
		CustomerID *int64 `json:"customer_id"`
		Billing    struct{ Email string }
	}
	_ = json.Unmarshal(rec.body(3), &o)
	if o.CustomerID == nil || *o.CustomerID != 0 || o.Billing.Email != "guest@example.com" {
		t.Fatalf("guest order: %s", rec.body(3))
	}
}

// GET /wp-json answers the site's name, unauthenticated.
func TestSiteIndex(t *testing.T) {
	_, store, _, _, _ := setup(t)
	resp, err := http.Get(store.URL + "/wp-json/")
	if err != nil {
		t.Fatal(err)
	}
	var idx struct{ Name string }
	_ = json.NewDecoder(resp.Body).Decode(&idx)
	if idx.Name != "Boutique de test" {
		t.Fatalf("name %q", idx.Name)
	}
}
