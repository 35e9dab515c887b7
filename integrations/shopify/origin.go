package shopify

import (
	"net/http"
	"net/url"
)

// Origin says where a shop's Shopify endpoints are. In production it is zero
// and every call goes to https://{shop}. Pointed at the simulator, calls go
// to its origin with the shop hostname kept in the Host header, the way
// shopify.md §7 verified go-shopify can be redirected (it has no base-URL
// option of its own).
type Origin struct {
	// Override is the simulator's origin, or nil in production.
	Override *url.URL
}

// BaseURL returns the URL prefix for server-to-server calls to shop.
func (o Origin) BaseURL(shop string) string {
	if o.Override != nil {
		return o.Override.String()
	}
	return "https://" + shop
}

// BrowserURL returns a URL for the merchant's browser. With an override the
// browser cannot send the shop's Host header, so the shop travels as a query
// parameter the simulator understands.
func (o Origin) BrowserURL(shop, path string, q url.Values) string {
	if o.Override != nil {
		q2 := url.Values{}
		for k, v := range q {
			q2[k] = v
		}
		q2.Set("shop", shop)
		q = q2
	}
	return o.BaseURL(shop) + path + "?" + q.Encode()
}

// Transport wraps base so that requests for https://{shop}/... reach the
// override origin with Host set to the shop. Without an override it returns
// base unchanged.
func (o Origin) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if o.Override == nil {
		return base
	}
	return rewrite{target: o.Override, base: base}
}

type rewrite struct {
	target *url.URL
	base   http.RoundTripper
}

func (r rewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	c := req.Clone(req.Context())
	c.Host = req.URL.Host
	c.URL.Scheme, c.URL.Host = r.target.Scheme, r.target.Host
	return r.base.RoundTrip(c)
}
