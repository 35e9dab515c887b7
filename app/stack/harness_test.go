package stack_test

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/redis/go-redis/v9"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/config"
	"github.com/parrain/parrain/app/stack"
	"github.com/parrain/parrain/app/testenv"
	"github.com/parrain/parrain/integrations/shopify"
	"github.com/parrain/parrain/integrations/shopify/shopifysim"
	"github.com/parrain/parrain/integrations/smtp/mailsim"
	"github.com/parrain/parrain/jobs"
)

// This package's tests own Redis database 1 (see testenv.RedisURL).

const (
	apiKey    = "test-api-key"
	apiSecret = "test-api-secret"
)

// harness is a whole Parrain over real HTTP, with Postgres and Redis behind
// proxies the test can cut.
type harness struct {
	t         testing.TB
	stack     *stack.Stack
	app       *httptest.Server
	pg        *testenv.Proxy // nil in benchmarks (straight connections)
	redis     *testenv.Proxy // nil in benchmarks
	rdb       *redis.Client  // direct, not through the proxy
	direct    *sql.DB        // direct, not through the proxy
	directDSN string
	inspect   *asynq.Inspector
	redisDB   int
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	worker    bool
	extraEnv  map[string]string

	logs lockedBuffer // everything the app logged
	env  map[string]string

	// skew moves the clock of both the app and the simulator, so tests can
	// jump to "55 minutes later" without sleeping.
	skew atomic.Int64

	simulate bool
	dupRate  float64
	bucket   float64
	restore  float64
	sim      *shopifysim.Simulator
	simSrv   *httptest.Server
	// mail is the SMTP server on loopback every harness sends to.
	mail *mailsim.Server
}

type option func(*harness)

// withoutWorker leaves jobs in the queue so a test can count them.
func withoutWorker() option { return func(h *harness) { h.worker = false } }

func withEnv(k, v string) option { return func(h *harness) { h.extraEnv[k] = v } }

// withSimulator plays Shopify with the in-repo simulator over real HTTP.
func withSimulator() option { return func(h *harness) { h.simulate = true } }

// withUnlimitedAPI gives the simulated shop a cost bucket no benchmark can
// drain, so it measures Parrain rather than Shopify's rate limit.
func withUnlimitedAPI() option { return func(h *harness) { h.bucket = 1e12 } }

// withStoreBudget gives each simulated shop a cost bucket of max points
// restored at rate points a second (Standard plan: 100/s).
func withStoreBudget(max, rate float64) option {
	return func(h *harness) { h.bucket, h.restore = max, rate }
}

// withDuplicateRate makes the simulator deliver webhooks twice.
func withDuplicateRate(r float64) option { return func(h *harness) { h.dupRate = r } }

func simShop(name, currency, tz string) shopifysim.ShopInfo {
	return shopifysim.ShopInfo{Name: name, Email: "owner@example.com", CurrencyCode: currency, IanaTimezone: tz, PlanDisplayName: "Basic"}
}

func simOrder(email string) shopifysim.OrderInput {
	return shopifysim.OrderInput{Email: email}
}

func (h *harness) now() time.Time { return time.Now().Add(time.Duration(h.skew.Load())) }

// advance moves both clocks forward by d.
func (h *harness) advance(d time.Duration) { h.skew.Add(int64(d)) }

// startOfMinute moves the clock to just after a minute boundary, so that a
// test counting requests against a per-minute limit does not straddle two
// windows.
func (h *harness) startOfMinute() {
	now := h.now()
	h.advance(now.Truncate(time.Minute).Add(time.Minute + 100*time.Millisecond).Sub(now))
}

// runRefreshJob runs the scheduled token refresh once, as the worker would.
func (h *harness) runRefreshJob() error {
	return h.stack.Mux().ProcessTask(context.Background(), jobs.NewRefreshTokensTask())
}

func newHarness(t testing.TB, opts ...option) *harness {
	t.Helper()
	h := &harness{t: t, worker: true, extraEnv: map[string]string{}}
	for _, o := range opts {
		o(h)
	}
	direct := testenv.DatabaseURL(t)
	db, err := sql.Open("pgx", direct)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h.direct = db
	h.directDSN = direct
	// Benchmarks never cut a connection and measure the app, not the
	// proxies: they connect straight (the proxies' copying was a fifth of
	// bench-store's CPU). Tests go through the proxies so they can cut.
	_, bench := t.(*testing.B)
	dsn, _ := url.Parse(direct)
	if !bench {
		h.pg = testenv.NewProxy(t, dsn.Host)
		dsn.Host = h.pg.Addr()
	}

	rawRedis, redisDB := testenv.RedisURL(t)
	h.redisDB = redisDB
	rurl, _ := url.Parse(rawRedis)
	h.rdb = redis.NewClient(&redis.Options{Addr: rurl.Host, DB: redisDB})
	t.Cleanup(func() { h.rdb.Close() })
	if err := h.rdb.FlushDB(context.Background()).Err(); err != nil {
		t.Fatalf("flush test redis: %v", err)
	}
	if !bench {
		h.redis = testenv.NewProxy(t, rurl.Host)
		rurl.Host = h.redis.Addr()
	}

	// The app URL is only known once the server listens; start it with a
	// placeholder handler and swap in the stack's.
	var handler http.Handler = http.NotFoundHandler()
	var mu sync.RWMutex
	h.app = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.RLock()
		hd := handler
		mu.RUnlock()
		hd.ServeHTTP(w, r)
	}))
	t.Cleanup(h.app.Close)

	h.mail = mailsim.New()
	if err := h.mail.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.mail.Close() })

	_, keySpec := testenv.Keyring(t)
	env := map[string]string{
		"DATABASE_URL": dsn.String(), "REDIS_URL": rurl.String(), "APP_URL": h.app.URL,
		"SHOPIFY_API_KEY": apiKey, "SHOPIFY_API_SECRET": apiSecret, "ENCRYPTION_KEY": keySpec,
		"WEBHOOK_RELAY_AFTER": "300ms", "WEBHOOK_MAX_BODY_BYTES": "65536", "SHUTDOWN_TIMEOUT": "5s",
		// The WooCommerce simulator listens on 127.0.0.1; the SSRF guard's
		// own test turns this off.
		"WOOCOMMERCE_ALLOW_PRIVATE_STORES": "true",
		// Email to the loopback SMTP server, retried and relayed quickly.
		"SMTP_URL": h.mail.URL(), "EMAIL_FROM": "rewards@parrain.test", "EMAIL_RETRY_BASE": "100ms", "EMAIL_RELAY_EVERY": "100ms",
	}
	if h.simulate {
		h.sim = shopifysim.New(shopifysim.Config{
			APIKey: apiKey, APISecret: apiSecret, AppURL: h.app.URL, AutoApprove: true, DuplicateRate: h.dupRate, Now: h.now,
			GraphQLBucket: h.bucket, GraphQLRestore: cmp.Or(h.restore, h.bucket),
			Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		})
		h.simSrv = httptest.NewServer(h.sim.Handler())
		t.Cleanup(h.simSrv.Close)
		env["SHOPIFY_API_ORIGIN"] = h.simSrv.URL
	}
	if bench {
		// Benchmarks run the relay as production does (10 s): at 300 ms it
		// re-offered every event of a backlog to Redis a second time.
		delete(env, "WEBHOOK_RELAY_AFTER")
	}
	for k, v := range h.extraEnv {
		env[k] = v
	}
	var cfg *config.Config
	cfg, err = config.Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	var logOut io.Writer = &h.logs
	if os.Getenv("TEST_LOGS") != "" {
		logOut = io.MultiWriter(&h.logs, os.Stderr)
	}
	s, err := stack.New(context.Background(), cfg, slog.New(slog.NewJSONHandler(logOut, nil)))
	if err != nil {
		t.Fatal(err)
	}
	h.stack = s
	h.env = env
	s.Now = h.now
	mu.Lock()
	handler = s.HTTPHandler()
	mu.Unlock()

	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.wg.Add(1)
	go func() { defer h.wg.Done(); s.Relay(100 * time.Millisecond).Run(ctx) }()
	if h.worker {
		h.startWorker(ctx)
	}
	h.inspect = asynq.NewInspector(asynq.RedisClientOpt{Addr: h.rdb.Options().Addr, DB: redisDB})
	t.Cleanup(func() {
		h.cancel()
		h.wg.Wait()
		h.inspect.Close()
		s.Close()
	})
	return h
}

// runWorker starts an in-process worker and returns its stop function.
func (h *harness) runWorker() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := h.stack.RunWorker(ctx); err != nil {
			h.t.Errorf("worker: %v", err)
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	h.t.Cleanup(stop)
	return stop
}

func (h *harness) startWorker(ctx context.Context) {
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		if err := h.stack.RunWorker(ctx); err != nil {
			h.t.Errorf("worker: %v", err)
		}
	}()
}

// installShop creates an installed shop directly (the OAuth path has its own
// tests) and returns it.
func (h *harness) installShop(domain string) *app.Shop {
	h.t.Helper()
	sh, err := h.stack.DB.Shops().Install(context.Background(), app.PlatformShopify, domain,
		app.Credentials{AccessToken: "shpat_test", Scopes: "read_orders"}, time.Now().UTC())
	if err != nil {
		h.t.Fatal(err)
	}
	return sh
}

type delivery struct {
	topic, shop, eventID string
	body                 []byte
	hmac                 string // computed when empty
	headers              map[string]string
}

func (h *harness) deliver(d delivery) (int, string) {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.app.URL+"/webhooks/shopify", bytes.NewReader(d.body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Shopify-Topic", d.topic)
	req.Header.Set("X-Shopify-Shop-Domain", d.shop)
	req.Header.Set("X-Shopify-API-Version", "2026-07")
	req.Header.Set("X-Shopify-Event-Id", d.eventID)
	req.Header.Set("X-Shopify-Webhook-Id", "wh-"+d.eventID+"-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	req.Header.Set("X-Shopify-Triggered-At", time.Now().UTC().Format(time.RFC3339Nano))
	sig := d.hmac
	if sig == "" {
		sig = shopify.SignWebhook(d.body, apiSecret)
	}
	req.Header.Set("X-Shopify-Hmac-Sha256", sig)
	for k, v := range d.headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// count runs a count(*) query straight on Postgres (not through the proxy).
func (h *harness) count(query string, args ...any) int {
	h.t.Helper()
	var n int
	if err := h.direct.QueryRow(query, args...).Scan(&n); err != nil {
		h.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s", within, what)
}

func signWith(body []byte, secret string) string { return shopify.SignWebhook(body, secret) }

func readAll(resp *http.Response) string {
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// assertLogsLack fails if any of the values (tokens, secrets, customer
// emails) appears in what the app logged.
func (h *harness) assertLogsLack(values ...string) {
	h.t.Helper()
	logs := h.logs.String()
	if logs == "" {
		h.t.Fatal("the app logged nothing; the check would prove nothing")
	}
	for _, v := range values {
		if v != "" && strings.Contains(logs, v) {
			h.t.Errorf("the logs contain %q", v)
		}
	}
}

func redisZ(score float64, member string) redis.Z { return redis.Z{Score: score, Member: member} }
