package shopify

import (
	"net/url"
	"strconv"
	"testing"
	"time"
)

// The example of Shopify's "Authenticate app proxies" page: secret "hush",
// query extra=1&extra=2&shop=…&logged_in_customer_id=1&path_prefix=…&timestamp=1317327555.
func TestProxySignatureDocsVector(t *testing.T) {
	q := url.Values{"extra": {"1", "2"}, "shop": {"shop-name.myshopify.com"}, "logged_in_customer_id": {"1"},
		"path_prefix": {"/apps/awesome_reviews"}, "timestamp": {"1317327555"}}
	const want = "4c68c8624d737112c91818c11017d24d334b524cb5c2b8ba08daa056f7395ddb"
	if got := SignProxyQuery(q, "hush"); got != want {
		t.Fatalf("signature %s, want %s", got, want)
	}
}

func TestVerifyProxyQuery(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	signed := func(mut func(url.Values)) url.Values {
		q := url.Values{"shop": {"demo.myshopify.com"}, "logged_in_customer_id": {"42"}, "path_prefix": {"/apps/parrain"},
			"timestamp": {strconv.FormatInt(now.Unix(), 10)}}
		q.Set("signature", SignProxyQuery(q, "s3cret"))
		if mut != nil {
			mut(q)
		}
		return q
	}
	for _, tc := range []struct {
		name string
		q    url.Values
		ok   bool
	}{
		{"good", signed(nil), true},
		{"customer changed", signed(func(q url.Values) { q.Set("logged_in_customer_id", "43") }), false},
		{"no signature", signed(func(q url.Values) { q.Del("signature") }), false},
		{"not hex", signed(func(q url.Values) { q.Set("signature", "zz") }), false},
		{"extra param added", signed(func(q url.Values) { q.Set("order_id", "1") }), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			shop, cust, err := VerifyProxyQuery(tc.q, "s3cret", now)
			if tc.ok != (err == nil) {
				t.Fatalf("err = %v", err)
			}
			if tc.ok && (shop != "demo.myshopify.com" || cust != "42") {
				t.Errorf("shop %q customer %q", shop, cust)
			}
		})
	}
	if _, _, err := VerifyProxyQuery(signed(nil), "s3cret", now.Add(2*MaxQueryAge)); err == nil {
		t.Error("stale proxy request accepted")
	}
}
