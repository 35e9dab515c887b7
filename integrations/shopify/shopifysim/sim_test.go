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

	goshopify "github.com/bold-commerce/go-shopify/v3"
)

const (
	key    = "sim-key"
	secret = "sim-secret"
	demo   = "demo.myshopify.com"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newSim(t *testing.T, mut func(*Config)) (*Simulator, *httptest.Server, *clock) {
	t.Helper()
	clk := &clock{t: time.Now()}
	cfg := Config{APIKey: key, APISecret: secret, AppURL: "http://app.invalid", AutoApprove: true, Now: clk.now}
	if mut != nil {
		mut(&cfg)
	}
	s := New(cfg)
	s.AddShop(demo, ShopInfo{Name: "Demo", CurrencyCode: "EUR"})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return s, srv, clk
}

// call posts JSON to the simulator as the app does: URL rewritten, Host kept.
func call(t *testing.T, srv *httptest.Server, path, token string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, srv.URL+path, bytes.NewReader(b))
	req.Host = demo
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("X-Shopify-Access-Token", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

// authorize walks the consent step and returns the callback query.
func authorize(t *testing.T, srv *httptest.Server) url.Values {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	q := url.Values{"client_id": {key}, "scope": {"read_orders"}, "redirect_uri": {"https://app.example/cb"}, "state": {"n0nce"}, "shop": {demo}}
	resp, err := c.Get(srv.URL + "/admin/oauth/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("no redirect: %d", resp.StatusCode)
	}
	return loc.Query()
}

func TestQuerySignatureMatchesShopifyDocsVector(t *testing.T) {
	q, _ := url.ParseQuery("code=0907a61c0c8d55e99db179b68161bc00&shop=some-shop.myshopify.com&state=0.6784241404160823&timestamp=1337178173")
	if got := signQuery(q, "hush"); got != "700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf" {
		t.Fatalf("signQuery = %s", got)
	}
}

func TestCodeGrantIssuesExpiringTokenOnce(t *testing.T) {
	sim, srv, _ := newSim(t, nil)
	cb := authorize(t, srv)
	// go-shopify verifies the callback independently of our signer.
	u, _ := url.Parse("https://app.example/cb?" + cb.Encode())
	if ok, err := (goshopify.App{ApiKey: key, ApiSecret: secret}).VerifyAuthorizationURL(u); !ok || err != nil {
		t.Fatalf("go-shopify rejects the callback signature: %v", err)
	}
	if cb.Get("state") != "n0nce" || cb.Get("shop") != demo {
		t.Fatalf("callback params: %v", cb)
	}
	status, tok := call(t, srv, "/admin/oauth/access_token", "", map[string]any{"client_id": key, "client_secret": secret, "code": cb.Get("code"), "expiring": "1"})
	if status != 200 || tok["refresh_token"] == nil || tok["expires_in"] != float64(3600) {
		t.Fatalf("code grant: %d %v", status, tok)
	}
	if a, r, _, _ := sim.Tokens(demo); a != tok["access_token"] || r != tok["refresh_token"] {
		t.Fatal("Tokens() disagrees with the response")
	}
	if status, _ := call(t, srv, "/admin/oauth/access_token", "", map[string]any{"client_id": key, "client_secret": secret, "code": cb.Get("code")}); status != 400 {
		t.Fatalf("a reused code was accepted: %d", status)
	}
	cb2 := authorize(t, srv)
	if status, _ := call(t, srv, "/admin/oauth/access_token", "", map[string]any{"client_id": key, "client_secret": "wrong", "code": cb2.Get("code")}); status != 400 {
		t.Fatalf("a wrong client secret was accepted: %d", status)
	}
	status, tok = call(t, srv, "/admin/oauth/access_token", "", map[string]any{"client_id": key, "client_secret": secret, "code": authorize(t, srv).Get("code")})
	if status != 200 || tok["refresh_token"] != nil {
		t.Fatalf("non-expiring grant: %d %v", status, tok)
	}
}

func TestRefreshRotation(t *testing.T) {
	_, srv, clk := newSim(t, nil)
	_, tok := call(t, srv, "/admin/oauth/access_token", "", map[string]any{"client_id": key, "client_secret": secret, "code": authorize(t, srv).Get("code"), "expiring": "1"})
	refresh := func(rt any) (int, map[string]any) {
		return call(t, srv, "/admin/oauth/access_token", "", map[string]any{"client_id": key, "client_secret": secret, "grant_type": "refresh_token", "refresh_token": rt})
	}
	r1 := tok["refresh_token"]
	s, t2 := refresh(r1)
	if s != 200 || t2["refresh_token"] == r1 {
		t.Fatalf("refresh: %d %v", s, t2)
	}
	// r1 stays valid until r2 is used (crash-safe refresh)...
	if s, _ := refresh(r1); s != 200 {
		t.Fatalf("previous refresh token refused before its successor was used: %d", s)
	}
	s, t3 := refresh(t2["refresh_token"])
	if s != 200 {
		t.Fatal(s)
	}
	// ...and dead once it is.
	if s, body := refresh(r1); s != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("superseded refresh token: %d %v", s, body)
	}
	// Expiry.
	clk.advance(91 * 24 * time.Hour)
	if s, _ := refresh(t3["refresh_token"]); s != 400 {
		t.Fatalf("expired refresh token: %d", s)
	}
}

func TestTokenExchange(t *testing.T) {
	sim, srv, _ := newSim(t, nil)
	exchange := func(tok string) int {
		s, _ := call(t, srv, "/admin/oauth/access_token", "", map[string]any{"client_id": key, "client_secret": secret,
			"grant_type": grantTokenExchange, "subject_token": tok, "subject_token_type": tokenTypeIDToken,
			"requested_token_type": tokenTypeOffline, "expiring": "1"})
		return s
	}
	if s := exchange(sim.SessionToken(demo, 1, time.Minute)); s != 200 {
		t.Fatalf("valid session token: %d", s)
	}
	sim.AddShop("other.myshopify.com", ShopInfo{})
	for name, tok := range map[string]string{
		"expired":      sim.SessionToken(demo, 1, -time.Minute),
		"another shop": sim.SessionToken("other.myshopify.com", 1, time.Minute),
		"garbage":      "x.y.z",
	} {
		if s := exchange(tok); s != 400 {
			t.Errorf("%s: %d, want 400", name, s)
		}
	}
}

func TestGraphQLAuthThrottlingAndDiscounts(t *testing.T) {
	sim, srv, clk := newSim(t, func(c *Config) { c.GraphQLBucket = 25; c.GraphQLRestore = 5 })
	_, tok := call(t, srv, "/admin/oauth/access_token", "", map[string]any{"client_id": key, "client_secret": secret, "code": authorize(t, srv).Get("code"), "expiring": "1"})
	access := tok["access_token"].(string)
	gql := "/admin/api/2026-07/graphql.json"
	if s, _ := call(t, srv, gql, "shpat_nope", map[string]any{"query": "{ shop { name } }"}); s != 401 {
		t.Fatalf("unknown token: %d", s)
	}
	s, out := call(t, srv, gql, access, map[string]any{"query": "{ shop { name currencyCode } }"})
	if s != 200 || out["data"].(map[string]any)["shop"].(map[string]any)["currencyCode"] != "EUR" {
		t.Fatalf("shop query: %d %v", s, out)
	}
	create := func(code string) map[string]any {
		_, out := call(t, srv, gql, access, map[string]any{"query": "mutation($d: DiscountCodeBasicInput!){ discountCodeBasicCreate(basicCodeDiscount:$d){ userErrors{field code message} } }",
			"variables": map[string]any{"d": map[string]any{"title": "Friend", "code": code, "context": map[string]any{"all": "ALL"}}}})
		return out
	}
	if out := create("FRIEND-1"); len(out["data"].(map[string]any)["discountCodeBasicCreate"].(map[string]any)["userErrors"].([]any)) != 0 {
		t.Fatalf("first create: %v", out)
	}
	out = create("friend-1") // codes are unique case-insensitively
	ue := out["data"].(map[string]any)["discountCodeBasicCreate"].(map[string]any)["userErrors"].([]any)
	if len(ue) != 1 || ue[0].(map[string]any)["code"] != "TAKEN" {
		t.Fatalf("duplicate code: %v", out)
	}
	// 1 + 10 + 10 spent of 25; the next mutation (10) is throttled.
	out = create("FRIEND-2")
	errs, _ := out["errors"].([]any)
	if len(errs) != 1 || errs[0].(map[string]any)["extensions"].(map[string]any)["code"] != "THROTTLED" {
		t.Fatalf("expected THROTTLED: %v", out)
	}
	clk.advance(2 * time.Second) // +10 points
	if out := create("FRIEND-2"); out["errors"] != nil {
		t.Fatalf("after restore: %v", out)
	}
	if d := sim.Discounts(demo); len(d) != 2 {
		t.Fatalf("discounts: %v", d)
	}
	// Access tokens expire.
	clk.advance(2 * time.Hour)
	if s, _ := call(t, srv, gql, access, map[string]any{"query": "{ shop { name } }"}); s != 401 {
		t.Fatalf("expired token: %d", s)
	}
}

func TestWebhookDeliveriesAreSignedRetriedAndDuplicated(t *testing.T) {
	var mu sync.Mutex
	var got []*http.Request
	fails := 1
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		app := goshopify.App{ApiSecret: secret}
		ok, err := app.VerifyWebhookRequestVerbose(r)
		mu.Lock()
		defer mu.Unlock()
		if !ok {
			t.Errorf("go-shopify rejects the delivery signature: %v", err)
		}
		got = append(got, r)
		if fails > 0 {
			fails--
			w.WriteHeader(500)
			return
		}
		w.WriteHeader(200)
	}))
	defer app.Close()
	sim, _, _ := newSim(t, func(c *Config) {
		c.AppURL = app.URL
		c.DuplicateRate = 1
		c.RetryBackoff = []time.Duration{10 * time.Millisecond, 10 * time.Millisecond}
		c.Now = time.Now
	})
	id, err := sim.SendWebhook(context.Background(), demo, "orders/create", []byte(`{"id":1}`))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := sim.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 3 { // a 500, the retry, the duplicate
		t.Fatalf("%d deliveries, want 3", len(got))
	}
	webhookIDs := map[string]bool{}
	for _, r := range got {
		if r.Header.Get("X-Shopify-Event-Id") != id || r.Header.Get("X-Shopify-Topic") != "orders/create" || r.Header.Get("X-Shopify-Shop-Domain") != demo {
			t.Fatalf("headers: %v", r.Header)
		}
		webhookIDs[r.Header.Get("X-Shopify-Webhook-Id")] = true
	}
	if len(webhookIDs) != 2 {
		t.Fatalf("a retry keeps its webhook id and a duplicate gets a new one: %v", webhookIDs)
	}
	if d := sim.Deliveries(demo); len(d) != 3 || d[0].Status != 500 || d[1].Status != 200 {
		t.Fatalf("delivery log: %+v", d)
	}
}

func TestControlEndpointsRefuseBadInput(t *testing.T) {
	_, srv, _ := newSim(t, nil)
	for _, tc := range []struct{ path, body string }{
		{"/_sim/shops", `{"domain":"not-a-shop"}`},
		{"/_sim/shops/" + demo + "/orders", `{`},
		{"/_sim/shops/" + demo + "/webhooks", `{"topic":""}`},
	} {
		resp, err := http.Post(srv.URL+tc.path, "application/json", strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("%s %s: %d, want 400", tc.path, tc.body, resp.StatusCode)
		}
	}
	resp, _ := http.Post(srv.URL+"/_sim/shops/nobody.myshopify.com/orders", "application/json", strings.NewReader(`{}`))
	if resp.StatusCode != 404 {
		t.Errorf("order for unknown shop: %d", resp.StatusCode)
	}
	// curl -d sends JSON with a form content type: the body decides.
	resp, _ = http.Post(srv.URL+"/_sim/shops/"+demo+"/orders", "application/x-www-form-urlencoded", strings.NewReader(`{"email":"marie@example.com","discount_codes":["FRIEND-X"]}`))
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var order struct {
		Email         string                  `json:"email"`
		Name          string                  `json:"name"`
		DiscountCodes []struct{ Code string } `json:"discount_codes"`
		Customer      struct{ ID int64 }      `json:"customer"`
	}
	if err := json.Unmarshal(b, &order); err != nil || order.Email != "marie@example.com" || order.Name != "#1001" || len(order.DiscountCodes) != 1 || order.Customer.ID == 0 {
		t.Fatalf("order placed by curl: %s", b)
	}
}
