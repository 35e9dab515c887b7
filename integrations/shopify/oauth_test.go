package shopify

import (
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parrain/parrain/app"
)

// Shopify's documented test vector (secret "hush"), shopify.md §1.1.
func TestQueryHMACMatchesDocumentedVector(t *testing.T) {
	q, _ := url.ParseQuery("code=0907a61c0c8d55e99db179b68161bc00&shop=some-shop.myshopify.com&state=0.6784241404160823&timestamp=1337178173&hmac=700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf")
	if got := SignQuery(q, "hush"); got != q.Get("hmac") {
		t.Fatalf("SignQuery = %s", got)
	}
	shop, err := VerifyQuery(q, "hush", time.Unix(1337178173, 0).Add(30*time.Second))
	if err != nil || shop != "some-shop.myshopify.com" {
		t.Fatalf("VerifyQuery = %q, %v", shop, err)
	}
}

func TestVerifyQueryRefusals(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	signed := func(mut func(url.Values)) url.Values {
		q := url.Values{"shop": {"demo.myshopify.com"}, "timestamp": {strconv.FormatInt(now.Unix(), 10)}, "host": {"abc"}}
		mut(q)
		q.Set("hmac", SignQuery(q, "secret"))
		return q
	}
	cases := []struct {
		name string
		q    url.Values
		code string
	}{
		{"ok", signed(func(url.Values) {}), ""},
		{"bad hmac", func() url.Values { q := signed(func(url.Values) {}); q.Set("hmac", SignQuery(q, "other")); return q }(), app.EUNAUTHORIZED},
		{"missing hmac", func() url.Values { q := signed(func(url.Values) {}); q.Del("hmac"); return q }(), app.EUNAUTHORIZED},
		{"tampered param", func() url.Values { q := signed(func(url.Values) {}); q.Set("host", "evil"); return q }(), app.EUNAUTHORIZED},
		{"stale timestamp", signed(func(q url.Values) { q.Set("timestamp", strconv.FormatInt(now.Add(-91*time.Second).Unix(), 10)) }), app.EUNAUTHORIZED},
		{"future timestamp", signed(func(q url.Values) { q.Set("timestamp", strconv.FormatInt(now.Add(2*time.Minute).Unix(), 10)) }), app.EUNAUTHORIZED},
		{"no timestamp", signed(func(q url.Values) { q.Del("timestamp") }), app.EUNAUTHORIZED},
		{"bad shop", signed(func(q url.Values) { q.Set("shop", "evil.com") }), app.EINVALID},
		{"shop with path", signed(func(q url.Values) { q.Set("shop", "demo.myshopify.com/../evil") }), app.EINVALID},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := VerifyQuery(tc.q, "secret", now)
			if app.ErrorCode(err) != tc.code {
				t.Fatalf("code = %q (%v), want %q", app.ErrorCode(err), err, tc.code)
			}
		})
	}
}

func TestNormalizeShop(t *testing.T) {
	for in, want := range map[string]string{
		"Demo.MyShopify.com":          "demo.myshopify.com",
		" a-1.myshopify.com ":         "a-1.myshopify.com",
		"-bad.myshopify.com":          "",
		"demo.myshopify.com.evil.com": "",
		"https://demo.myshopify.com":  "",
		"demo.shopify.com":            "",
		"de mo.myshopify.com":         "",
		"":                            "",
	} {
		got, err := NormalizeShop(in)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("NormalizeShop(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestAuthorizeURLHonoursOrigin(t *testing.T) {
	prod := AuthorizeURL(Origin{}, "demo.myshopify.com", "key", "read_orders", "https://app/cb", "n1")
	u, _ := url.Parse(prod)
	if u.Host != "demo.myshopify.com" || u.Path != "/admin/oauth/authorize" || u.Query().Get("state") != "n1" || u.Query().Has("shop") || u.Query().Has("grant_options[]") {
		t.Fatalf("production authorize URL: %s", prod)
	}
	sim, _ := url.Parse("http://127.0.0.1:8090")
	dev, _ := url.Parse(AuthorizeURL(Origin{Override: sim}, "demo.myshopify.com", "key", "read_orders", "https://app/cb", "n1"))
	if dev.Host != "127.0.0.1:8090" || dev.Query().Get("shop") != "demo.myshopify.com" {
		t.Fatalf("simulator authorize URL: %s", dev)
	}
}

func sessionToken(t *testing.T, secret string, c jwt.MapClaims, method jwt.SigningMethod) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, c)
	s, err := tok.SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestVerifySessionToken(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	claims := func(mut func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"iss": "https://demo.myshopify.com/admin", "dest": "https://demo.myshopify.com", "aud": "key",
			"sub": "42", "exp": now.Add(time.Minute).Unix(), "nbf": now.Add(-time.Second).Unix(), "iat": now.Unix(), "jti": "j", "sid": "s"}
		mut(c)
		return c
	}
	cases := []struct {
		name     string
		token    string
		audCheck bool
		ok       bool
	}{
		{"valid", sessionToken(t, "secret", claims(func(jwt.MapClaims) {}), jwt.SigningMethodHS256), true, true},
		{"wrong secret", sessionToken(t, "other", claims(func(jwt.MapClaims) {}), jwt.SigningMethodHS256), true, false},
		{"wrong audience", sessionToken(t, "secret", claims(func(c jwt.MapClaims) { c["aud"] = "someone-else" }), jwt.SigningMethodHS256), true, false},
		{"wrong audience unchecked (extension)", sessionToken(t, "secret", claims(func(c jwt.MapClaims) { c["aud"] = "someone-else" }), jwt.SigningMethodHS256), false, true},
		{"expired beyond leeway", sessionToken(t, "secret", claims(func(c jwt.MapClaims) { c["exp"] = now.Add(-11 * time.Second).Unix() }), jwt.SigningMethodHS256), true, false},
		{"expired within leeway", sessionToken(t, "secret", claims(func(c jwt.MapClaims) { c["exp"] = now.Add(-5 * time.Second).Unix() }), jwt.SigningMethodHS256), true, true},
		{"not yet valid", sessionToken(t, "secret", claims(func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Minute).Unix() }), jwt.SigningMethodHS256), true, false},
		{"no exp", sessionToken(t, "secret", claims(func(c jwt.MapClaims) { delete(c, "exp") }), jwt.SigningMethodHS256), true, false},
		{"HS512 refused", sessionToken(t, "secret", claims(func(jwt.MapClaims) {}), jwt.SigningMethodHS512), true, false},
		{"dest not a shop", sessionToken(t, "secret", claims(func(c jwt.MapClaims) { c["dest"] = "https://evil.com" }), jwt.SigningMethodHS256), true, false},
		{"iss names another shop", sessionToken(t, "secret", claims(func(c jwt.MapClaims) { c["iss"] = "https://other.myshopify.com/admin" }), jwt.SigningMethodHS256), true, false},
		{"iss names another shop (extension)", sessionToken(t, "secret", claims(func(c jwt.MapClaims) { c["iss"] = "https://other.myshopify.com/admin" }), jwt.SigningMethodHS256), false, false},
		{"iss not a shop", sessionToken(t, "secret", claims(func(c jwt.MapClaims) { c["iss"] = "https://evil.com/admin" }), jwt.SigningMethodHS256), true, false},
		{"iss without /admin", sessionToken(t, "secret", claims(func(c jwt.MapClaims) { c["iss"] = "https://demo.myshopify.com" }), jwt.SigningMethodHS256), true, true},
		{"no iss", sessionToken(t, "secret", claims(func(c jwt.MapClaims) { delete(c, "iss") }), jwt.SigningMethodHS256), true, true},
		{"garbage", "a.b.c", true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			shop, _, err := VerifySessionToken(tc.token, "key", "secret", tc.audCheck, now)
			if tc.ok != (err == nil) {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if tc.ok && shop != "demo.myshopify.com" {
				t.Fatalf("shop = %q", shop)
			}
			if !tc.ok && app.ErrorCode(err) != app.EUNAUTHORIZED {
				t.Fatalf("code = %q", app.ErrorCode(err))
			}
		})
	}
}

func TestVerifyWebhook(t *testing.T) {
	body := []byte(`{"id":1}`)
	good := SignWebhook(body, "secret")
	for name, tc := range map[string]struct {
		body   []byte
		header string
		ok     bool
	}{
		"valid":          {body, good, true},
		"one byte off":   {[]byte(`{"id":2}`), good, false},
		"wrong secret":   {body, SignWebhook(body, "nope"), false},
		"missing header": {body, "", false},
		"not base64":     {body, "%%%", false},
		"hex instead":    {body, "deadbeef", false},
	} {
		t.Run(name, func(t *testing.T) {
			if err := VerifyWebhook(tc.body, tc.header, "secret"); (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestTopicEnum(t *testing.T) {
	if TopicEnum("orders/create") != "ORDERS_CREATE" || TopicEnum("app/uninstalled") != "APP_UNINSTALLED" {
		t.Fatal(TopicEnum("orders/create"))
	}
}
