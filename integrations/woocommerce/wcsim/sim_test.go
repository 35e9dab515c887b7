package wcsim

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parrain/parrain/integrations/woocommerce"
)

type receiver struct {
	mu     sync.Mutex
	status int
	got    []*http.Request
	bodies [][]byte
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.got, r.bodies = append(r.got, req), append(r.bodies, b)
	st := r.status
	r.mu.Unlock()
	w.WriteHeader(st)
}

func (r *receiver) count() int { r.mu.Lock(); defer r.mu.Unlock(); return len(r.got) }

// Deliveries as WooCommerce sends them: a ping on creation, signed order
// deliveries (created and updated for one checkout), one attempt each, and
// the webhook disabled after MaxFailures failures in a row.
func TestDeliveries(t *testing.T) {
	rec := &receiver{status: 200}
	app := httptest.NewServer(rec)
	defer app.Close()
	sim := New("ck_a", "cs_a")
	store := httptest.NewServer(sim.Handler())
	defer store.Close()
	c := &woocommerce.Client{Store: store.URL, ConsumerKey: "ck_a", ConsumerSecret: "cs_a", HTTP: store.Client()}
	created, _, err := c.EnsureWebhooks(context.Background(), app.URL+"/hook", "s3cret", false)
	if err != nil || len(created) != 3 {
		t.Fatalf("webhooks: %v %v", created, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for rec.count() < 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	pings := 0
	for i, r := range rec.got {
		if _, ok := woocommerce.Ping(r.Header, rec.bodies[i]); ok {
			pings++
		}
	}
	if pings != 3 {
		t.Fatalf("%d pings, want one per webhook", pings)
	}

	if _, _, err := sim.PlaceOrder(OrderInput{CustomerID: 1, Email: "a@example.com", Total: "10.00"}); err != nil {
		t.Fatal(err)
	}
	orders := rec.got[3:]
	if len(orders) != 2 || orders[0].Header.Get("X-WC-Webhook-Topic") != "order.created" || orders[1].Header.Get("X-WC-Webhook-Topic") != "order.updated" {
		t.Fatalf("order deliveries: %d", len(orders))
	}
	for i, r := range orders {
		if err := woocommerce.VerifySignature(rec.bodies[3+i], r.Header.Get("X-WC-Webhook-Signature"), "s3cret"); err != nil {
			t.Fatalf("delivery %d: %v", i, err)
		}
	}
	if string(rec.bodies[3]) != string(rec.bodies[4]) {
		t.Error("one checkout's created and updated bodies differ")
	}

	// The app fails: each delivery is tried once; the failure past
	// MaxFailures disables the webhook.
	rec.mu.Lock()
	rec.status = 500
	rec.mu.Unlock()
	before := rec.count()
	for range MaxFailures + 1 {
		if _, _, err := sim.PlaceOrder(OrderInput{Email: "b@example.com", Total: "10.00"}); err != nil {
			t.Fatal(err)
		}
	}
	if n := rec.count() - before; n != 2*(MaxFailures+1) {
		t.Fatalf("%d attempts for %d deliveries: WooCommerce does not retry", n, 2*(MaxFailures+1))
	}
	disabled := 0
	for _, w := range sim.Webhooks() {
		if w.Status == "disabled" {
			disabled++
			if !strings.HasPrefix(w.Topic, "order.") {
				t.Errorf("topic %s", w.Topic)
			}
		}
	}
	if disabled != 2 {
		t.Fatalf("%d webhooks disabled, want created and updated", disabled)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
