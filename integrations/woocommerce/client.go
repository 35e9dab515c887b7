package woocommerce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/parrain/parrain/app"
)

// Client is our small typed client for the wc/v3 REST API (woocommerce.md
// §7: no Go client covers what we need). Over https it sends Basic auth;
// over http, where WordPress refuses Basic and query keys, OAuth 1.0a.
type Client struct {
	// Store is the store's URL, e.g. https://shop.example.
	Store          string
	ConsumerKey    string
	ConsumerSecret string
	// HTTP sends the calls; nil is NewHTTPClient(false), which refuses
	// stores on non-public addresses.
	HTTP *http.Client
	Now  func() time.Time
}

// APIError is WooCommerce's error answer, its code kept.
type APIError struct {
	Status  int
	Code    string
	Message string
	// Retry is what a 429's Retry-After asked for (zero when absent).
	Retry time.Duration
}

// RetryDelay is the wait the store asked for; the job queue honours it.
func (e *APIError) RetryDelay() time.Duration { return e.Retry }

// retryAfter reads Retry-After: seconds (possibly fractional) or an HTTP
// date; zero when absent or unreadable.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && s > 0 {
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

func (e *APIError) Error() string {
	return fmt.Sprintf("woocommerce %d %s: %s", e.Status, e.Code, e.Message)
}

// do calls path (below /wp-json/wc/v3) and decodes the answer into out. It
// returns the response headers (X-WP-Total).
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any) (http.Header, error) {
	u, err := url.Parse(strings.TrimRight(c.Store, "/") + "/wp-json/wc/v3" + path)
	if err != nil {
		return nil, app.Wrap(app.EINVALID, err, "bad store URL")
	}
	u.RawQuery = query.Encode()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	if u.Scheme != "https" {
		now := time.Now
		if c.Now != nil {
			now = c.Now
		}
		u = SignOAuth1(method, u, c.ConsumerKey, c.ConsumerSecret, now())
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, err
	}
	if u.Scheme == "https" {
		req.SetBasicAuth(c.ConsumerKey, c.ConsumerSecret)
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP // refuses non-public addresses (dialguard.go)
	}
	resp, err := hc.Do(req)
	if err != nil {
		// The URL of an OAuth 1.0a call carries the consumer key in its
		// query: keep it out of the error, which reaches logs and the
		// console.
		var ue *url.Error
		if errors.As(err, &ue) {
			ue.URL = strings.SplitN(ue.URL, "?", 2)[0]
		}
		return nil, app.Wrap(app.EUNAVAILABLE, err, "store unreachable")
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, app.Wrap(app.EUNAVAILABLE, err, "store answer unreadable")
	}
	if resp.StatusCode >= 300 {
		e := &APIError{Status: resp.StatusCode}
		var we struct{ Code, Message string }
		if json.Unmarshal(raw, &we) == nil {
			e.Code, e.Message = we.Code, we.Message
		}
		switch {
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
			if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
				e.Retry = retryAfter(resp.Header.Get("Retry-After"), time.Now())
			}
			// Hosts and WAFs throttle; the job retries with backoff.
			return nil, app.Wrap(app.EUNAVAILABLE, e, "store busy or down, retry later")
		case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
			return nil, app.Wrap(app.EUNAUTHORIZED, e, "the store refused our keys")
		case resp.StatusCode == http.StatusNotFound:
			return nil, app.Wrap(app.ENOTFOUND, e, "not found in the store")
		}
		return nil, app.Wrap(app.EINVALID, e, "the store refused: "+e.Message)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return nil, fmt.Errorf("decode woocommerce %s %s: %w", method, path, err)
		}
	}
	return resp.Header, nil
}

// Coupon is a wc/v3 coupon.
type Coupon struct {
	ID                int64    `json:"id,omitempty"`
	Code              string   `json:"code"`
	DiscountType      string   `json:"discount_type"` // percent, fixed_cart
	Amount            string   `json:"amount"`
	Status            string   `json:"status,omitempty"`
	Description       string   `json:"description,omitempty"`
	IndividualUse     bool     `json:"individual_use"`
	UsageLimit        *int     `json:"usage_limit,omitempty"`
	UsageLimitPerUser *int     `json:"usage_limit_per_user,omitempty"`
	UsageCount        int      `json:"usage_count,omitempty"`
	EmailRestrictions []string `json:"email_restrictions,omitempty"`
	MinimumAmount     string   `json:"minimum_amount,omitempty"`
	FreeShipping      bool     `json:"free_shipping"`
	DateExpires       *string  `json:"date_expires,omitempty"`
	// DateExpiresGMT is read only: the store answers the expiry in GMT
	// here, and in its own timezone in DateExpires.
	DateExpiresGMT *string `json:"date_expires_gmt,omitempty"`
}

// CreateCoupon creates a coupon; the store lower-cases its code.
func (c *Client) CreateCoupon(ctx context.Context, in Coupon) (*Coupon, error) {
	var out Coupon
	_, err := c.do(ctx, http.MethodPost, "/coupons", nil, in, &out)
	return &out, err
}

// BatchItem is one item of a batch answer: the created object's id, or
// the error WooCommerce gave for that item alone.
type BatchItem struct {
	ID    int64 `json:"id"`
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// BatchCreateCoupons creates coupons with POST /coupons/batch; the answer
// lists one item per coupon, in order.
func (c *Client) BatchCreateCoupons(ctx context.Context, in []Coupon) ([]BatchItem, error) {
	var out struct {
		Create []BatchItem `json:"create"`
	}
	_, err := c.do(ctx, http.MethodPost, "/coupons/batch", nil, map[string]any{"create": in}, &out)
	return out.Create, err
}

// BatchUpdated is one item of a batch update's answer: the coupon as the
// store now holds it, or, with Error set, the error for that item alone
// (its ID then is the id sent).
type BatchUpdated struct {
	Coupon
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// BatchUpdateCoupons changes coupons with POST /coupons/batch {"update":
// [...]}: each item is the coupon's id and the fields to set. The answer
// lists one item per coupon, in order.
func (c *Client) BatchUpdateCoupons(ctx context.Context, in []map[string]any) ([]BatchUpdated, error) {
	var out struct {
		Update []BatchUpdated `json:"update"`
	}
	_, err := c.do(ctx, http.MethodPost, "/coupons/batch", nil, map[string]any{"update": in}, &out)
	return out.Update, err
}

// CouponByCode finds a coupon by code (case-insensitively, as the store
// keeps codes lower-case); ENOTFOUND when there is none.
func (c *Client) CouponByCode(ctx context.Context, code string) (*Coupon, error) {
	var out []Coupon
	if _, err := c.do(ctx, http.MethodGet, "/coupons", url.Values{"code": {strings.ToLower(code)}}, nil, &out); err != nil {
		return nil, err
	}
	for i := range out {
		if strings.EqualFold(out[i].Code, code) {
			return &out[i], nil
		}
	}
	return nil, app.Errorf(app.ENOTFOUND, "no coupon %s", code)
}

// UpdateCoupon changes a coupon's fields.
func (c *Client) UpdateCoupon(ctx context.Context, id int64, fields map[string]any) error {
	_, err := c.do(ctx, http.MethodPut, "/coupons/"+strconv.FormatInt(id, 10), nil, fields, nil)
	return err
}

// Coupon reads a coupon by id.
func (c *Client) Coupon(ctx context.Context, id int64) (*Coupon, error) {
	var out Coupon
	if _, err := c.do(ctx, http.MethodGet, "/coupons/"+strconv.FormatInt(id, 10), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Order reads one order as the REST API shows it, which is also the body
// its webhook deliveries carry (woocommerce.md §1 "Payload").
func (c *Client) Order(ctx context.Context, id string) (json.RawMessage, error) {
	if _, err := strconv.ParseInt(id, 10, 64); err != nil {
		return nil, app.Errorf(app.EINVALID, "order id %q is not a WooCommerce id", id)
	}
	var out json.RawMessage
	if _, err := c.do(ctx, http.MethodGet, "/orders/"+id, nil, nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// CustomerOrderCount counts the customer's orders (X-WP-Total).
func (c *Client) CustomerOrderCount(ctx context.Context, customerID string) (int, error) {
	h, err := c.do(ctx, http.MethodGet, "/orders", url.Values{"customer": {customerID}, "per_page": {"1"}, "status": {"any"}}, nil, &[]json.RawMessage{})
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(h.Get("X-WP-Total"))
	if err != nil {
		return 0, fmt.Errorf("woocommerce orders: no X-WP-Total")
	}
	return n, nil
}

// StoreCurrency is the store's currency code; the call also proves the keys
// work (any authenticated read would).
func (c *Client) StoreCurrency(ctx context.Context) (string, error) {
	var out struct {
		Code string `json:"code"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/data/currencies/current", nil, nil, &out); err != nil {
		return "", err
	}
	if len(out.Code) != 3 {
		return "", fmt.Errorf("woocommerce: no currency code in the store's answer")
	}
	return out.Code, nil
}

// VerifyKeys checks a key pair against the store it is for and returns the
// store's currency.
func VerifyKeys(ctx context.Context, storeURL, key, secret string, hc *http.Client) (string, error) {
	return (&Client{Store: storeURL, ConsumerKey: key, ConsumerSecret: secret, HTTP: hc}).StoreCurrency(ctx)
}

// Site is what the WordPress REST index (GET /wp-json, unauthenticated;
// WP_REST_Server::get_index) says of the store: its title, the name a
// merchant recognises rather than the host, and its time zone.
type Site struct {
	Name string
	// Timezone is an IANA name: timezone_string when the site chose a
	// city, else its whole-hour gmt_offset as Etc/GMT∓N ("UTC" for 0), else
	// "" (a half-hour manual offset: unknown, the dashboard uses UTC).
	Timezone string
}

// SiteInfo reads the store's REST index, asking only for the fields it
// uses (_fields: the full index lists every route).
func SiteInfo(ctx context.Context, storeURL string, hc *http.Client) (Site, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(storeURL, "/")+"/wp-json/?_fields=name,timezone_string,gmt_offset", nil)
	if err != nil {
		return Site{}, app.Wrap(app.EINVALID, err, "bad store URL")
	}
	req.Header.Set("Accept", "application/json")
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return Site{}, app.Wrap(app.EUNAVAILABLE, err, "store unreachable")
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Site{}, app.Errorf(app.EUNAVAILABLE, "store index answered %d", resp.StatusCode)
	}
	var out struct {
		Name           string          `json:"name"`
		TimezoneString string          `json:"timezone_string"`
		GMTOffset      json.RawMessage `json:"gmt_offset"` // the option as stored: a number or a string
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&out); err != nil {
		return Site{}, fmt.Errorf("decode store index: %w", err)
	}
	return Site{Name: html.UnescapeString(strings.TrimSpace(out.Name)), Timezone: siteTimezone(out.TimezoneString, out.GMTOffset)}, nil
}

// siteTimezone turns WordPress's two time zone options into an IANA name.
func siteTimezone(tz string, gmtOffset json.RawMessage) string {
	if tz = strings.TrimSpace(tz); tz != "" {
		if _, err := time.LoadLocation(tz); err == nil {
			return tz
		}
	}
	if len(gmtOffset) == 0 {
		return ""
	}
	h, err := strconv.ParseFloat(strings.Trim(strings.TrimSpace(string(gmtOffset)), `"`), 64)
	if err != nil || h != float64(int(h)) || h < -12 || h > 14 {
		return ""
	}
	switch {
	case h == 0:
		return "UTC"
	case h > 0: // the Etc zones' signs are POSIX's: east of Greenwich is negative
		return fmt.Sprintf("Etc/GMT-%d", int(h))
	default:
		return fmt.Sprintf("Etc/GMT+%d", int(-h))
	}
}
