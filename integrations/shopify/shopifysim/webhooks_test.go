package shopifysim

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goshopify "github.com/bold-commerce/go-shopify/v3"
)

// verifies checks a recorded delivery with go-shopify, independently of
// the simulator's signer, and with a plain HMAC.
func verifies(t *testing.T, r received) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/webhooks/shopify", bytes.NewReader(r.body))
	req.Header = r.header.Clone()
	if ok, err := (goshopify.App{ApiSecret: secret}).VerifyWebhookRequestVerbose(req); !ok || err != nil {
		t.Fatalf("go-shopify rejects the delivery signature: %v", err)
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(r.body)
	if r.header.Get("X-Shopify-Hmac-Sha256") != base64.StdEncoding.EncodeToString(m.Sum(nil)) {
		t.Fatal("X-Shopify-Hmac-Sha256 is not the base64 HMAC of the body")
	}
	if (goshopify.App{ApiSecret: "another-secret"}).VerifyWebhookRequest(req) {
		t.Fatal("the delivery verifies with any secret")
	}
}

func TestWebhookDeliveryIsSignedRetriedAndDuplicated(t *testing.T) {
	f := newSim(t, func(c *Config) { c.DuplicateRate = 1 })
	f.app.status = func(n int) int {
		if n == 0 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	}
	body := []byte(`{"id":450789469,"note":"é"}`)
	id, err := f.sim.SendWebhook(context.Background(), demo, "orders/create", body)
	if err != nil {
		t.Fatal(err)
	}
	f.waitIdle(t)
	got := f.app.requests()
	if len(got) != 3 { // the 500, its retry, the duplicate
		t.Fatalf("%d requests, want 3", len(got))
	}
	for i, r := range got {
		verifies(t, r)
		h := r.header
		if !bytes.Equal(r.body, body) || r.path != "/webhooks/shopify" {
			t.Fatalf("request %d: %s %s", i, r.path, r.body)
		}
		for k, want := range map[string]string{
			"Content-Type": "application/json", "X-Shopify-Topic": "orders/create", "X-Shopify-Shop-Domain": demo,
			"X-Shopify-Api-Version": "2026-07", "X-Shopify-Event-Id": id, "User-Agent": "Shopify-Captain-Hook",
		} {
			if h.Get(k) != want {
				t.Errorf("request %d: %s = %q, want %q", i, k, h.Get(k), want)
			}
		}
		at, err := time.Parse(time.RFC3339Nano, h.Get("X-Shopify-Triggered-At"))
		if err != nil || !at.Equal(f.clk.now()) || !strings.HasSuffix(h.Get("X-Shopify-Triggered-At"), ".000000000Z") {
			t.Errorf("X-Shopify-Triggered-At %q: %v", h.Get("X-Shopify-Triggered-At"), err)
		}
	}
	if got[0].header.Get("X-Shopify-Webhook-Id") != got[1].header.Get("X-Shopify-Webhook-Id") {
		t.Error("a retry must keep its X-Shopify-Webhook-Id")
	}
	if got[2].header.Get("X-Shopify-Webhook-Id") == got[1].header.Get("X-Shopify-Webhook-Id") {
		t.Error("a duplicate must get a new X-Shopify-Webhook-Id")
	}
	d := f.sim.Deliveries(demo)
	if len(d) != 3 || d[0].Status != 500 || d[0].Attempt != 0 || d[1].Status != 200 || d[1].Attempt != 1 ||
		!d[2].Duplicate || d[2].Status != 200 || d[0].EventID != id || d[2].EventID != id || d[0].Topic != "orders/create" {
		t.Fatalf("delivery log: %+v", d)
	}
}

func TestWebhookFailuresAreRetriedUntilAbandoned(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
	}{
		{"404", http.StatusNotFound},
		{"redirect is a failure and is not followed", http.StatusFound},
		{"503", http.StatusServiceUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newSim(t, func(c *Config) {
				c.RetryBackoff = []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond}
			})
			f.app.status = func(int) int { return tc.status }
			if _, err := f.sim.SendWebhook(context.Background(), demo, "orders/paid", []byte(`{}`)); err != nil {
				t.Fatal(err)
			}
			f.waitIdle(t)
			got := f.app.requests()
			if len(got) != 4 { // 1 attempt + 3 retries, none to the redirect target
				t.Fatalf("%d requests, want 4", len(got))
			}
			for _, r := range got {
				if r.path != "/webhooks/shopify" {
					t.Fatalf("followed a redirect to %s", r.path)
				}
			}
			if d := f.sim.Deliveries(demo); len(d) != 4 || d[3].Attempt != 3 || d[3].Status != tc.status {
				t.Fatalf("log: %+v", d)
			}
		})
	}
	t.Run("timeout and refused connection", func(t *testing.T) {
		release := make(chan struct{})
		slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		defer slow.Close()
		defer close(release) // before Close, which waits for handlers
		dead := httptest.NewServer(http.NotFoundHandler())
		deadURL := dead.URL
		dead.Close()
		for _, target := range []string{slow.URL, deadURL} {
			f := newSim(t, func(c *Config) {
				c.AppURL = target
				c.RetryBackoff = []time.Duration{}
				c.HTTPClient = &http.Client{Timeout: 50 * time.Millisecond}
			})
			if _, err := f.sim.SendWebhook(context.Background(), demo, "orders/paid", []byte(`{}`)); err != nil {
				t.Fatal(err)
			}
			f.waitIdle(t)
			if d := f.sim.Deliveries(demo); len(d) != 1 || d[0].Err == "" || d[0].Status != 0 {
				t.Fatalf("%s: %+v", target, d)
			}
		}
	})
}

func TestCloseStopsPendingRetries(t *testing.T) {
	f := newSim(t, func(c *Config) { c.RetryBackoff = []time.Duration{time.Hour} })
	f.app.status = func(int) int { return http.StatusInternalServerError }
	if _, err := f.sim.SendWebhook(context.Background(), demo, "orders/paid", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(f.sim.Deliveries(demo)) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	// A retry is now waiting an hour: WaitIdle honours its context...
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if err := f.sim.WaitIdle(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitIdle with a retry pending: %v", err)
	}
	// ...and Close abandons the retry at once.
	start := time.Now()
	if err := f.sim.Close(); err != nil || time.Since(start) > time.Second {
		t.Fatalf("Close: %v after %s", err, time.Since(start))
	}
	if n := len(f.sim.Deliveries(demo)); n != 1 {
		t.Fatalf("%d attempts, want 1", n)
	}
	if _, err := f.sim.SendWebhook(context.Background(), demo, "orders/paid", []byte(`{}`)); !errors.Is(err, ErrClosed) {
		t.Fatalf("SendWebhook after Close: %v", err)
	}
}

func TestSendWebhookRefusals(t *testing.T) {
	f := newSim(t, nil)
	if _, err := f.sim.SendWebhook(context.Background(), "nowhere.myshopify.com", "orders/paid", []byte(`{}`)); !errors.Is(err, ErrUnknownShop) {
		t.Fatalf("unknown shop: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.sim.SendWebhook(ctx, demo, "orders/paid", []byte(`{}`)); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: %v", err)
	}
	if _, err := f.sim.SendWebhook(context.Background(), demo, "", []byte(`{}`)); err == nil {
		t.Fatal("empty topic accepted")
	}
}

// Many events at once: each is delivered once (no duplicates configured),
// with its own event id, and WaitIdle sees them all through.
func TestConcurrentDeliveries(t *testing.T) {
	f := newSim(t, nil)
	var n atomic.Int32
	f.app.status = func(int) int { n.Add(1); return 200 }
	ids := make(chan string, 40)
	for range 40 {
		go func() {
			id, err := f.sim.SendWebhook(context.Background(), demo, "orders/paid", []byte(`{}`))
			if err != nil {
				t.Error(err)
			}
			ids <- id
		}()
	}
	seen := map[string]bool{}
	for range 40 {
		seen[<-ids] = true
	}
	f.waitIdle(t)
	if n.Load() != 40 || len(seen) != 40 || len(f.sim.Deliveries(demo)) != 40 {
		t.Fatalf("%d deliveries, %d event ids, %d logged", n.Load(), len(seen), len(f.sim.Deliveries(demo)))
	}
}
