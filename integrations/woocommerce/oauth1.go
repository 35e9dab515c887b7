package woocommerce

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// WordPress sees https only when the store is served over it; elsewhere
// WooCommerce refuses Basic auth and query keys (recorded:
// auth-basic-over-http-401, auth-query-keys-over-http-401) and wants OAuth
// 1.0a one-legged: consumer key and secret, no token, HMAC-SHA256, the
// oauth_* parameters in the query string.

// percentEncode is RFC 3986 encoding as OAuth requires (RFC 5849 §3.6):
// everything but ALPHA / DIGIT / "-" / "." / "_" / "~".
func percentEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
		} else {
			b.WriteString("%" + strings.ToUpper(hex.EncodeToString([]byte{c})))
		}
	}
	return b.String()
}

// baseString is the signature base string (RFC 5849 §3.4.1): method, the
// base URL without query, and every parameter (query and oauth_*, and a
// form body's) encoded, sorted by name then value, joined.
func baseString(method string, u *url.URL, params url.Values) string {
	type kv struct{ k, v string }
	var pairs []kv
	for k, vs := range params {
		for _, v := range vs {
			pairs = append(pairs, kv{percentEncode(k), percentEncode(v)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	norm := make([]string, len(pairs))
	for i, p := range pairs {
		norm[i] = p.k + "=" + p.v
	}
	base := *u
	base.RawQuery, base.Fragment = "", ""
	base.Scheme, base.Host = strings.ToLower(base.Scheme), strings.ToLower(base.Host)
	if p := base.Port(); (base.Scheme == "http" && p == "80") || (base.Scheme == "https" && p == "443") {
		base.Host = base.Hostname()
	}
	return strings.ToUpper(method) + "&" + percentEncode(base.String()) + "&" + percentEncode(strings.Join(norm, "&"))
}

// SignOAuth1 returns u with the oauth_* parameters and signature added to
// its query, one-legged (no token): the key is "consumer_secret&".
func SignOAuth1(method string, u *url.URL, consumerKey, consumerSecret string, now time.Time) *url.URL {
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	return signWith(method, u, consumerKey, consumerSecret, now, hex.EncodeToString(nonce))
}

func signWith(method string, u *url.URL, consumerKey, consumerSecret string, now time.Time, nonce string) *url.URL {
	q := u.Query()
	q.Set("oauth_consumer_key", consumerKey)
	q.Set("oauth_nonce", nonce)
	q.Set("oauth_signature_method", "HMAC-SHA256")
	q.Set("oauth_timestamp", strconv.FormatInt(now.Unix(), 10))
	m := hmac.New(sha256.New, []byte(percentEncode(consumerSecret)+"&"))
	m.Write([]byte(baseString(method, u, q)))
	q.Set("oauth_signature", base64.StdEncoding.EncodeToString(m.Sum(nil)))
	out := *u
	out.RawQuery = q.Encode()
	return &out
}

// VerifyOAuth1 checks a one-legged OAuth 1.0a signature (what a store
// does; the simulator uses it). params are the request's parameters without
// oauth_signature.
func VerifyOAuth1(method string, u *url.URL, params url.Values, consumerSecret, signature string) bool {
	m := hmac.New(sha256.New, []byte(percentEncode(consumerSecret)+"&"))
	m.Write([]byte(baseString(method, u, params)))
	want := m.Sum(nil)
	got, err := base64.StdEncoding.DecodeString(signature)
	return err == nil && hmac.Equal(got, want)
}
