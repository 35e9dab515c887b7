// Command bench-intake measures the Shopify webhook intake of a running
// Parrain: many concurrent senders POST signed orders/create bodies, and it
// prints throughput and latency percentiles, events processed per second and
// the CPU time serve and work spent. scripts/bench-intake.sh runs it against
// a fresh database, then pgbench as the yardstick; it is a measurement, not
// a test.
package main

import (
	"bytes"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/postgres"
	"github.com/parrain/parrain/app/secretbox"
	"github.com/parrain/parrain/integrations/shopify"
)

func main() {
	appURL := flag.String("app", "http://127.0.0.1:8181", "running Parrain")
	dsn := flag.String("db", os.Getenv("DATABASE_URL"), "the database that Parrain uses")
	secret := flag.String("secret", os.Getenv("SHOPIFY_API_SECRET"), "Shopify API secret the app verifies with")
	n := flag.Int("n", 20000, "webhooks to send")
	c := flag.Int("c", 64, "concurrent senders")
	rate := flag.Float64("rate", 0, "offered load in webhooks/s (0: as fast as the senders go)")
	payloadPath := flag.String("payload", "integrations/shopify/shopifysim/fixtures/order.json", "order JSON to send")
	shop := flag.String("shop", "bench.myshopify.com", "installed and synced shop the deliveries are for")
	flag.IntVar(&customers, "customers", 0, "distinct buyers the orders come from (0: each order its own buyer, as on a sale day; 1: Shopify's sample buyer places every order)")
	servePID := flag.Int("serve-pid", 0, "pid of `parrain serve` (its CPU time is read from /proc)")
	workPID := flag.Int("work-pid", 0, "pid of `parrain work` (its CPU time is read from /proc)")
	flag.StringVar(&prof.serve, "serve-pprof", "", "pprof address of serve: a 30 s CPU profile from the start of the measured deliveries")
	flag.StringVar(&prof.work, "work-pprof", "", "pprof address of work: likewise")
	flag.StringVar(&prof.dir, "profile-dir", ".local", "where the profiles are written")
	flag.Parse()
	if err := run(*appURL, *dsn, *secret, *payloadPath, *shop, *n, *c, *rate, *servePID, *workPID); err != nil {
		fmt.Fprintln(os.Stderr, "bench-intake:", err)
		os.Exit(1)
	}
}

func run(appURL, dsn, secret, payloadPath, shop string, n, c int, rate float64, servePID, workPID int) error {
	ctx := context.Background()
	payload, err := os.ReadFile(payloadPath)
	if err != nil {
		return err
	}
	keyring, err := secretbox.Parse(os.Getenv("ENCRYPTION_KEY"))
	if err != nil {
		return fmt.Errorf("ENCRYPTION_KEY: %w", err)
	}
	db, err := postgres.Open(ctx, dsn, keyring)
	if err != nil {
		return err
	}
	defer db.Close()
	// The shop was installed through OAuth and synced by the worker, as a
	// merchant's would be: the events below run the whole pipeline.
	sh, err := db.Shops().ShopByDomain(ctx, app.PlatformShopify, shop)
	if err != nil || sh == nil {
		return fmt.Errorf("shop %s is not installed: %v", shop, err)
	}
	var before int64
	db.SQL().QueryRow("SELECT count(*) FROM webhook_events WHERE shop_id = $1", sh.ID).Scan(&before)

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c, MaxConnsPerHost: c}, Timeout: 10 * time.Second}
	runID := strconv.FormatInt(time.Now().UnixNano(), 36)
	send := func(i int) (time.Duration, int, error) {
		// Each delivery is a distinct event, so every one is a real insert.
		body := bytes.Replace(payload, []byte(`"id": 450789469`), []byte(`"id": `+strconv.Itoa(1_000_000+i)), 1)
		// Each order's buyer: a customer's orders are recounted on each
		// of their orders (the dashboard's cohorts), so one buyer placing
		// every order would measure that recount, not a sale day.
		if buyer := i; customers != 1 {
			if customers > 1 {
				buyer = i % customers
			}
			body = bytes.ReplaceAll(body, []byte(sampleBuyerID), []byte(strconv.Itoa(300_000_000+buyer)))
			body = bytes.ReplaceAll(body, []byte(sampleBuyerEmail), []byte("buyer"+strconv.Itoa(buyer)+"@mail.example.com"))
		}
		req, _ := http.NewRequest(http.MethodPost, appURL+"/webhooks/shopify", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Shopify-Topic", "orders/create")
		req.Header.Set("X-Shopify-Shop-Domain", shop)
		req.Header.Set("X-Shopify-API-Version", "2026-07")
		req.Header.Set("X-Shopify-Event-Id", runID+"-"+strconv.Itoa(i))
		req.Header.Set("X-Shopify-Webhook-Id", runID+"-w-"+strconv.Itoa(i))
		req.Header.Set("X-Shopify-Triggered-At", time.Now().UTC().Format(time.RFC3339Nano))
		req.Header.Set("X-Shopify-Hmac-Sha256", shopify.SignWebhook(body, secret))
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, 0, err
		}
		// Read to the end, as a sender keeping its connection does: a
		// body closed unread makes the client drop the connection, and
		// the app then paid a TCP accept and close per delivery.
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return time.Since(start), resp.StatusCode, nil
	}

	// Warm up connections and caches; not measured.
	warm := min(500, n/10)
	if _, err := fanOut(warm, c, func(i int) (time.Duration, error) {
		_, _, err := send(-1 - i)
		return 0, err
	}); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}

	// Let the worker finish the warm-up's events, so its CPU below is the
	// measured deliveries' only.
	if _, err := drain(ctx, db.SQL(), sh.ID, 2*time.Minute); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	serveCPU, workCPU := cpuTime(servePID), cpuTime(workPID)
	profiled := prof.start()
	var statuses sync.Map
	start := time.Now()
	lat, err := fanOut(n, c, func(i int) (time.Duration, error) {
		if rate > 0 {
			// Open loop: request i is due at start + i/rate, whatever
			// the answers before it took.
			time.Sleep(time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second)))))
		}
		d, status, err := send(i)
		v, _ := statuses.LoadOrStore(status, new(atomic.Int64))
		v.(*atomic.Int64).Add(1)
		return d, err
	})
	elapsed := time.Since(start)
	if err != nil {
		return err
	}
	serveCPU = cpuTime(servePID) - serveCPU
	left, err := drain(ctx, db.SQL(), sh.ID, 10*time.Minute)
	drained := time.Since(start)
	workCPU = cpuTime(workPID) - workCPU
	if err != nil {
		return err
	}
	profiled.Wait()
	var after int64
	db.SQL().QueryRow("SELECT count(*) FROM webhook_events WHERE shop_id = $1", sh.ID).Scan(&after)

	offered := "as fast as possible"
	if rate > 0 {
		offered = fmt.Sprintf("offered %.0f/s", rate)
	}
	fmt.Printf("payload %d bytes, %d senders, %d webhooks, %s\n", len(payload), c, n, offered)
	fmt.Printf("intake:    %8.0f webhooks/s   p50 %6.2f ms   p90 %6.2f ms   p99 %6.2f ms   max %6.2f ms\n",
		float64(n)/elapsed.Seconds(), ms(pct(lat, 50)), ms(pct(lat, 90)), ms(pct(lat, 99)), ms(pct(lat, 100)))
	statuses.Range(func(k, v any) bool { fmt.Printf("           HTTP %v: %d\n", k, v.(*atomic.Int64).Load()); return true })
	fmt.Printf("           rows stored: %d of %d sent (+%d warm-up)\n", after-before-int64(warm), n, warm)

	fmt.Printf("processed: %8.0f events/s     (all %d processed %.1f s after the first delivery; %d left unprocessed)\n",
		float64(n)/drained.Seconds(), n, drained.Seconds(), left)
	if servePID > 0 && workPID > 0 {
		fmt.Printf("CPU:       serve %.3f s per 1,000 webhooks (%.2f ms each), work %.3f s per 1,000 events (%.2f ms each)\n",
			serveCPU.Seconds()*1000/float64(n), ms(serveCPU)/float64(n), workCPU.Seconds()*1000/float64(n), ms(workCPU)/float64(n))
	}
	var failed int64
	db.SQL().QueryRow("SELECT count(*) FROM webhook_events WHERE shop_id = $1 AND attempts > 1", sh.ID).Scan(&failed)
	fmt.Printf("           events that needed more than one attempt: %d\n", failed)

	return nil
}

// prof takes CPU profiles of the processes during the measured run.
var prof profiles

type profiles struct{ serve, work, dir string }

func (p *profiles) start() *sync.WaitGroup {
	var wg sync.WaitGroup
	for name, addr := range map[string]string{"serve": p.serve, "work": p.work} {
		if addr == "" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get("http://" + addr + "/debug/pprof/profile?seconds=30")
			if err != nil {
				fmt.Fprintln(os.Stderr, "bench-intake: profile", name, err)
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			path := filepath.Join(p.dir, "bench-"+name+".pprof")
			if err := os.WriteFile(path, b, 0o644); err == nil {
				fmt.Fprintln(os.Stderr, "bench-intake: wrote", path)
			}
		}()
	}
	return &wg
}

func fanOut(n, c int, f func(i int) (time.Duration, error)) ([]time.Duration, error) {
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				d, err := f(i)
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				lat[i] = d
			}
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return nil, err
	}
	return lat, nil
}

func pct(d []time.Duration, p float64) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s) == 0 {
		return 0
	}
	i := int(float64(len(s)-1) * p / 100)
	return s[i]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// drain waits until every event of the shop is processed, and returns how
// many were still waiting if it gave up.
func drain(ctx context.Context, db *sql.DB, shopID int64, within time.Duration) (int64, error) {
	deadline := time.Now().Add(within)
	for {
		var left int64
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM webhook_events WHERE shop_id = $1 AND processed_at IS NULL", shopID).Scan(&left); err != nil {
			return 0, err
		}
		if left == 0 {
			return 0, nil
		}
		if time.Now().After(deadline) {
			return left, fmt.Errorf("%d events still unprocessed after %s: see .local/bench-work.log", left, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// cpuTime is the user + system CPU time a process has used so far, from
// /proc/<pid>/stat (fields 14 and 15, in clock ticks of 1/100 s on Linux).
// customers is how many distinct buyers the orders come from (-customers).
var customers int

// The sample order's buyer (fixtures/order.json: customer.id, email).
const (
	sampleBuyerID    = "207119551"
	sampleBuyerEmail = "bob.norman@mail.example.com"
)

func cpuTime(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces: count from after it.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}
