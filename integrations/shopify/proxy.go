package shopify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/parrain/parrain/app"
)

// SignProxyQuery computes an app proxy request's signature: hex
// HMAC-SHA256 of the query's "key=value" pairs, sorted, repeated values
// joined by ",", concatenated without separator, signature left out
// (https://shopify.dev/docs/apps/build/online-store/app-proxies/authenticate-app-proxies;
// go-shopify App.VerifySignature).
func SignProxyQuery(q map[string][]string, secret string) string {
	pairs := make([]string, 0, len(q))
	for k, v := range q {
		if k == "signature" {
			continue
		}
		pairs = append(pairs, k+"="+strings.Join(v, ","))
	}
	sort.Strings(pairs)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strings.Join(pairs, "")))
	return hex.EncodeToString(m.Sum(nil))
}

// VerifyProxyQuery checks an app proxy request forwarded by Shopify and
// returns the shop and the logged-in customer ("" for a visitor). Shopify
// adds a timestamp; requests older than MaxQueryAge are refused so a
// captured URL cannot be replayed for long.
func VerifyProxyQuery(q map[string][]string, secret string, now time.Time) (shop, customerID string, err error) {
	sig := first(q, "signature")
	got, err := hex.DecodeString(sig)
	if err != nil || len(got) != sha256.Size {
		return "", "", app.Errorf(app.EUNAUTHORIZED, "missing or malformed proxy signature")
	}
	want, _ := hex.DecodeString(SignProxyQuery(q, secret))
	if !hmac.Equal(got, want) {
		return "", "", app.Errorf(app.EUNAUTHORIZED, "proxy signature does not match")
	}
	ts, err := strconv.ParseInt(first(q, "timestamp"), 10, 64)
	if err != nil {
		return "", "", app.Errorf(app.EUNAUTHORIZED, "missing or malformed timestamp")
	}
	if d := now.Sub(time.Unix(ts, 0)); d > MaxQueryAge || d < -MaxQueryAge {
		return "", "", app.Errorf(app.EUNAUTHORIZED, "timestamp outside the %s window", MaxQueryAge)
	}
	shop, err = NormalizeShop(first(q, "shop"))
	if err != nil {
		return "", "", app.Errorf(app.EUNAUTHORIZED, "proxy request without a valid shop")
	}
	return shop, first(q, "logged_in_customer_id"), nil
}

func first(q map[string][]string, k string) string {
	if v := q[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}
