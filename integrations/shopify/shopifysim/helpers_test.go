package shopifysim

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	key    = "sim-key"
	secret = "sim-secret"
	demo   = "demo.myshopify.com"
)

// clock is an injectable clock tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// received is one request the fake app got.
type received struct {
	path   string
	header http.Header
	body   []byte
}

// receiver is a tiny app that records webhook deliveries and answers with
// status(n) for the n-th request (0-based), 200 by default.
type receiver struct {
	mu     sync.Mutex
	got    []received
	status func(n int) int
	srv    *httptest.Server
}

func newReceiver(t *testing.T, status func(n int) int) *receiver {
	t.Helper()
	rc := &receiver{status: status}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		n := len(rc.got)
		rc.got = append(rc.got, received{path: r.URL.Path, header: r.Header.Clone(), body: body})
		rc.mu.Unlock()
		code := http.StatusOK
		if rc.status != nil {
			code = rc.status(n)
		}
		if code >= 300 && code < 400 {
			w.Header().Set("Location", "/elsewhere")
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// byTopic returns the recorded deliveries of a topic.
func (rc *receiver) byTopic(topic string) []received {
	var out []received
	for _, r := range rc.requests() {
		if r.header.Get("X-Shopify-Topic") == topic {
			out = append(out, r)
		}
	}
	return out
}

type fixture struct {
	sim *Simulator
	srv *httptest.Server
	clk *clock
	app *receiver
}

// newSim serves a simulator with one shop (demo, EUR) over real HTTP,
// auto-approving, with an injected clock and a fake app receiving webhooks
// with fast retries.
func newSim(t *testing.T, mut func(*Config)) *fixture {
	t.Helper()
	clk := &clock{t: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)}
	app := newReceiver(t, nil)
	cfg := Config{APIKey: key, APISecret: secret, AppURL: app.srv.URL, AutoApprove: true, Now: clk.now,
		RetryBackoff: []time.Duration{5 * time.Millisecond, 5 * time.Millisecond}}
	if mut != nil {
		mut(&cfg)
	}
	s := New(cfg)
	s.AddShop(demo, ShopInfo{Name: "Demo", CurrencyCode: "EUR", IanaTimezone: "Europe/Paris"})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { _ = s.Close(); srv.Close() })
	return &fixture{sim: s, srv: srv, clk: clk, app: app}
}

// waitIdle waits for deliveries to settle, failing the test after 5 s.
func (f *fixture) waitIdle(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := f.sim.WaitIdle(ctx); err != nil {
		t.Fatalf("deliveries did not settle: %v", err)
	}
}

// do sends a request as the app does: URL rewritten to the simulator, the
// shop kept in the Host header (shopify.md §7).
func (f *fixture) do(t *testing.T, method, path, host string, header http.Header, body []byte) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	for k, v := range header {
		req.Header[k] = v
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// postJSON posts v as JSON to the demo shop and decodes a JSON object answer.
func (f *fixture) postJSON(t *testing.T, path, token string, v any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(v)
	h := http.Header{"Content-Type": {"application/json"}}
	if token != "" {
		h.Set("X-Shopify-Access-Token", token)
	}
	status, _, raw := f.do(t, http.MethodPost, path, demo, h, b)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return status, out
}

// authorize walks the consent step (auto-approved) for the demo shop and
// returns the callback URL.
func (f *fixture) authorize(t *testing.T, extra url.Values) *url.URL {
	t.Helper()
	q := url.Values{"client_id": {key}, "scope": {"read_orders,write_discounts"}, "redirect_uri": {"https://app.example/auth/callback"}, "state": {"n0nce-1"}}
	for k, v := range extra {
		q[k] = v
	}
	status, h, body := f.do(t, http.MethodGet, "/admin/oauth/authorize?"+q.Encode(), demo, nil, nil)
	if status != http.StatusFound {
		t.Fatalf("authorize: %d %s", status, body)
	}
	loc, err := url.Parse(h.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// tokenFor runs the code grant and returns the token response.
func (f *fixture) tokenFor(t *testing.T, expiring bool) map[string]any {
	t.Helper()
	body := map[string]any{"client_id": key, "client_secret": secret, "code": f.authorize(t, nil).Query().Get("code")}
	if expiring {
		body["expiring"] = "1"
	}
	status, tok := f.postJSON(t, "/admin/oauth/access_token", "", body)
	if status != http.StatusOK || tok["access_token"] == nil {
		t.Fatalf("code grant: %d %v", status, tok)
	}
	return tok
}

// access returns a fresh non-expiring access token for the demo shop.
func (f *fixture) access(t *testing.T) string {
	t.Helper()
	return f.tokenFor(t, false)["access_token"].(string)
}

const gqlPath = "/admin/api/2026-07/graphql.json"

// gql runs a GraphQL request and returns the decoded answer.
func (f *fixture) gql(t *testing.T, token, query string, vars map[string]any) map[string]any {
	t.Helper()
	status, out := f.postJSON(t, gqlPath, token, map[string]any{"query": query, "variables": vars})
	if status != http.StatusOK {
		t.Fatalf("graphql: HTTP %d %v", status, out)
	}
	return out
}

// dig walks decoded JSON by keys (strings) and indexes (ints).
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func errorCodes(out map[string]any) []string {
	var codes []string
	errs, _ := out["errors"].([]any)
	for _, e := range errs {
		c, _ := dig(e, "extensions", "code").(string)
		codes = append(codes, c)
	}
	return codes
}

func errorMessages(out map[string]any) string {
	var msgs []string
	errs, _ := out["errors"].([]any)
	for _, e := range errs {
		m, _ := dig(e, "message").(string)
		msgs = append(msgs, m)
	}
	return strings.Join(msgs, "; ")
}
