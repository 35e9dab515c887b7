package shopifysim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	goshopify "github.com/bold-commerce/go-shopify/v3"
	"github.com/golang-jwt/jwt/v5"
)

// The docs' test vector for the OAuth query signature (shopify.md §1.1).
func TestSignQueryMatchesShopifyDocsVector(t *testing.T) {
	q, err := url.ParseQuery("code=0907a61c0c8d55e99db179b68161bc00&shop=some-shop.myshopify.com&state=0.6784241404160823&timestamp=1337178173")
	if err != nil {
		t.Fatal(err)
	}
	const want = "700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf"
	if got := SignQuery(q, "hush"); got != want {
		t.Fatalf("SignQuery = %s, want %s", got, want)
	}
	// hmac and signature are not part of the message.
	q.Set("hmac", "ignored")
	q.Set("signature", "ignored")
	if got := SignQuery(q, "hush"); got != want {
		t.Fatalf("SignQuery with hmac present = %s", got)
	}
	// go-shopify agrees on the same vector: an independent implementation.
	u, _ := url.Parse("https://app.example/cb?" + q.Encode())
	u.RawQuery = strings.Replace(u.RawQuery, "hmac=ignored", "hmac="+want, 1)
	if ok, err := (goshopify.App{ApiSecret: "hush"}).VerifyAuthorizationURL(u); !ok || err != nil {
		t.Fatalf("go-shopify rejects the docs vector: %v", err)
	}
}

func TestCodeGrantRoundTrip(t *testing.T) {
	f := newSim(t, nil)
	cb := f.authorize(t, url.Values{"redirect_uri": {"https://app.example/auth/callback?keep=1"}})
	q := cb.Query()
	// go-shopify checks the callback signature independently of ours.
	if ok, err := (goshopify.App{ApiKey: key, ApiSecret: secret}).VerifyAuthorizationURL(cb); !ok || err != nil {
		t.Fatalf("go-shopify rejects the callback signature: %v (%s)", err, cb)
	}
	if cb.Host != "app.example" || cb.Path != "/auth/callback" || q.Get("keep") != "1" {
		t.Fatalf("callback lost the redirect_uri: %s", cb)
	}
	for k, want := range map[string]string{
		"shop": demo, "state": "n0nce-1", "host": "ZGVtby5teXNob3BpZnkuY29tL2FkbWlu", // base64url("demo.myshopify.com/admin")
		"timestamp": "1795348800",
	} {
		if got := q.Get(k); got != want {
			t.Errorf("callback %s = %q, want %q", k, got, want)
		}
	}
	if len(q.Get("code")) != 32 {
		t.Fatalf("code %q", q.Get("code"))
	}

	exchange := func(body map[string]any) (int, map[string]any) {
		return f.postJSON(t, "/admin/oauth/access_token", "", body)
	}
	status, tok := exchange(map[string]any{"client_id": key, "client_secret": secret, "code": q.Get("code"), "expiring": 1})
	if status != http.StatusOK || tok["expires_in"] != float64(3600) || tok["refresh_token_expires_in"] != float64(90*24*3600) ||
		tok["scope"] != "read_orders,write_discounts" {
		t.Fatalf("expiring code grant: %d %v", status, tok)
	}
	access, _ := tok["access_token"].(string)
	refresh, _ := tok["refresh_token"].(string)
	if !strings.HasPrefix(access, "shpat_") || !strings.HasPrefix(refresh, "shprt_") {
		t.Fatalf("token formats: %q %q", access, refresh)
	}
	a, r, exp, ok := f.sim.Tokens(demo)
	if !ok || a != access || r != refresh || !exp.Equal(f.clk.now().Add(time.Hour)) {
		t.Fatalf("Tokens() = %q %q %v %v", a, r, exp, ok)
	}

	// A code is single use.
	if status, body := exchange(map[string]any{"client_id": key, "client_secret": secret, "code": q.Get("code")}); status != http.StatusBadRequest ||
		body["error"] != "invalid_request" || !strings.Contains(body["error_description"].(string), "already used") {
		t.Fatalf("reused code: %d %v", status, body)
	}

	// Without expiring: a non-expiring offline token, no refresh token.
	status, tok = exchange(map[string]any{"client_id": key, "client_secret": secret, "code": f.authorize(t, nil).Query().Get("code")})
	if status != http.StatusOK || tok["refresh_token"] != nil || tok["expires_in"] != nil {
		t.Fatalf("non-expiring grant: %d %v", status, tok)
	}
	if _, r, exp, _ := f.sim.Tokens(demo); r != "" || !exp.IsZero() {
		t.Fatalf("Tokens() after a non-expiring grant: %q %v", r, exp)
	}
}

func TestCodeGrantRefusals(t *testing.T) {
	f := newSim(t, nil)
	f.sim.AddShop("other.myshopify.com", ShopInfo{})
	for _, tc := range []struct {
		name        string
		host        string
		body        func() map[string]any
		before      func()
		status      int
		errorString string
	}{
		{name: "wrong client secret", status: 401, errorString: "invalid_client",
			body: func() map[string]any {
				return map[string]any{"client_id": key, "client_secret": "nope", "code": f.authorize(t, nil).Query().Get("code")}
			}},
		{name: "unknown client id", status: 400, errorString: "invalid_request",
			body: func() map[string]any {
				return map[string]any{"client_id": "nope", "client_secret": secret, "code": f.authorize(t, nil).Query().Get("code")}
			}},
		{name: "unknown code", status: 400, errorString: "invalid_request",
			body: func() map[string]any {
				return map[string]any{"client_id": key, "client_secret": secret, "code": "deadbeef"}
			}},
		{name: "code of another shop", host: "other.myshopify.com", status: 400, errorString: "invalid_request",
			body: func() map[string]any {
				return map[string]any{"client_id": key, "client_secret": secret, "code": f.authorize(t, nil).Query().Get("code")}
			}},
		{name: "code older than a minute", status: 400, errorString: "invalid_request",
			body: func() map[string]any {
				code := f.authorize(t, nil).Query().Get("code")
				f.clk.advance(61 * time.Second)
				return map[string]any{"client_id": key, "client_secret": secret, "code": code}
			}},
		{name: "unknown grant type", status: 400, errorString: "unsupported_grant_type",
			body: func() map[string]any {
				return map[string]any{"client_id": key, "client_secret": secret, "grant_type": "password"}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			host := tc.host
			if host == "" {
				host = demo
			}
			body := tc.body()
			b, _ := json.Marshal(body)
			status, _, raw := f.do(t, http.MethodPost, "/admin/oauth/access_token", host, http.Header{"Content-Type": {"application/json"}}, b)
			if status != tc.status || !strings.Contains(string(raw), `"error":"`+tc.errorString+`"`) {
				t.Fatalf("%d %s, want %d %s", status, raw, tc.status, tc.errorString)
			}
		})
	}
	t.Run("malformed JSON", func(t *testing.T) {
		status, _, raw := f.do(t, http.MethodPost, "/admin/oauth/access_token", demo, http.Header{"Content-Type": {"application/json"}}, []byte(`{"client_id":`))
		if status != 400 || !strings.Contains(string(raw), "invalid_request") {
			t.Fatalf("%d %s", status, raw)
		}
	})
	t.Run("unknown shop", func(t *testing.T) {
		status, _, _ := f.do(t, http.MethodPost, "/admin/oauth/access_token", "nowhere.myshopify.com", nil, []byte(`{}`))
		if status != 404 {
			t.Fatalf("%d", status)
		}
	})
	t.Run("form body is accepted", func(t *testing.T) {
		form := url.Values{"client_id": {key}, "client_secret": {secret}, "code": {f.authorize(t, nil).Query().Get("code")}}
		status, _, raw := f.do(t, http.MethodPost, "/admin/oauth/access_token", demo,
			http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, []byte(form.Encode()))
		if status != 200 || !strings.Contains(string(raw), `"access_token":"shpat_`) {
			t.Fatalf("%d %s", status, raw)
		}
	})
}

func TestAuthorizeConsentPageAndErrors(t *testing.T) {
	f := newSim(t, func(c *Config) {
		c.AutoApprove = false
		c.RedirectURLs = []string{"https://app.example/auth/callback"}
	})
	good := url.Values{"client_id": {key}, "scope": {"read_orders,write_discounts"}, "redirect_uri": {"https://app.example/auth/callback"},
		"state": {"s1"}, "shop": {demo}}
	for _, tc := range []struct {
		name   string
		mut    func(url.Values)
		status int
		want   string
	}{
		{"consent page", func(url.Values) {}, 200, `<form method="post" action="/admin/oauth/authorize">`},
		{"unknown client id", func(q url.Values) { q.Set("client_id", "x") }, 400, "Could not find Shopify API application"},
		{"redirect not allowed", func(q url.Values) { q.Set("redirect_uri", "https://evil.example/cb") }, 400, "not whitelisted"},
		{"no redirect", func(q url.Values) { q.Del("redirect_uri") }, 400, "redirect_uri"},
		{"unknown shop", func(q url.Values) { q.Set("shop", "nowhere.myshopify.com") }, 404, "unknown shop"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := url.Values{}
			for k, v := range good {
				q[k] = append([]string(nil), v...)
			}
			tc.mut(q)
			// A browser: no shop Host header, the shop as a parameter.
			status, _, body := f.do(t, http.MethodGet, "/admin/oauth/authorize?"+q.Encode(), "", nil, nil)
			if status != tc.status || !strings.Contains(string(body), tc.want) {
				t.Fatalf("%d, want %d containing %q:\n%s", status, tc.status, tc.want, body)
			}
		})
	}
	// The page lists the scopes and its form carries the parameters back.
	_, _, page := f.do(t, http.MethodGet, "/admin/oauth/authorize?"+good.Encode(), "", nil, nil)
	for _, want := range []string{"Install Parrain on demo.myshopify.com?", "<code>write_discounts</code>", `name="state" value="s1"`, `name="shop" value="demo.myshopify.com"`} {
		if !strings.Contains(string(page), want) {
			t.Errorf("consent page lacks %q", want)
		}
	}
	// Clicking Install: a form POST, then the signed redirect.
	status, h, body := f.do(t, http.MethodPost, "/admin/oauth/authorize", "", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, []byte(good.Encode()))
	if status != http.StatusFound {
		t.Fatalf("approve: %d %s", status, body)
	}
	cb, _ := url.Parse(h.Get("Location"))
	if ok, _ := (goshopify.App{ApiSecret: secret}).VerifyAuthorizationURL(cb); !ok || cb.Query().Get("state") != "s1" {
		t.Fatalf("approve redirect %s", cb)
	}
	// A forged approval (wrong client id in the form) is refused.
	bad := url.Values{"client_id": {"x"}, "redirect_uri": {"https://app.example/auth/callback"}, "shop": {demo}}
	if status, _, _ := f.do(t, http.MethodPost, "/admin/oauth/authorize", "", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, []byte(bad.Encode())); status != 400 {
		t.Fatalf("forged approve: %d", status)
	}
}

func TestOnlineTokenThroughGrantOptions(t *testing.T) {
	f := newSim(t, nil)
	code := f.authorize(t, url.Values{"grant_options[]": {"per-user"}}).Query().Get("code")
	status, tok := f.postJSON(t, "/admin/oauth/access_token", "", map[string]any{"client_id": key, "client_secret": secret, "code": code})
	if status != 200 || !strings.HasPrefix(tok["access_token"].(string), "shpua_") || tok["associated_user"] == nil || tok["expires_in"] != float64(86400) {
		t.Fatalf("online grant: %d %v", status, tok)
	}
	if _, _, _, ok := f.sim.Tokens(demo); ok {
		t.Fatal("an online token must not become the shop's offline token")
	}
}

func TestRefreshRotation(t *testing.T) {
	f := newSim(t, nil)
	tok := f.tokenFor(t, true)
	refresh := func(rt any) (int, map[string]any) {
		return f.postJSON(t, "/admin/oauth/access_token", "", map[string]any{"client_id": key, "client_secret": secret, "grant_type": "refresh_token", "refresh_token": rt})
	}
	r1 := tok["refresh_token"]
	s, t2 := refresh(r1)
	if s != 200 || t2["refresh_token"] == r1 || t2["access_token"] == tok["access_token"] || t2["scope"] != tok["scope"] {
		t.Fatalf("first refresh: %d %v", s, t2)
	}
	// The first access token still works until it expires.
	if out := f.gql(t, tok["access_token"].(string), "{ shop { name } }", nil); dig(out, "data", "shop", "name") != "Demo" {
		t.Fatalf("old access token refused after a refresh: %v", out)
	}
	// r1 stays valid until r2 is used: a client that lost r2 can retry.
	s, t2b := refresh(r1)
	if s != 200 {
		t.Fatalf("previous refresh token refused before its successor was used: %d %v", s, t2b)
	}
	s, t3 := refresh(t2["refresh_token"])
	if s != 200 {
		t.Fatalf("second refresh: %d %v", s, t3)
	}
	// ...and is dead once it has been.
	if s, body := refresh(r1); s != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("superseded refresh token: %d %v", s, body)
	}
	if s, body := refresh("shprt_unknown"); s != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("unknown refresh token: %d %v", s, body)
	}
	// Access tokens expire after an hour; refresh tokens after 90 days.
	f.clk.advance(time.Hour)
	if status, _ := f.postJSON(t, gqlPath, t3["access_token"].(string), map[string]any{"query": "{ shop { name } }"}); status != 401 {
		t.Fatalf("expired access token: %d", status)
	}
	f.clk.advance(90 * 24 * time.Hour)
	if s, body := refresh(t3["refresh_token"]); s != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("expired refresh token: %d %v", s, body)
	}
	// Uninstalling revokes everything.
	f2 := newSim(t, nil)
	tok = f2.tokenFor(t, true)
	f2.sim.RevokeTokens(demo)
	if s, _ := f2.postJSON(t, "/admin/oauth/access_token", "", map[string]any{"client_id": key, "client_secret": secret, "grant_type": "refresh_token", "refresh_token": tok["refresh_token"]}); s != 400 {
		t.Fatalf("revoked refresh token: %d", s)
	}
}

func TestTokenExchange(t *testing.T) {
	f := newSim(t, nil)
	f.sim.AddShop("other.myshopify.com", ShopInfo{})
	sign := func(claims jwt.MapClaims, key []byte, method jwt.SigningMethod) string {
		s, err := jwt.NewWithClaims(method, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	now := f.clk.now()
	claims := func(mut func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"iss": "https://" + demo + "/admin", "dest": "https://" + demo, "aud": key, "sub": "42",
			"exp": now.Add(time.Minute).Unix(), "nbf": now.Unix(), "iat": now.Unix(), "jti": "j", "sid": "s"}
		mut(c)
		return c
	}
	for _, tc := range []struct {
		name      string
		token     string
		requested string
		status    int
	}{
		{"valid offline", f.sim.SessionToken(demo, 42, time.Minute), tokenTypeOffline, 200},
		{"valid online", f.sim.SessionToken(demo, 42, time.Minute), tokenTypeOnline, 200},
		{"expired within the 10 s leeway", f.sim.SessionToken(demo, 42, -5*time.Second), tokenTypeOffline, 200},
		{"expired", f.sim.SessionToken(demo, 42, -time.Minute), tokenTypeOffline, 400},
		{"another shop's token", f.sim.SessionToken("other.myshopify.com", 42, time.Minute), tokenTypeOffline, 400},
		{"another app's token", sign(claims(func(c jwt.MapClaims) { c["aud"] = "other-app" }), []byte(secret), jwt.SigningMethodHS256), tokenTypeOffline, 400},
		{"wrong signing key", sign(claims(func(jwt.MapClaims) {}), []byte("not-the-secret"), jwt.SigningMethodHS256), tokenTypeOffline, 400},
		{"HS512 is not accepted", sign(claims(func(jwt.MapClaims) {}), []byte(secret), jwt.SigningMethodHS512), tokenTypeOffline, 400},
		{"iss and dest disagree", sign(claims(func(c jwt.MapClaims) { c["iss"] = "https://other.myshopify.com/admin" }), []byte(secret), jwt.SigningMethodHS256), tokenTypeOffline, 400},
		{"not yet valid", sign(claims(func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Minute).Unix() }), []byte(secret), jwt.SigningMethodHS256), tokenTypeOffline, 400},
		{"garbage", "x.y.z", tokenTypeOffline, 400},
		{"empty", "", tokenTypeOffline, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := f.postJSON(t, "/admin/oauth/access_token", "", map[string]any{"client_id": key, "client_secret": secret,
				"grant_type": grantTokenExchange, "subject_token": tc.token, "subject_token_type": tokenTypeIDToken,
				"requested_token_type": tc.requested, "expiring": "1"})
			if status != tc.status {
				t.Fatalf("%d %v, want %d", status, body, tc.status)
			}
			if status == 400 && tc.token != "" && body["error"] != "invalid_subject_token" {
				t.Fatalf("error %v, want invalid_subject_token", body["error"])
			}
			if status == 200 && tc.requested == tokenTypeOffline && (body["refresh_token"] == nil || body["scope"] != DefaultScopes) {
				t.Fatalf("expiring offline token expected: %v", body)
			}
			if status == 200 && tc.requested == tokenTypeOnline && dig(body, "associated_user", "id") != float64(42) {
				t.Fatalf("online token for user 42 expected: %v", body)
			}
		})
	}
}

// A non-expiring offline token can be traded once for an expiring one
// (shopify.md §1.1); the old token stops working.
func TestMigrateToExpiringToken(t *testing.T) {
	f := newSim(t, nil)
	old := f.access(t)
	migrate := func(subject string) (int, map[string]any) {
		return f.postJSON(t, "/admin/oauth/access_token", "", map[string]any{"client_id": key, "client_secret": secret,
			"grant_type": grantTokenExchange, "subject_token": subject, "subject_token_type": tokenTypeOffline,
			"requested_token_type": tokenTypeOffline, "expiring": "1"})
	}
	status, tok := migrate(old)
	if status != 200 || tok["refresh_token"] == nil || tok["scope"] != "read_orders,write_discounts" {
		t.Fatalf("migration: %d %v", status, tok)
	}
	if s, _ := f.postJSON(t, gqlPath, old, map[string]any{"query": "{ shop { id } }"}); s != 401 {
		t.Fatalf("the migrated token still works: %d", s)
	}
	if status, _ := migrate(old); status != 400 {
		t.Fatalf("second migration of the same token: %d", status)
	}
	if status, _ := migrate(tok["access_token"].(string)); status != 400 {
		t.Fatalf("migrating an expiring token: %d", status)
	}
}

func TestSessionTokenClaims(t *testing.T) {
	f := newSim(t, nil)
	tok := f.sim.SessionToken(demo, 7, time.Minute)
	claims := jwt.MapClaims{}
	parsed, err := jwt.ParseWithClaims(tok, claims, func(*jwt.Token) (any, error) { return []byte(secret), nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(f.clk.now))
	if err != nil || !parsed.Valid {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"iss": "https://demo.myshopify.com/admin", "dest": "https://demo.myshopify.com", "aud": key, "sub": "7",
		"exp": float64(f.clk.now().Add(time.Minute).Unix()), "iat": float64(f.clk.now().Unix())} {
		if claims[k] != want {
			t.Errorf("%s = %v, want %v", k, claims[k], want)
		}
	}
	if jti, _ := claims["jti"].(string); len(jti) != 36 {
		t.Errorf("jti %q is not a UUID", jti)
	}
	if sid, _ := claims["sid"].(string); sid == "" {
		t.Error("no sid")
	}
}

func TestInstallURLIsSignedLikeTheAdmin(t *testing.T) {
	f := newSim(t, nil)
	u, err := url.Parse(f.sim.InstallURL(demo))
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := (goshopify.App{ApiSecret: secret}).VerifyAuthorizationURL(u); !ok || err != nil {
		t.Fatalf("go-shopify rejects the install link: %v (%s)", err, u)
	}
	if u.Path != "/auth/shopify/install" || u.Query().Get("shop") != demo || u.Query().Get("timestamp") != "1795348800" {
		t.Fatalf("install link %s", u)
	}
	if ok, _ := (goshopify.App{ApiSecret: "other"}).VerifyAuthorizationURL(u); ok {
		t.Fatal("the install link verifies with any secret")
	}
}
