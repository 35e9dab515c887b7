package stack_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// Issue 10 §4: Redis restarted without persistence (every queued task
// lost) while events were queued and stamped by the relay; the relay
// revisited a stamped event only ten minutes later, so the backlog stalled.
// Now the relay notices the loss (its marker key is gone with the rest) and
// re-offers every unprocessed event at once: all are processed within
// WEBHOOK_RELAY_AFTER (300ms here) plus the worker's pace. Seen failing on
// the old code: nothing processed in 5 s.
func TestRedisDataLossIsRecoveredWithinRelayAfter(t *testing.T) {
	h := newHarness(t, withoutWorker())
	h.installShop("flushed.myshopify.com")
	const n = 30
	for i := range n {
		status, body := h.deliver(delivery{topic: "orders/create", shop: "flushed.myshopify.com", eventID: fmt.Sprint("fl-", i), body: []byte(orderBody)})
		if status != http.StatusOK {
			t.Fatalf("delivery %d: %d %s", i, status, body)
		}
	}
	// The dispatcher queued them; past WEBHOOK_RELAY_AFTER the relay
	// offered and stamped them too (no worker runs: they stay queued).
	eventually(t, 5*time.Second, "the relay to stamp every event", func() bool {
		return h.count("SELECT count(*) FROM webhook_events WHERE event_id LIKE 'fl-%' AND enqueued_at IS NOT NULL") == n
	})
	if q := queued(t, h); q != n {
		t.Fatalf("%d jobs queued, want %d", q, n)
	}

	// Redis restarts without persistence: its data is gone.
	if err := h.rdb.FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	lost := time.Now()
	h.runWorker()
	eventually(t, 5*time.Second, "every event processed after the Redis data loss", func() bool {
		return h.count("SELECT count(*) FROM webhook_events WHERE event_id LIKE 'fl-%' AND processed_at IS NOT NULL") == n
	})
	t.Logf("all %d events processed %v after the data loss", n, time.Since(lost).Round(time.Millisecond))
	if a := h.count("SELECT count(*) FROM webhook_events WHERE event_id LIKE 'fl-%' AND attempts <> 1"); a != 0 {
		t.Fatalf("%d events processed more than once", a)
	}
}
