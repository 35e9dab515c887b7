package stack_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/testenv"
	"github.com/parrain/parrain/integrations/woocommerce"
	"github.com/parrain/parrain/jobs"
)

// orderBody is an unpaid order: it exercises intake and processing without
// the referral engine calling the store.
const orderBody = `{"id":820982911946154508,"name":"#1001","email":"marie@example.com","customer":{"id":115310627314723954,"email":"marie@example.com"},"total_price":"199.00","currency":"USD","financial_status":"pending","discount_codes":[]}`

func TestIntakeRefusesBadDeliveriesAndWritesNothing(t *testing.T) {
	h := newHarness(t, withoutWorker())
	h.installShop("refuse.myshopify.com")
	big := `{"pad":"` + strings.Repeat("x", 70000) + `"}`
	cases := []struct {
		name   string
		d      delivery
		status int
		msg    string
	}{
		{"bad hmac", delivery{topic: "orders/create", shop: "refuse.myshopify.com", eventID: "e1", body: []byte(orderBody), hmac: strings.Repeat("A", 43) + "="}, 401, "does not match"},
		{"missing hmac", delivery{topic: "orders/create", shop: "refuse.myshopify.com", eventID: "e2", body: []byte(orderBody), headers: map[string]string{"X-Shopify-Hmac-Sha256": ""}}, 401, "X-Shopify-Hmac-Sha256"},
		{"signed with another secret", delivery{topic: "orders/create", shop: "refuse.myshopify.com", eventID: "e3", body: []byte(orderBody), hmac: signWith([]byte(orderBody), "other")}, 401, "does not match"},
		{"unknown topic", delivery{topic: "products/create", shop: "refuse.myshopify.com", eventID: "e4", body: []byte(orderBody)}, 400, "X-Shopify-Topic"},
		{"bad shop header", delivery{topic: "orders/create", shop: "evil.example.com", eventID: "e5", body: []byte(orderBody)}, 400, "X-Shopify-Shop-Domain"},
		{"unknown shop", delivery{topic: "orders/create", shop: "stranger.myshopify.com", eventID: "e6", body: []byte(orderBody)}, 404, "unknown shop"},
		{"malformed json", delivery{topic: "orders/create", shop: "refuse.myshopify.com", eventID: "e7", body: []byte(`{"id":`)}, 400, "JSON object"},
		{"json array", delivery{topic: "orders/create", shop: "refuse.myshopify.com", eventID: "e8", body: []byte(`[1,2]`)}, 400, "JSON object"},
		{"json null", delivery{topic: "orders/create", shop: "refuse.myshopify.com", eventID: "e9", body: []byte(`null`)}, 400, "JSON object"},
		{"too large", delivery{topic: "orders/create", shop: "refuse.myshopify.com", eventID: "e10", body: []byte(big)}, 413, "body over"},
		{"no event id", delivery{topic: "orders/create", shop: "refuse.myshopify.com", eventID: "", body: []byte(orderBody), headers: map[string]string{"X-Shopify-Webhook-Id": ""}}, 400, "X-Shopify-Event-Id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := h.deliver(tc.d)
			if status != tc.status || !strings.Contains(body, tc.msg) {
				t.Fatalf("got %d %s; want %d containing %q", status, body, tc.status, tc.msg)
			}
		})
	}
	if n := h.count("SELECT count(*) FROM webhook_events"); n != 0 {
		t.Fatalf("%d events stored from refused deliveries", n)
	}
	if n := queued(t, h); n != 0 {
		t.Fatalf("%d jobs queued from refused deliveries", n)
	}
}

func TestSameEventTwiceIsOneRowAndOneJob(t *testing.T) {
	h := newHarness(t, withoutWorker())
	h.installShop("twice.myshopify.com")
	d := delivery{topic: "orders/create", shop: "twice.myshopify.com", eventID: "evt-twice", body: []byte(orderBody)}
	// Concurrent duplicates (Shopify can deliver the same event in parallel)
	// and a late one.
	var wg sync.WaitGroup
	statuses := make([]int, 5)
	for i := range statuses {
		wg.Add(1)
		go func() { defer wg.Done(); statuses[i], _ = h.deliver(d) }()
	}
	wg.Wait()
	status, body := h.deliver(d)
	for _, s := range append(statuses, status) {
		if s != http.StatusOK {
			t.Fatalf("a duplicate was answered %d, want 200", s)
		}
	}
	if !strings.Contains(body, "duplicate") {
		t.Fatalf("late duplicate answered %s", body)
	}
	if n := h.count("SELECT count(*) FROM webhook_events WHERE event_id = 'evt-twice'"); n != 1 {
		t.Fatalf("%d rows for one event", n)
	}
	eventually(t, 5*time.Second, "the job to be queued", func() bool { return queued(t, h) == 1 })
	time.Sleep(500 * time.Millisecond) // past WEBHOOK_RELAY_AFTER: the relay must not add a second job
	if n := queued(t, h); n != 1 {
		t.Fatalf("%d jobs for one event", n)
	}

	// Now let a worker run it: processed once.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h.startWorker(ctx)
	eventually(t, 10*time.Second, "the event to be processed", func() bool {
		return h.count("SELECT count(*) FROM webhook_events WHERE event_id = 'evt-twice' AND processed_at IS NOT NULL") == 1
	})
	if n := h.count("SELECT attempts FROM webhook_events WHERE event_id = 'evt-twice'"); n != 1 {
		t.Fatalf("processed %d times", n)
	}
}

func TestRedisDownDuringDeliveryIsAcceptedAndEnqueuedLater(t *testing.T) {
	h := newHarness(t)
	h.installShop("noredis.myshopify.com")
	h.redis.Cut()
	for i := range 3 {
		status, body := h.deliver(delivery{topic: "orders/create", shop: "noredis.myshopify.com", eventID: fmt.Sprint("nr-", i), body: []byte(orderBody)})
		if status != http.StatusOK {
			t.Fatalf("with Redis down: %d %s, want 200 (the event is in Postgres)", status, body)
		}
	}
	if n := h.count("SELECT count(*) FROM webhook_events WHERE event_id LIKE 'nr-%' AND processed_at IS NULL"); n != 3 {
		t.Fatalf("%d unprocessed events stored, want 3", n)
	}
	time.Sleep(time.Second) // the relay tries and fails meanwhile
	if n := h.count("SELECT count(*) FROM webhook_events WHERE processed_at IS NOT NULL"); n != 0 {
		t.Fatal("processed while Redis was down?")
	}
	h.redis.Restore()
	eventually(t, 20*time.Second, "the relay to enqueue and the worker to process all three", func() bool {
		return h.count("SELECT count(*) FROM webhook_events WHERE event_id LIKE 'nr-%' AND processed_at IS NOT NULL") == 3
	})
}

func TestPostgresUnreachableAnswers503(t *testing.T) {
	h := newHarness(t, withoutWorker())
	h.installShop("nopg.myshopify.com")
	h.installShop("nopg2.myshopify.com")
	// Warm the shop cache for one shop, so both failure points are covered:
	// the shop lookup (nopg2) and the insert itself (nopg).
	if status, _ := h.deliver(delivery{topic: "orders/create", shop: "nopg.myshopify.com", eventID: "warm", body: []byte(orderBody)}); status != 200 {
		t.Fatalf("warm-up delivery: %d", status)
	}
	h.pg.Cut()
	for _, shop := range []string{"nopg.myshopify.com", "nopg2.myshopify.com"} {
		status, body := h.deliver(delivery{topic: "orders/create", shop: shop, eventID: "down-" + shop, body: []byte(orderBody)})
		if status != http.StatusServiceUnavailable || !strings.Contains(body, "retry") {
			t.Fatalf("%s with Postgres down: %d %s, want 503", shop, status, body)
		}
	}
	resp, err := http.Get(h.app.URL + "/readyz")
	if err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("/readyz with Postgres down: %v %v", resp.StatusCode, err)
	}
	h.pg.Restore()
	// Shopify's retry then succeeds, and exactly once.
	eventually(t, 10*time.Second, "a retried delivery to be stored", func() bool {
		status, _ := h.deliver(delivery{topic: "orders/create", shop: "nopg.myshopify.com", eventID: "down-nopg.myshopify.com", body: []byte(orderBody)})
		return status == http.StatusOK
	})
	if n := h.count("SELECT count(*) FROM webhook_events WHERE event_id LIKE 'down-%'"); n != 1 {
		t.Fatalf("%d rows after the outage, want 1", n)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	const token = "metrics-token-0123456789"
	h := newHarness(t, withoutWorker(), withEnv("METRICS_TOKEN", token))
	getMetrics := func(auth string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, h.app.URL+"/metrics", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, readAll(resp)
	}
	// /metrics is not public (issue 10 §6i).
	for _, auth := range []string{"", "Bearer wrong-token-0123456789", token} {
		if status, body := getMetrics(auth); status != 401 || strings.Contains(body, "parrain_") {
			t.Fatalf("/metrics with %q: %d", auth, status)
		}
	}
	for path, want := range map[string]string{"/healthz": `"ok"`, "/readyz": `"redis":"ok"`} {
		resp, err := http.Get(h.app.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b := readAll(resp)
		if resp.StatusCode != 200 || !strings.Contains(b, want) {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
		}
	}
	h.installShop("metrics.myshopify.com")
	h.deliver(delivery{topic: "orders/create", shop: "metrics.myshopify.com", eventID: "m1", body: []byte(orderBody)})
	h.deliver(delivery{topic: "orders/create", shop: "metrics.myshopify.com", eventID: "m1", body: []byte(orderBody)})
	h.deliver(delivery{topic: "orders/create", shop: "metrics.myshopify.com", eventID: "m2", body: []byte(orderBody), hmac: "bad"})
	_, m := getMetrics("Bearer " + token)
	for _, want := range []string{
		`parrain_http_requests_total{method="POST",route="/webhooks/shopify",status="200"}`,
		`parrain_webhooks_received_total{platform="shopify",topic="orders/create"}`,
		`parrain_webhooks_duplicate_total{platform="shopify",topic="orders/create"}`,
		`parrain_webhooks_rejected_total{platform="shopify",reason="hmac"}`,
		`parrain_http_request_duration_seconds_bucket{method="GET",route="/healthz"`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// An unmatched path must not become its own label.
	http.Get(h.app.URL + "/no/such/path/12345")
	if _, m := getMetrics("Bearer " + token); strings.Contains(m, "12345") || !strings.Contains(m, `route="unmatched"`) {
		t.Error("raw paths leak into metric labels")
	}
}

// Without METRICS_TOKEN the web listener does not serve /metrics at all
// (METRICS_ADDR serves it on a listener of its own).
func TestMetricsNotPublicByDefault(t *testing.T) {
	h := newHarness(t, withoutWorker())
	resp, err := http.Get(h.app.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if b := readAll(resp); resp.StatusCode != 404 || strings.Contains(b, "parrain_") {
		t.Fatalf("/metrics without METRICS_TOKEN: %d", resp.StatusCode)
	}
}

// queued counts webhook jobs over every lane.
func queued(t *testing.T, h *harness) int {
	t.Helper()
	n := 0
	for q := range jobs.QueuePriorities {
		if !strings.HasPrefix(q, jobs.QueueWebhooks) {
			continue
		}
		info, err := h.inspect.GetQueueInfo(q)
		if err != nil {
			if strings.Contains(err.Error(), "does not exist") {
				continue
			}
			t.Fatal(err)
		}
		n += info.Size
	}
	return n
}

var _ = asynq.ErrQueueNotFound

// A Postgres that accepts connections but refuses sessions (starting up,
// shutting down, full) is as unavailable as one that is unreachable: 503,
// so Shopify retries, never 500. Before: 57P03 "starting up" answered 500.
func TestPostgresRefusingSessionsAnswers503(t *testing.T) {
	for _, st := range []struct{ code, msg string }{
		{"57P03", "the database system is starting up"},
		{"57P01", "terminating connection due to administrator command"},
		{"53300", "sorry, too many clients already"},
	} {
		t.Run(st.code, func(t *testing.T) {
			h := newHarness(t, withoutWorker())
			h.installShop("starting.myshopify.com")
			h.pg.Answer(testenv.PostgresRefusing(st.code, st.msg))
			// The pool's connections were dropped as a restart drops
			// them; once they are gone, every new session meets the
			// refusal. Every answer on the way must be a 503.
			for i := range 25 {
				status, body := h.deliver(delivery{topic: "orders/create", shop: "starting.myshopify.com", eventID: "st-1", body: []byte(orderBody)})
				if status != http.StatusServiceUnavailable || !strings.Contains(body, "retry") {
					t.Fatalf("Postgres answering %s, delivery %d: %d %s, want 503", st.code, i, status, body)
				}
			}
			if !strings.Contains(h.logs.String(), "SQLSTATE "+st.code) {
				t.Fatalf("no request met SQLSTATE %s; the test proves nothing", st.code)
			}
			h.pg.Restore()
			eventually(t, 10*time.Second, "the retried delivery to be stored", func() bool {
				status, _ := h.deliver(delivery{topic: "orders/create", shop: "starting.myshopify.com", eventID: "st-1", body: []byte(orderBody)})
				return status == http.StatusOK
			})
		})
	}
}

// A genuine signed body with a \u0000 escape or invalid UTF-8 (a NUL pasted
// in a note) is kept and processed, on both intakes; before, Postgres's
// jsonb refused it and the intake answered 400 for ever, so the store
// dropped the event.
func TestBodiesWithNULOrInvalidUTF8AreKept(t *testing.T) {
	h := newHarness(t)
	h.installShop("nul.myshopify.com")
	for i, b := range []string{
		`{"id":9001,"name":"#1001","note":"a\u0000b","email":"nul@example.com","total_price":"10.00","currency":"USD","financial_status":"pending"}`,
		"{\"id\":9002,\"name\":\"#1002\",\"note\":\"a\xffb\",\"email\":\"bad\xc3@example.com\",\"total_price\":\"10.00\",\"currency\":\"USD\",\"financial_status\":\"pending\"}",
		`{"id":9003,"name":"#1003","note":"half a pair \ud83d","total_price":"10.00","currency":"USD","financial_status":"pending"}`,
	} {
		if status, body := h.deliver(delivery{topic: "orders/create", shop: "nul.myshopify.com", eventID: fmt.Sprint("nul-", i), body: []byte(b)}); status != 200 {
			t.Fatalf("body %d: %d %s, want 200", i, status, body)
		}
	}
	eventually(t, 10*time.Second, "the three orders processed", func() bool {
		return h.count("SELECT count(*) FROM orders WHERE platform_order_id IN ('9001','9002','9003') AND known") == 3
	})
	if n := h.count(`SELECT count(*) FROM webhook_events WHERE payload->>'note' LIKE 'a' || chr(65533) || 'b'`); n != 2 {
		t.Fatalf("%d stored notes carry U+FFFD in place of the bad character, want 2", n)
	}

	// WooCommerce: the recorded order.created with a NUL in its note.
	ctx := context.Background()
	creds := woocommerce.Credentials("ck_live", "cs_live")
	if _, err := h.stack.DB.Shops().Install(ctx, app.PlatformWooCommerce, "woo-nul.example", creds, time.Now()); err != nil {
		t.Fatal(err)
	}
	hdr, body := wcDelivery(t, "delivery-order-created.json")
	body = bytes.Replace(body, []byte(`"customer_note":""`), []byte(`"customer_note":"x\u0000y"`), 1)
	hdr.Set("X-WC-Webhook-Signature", woocommerce.Sign(body, woocommerce.KeyDerivedWebhookSecret(creds, "woo-nul.example")))
	req, _ := http.NewRequest(http.MethodPost, h.app.URL+"/webhooks/woocommerce/woo-nul.example", bytes.NewReader(body))
	req.Header = hdr
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if out := readAll(resp); resp.StatusCode != 200 {
		t.Fatalf("WooCommerce body with a NUL: %d %s", resp.StatusCode, out)
	}
	if n := h.count(`SELECT count(*) FROM webhook_events WHERE payload->>'customer_note' = 'x' || chr(65533) || 'y'`); n != 1 {
		t.Fatal("the WooCommerce event was not stored with the NUL replaced")
	}
}

// The intake reads bodies into reused buffers: concurrent deliveries of
// different sizes (a buffer reused by a shorter body, then a longer one)
// must each be stored exactly as sent, duplicates included.
func TestConcurrentDeliveriesAreStoredAsSent(t *testing.T) {
	h := newHarness(t, withoutWorker())
	h.installShop("pooled.myshopify.com")
	const n = 120
	bodies := make([][]byte, n)
	for i := range bodies {
		note := strings.Repeat("x", (i*7919)%5000)
		bodies[i] = []byte(strings.Replace(orderBody, `"id":820982911946154508`, fmt.Sprintf(`"id":%d,"note":%q`, 820982911946154508+int64(i), note), 1))
	}
	var wg sync.WaitGroup
	errs := make(chan string, 2*n)
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 16 {
				for range 2 { // the second is a duplicate
					d := delivery{topic: "orders/create", shop: "pooled.myshopify.com", eventID: fmt.Sprint("pooled-", i), body: bodies[i]}
					if status, body := h.deliver(d); status != http.StatusOK {
						errs <- fmt.Sprintf("delivery %d: %d %s", i, status, body)
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	for i, b := range bodies {
		if c := h.count("SELECT count(*) FROM webhook_events WHERE event_id = $1 AND payload = $2::jsonb", fmt.Sprint("pooled-", i), string(b)); c != 1 {
			t.Fatalf("event %d: %d rows stored as sent, want 1", i, c)
		}
	}
}
