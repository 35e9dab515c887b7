package stack_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parrain/parrain/integrations/shopify"
)

// Stopping the server under load loses nothing: every delivery that got a
// 200 is in Postgres, and Serve returns once in-flight requests are done.
func TestGracefulShutdownLosesNoAcknowledgedWebhook(t *testing.T) {
	h := newHarness(t, withoutWorker())
	h.installShop("shutdown.myshopify.com")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- h.stack.Serve(ctx, addr) }()
	eventually(t, 5*time.Second, "the server to listen", func() bool {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})

	var acked atomic.Int64
	var mu sync.Mutex
	ackedIDs := map[string]bool{}
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 5 * time.Second}
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				id := fmt.Sprintf("sd-%d-%d", w, i)
				body := []byte(orderBody)
				req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/webhooks/shopify", bytes.NewReader(body))
				req.Header.Set("X-Shopify-Topic", "orders/create")
				req.Header.Set("X-Shopify-Shop-Domain", "shutdown.myshopify.com")
				req.Header.Set("X-Shopify-Event-Id", id)
				req.Header.Set("X-Shopify-Hmac-Sha256", shopify.SignWebhook(body, apiSecret))
				resp, err := client.Do(req)
				if err != nil {
					return // the server stopped listening
				}
				resp.Body.Close()
				if resp.StatusCode == 200 {
					acked.Add(1)
					mu.Lock()
					ackedIDs[id] = true
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(400 * time.Millisecond)
	stop()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after the stop signal")
	}
	wg.Wait()
	if acked.Load() == 0 {
		t.Fatal("no delivery was acknowledged before the stop; the test proves nothing")
	}
	rows := h.count("SELECT count(*) FROM webhook_events WHERE event_id LIKE 'sd-%'")
	missing := 0
	for id := range ackedIDs {
		if h.count("SELECT count(*) FROM webhook_events WHERE event_id = $1", id) != 1 {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d acknowledged deliveries are not in Postgres (%d acked, %d rows)", missing, acked.Load(), rows)
	}
	t.Logf("%d deliveries acknowledged before the stop, all stored", acked.Load())
}
