package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// options are the run's knobs (flags in main.go).
type options struct {
	Orders, Kills, Senders int
	DupRate                float64
	Dir, Bin               string
	BasePort               int
	DrainTimeout           time.Duration
	Seed                   int64
}

const (
	apiKey    = "chaos-api-key"
	apiSecret = "chaos-api-secret"
	shopName  = "chaos.myshopify.com"
	// A development-only key, like the Makefile's.
	encryptionKey = "chaos1:Y2hhb3Mtb25seS1lbmNyeXB0aW9uLWtleS0zMi1ieXQ="
)

// world is everything the run started.
type world struct {
	o       options
	out     io.Writer
	pg      *postgres
	redis   *proc
	sim     *proc
	serves  []*proc
	workers []*proc
	db      *sql.DB
	apps    []string // the web processes' URLs
	simURL  string
	shopID  int64
	redisPt int
}

// run does the whole suite and returns its counts.
func run(ctx context.Context, o options, out io.Writer) (*report, error) {
	if o.Orders < 2 {
		return nil, errors.New("-orders must be at least 2")
	}
	var err error
	if o.Dir, err = filepath.Abs(o.Dir); err != nil {
		return nil, err
	}
	if o.Bin, err = filepath.Abs(o.Bin); err != nil {
		return nil, err
	}
	rnd := rand.New(rand.NewSource(o.Seed))
	fmt.Fprintf(out, "chaos: %d orders, %d kills of each process kind, %d senders, dup rate %.2f, seed %d\n", o.Orders, o.Kills, o.Senders, o.DupRate, o.Seed)
	w := &world{o: o, out: out}
	defer w.stopAll()
	if err := w.start(ctx); err != nil {
		return nil, err
	}
	if err := w.install(ctx); err != nil {
		return nil, err
	}

	d := newDriver(w, rnd)
	faults := w.scheduleFaults(rnd, d)
	start := time.Now()
	sendErr := make(chan error, 1)
	go func() { sendErr <- d.run(ctx) }()
	go faults.run(ctx)
	if err := <-sendErr; err != nil {
		return nil, err
	}
	faults.wait()
	acked := time.Now()
	fmt.Fprintf(out, "chaos: every delivery acknowledged after %v (%d deliveries sent, %d answered non-200 or failed and were retried)\n",
		acked.Sub(start).Round(time.Millisecond), d.sent.Load(), d.retried.Load())
	for _, f := range faults.done {
		fmt.Fprintf(out, "chaos:   fault %s\n", f)
	}
	drained, err := w.waitDrain(ctx, d)
	fmt.Fprintf(out, "chaos: backlog drained %v after the last acknowledgement (%v in all)\n", drained.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	if err != nil {
		fmt.Fprintf(out, "chaos: %v\n", err)
	}
	rep, cerr := w.count(ctx, d)
	if cerr != nil {
		return nil, cerr
	}
	rep.Drain = drained
	rep.print(out)
	if err != nil {
		rep.Problems = append(rep.Problems, err.Error())
	}
	return rep, nil
}

func (w *world) port(i int) int { return w.o.BasePort + i }

func (w *world) start(ctx context.Context) error {
	o := w.o
	if err := os.MkdirAll(filepath.Join(o.Dir, "logs"), 0o755); err != nil {
		return err
	}
	for _, b := range []string{"parrain", "shopify-sim"} {
		if _, err := os.Stat(filepath.Join(o.Bin, b)); err != nil {
			return fmt.Errorf("%s/%s missing: run make build", o.Bin, b)
		}
	}
	pg, err := newPostgres(o.Dir, w.port(0))
	if err != nil {
		return err
	}
	w.pg = pg
	if err := pg.start(); err != nil {
		return err
	}
	if err := waitFor(ctx, "postgres", 60*time.Second, func() bool { return pgReady(pg.url("postgres")) }); err != nil {
		return err
	}
	admin, err := sql.Open("pgx", pg.url("postgres"))
	if err != nil {
		return err
	}
	_, err = admin.ExecContext(ctx, "CREATE DATABASE parrain")
	admin.Close()
	if err != nil {
		return fmt.Errorf("create database: %w", err)
	}
	w.redisPt = w.port(1)
	w.redis = newRedis(o.Dir, w.redisPt)
	if err := w.redis.start(); err != nil {
		return err
	}
	if err := waitFor(ctx, "redis", 20*time.Second, func() bool { return redisReady(w.redisPt) }); err != nil {
		return err
	}
	w.simURL = fmt.Sprintf("http://127.0.0.1:%d", w.port(2))
	w.apps = []string{fmt.Sprintf("http://127.0.0.1:%d", w.port(3)), fmt.Sprintf("http://127.0.0.1:%d", w.port(4))}
	env := append(os.Environ(),
		"DATABASE_URL="+pg.url("parrain"), fmt.Sprintf("REDIS_URL=redis://127.0.0.1:%d/0", w.redisPt),
		"SHOPIFY_API_KEY="+apiKey, "SHOPIFY_API_SECRET="+apiSecret, "ENCRYPTION_KEY="+encryptionKey,
		"APP_URL="+w.apps[0], "SHOPIFY_API_ORIGIN="+w.simURL, "LOG_LEVEL=warn",
		"WEBHOOK_RELAY_AFTER=5s", "APPROVE_REFERRALS_EVERY=5s", "SHUTDOWN_TIMEOUT=5s", "WORKER_CONCURRENCY=20",
	)
	parrain, _ := filepath.Abs(filepath.Join(o.Bin, "parrain"))
	migrate := exec.CommandContext(ctx, parrain, "migrate", "up")
	migrate.Env = env
	if out, err := migrate.CombinedOutput(); err != nil {
		return fmt.Errorf("migrate: %v: %s", err, out)
	}
	sim, _ := filepath.Abs(filepath.Join(o.Bin, "shopify-sim"))
	// A bucket no run can drain: the suite measures Parrain, not Shopify's
	// rate limit (the throttling path has its own tests).
	w.sim = &proc{name: "shopify-sim", path: sim, env: env, log: filepath.Join(o.Dir, "logs", "shopify-sim.log"),
		args: []string{"-addr", strings.TrimPrefix(w.simURL, "http://"), "-shop", shopName, "-auto-approve", "-duplicate-rate", "0", "-graphql-bucket", "1e12"}}
	if err := w.sim.start(); err != nil {
		return err
	}
	for i := range 2 {
		w.serves = append(w.serves, &proc{name: fmt.Sprintf("serve-%d", i+1), path: parrain, args: []string{"serve"},
			env: append(env[:len(env):len(env)], "LISTEN_ADDR="+strings.TrimPrefix(w.apps[i], "http://")), log: filepath.Join(o.Dir, "logs", fmt.Sprintf("serve-%d.log", i+1))})
		w.workers = append(w.workers, &proc{name: fmt.Sprintf("work-%d", i+1), path: parrain, args: []string{"work"}, env: env,
			log: filepath.Join(o.Dir, "logs", fmt.Sprintf("work-%d.log", i+1))})
	}
	for _, p := range append(append([]*proc{}, w.serves...), w.workers...) {
		if err := p.start(); err != nil {
			return err
		}
	}
	for _, u := range append([]string{w.simURL + "/_sim/"}, w.apps[0]+"/readyz", w.apps[1]+"/readyz") {
		if err := waitFor(ctx, u, 30*time.Second, func() bool { return httpReady(u) }); err != nil {
			return err
		}
	}
	db, err := sql.Open("pgx", pg.url("parrain"))
	if err != nil {
		return err
	}
	w.db = db
	return nil
}

func (w *world) stopAll() {
	for _, p := range append(append([]*proc{}, w.serves...), w.workers...) {
		p.stop()
	}
	if w.sim != nil {
		w.sim.stop()
	}
	if w.db != nil {
		w.db.Close()
	}
	if w.redis != nil {
		w.redis.stop()
	}
	if w.pg != nil {
		w.pg.signal(syscall.SIGINT) // fast shutdown
	}
}

// install installs the shop through the real OAuth flow (as make dev does)
// and sets its program's holding period to 0 so rewards are issued at once.
func (w *world) install(ctx context.Context) error {
	resp, err := http.Get(w.simURL + "/_sim/install-url?shop=" + shopName)
	if err != nil {
		return err
	}
	link, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 20 * time.Second}
	resp, err = c.Get(string(link))
	if err != nil {
		return fmt.Errorf("install: %w", err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(page, []byte("installed")) {
		return fmt.Errorf("install failed: %d %s", resp.StatusCode, page)
	}
	if err := w.db.QueryRowContext(ctx, "SELECT id FROM shops WHERE domain = $1", shopName).Scan(&w.shopID); err != nil {
		return fmt.Errorf("installed shop: %w", err)
	}
	// The program needs the shop's currency, recorded by the sync job.
	return waitFor(ctx, "program with holding_days 0", 60*time.Second, func() bool {
		resp, err := http.Get(w.simURL + "/_sim/session-token?shop=" + shopName)
		if err != nil {
			return false
		}
		tok, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		req, _ := http.NewRequest(http.MethodPut, w.apps[0]+"/api/admin/program", strings.NewReader(`{"holding_days":0}`))
		req.Header.Set("Authorization", "Bearer "+string(tok))
		req.Header.Set("Content-Type", "application/json")
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
}

// delivery is one webhook delivery (an event may be delivered many times).
type delivery struct {
	topic, eventID string
	body           []byte
	attempt        int
}

// driver sends the orders' webhooks like Shopify does: signed, each event
// possibly more than once, in any order, retried until acknowledged.
type driver struct {
	w   *world
	rnd *rand.Rand
	mu  sync.Mutex

	advocates, friends int
	acked              map[string]bool // event ids answered 200
	events             int             // distinct events generated
	sent, retried      atomic.Int64
	ackedN             atomic.Int64
	queue              chan delivery
	pending            sync.WaitGroup
}

func newDriver(w *world, rnd *rand.Rand) *driver {
	adv := w.o.Orders / 2
	return &driver{w: w, rnd: rnd, advocates: adv, friends: w.o.Orders - adv, acked: map[string]bool{}, queue: make(chan delivery, 1<<16)}
}

// expectedEvents is orders/create + orders/paid per order.
func (d *driver) expectedEvents() int { return 2 * (d.advocates + d.friends) }

// progress is the share of expected events acknowledged so far.
func (d *driver) progress() float64 { return float64(d.ackedN.Load()) / float64(d.expectedEvents()) }

func orderID(i int) int64 { return 7_000_000_000 + int64(i) }

// orderBody is an orders/create or orders/paid body in the shape of
// Shopify's (integrations/shopify/shopifysim/fixtures/order.json): the
// advocate i is customer i; friend i is customer advocates+i and lands
// with advocate i's referral link.
func (d *driver) orderBody(i int, paid bool, ref string) []byte {
	id := orderID(i)
	status := "pending"
	if paid {
		status = "paid"
	}
	cust := int64(9_000_000_000 + i)
	email := fmt.Sprintf("buyer%d@chaos.example", i)
	landing := "/"
	if ref != "" {
		landing = "/?ref=" + ref
	}
	b, _ := json.Marshal(map[string]any{
		"id": id, "admin_graphql_api_id": fmt.Sprintf("gid://shopify/Order/%d", id), "name": fmt.Sprintf("#C%d", i),
		"order_number": 1000 + i, "email": email, "contact_email": email, "created_at": time.Now().UTC().Format(time.RFC3339),
		"currency": "EUR", "presentment_currency": "EUR", "total_price": "60.00", "subtotal_price": "60.00",
		"financial_status": status, "cancelled_at": nil, "test": false, "source_name": "web", "landing_site": landing,
		"referring_site": "", "discount_codes": []any{}, "note_attributes": []any{}, "browser_ip": nil, "phone": nil,
		"customer":         map[string]any{"id": cust, "email": email, "first_name": fmt.Sprintf("Buyer%d", i), "phone": nil},
		"shipping_address": map[string]any{"address1": fmt.Sprintf("%d Chaos Street", i), "city": "Paris", "zip": "75002", "country": "France"},
	})
	return b
}

// eventsOf returns the deliveries of order i (both topics, duplicated).
func (d *driver) eventsOf(i int, ref string) []delivery {
	var out []delivery
	for _, topic := range []string{"orders/create", "orders/paid"} {
		ev := delivery{topic: topic, eventID: fmt.Sprintf("chaos-%d-%s", i, topic), body: d.orderBody(i, topic == "orders/paid", ref)}
		n := 1
		if d.rnd.Float64() < d.w.o.DupRate {
			n += 1 + d.rnd.Intn(2)
		}
		for range n {
			out = append(out, ev)
		}
	}
	return out
}

// push shuffles deliveries and queues them.
func (d *driver) push(ds []delivery) {
	d.mu.Lock()
	d.rnd.Shuffle(len(ds), func(a, b int) { ds[a], ds[b] = ds[b], ds[a] })
	d.mu.Unlock()
	d.pending.Add(len(ds))
	for _, x := range ds {
		d.queue <- x
	}
}

func (d *driver) run(ctx context.Context) error {
	var wg sync.WaitGroup
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range d.w.o.Senders {
		wg.Add(1)
		go func() { defer wg.Done(); d.sender(sctx) }()
	}
	d.mu.Lock()
	d.events = 2 * (d.advocates + d.friends)
	d.mu.Unlock()
	var adv []delivery
	for i := range d.advocates {
		adv = append(adv, d.eventsOf(i, "")...)
	}
	d.push(adv)
	// Friends' orders as their advocate's referral code exists: read from
	// Postgres, which may be restarting meanwhile.
	sentFriend := make([]bool, d.friends)
	left := d.friends
	for left > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		codes, err := d.w.advocateCodes(ctx)
		if err == nil {
			var batch []delivery
			for i := range d.friends {
				if sentFriend[i] {
					continue
				}
				if code, ok := codes[9_000_000_000+int64(i)]; ok {
					sentFriend[i] = true
					left--
					batch = append(batch, d.eventsOf(d.advocates+i, code)...)
				}
			}
			if len(batch) > 0 {
				d.push(batch)
			}
		}
		time.Sleep(300 * time.Millisecond)
	}
	done := make(chan struct{})
	go func() { d.pending.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	cancel()
	wg.Wait()
	return nil
}

func (d *driver) sender(ctx context.Context) {
	c := &http.Client{Timeout: 10 * time.Second}
	for {
		select {
		case <-ctx.Done():
			return
		case x := <-d.queue:
			if d.send(ctx, c, x) {
				d.pending.Done()
				continue
			}
			// Shopify retries a delivery that was not acknowledged; here
			// sooner, to keep the run short.
			d.retried.Add(1)
			x.attempt++
			go func() {
				select {
				case <-ctx.Done():
				case <-time.After(time.Duration(min(x.attempt, 10)) * 200 * time.Millisecond):
					d.queue <- x
				}
			}()
		}
	}
}

// send delivers once to one of the web processes (as a load balancer
// would) and reports whether it was acknowledged.
func (d *driver) send(ctx context.Context, c *http.Client, x delivery) bool {
	d.mu.Lock()
	app := d.w.apps[d.rnd.Intn(len(d.w.apps))]
	d.mu.Unlock()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, app+"/webhooks/shopify", bytes.NewReader(x.body))
	mac := hmac.New(sha256.New, []byte(apiSecret))
	mac.Write(x.body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Shopify-Topic", x.topic)
	req.Header.Set("X-Shopify-Shop-Domain", shopName)
	req.Header.Set("X-Shopify-API-Version", "2026-07")
	req.Header.Set("X-Shopify-Event-Id", x.eventID)
	req.Header.Set("X-Shopify-Webhook-Id", x.eventID+"-"+strconv.Itoa(x.attempt))
	req.Header.Set("X-Shopify-Triggered-At", time.Now().UTC().Format(time.RFC3339Nano))
	req.Header.Set("X-Shopify-Hmac-Sha256", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	d.sent.Add(1)
	resp, err := c.Do(req)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false
	}
	d.mu.Lock()
	if !d.acked[x.eventID] {
		d.acked[x.eventID] = true
		d.ackedN.Add(1)
	}
	d.mu.Unlock()
	return true
}

// advocateCodes maps customer id → referral code.
func (w *world) advocateCodes(ctx context.Context) (map[int64]string, error) {
	qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	rows, err := w.db.QueryContext(qctx, "SELECT customer_id, code FROM advocates WHERE shop_id = $1", w.shopID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var id, code string
		if err := rows.Scan(&id, &code); err != nil {
			return nil, err
		}
		n, _ := strconv.ParseInt(id, 10, 64)
		out[n] = code
	}
	return out, rows.Err()
}
