package stack_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parrain/parrain/app/events"
)

// BenchmarkEventDelivery measures signed events delivered per second to a
// local endpoint by the worker (asynq, default concurrency): the sweep
// queues the due deliveries, each job claims its row, signs, POSTs over
// HTTP and records the attempt. 5,000 events per iteration (100 with
// BENCH_SMALL), written straight into the outbox as Emit writes them.
func BenchmarkEventDelivery(b *testing.B) {
	n := benchSize(5000, 100)
	h := newHarness(b, withoutWorker(), withEnv("EVENTS_ALLOW_PRIVATE_DESTINATIONS", "true"), withEnv("EVENTS_SWEEP_EVERY", "100ms"))
	sh := h.installShop("bench-events.myshopify.com")
	var got atomic.Int64
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("webhook-signature") != "" {
			got.Add(1)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rcv.Close()
	ctx := context.Background()
	secret, _ := events.NewSecret()
	ep, err := h.stack.DB.Events().CreateEndpoint(ctx, sh.ID, events.EndpointInput{URL: rcv.URL + "/hooks", Types: []string{events.AdvocateCreated}}, secret)
	if err != nil {
		b.Fatal(err)
	}
	stop := h.runWorker()
	defer stop()
	var total time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		got.Store(0)
		if _, err := h.direct.Exec(`DELETE FROM events WHERE shop_id = $1`, sh.ID); err != nil {
			b.Fatal(err)
		}
		// The outbox rows as Emit writes them, due now.
		if _, err := h.direct.Exec(`WITH e AS (
				INSERT INTO events (id, shop_id, type, subject, advocate_id, payload)
				SELECT 'msg_bench' || $3::int || '_' || g, $1, 'advocate.created', 'advocate:' || g, g,
					jsonb_build_object('type', 'advocate.created', 'timestamp', now(), 'data', jsonb_build_object('advocate',
						jsonb_build_object('id', g, 'code', 'ADV-' || g, 'friend_code', 'FRIEND-ADV-' || g, 'email', 'adv' || g || '@example.com')))
				FROM generate_series(1, $2::int) g RETURNING id)
			INSERT INTO event_deliveries (shop_id, event_id, endpoint_id, next_at) SELECT $1, id, $4, now() - interval '1 second' FROM e`,
			sh.ID, n, i, ep.ID); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		for h.count(`SELECT count(*) FROM event_deliveries WHERE shop_id = $1 AND state <> 'delivered'`, sh.ID) > 0 {
			if time.Since(start) > 5*time.Minute {
				b.Fatalf("%d of %d delivered after 5 minutes", got.Load(), n)
			}
			time.Sleep(20 * time.Millisecond)
		}
		total += time.Since(start)
		if got.Load() < int64(n) {
			b.Fatalf("the endpoint received %d of %d", got.Load(), n)
		}
	}
	b.StopTimer()
	rate := float64(n*b.N) / total.Seconds()
	b.ReportMetric(rate, "events/s")
	b.Logf("%d signed events delivered to a local endpoint in %s: %.0f events/s (worker concurrency %d)",
		n*b.N, total.Round(time.Millisecond), rate, h.stack.Config.WorkerConcurrency)
}
