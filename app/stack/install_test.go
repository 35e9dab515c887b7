package stack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/integrations/shopify"
	"github.com/parrain/parrain/jobs"
)

func browser(t testing.TB) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

// stopAt returns a browser that does not follow a redirect to the callback,
// so a test can tamper with it.
func stopAtCallback(c *http.Client) *http.Client {
	c.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		if strings.HasSuffix(req.URL.Path, "/auth/shopify/callback") {
			return http.ErrUseLastResponse
		}
		return nil
	}
	return c
}

func TestInstallThroughOAuth(t *testing.T) {
	h := newHarness(t, withSimulator())
	const shop = "oauth-demo.myshopify.com"
	h.sim.AddShop(shop, simShop("OAuth Demo", "EUR", "Europe/Paris"))

	resp, err := browser(t).Get(h.sim.InstallURL(shop))
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(resp)
	if resp.StatusCode != 200 || !strings.Contains(body, "Parrain is installed") || !strings.Contains(body, shop) {
		t.Fatalf("install ended with %d: %.300s", resp.StatusCode, body)
	}
	sh, err := h.stack.DB.Shops().ShopByDomain(context.Background(), app.PlatformShopify, shop)
	if err != nil || sh.Status != app.ShopInstalled {
		t.Fatalf("shop after install: %+v %v", sh, err)
	}
	creds, err := h.stack.DB.Shops().Credentials(context.Background(), sh.ID)
	if err != nil {
		t.Fatal(err)
	}
	access, refresh, _, ok := h.sim.Tokens(shop)
	if !ok || creds.AccessToken != access || creds.RefreshToken != refresh || !creds.Expiring() {
		t.Fatalf("stored credentials are not Shopify's expiring offline token: %+v", creds)
	}
	if n := h.count("SELECT count(*) FROM shops WHERE access_token LIKE '%' || $1 || '%'", access); n != 0 {
		t.Fatal("access token stored in clear")
	}

	// The post-install job records the shop and subscribes to webhooks.
	eventually(t, 15*time.Second, "shop details recorded", func() bool {
		s, _ := h.stack.DB.Shops().ShopByID(context.Background(), sh.ID)
		return s.Name == "OAuth Demo" && s.Currency == "EUR" && s.Timezone == "Europe/Paris"
	})
	// Details are recorded before the subscriptions are created.
	eventually(t, 15*time.Second, "every webhook subscription", func() bool {
		topics := h.simWebhookTopics(shop, creds.AccessToken)
		for _, want := range shopify.SubscribedTopics {
			if !topics[shopify.TopicEnum(want)] {
				return false
			}
		}
		return len(topics) == len(shopify.SubscribedTopics)
	})
	h.assertLogsLack(access, refresh, apiSecret)
}

func TestInstallRefusals(t *testing.T) {
	h := newHarness(t, withSimulator(), withoutWorker())
	const shop = "careful.myshopify.com"
	h.sim.AddShop(shop, simShop("Careful", "USD", "America/New_York"))

	signed := func(mut func(url.Values)) string {
		q := url.Values{"shop": {shop}, "timestamp": {strconv.FormatInt(time.Now().Unix(), 10)}, "host": {"Y2FyZWZ1bA"}}
		mut(q)
		q.Set("hmac", shopify.SignQuery(q, apiSecret))
		return h.app.URL + "/auth/shopify/install?" + q.Encode()
	}
	for _, tc := range []struct {
		name   string
		url    string
		status int
		msg    string
	}{
		{"bad hmac", strings.Replace(signed(func(url.Values) {}), "host=Y2FyZWZ1bA", "host=ZXZpbA", 1), 401, "hmac does not match"},
		{"no hmac", h.app.URL + "/auth/shopify/install?shop=" + shop + "&timestamp=" + strconv.FormatInt(time.Now().Unix(), 10), 401, "hmac"},
		{"stale timestamp", signed(func(q url.Values) { q.Set("timestamp", strconv.FormatInt(time.Now().Add(-5*time.Minute).Unix(), 10)) }), 401, "timestamp"},
		{"bad shop hostname", signed(func(q url.Values) { q.Set("shop", "careful.evil.com") }), 400, "invalid shop"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := stopAtCallback(browser(t)).Get(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			if body := readAll(resp); resp.StatusCode != tc.status || !strings.Contains(body, tc.msg) {
				t.Fatalf("got %d %s, want %d %q", resp.StatusCode, body, tc.status, tc.msg)
			}
		})
	}

	// Walk the real flow up to the callback, then tamper with it.
	callback := func(c *http.Client) *url.URL {
		t.Helper()
		resp, err := c.Get(h.sim.InstallURL(shop))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, err := resp.Location()
		if err != nil || resp.StatusCode != http.StatusFound {
			t.Fatalf("expected a redirect to the callback, got %d", resp.StatusCode)
		}
		return loc
	}
	resign := func(u *url.URL, mut func(url.Values)) string {
		q := u.Query()
		mut(q)
		q.Set("hmac", shopify.SignQuery(q, apiSecret))
		u2 := *u
		u2.RawQuery = q.Encode()
		return u2.String()
	}
	for _, tc := range []struct {
		name   string
		url    func(c *http.Client) string
		client func() *http.Client
		msg    string
	}{
		{"wrong state", func(c *http.Client) string {
			return resign(callback(c), func(q url.Values) { q.Set("state", "0123456789abcdef0123456789abcdef") })
		}, nil, "state does not match"},
		{"no state cookie (another browser)", func(c *http.Client) string { return callback(c).String() },
			func() *http.Client { return browser(t) }, "OAuth state"},
		{"callback for another shop", func(c *http.Client) string {
			return resign(callback(c), func(q url.Values) { q.Set("shop", "other.myshopify.com") })
		}, nil, "another shop"},
		{"tampered callback", func(c *http.Client) string {
			u := callback(c)
			q := u.Query()
			q.Set("code", "forged")
			u.RawQuery = q.Encode()
			return u.String()
		}, nil, "hmac does not match"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := stopAtCallback(browser(t))
			target := tc.url(c)
			if tc.client != nil {
				c = tc.client()
			}
			resp, err := c.Get(target)
			if err != nil {
				t.Fatal(err)
			}
			if body := readAll(resp); resp.StatusCode != 401 || !strings.Contains(body, tc.msg) {
				t.Fatalf("got %d %s, want 401 %q", resp.StatusCode, body, tc.msg)
			}
		})
	}
	if n := h.count("SELECT count(*) FROM shops"); n != 0 {
		t.Fatalf("%d shops stored by refused installs", n)
	}
}

// The OAuth state is single use on the server: a callback replayed with its
// state cookie is refused even while the cookie is valid (before, only the
// browser's cookie was cleared, and the replay reached the token exchange).
func TestOAuthStateIsSingleUse(t *testing.T) {
	h := newHarness(t, withSimulator(), withoutWorker())
	const shop = "once.myshopify.com"
	h.sim.AddShop(shop, simShop("Once", "USD", "America/New_York"))
	c := stopAtCallback(browser(t))
	resp, err := c.Get(h.sim.InstallURL(shop))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cb, err := resp.Location()
	if err != nil {
		t.Fatal(err)
	}
	appURL, _ := url.Parse(h.app.URL + "/auth/shopify/callback")
	var stateCookie *http.Cookie
	for _, ck := range c.Jar.Cookies(appURL) {
		if ck.Name == "parrain_shopify_state" {
			stateCookie = ck
		}
	}
	if stateCookie == nil {
		t.Fatal("no state cookie after the install redirect")
	}
	if resp, err = c.Get(cb.String()); err != nil || resp.StatusCode != 200 {
		t.Fatalf("first callback: %v %d", err, resp.StatusCode)
	}
	resp.Body.Close()
	replay, _ := http.NewRequest(http.MethodGet, cb.String(), nil)
	replay.AddCookie(stateCookie)
	resp, err = http.DefaultClient.Do(replay)
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(resp); resp.StatusCode != 401 || !strings.Contains(body, "already used") {
		t.Fatalf("replayed callback: %d %s, want 401 state already used", resp.StatusCode, body)
	}
}

// The install endpoints are rate-limited per address (issue 10 §6k).
func TestInstallEndpointsAreRateLimited(t *testing.T) {
	h := newHarness(t, withoutWorker())
	h.startOfMinute()
	for _, path := range []string{"/auth/shopify/install", "/auth/shopify/callback"} {
		var last int
		for range 21 {
			resp, err := stopAtCallback(browser(t)).Get(h.app.URL + path + "?shop=probe.myshopify.com&hmac=00&timestamp=1")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			last = resp.StatusCode
		}
		if last != 429 {
			t.Fatalf("21st %s from one address in a minute: %d, want 429", path, last)
		}
		h.startOfMinute()
	}
	var last int
	for range 21 {
		resp, err := http.Post(h.app.URL+"/auth/woocommerce/callback", "application/json", strings.NewReader(`{"user_id":"guess"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		last = resp.StatusCode
	}
	if last != 429 {
		t.Fatalf("21st WooCommerce callback from one address in a minute: %d, want 429", last)
	}
}

func TestTokenRefreshAndRotation(t *testing.T) {
	h := newHarness(t, withSimulator(), withoutWorker())
	const shop = "rotate.myshopify.com"
	h.sim.AddShop(shop, simShop("Rotate", "USD", "UTC"))
	h.install(shop)
	ctx := context.Background()
	sh, _ := h.stack.DB.Shops().ShopByDomain(ctx, app.PlatformShopify, shop)
	first, _ := h.stack.DB.Shops().Credentials(ctx, sh.ID)

	// Fresh token: no refresh.
	tok, err := h.stack.Tokens.AccessToken(ctx, sh.ID, shop)
	if err != nil || tok != first.AccessToken {
		t.Fatalf("fresh token: %q %v", tok, err)
	}

	// 55 minutes later the token is within the 10-minute margin: several
	// concurrent callers get one refreshed token, and one refresh happened.
	h.advance(55 * time.Minute)
	var wg sync.WaitGroup
	got := make([]string, 6)
	for i := range got {
		wg.Add(1)
		go func() { defer wg.Done(); got[i], _ = h.stack.Tokens.AccessToken(ctx, sh.ID, shop) }()
	}
	wg.Wait()
	second, _ := h.stack.DB.Shops().Credentials(ctx, sh.ID)
	for _, g := range got {
		if g != second.AccessToken {
			t.Fatalf("callers got different tokens: %v", got)
		}
	}
	if second.AccessToken == first.AccessToken || second.RefreshToken == first.RefreshToken {
		t.Fatal("refresh did not rotate both tokens")
	}
	access, refresh, _, _ := h.sim.Tokens(shop)
	if second.AccessToken != access || second.RefreshToken != refresh {
		t.Fatal("stored pair differs from Shopify's current pair")
	}

	// Rotation: once the new refresh token is used, the first one is dead.
	if _, err := h.stack.Tokens.Refresh(ctx, sh.ID, shop, true); err != nil {
		t.Fatal(err)
	}
	if _, err := h.stack.Tokens.Client.Refresh(ctx, shop, first.RefreshToken); app.ErrorCode(err) != app.EUNAUTHORIZED {
		t.Fatalf("superseded refresh token: %v, want refused", err)
	}
	// The scheduled job refreshes tokens close to expiry.
	third, _ := h.stack.DB.Shops().Credentials(ctx, sh.ID)
	h.advance(58 * time.Minute)
	if err := h.runRefreshJob(); err != nil {
		t.Fatal(err)
	}
	fourth, _ := h.stack.DB.Shops().Credentials(ctx, sh.ID)
	if fourth.RefreshToken == third.RefreshToken {
		t.Fatal("scheduled refresh did nothing")
	}
}

func TestManagedInstallByTokenExchange(t *testing.T) {
	h := newHarness(t, withSimulator())
	const shop = "managed.myshopify.com"
	h.sim.AddShop(shop, simShop("Managed", "CAD", "America/Toronto"))
	call := func(token string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, h.app.URL+"/api/shopify/session", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, readAll(resp)
	}
	forged := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"dest": "https://" + shop, "aud": apiKey, "exp": time.Now().Add(time.Minute).Unix()})
	forgedTok, _ := forged.SignedString([]byte("not-the-secret"))
	wrongAud := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"dest": "https://" + shop, "aud": "another-app", "exp": time.Now().Add(time.Minute).Unix()})
	wrongAudTok, _ := wrongAud.SignedString([]byte(apiSecret))
	for name, tok := range map[string]string{
		"none": "", "forged": forgedTok, "wrong audience": wrongAudTok,
		"expired": h.sim.SessionToken(shop, 1, -time.Minute),
	} {
		if status, body := call(tok); status != 401 {
			t.Fatalf("%s session token: %d %s, want 401", name, status, body)
		}
	}
	if n := h.count("SELECT count(*) FROM shops"); n != 0 {
		t.Fatal("a refused session token installed a shop")
	}

	status, body := call(h.sim.SessionToken(shop, 42, time.Minute))
	if status != 200 || !strings.Contains(body, shop) {
		t.Fatalf("valid session token: %d %s", status, body)
	}
	sh, err := h.stack.DB.Shops().ShopByDomain(context.Background(), app.PlatformShopify, shop)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := h.stack.DB.Shops().Credentials(context.Background(), sh.ID)
	access, _, _, _ := h.sim.Tokens(shop)
	if err != nil || creds.AccessToken != access || !creds.Expiring() {
		t.Fatalf("token exchange credentials: %+v %v", creds, err)
	}
	// Seen again: no second exchange.
	call(h.sim.SessionToken(shop, 42, time.Minute))
	again, _ := h.stack.DB.Shops().Credentials(context.Background(), sh.ID)
	if again.AccessToken != creds.AccessToken {
		t.Fatal("a known shop was exchanged again")
	}
	eventually(t, 15*time.Second, "shop details recorded", func() bool {
		s, _ := h.stack.DB.Shops().ShopByID(context.Background(), sh.ID)
		return s.Currency == "CAD"
	})
}

// The simulator's own deliveries (its signature, headers, duplicates) are
// accepted, stored once and processed.
func TestSimulatorDeliveriesAreStoredOnce(t *testing.T) {
	h := newHarness(t, withSimulator(), withDuplicateRate(1))
	const shop = "deliveries.myshopify.com"
	h.installAndSync(shop, "USD")
	if _, err := h.sim.CreateOrder(shop, simOrder("marie@example.com")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h.sim.WaitIdle(ctx)
	eventually(t, 10*time.Second, "orders/create and orders/paid processed", func() bool {
		return h.count("SELECT count(*) FROM webhook_events WHERE topic IN ('orders/create','orders/paid') AND processed_at IS NOT NULL") == 2
	})
	attempts := 0
	for _, d := range h.sim.Deliveries(shop) {
		if strings.HasPrefix(d.Topic, "orders/") && d.Status == 200 {
			attempts++
		}
	}
	if attempts < 4 {
		t.Fatalf("the simulator delivered %d times; with duplicates on, want ≥4", attempts)
	}
	if n := h.count("SELECT count(*) FROM webhook_events WHERE topic LIKE 'orders/%'"); n != 2 {
		t.Fatalf("%d rows for 2 events delivered twice each", n)
	}
	access, refresh, _, _ := h.sim.Tokens(shop)
	h.assertLogsLack("marie@example.com", access, refresh)
}

// simWebhookTopics asks the simulator's Admin API which subscriptions exist.
func (h *harness) simWebhookTopics(shop, token string) map[string]bool {
	h.t.Helper()
	q, _ := json.Marshal(map[string]any{"query": `{ webhookSubscriptions(first: 100) { nodes { id topic uri endpoint { __typename ... on WebhookHttpEndpoint { callbackUrl } } } } }`})
	req, _ := http.NewRequest(http.MethodPost, h.simSrv.URL+"/admin/api/2026-07/graphql.json", bytes.NewReader(q))
	req.Host = shop
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Shopify-Access-Token", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Data struct {
			WebhookSubscriptions struct {
				Nodes []struct{ Topic string } `json:"nodes"`
			} `json:"webhookSubscriptions"`
		} `json:"data"`
	}
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &out); err != nil {
		h.t.Fatalf("simulator answered %s", b)
	}
	topics := map[string]bool{}
	for _, n := range out.Data.WebhookSubscriptions.Nodes {
		topics[n.Topic] = true
	}
	return topics
}

// install runs the OAuth flow for shop and fails the test if it does not
// end installed.
func (h *harness) install(shop string) {
	h.t.Helper()
	resp, err := browser(h.t).Get(h.sim.InstallURL(shop))
	if err != nil {
		h.t.Fatal(err)
	}
	if body := readAll(resp); resp.StatusCode != 200 || !strings.Contains(body, "Parrain is installed") {
		h.t.Fatalf("install %s: %d %.200s", shop, resp.StatusCode, body)
	}
}

// An install that lands while Redis is down still succeeds; its sync job,
// never queued, is queued again by the periodic resync.
func TestInstallWithRedisDownIsSyncedLater(t *testing.T) {
	h := newHarness(t, withSimulator())
	const shop = "late-sync.myshopify.com"
	h.sim.AddShop(shop, simShop("Late Sync", "GBP", "Europe/London"))
	h.redis.Cut()
	h.install(shop)
	h.redis.Restore()
	time.Sleep(300 * time.Millisecond)
	sh, _ := h.stack.DB.Shops().ShopByDomain(context.Background(), app.PlatformShopify, shop)
	if sh.Name != "" {
		t.Fatal("synced although the job could not be queued?")
	}
	if err := h.stack.Mux().ProcessTask(context.Background(), jobs.NewResyncShopsTask()); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "the late sync", func() bool {
		s, _ := h.stack.DB.Shops().ShopByID(context.Background(), sh.ID)
		return s.Name == "Late Sync" && s.Currency == "GBP"
	})
}
