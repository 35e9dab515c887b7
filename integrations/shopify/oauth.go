// Package shopify is Parrain's Shopify adapter: OAuth and token exchange,
// session tokens, webhook signatures and the Admin API calls the app makes.
// The contract it follows is summarised, with sources, in
// shared/platforms/shopify.md.
package shopify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/parrain/parrain/app"
)

// shopPattern accepts only *.myshopify.com hostnames, the form Shopify sends
// in install links, callbacks and webhook headers. shopify-app-js also admits
// other Shopify-owned suffixes; production apps never see those, and a
// narrower pattern closes open-redirect tricks (shopify.md §1.1).
var shopPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*\.myshopify\.com$`)

// NormalizeShop lower-cases and validates a shop hostname; it returns an
// EINVALID error for anything that is not a bare *.myshopify.com host.
func NormalizeShop(shop string) (string, error) {
	s := strings.ToLower(strings.TrimSpace(shop))
	if len(s) > 255 || !shopPattern.MatchString(s) {
		return "", app.Errorf(app.EINVALID, "invalid shop hostname: want <name>.myshopify.com")
	}
	return s, nil
}

// QueryMessage builds the string Shopify signs for OAuth redirects and
// install links: every parameter except hmac and signature, sorted by key,
// joined as k=v with &. Values are used as decoded (go-shopify's
// VerifyAuthorizationURL does the same and passes Shopify's documented test
// vector).
func QueryMessage(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		if k == "hmac" || k == "signature" {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		for _, v := range q[k] {
			parts = append(parts, k+"="+v)
		}
	}
	return strings.Join(parts, "&")
}

// SignQuery returns the hex HMAC-SHA256 of the query message with secret.
func SignQuery(q url.Values, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(QueryMessage(q)))
	return hex.EncodeToString(m.Sum(nil))
}

// MaxQueryAge is how far a signed request's timestamp may be from now; the
// same 90 s window shopify-app-js enforces (lib/utils/hmac-validator.ts).
const MaxQueryAge = 90 * time.Second

// VerifyQuery checks a signed install or callback query: the hex HMAC in
// constant time, then the timestamp window, then the shop hostname. It
// returns the normalised shop. Every failure is EUNAUTHORIZED or EINVALID
// with a message that says which check failed.
func VerifyQuery(q url.Values, secret string, now time.Time) (string, error) {
	got, err := hex.DecodeString(q.Get("hmac"))
	if err != nil || len(got) != sha256.Size {
		return "", app.Errorf(app.EUNAUTHORIZED, "missing or malformed hmac")
	}
	want, _ := hex.DecodeString(SignQuery(q, secret))
	if !hmac.Equal(got, want) {
		return "", app.Errorf(app.EUNAUTHORIZED, "hmac does not match")
	}
	ts, err := strconv.ParseInt(q.Get("timestamp"), 10, 64)
	if err != nil {
		return "", app.Errorf(app.EUNAUTHORIZED, "missing or malformed timestamp")
	}
	if d := now.Sub(time.Unix(ts, 0)); d > MaxQueryAge || d < -MaxQueryAge {
		return "", app.Errorf(app.EUNAUTHORIZED, "timestamp outside the %s window", MaxQueryAge)
	}
	return NormalizeShop(q.Get("shop"))
}

// AuthorizeURL is where the merchant's browser goes to grant the app access
// (authorization-code grant, offline token: no grant_options[]).
func AuthorizeURL(o Origin, shop, apiKey, scopes, redirectURI, state string) string {
	q := url.Values{}
	q.Set("client_id", apiKey)
	q.Set("scope", scopes)
	q.Set("redirect_uri", redirectURI)
	q.Set("state", state)
	return o.BrowserURL(shop, "/admin/oauth/authorize", q)
}
