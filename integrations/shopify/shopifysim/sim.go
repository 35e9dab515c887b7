// Package shopifysim plays the parts of Shopify that Parrain talks to, over
// real HTTP, so that the app can be developed and tested end to end without a
// store:
//
//   - OAuth: the merchant's consent screen and the authorization-code grant,
//     expiring offline tokens with refresh-token rotation, token exchange of
//     App Bridge session tokens (shared/platforms/shopify.md §1);
//   - the Admin GraphQL operations the app uses, answered in Shopify's
//     response shape with a cost-based leaky bucket per shop (§4, §5);
//   - signed webhook deliveries with Shopify's headers, retries on failure
//     and occasional duplicates (§2);
//   - a control surface under /_sim/ (HTML for people, JSON for scripts) to
//     add shops, place orders, uninstall, and send compliance requests.
//
// Tests serve Handler with httptest.NewServer; cmd/shopify-sim runs it as a
// process for `make dev`. Payloads start from Shopify's own samples
// (fixtures/, copied from shared/fixtures/shopify).
//
// The app reaches the simulator by rewriting https://{shop}/… to the
// simulator's origin while keeping the shop in the Host header (shopify.md
// §7), so a request's shop is its Host when that ends in .myshopify.com, else
// its shop query or form parameter (browsers cannot set Host).
//
// What the simulator does not model is documented where it matters; in
// short: one app (one client id), no REST Admin API, a GraphQL schema limited
// to the fields the app uses (asking for any other field is answered as
// Shopify answers a field that does not exist), and TOML (app-specific)
// subscriptions reduced to one default address, AppURL+"/webhooks/shopify".
package shopifysim

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

//go:embed fixtures/*.json
var fixtures embed.FS

// APIVersion is the Admin API version the simulator stamps on webhook
// deliveries (X-Shopify-API-Version), the one shopify.app.toml declares.
const APIVersion = "2026-07"

// DefaultScopes are the access scopes granted when the app does not ask for
// any (token exchange, Shopify-managed installation): the ones
// shopify.app.toml declares.
const DefaultScopes = "read_orders,read_customers,write_discounts"

// ErrUnknownShop is returned for a shop domain the simulator does not have;
// Shopify answers 404 for those.
var ErrUnknownShop = errors.New("shopifysim: unknown shop")

// ErrClosed is returned by SendWebhook after Close.
var ErrClosed = errors.New("shopifysim: simulator closed")

// Config configures a Simulator. Zero fields get the defaults documented on
// each field.
type Config struct {
	// APIKey and APISecret are the app's client id and secret: the secret
	// signs webhooks (base64 HMAC), OAuth redirects and install links (hex
	// HMAC) and session tokens (HS256), and the pair authenticates the app
	// at the token endpoint.
	APIKey, APISecret string
	// AppURL is the app's origin, e.g. http://127.0.0.1:8080. Deliveries of
	// a topic without an API-created subscription go to
	// AppURL+"/webhooks/shopify", which is what the app-specific
	// subscriptions and compliance_topics of shopify.app.toml declare.
	AppURL string
	// AccessTokenTTL is the life of an expiring offline access token
	// (default 1 h, Shopify's expires_in of 3600).
	AccessTokenTTL time.Duration
	// RefreshTokenTTL is the life of a refresh token (default 90 days).
	RefreshTokenTTL time.Duration
	// Now is the simulator's clock (default time.Now). It drives token and
	// authorization-code expiry, session-token checks, the GraphQL cost
	// bucket, discount status and the timestamps in payloads; webhook
	// retry delays are real time.
	Now func() time.Time
	// DuplicateRate is the probability, in [0,1], that a successful
	// delivery is sent once more with the same X-Shopify-Event-Id and a new
	// X-Shopify-Webhook-Id: Shopify says subscribers "might receive the
	// same webhook more than once" (shopify.md §2).
	DuplicateRate float64
	// RetryBackoff are the delays before each retry of a failed delivery;
	// its length is the number of retries. The default compresses
	// Shopify's 8 retries over 4 hours into 8 retries 100 ms, 200 ms, …,
	// 12.8 s apart. An empty non-nil slice disables retries.
	RetryBackoff []time.Duration
	// GraphQLBucket is the cost bucket size in points per shop (default
	// 2000: Shopify's Standard plan, shopify.md §5).
	GraphQLBucket float64
	// GraphQLRestore is the bucket's restore rate in points per second
	// (default 100, the Standard plan's).
	GraphQLRestore float64
	// BulkDelay is how long discountRedeemCodeBulkAdd's bulk creation
	// stays queued (done false) before it runs (default 300 ms): Shopify
	// adds the codes asynchronously.
	BulkDelay time.Duration
	// AutoApprove makes the authorize endpoint redirect back at once, as if
	// the merchant had clicked Install, instead of showing the consent page.
	AutoApprove bool
	// RedirectURLs, when set, are the only redirect_uri values the
	// authorize endpoint accepts (Shopify checks them against the app's
	// [auth] redirect_urls). Empty accepts any.
	RedirectURLs []string
	// Scopes are the scopes granted through token exchange, whose
	// installation Shopify manages from shopify.app.toml (default
	// DefaultScopes). The code grant grants the scope it was asked for.
	Scopes string
	// EnforceScopes makes the Admin API refuse operations the access
	// token's scopes do not cover, with Shopify's ACCESS_DENIED error. Off
	// by default so that tests need not care about scopes.
	EnforceScopes bool
	// HTTPClient delivers webhooks. Default: 1 s to connect, 5 s in all
	// (Shopify's limits, shopify.md §2). Redirects are never followed,
	// whatever the client: Shopify counts a 3xx as a failure.
	HTTPClient *http.Client
	// Logger receives one line per delivery attempt and per notable event;
	// tokens, secrets and payloads are never logged. Default: discard.
	Logger *slog.Logger
}

// ShopInfo describes a simulated shop; AddShop fills empty fields.
type ShopInfo struct {
	// ID is the shop's numeric id (gid://shopify/Shop/{ID}).
	ID int64
	// Name is the shop's display name.
	Name string
	// Email is the shop owner's email.
	Email string
	// CurrencyCode is the shop currency (ISO 4217), used for orders.
	CurrencyCode string
	// IanaTimezone is the shop's time zone; order timestamps use it.
	IanaTimezone string
	// PlanDisplayName is the shop's plan, e.g. "Basic" or "Shopify Plus".
	PlanDisplayName string
}

// Delivery is one webhook delivery attempt, as Deliveries reports it.
type Delivery struct {
	// EventID is X-Shopify-Event-Id: one per event, shared by retries and
	// duplicates.
	EventID string `json:"event_id"`
	// WebhookID is X-Shopify-Webhook-Id: one per delivery chain (an attempt
	// and its retries); a duplicate gets a new one.
	WebhookID string `json:"webhook_id"`
	// Topic is the webhook topic, e.g. "orders/create".
	Topic string `json:"topic"`
	// URL is where the attempt was posted.
	URL string `json:"url"`
	// Attempt counts from 0 (the first try) within the delivery chain.
	Attempt int `json:"attempt"`
	// Duplicate marks the extra copy of an already delivered event.
	Duplicate bool `json:"duplicate,omitempty"`
	// Status is the HTTP status the app answered, 0 when none.
	Status int `json:"status"`
	// Err is the transport error (timeout, refused connection), if any.
	Err string `json:"error,omitempty"`
	// At is when the attempt was made, on the simulator's clock.
	At time.Time `json:"at"`
}

// Discount is a code discount the app created through the Admin API, as
// Discounts reports it.
type Discount struct {
	// ID is the DiscountCodeNode gid.
	ID string `json:"id"`
	// Code is the redeem code.
	Code string `json:"code"`
	// Title is the discount's admin title.
	Title string `json:"title"`
	// Kind is the GraphQL type: DiscountCodeBasic or
	// DiscountCodeFreeShipping.
	Kind string `json:"kind"`
	// Status is ACTIVE, SCHEDULED (starts later) or EXPIRED (ended or
	// deactivated), as Shopify's DiscountStatus, at the time of the call.
	Status string `json:"status"`
	// UsageCount is how many orders placed through CreateOrder used the
	// code (GraphQL asyncUsageCount).
	UsageCount int `json:"usage_count"`
	// Input is the discount input exactly as the app sent it
	// (DiscountCodeBasicInput or DiscountCodeFreeShippingInput).
	Input map[string]any `json:"input"`
}

// Simulator is a fake Shopify for any number of shops. Its methods are safe
// for concurrent use.
type Simulator struct {
	cfg Config
	log *slog.Logger

	mu    sync.Mutex
	shops map[string]*shop
	// carts are AJAX carts by their cookie token.
	carts map[string]map[string]string
	codes map[string]authCode // authorization codes, single use
	seq   int64               // source of fresh numeric ids

	// Deliveries in flight (including retries waiting for their delay):
	// idle is closed whenever inflight is zero.
	inflight int
	idle     chan struct{}
	ctx      context.Context // cancelled by Close: stops retries
	cancel   context.CancelFunc
}

type authCode struct {
	shop    string
	scope   string
	online  bool
	expires time.Time
}

// token is an access token the simulator issued.
type token struct {
	expires time.Time // zero: never (non-expiring offline token)
	scopes  string
	online  bool
	userID  int64
}

// refreshToken is one link of a rotation chain.
type refreshToken struct {
	value   string
	expires time.Time
	prev    *refreshToken // the token this one replaced
	dead    bool          // its successor has been used
	scopes  string        // granted with the chain, kept by every rotation
}

type subscription struct {
	id, topic, uri string // topic as the GraphQL enum, e.g. ORDERS_CREATE
	format         string
	includeFields  []any
	filter         any
	created        time.Time
}

type discount struct {
	Discount
	// more are the redeem codes added after the first (Code), by
	// discountRedeemCodeBulkAdd.
	more             []redeemCode
	startsAt, endsAt *time.Time
	usageLimit       int
	oncePerCustomer  bool
	deactivated      bool
	created, updated time.Time
}

type shop struct {
	domain     string
	info       ShopInfo
	created    time.Time
	access     map[string]*token
	refresh    map[string]*refreshToken
	curAccess  string // the latest offline token pair, for Tokens
	curRefresh string
	curExpires time.Time
	subs       []*subscription
	discounts  []*discount
	orders     []map[string]any
	deliveries []Delivery
	bucket     float64
	bucketAt   time.Time
	failNext   int
	theme      *theme
	throttle   int
	nextOrder  int
	stats      APIStats
	bulks      map[string]*bulkCreation
	credits    []*creditAccount
	// loseAnswers counts calls to run and then answer 502 (LoseNextAnswers).
	loseAnswers int
	loseField   string
}

// APIStats is what a shop's Admin GraphQL API saw: requests that reached
// the cost check, THROTTLED answers, points actually spent, and how many
// times each root field ran.
type APIStats struct {
	Requests  int
	Throttled int
	Spent     float64
	Fields    map[string]int
}

// Stats returns the shop's Admin GraphQL counters.
func (s *Simulator) Stats(domain string) APIStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	sh := s.shops[domain]
	if sh == nil {
		return APIStats{}
	}
	st := sh.stats
	st.Fields = map[string]int{}
	for k, v := range sh.stats.Fields {
		st.Fields[k] = v
	}
	return st
}

// maxDeliveries bounds the delivery log per shop; the oldest go first.
const maxDeliveries = 1000

// New returns a simulator with the defaults of Config filled in. It has no
// shops until AddShop.
func New(cfg Config) *Simulator {
	if cfg.AccessTokenTTL <= 0 {
		cfg.AccessTokenTTL = time.Hour
	}
	if cfg.RefreshTokenTTL <= 0 {
		cfg.RefreshTokenTTL = 90 * 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RetryBackoff == nil {
		for i := range 8 {
			cfg.RetryBackoff = append(cfg.RetryBackoff, time.Duration(100<<i)*time.Millisecond)
		}
	}
	if cfg.BulkDelay <= 0 {
		cfg.BulkDelay = 300 * time.Millisecond
	}
	if cfg.GraphQLBucket <= 0 {
		cfg.GraphQLBucket = 2000
	}
	if cfg.GraphQLRestore <= 0 {
		cfg.GraphQLRestore = 100
	}
	if cfg.Scopes == "" {
		cfg.Scopes = DefaultScopes
	}
	cfg.AppURL = strings.TrimRight(cfg.AppURL, "/")
	var hc http.Client
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient
	} else {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.DialContext = (&net.Dialer{Timeout: time.Second}).DialContext
		// How Shopify's senders hold their connections is not documented;
		// this is the simulator's own cost, not a claim about Shopify: with
		// Go's default of 2 idle connections a host, a burst of deliveries
		// dialled a new one nearly every time (a tenth of bench-store's
		// simulator CPU, and the app's accepts).
		tr.MaxIdleConnsPerHost = 64
		hc = http.Client{Timeout: 5 * time.Second, Transport: tr}
	}
	// A copy, so the caller's client keeps its own redirect policy.
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	cfg.HTTPClient = &hc
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Simulator{cfg: cfg, log: cfg.Logger, shops: map[string]*shop{}, codes: map[string]authCode{}, seq: 1000, idle: make(chan struct{})}
	close(s.idle)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s
}

// shopDomain is Shopify's shop hostname rule (shopify.md §1.1).
var shopDomain = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9-]*\.myshopify\.com$`)

// ValidShopDomain reports whether domain is a bare *.myshopify.com hostname,
// the only kind of shop the control endpoints accept.
func ValidShopDomain(domain string) bool { return shopDomain.MatchString(domain) }

// AddShop creates a shop, or updates the details of an existing one (its
// tokens, orders and discounts are kept). Empty fields of info get defaults:
// a fresh ID (the current one on update), a name from the domain, an owner
// email, USD, America/New_York, plan Basic. Domains that are not
// *.myshopify.com are accepted for tests but cannot be reached through the
// Host header.
func (s *Simulator) AddShop(domain string, info ShopInfo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if info.ID == 0 {
		if sh := s.shops[domain]; sh != nil {
			info.ID = sh.info.ID
		} else {
			info.ID = 548380000 + s.nextID()
		}
	}
	if info.Name == "" {
		info.Name = strings.TrimSuffix(domain, ".myshopify.com")
	}
	if info.Email == "" {
		info.Email = "owner@" + domain
	}
	if info.CurrencyCode == "" {
		info.CurrencyCode = "USD"
	}
	if info.IanaTimezone == "" {
		info.IanaTimezone = "America/New_York"
	}
	if info.PlanDisplayName == "" {
		info.PlanDisplayName = "Basic"
	}
	if sh, ok := s.shops[domain]; ok {
		sh.info = info
		return
	}
	now := s.cfg.Now()
	s.shops[domain] = &shop{domain: domain, info: info, created: now, access: map[string]*token{}, refresh: map[string]*refreshToken{},
		bucket: s.cfg.GraphQLBucket, bucketAt: now, nextOrder: 1001, stats: APIStats{Fields: map[string]int{}}}
}

// Shops lists the simulated shop domains, sorted.
func (s *Simulator) Shops() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.shops))
	for d := range s.shops {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// Shop returns the details of a shop, and false for an unknown one.
func (s *Simulator) Shop(domain string) (ShopInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sh := s.shops[domain]
	if sh == nil {
		return ShopInfo{}, false
	}
	return sh.info, true
}

// Handler serves Shopify's endpoints (OAuth, Admin GraphQL, a storefront
// stand-in) and the /_sim/ control surface.
func (s *Simulator) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /admin/oauth/authorize", s.authorize)
	mux.HandleFunc("POST /admin/oauth/authorize", s.approve)
	mux.HandleFunc("POST /admin/oauth/access_token", s.accessToken)
	mux.HandleFunc("POST /admin/api/{version}/graphql.json", s.graphql)
	// Unversioned calls get the oldest supported version at Shopify; here,
	// the same schema.
	mux.HandleFunc("POST /admin/graphql.json", s.graphql)
	s.control(mux)
	s.storefrontRoutes(mux)
	return mux
}

// lookupShop finds the shop a request is for: the Host header when the app
// rewrote the URL and kept the shop as Host (shopify.md §7), else a shop
// query or (parsed) form parameter, since browsers cannot set Host. Callers
// hold s.mu.
func (s *Simulator) lookupShop(r *http.Request) (*shop, string) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	domain := strings.ToLower(host)
	if !strings.HasSuffix(domain, ".myshopify.com") {
		domain = r.URL.Query().Get("shop")
		if domain == "" && r.PostForm != nil {
			domain = r.PostForm.Get("shop")
		}
	}
	return s.shops[domain], domain
}

// nextID returns a fresh number for ids. Callers hold s.mu.
func (s *Simulator) nextID() int64 {
	s.seq++
	return s.seq
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newUUID returns a random (version 4) UUID, the format of Shopify's
// X-Shopify-Event-Id and X-Shopify-Webhook-Id.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// SignQuery returns Shopify's signature of an OAuth redirect or install
// query: the hex HMAC-SHA256, keyed with secret, of the parameters other
// than hmac and signature, sorted by key and joined as k=v with & (values
// not percent-encoded, repeated keys in order). This is the docs' algorithm
// (shopify.md §1.1) and what go-shopify's VerifyAuthorizationURL checks.
// shopify-app-js percent-encodes values first; the two agree for the values
// Shopify sends (hex codes, hostnames, digits, base64url) and for URL-safe
// state nonces.
func SignQuery(q url.Values, secret string) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		if k != "hmac" && k != "signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		for _, v := range q[k] {
			parts = append(parts, k+"="+v)
		}
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strings.Join(parts, "&")))
	return hex.EncodeToString(m.Sum(nil))
}

// hostParam is Shopify's host parameter: base64url of "{shop}/admin",
// which App Bridge decodes to find the admin.
func hostParam(domain string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(domain + "/admin"))
}

// InstallURL returns the signed link Shopify's admin opens when a merchant
// installs or opens the app: {AppURL}/auth/shopify/install with host, shop,
// timestamp and the hmac of SignQuery. The timestamp is the simulator's
// clock, so the app's freshness check (±90 s in shopify-app-js) passes when
// both share a clock.
func (s *Simulator) InstallURL(domain string) string {
	q := url.Values{}
	q.Set("host", hostParam(domain))
	q.Set("shop", domain)
	q.Set("timestamp", strconv.FormatInt(s.cfg.Now().Unix(), 10))
	q.Set("hmac", SignQuery(q, s.cfg.APISecret))
	return s.cfg.AppURL + "/auth/shopify/install?" + q.Encode()
}

// Tokens returns the shop's latest offline access token, its refresh token
// (empty for non-expiring tokens) and the access token's expiry (zero when
// it does not expire); ok is false when the shop has no token (never
// installed, or uninstalled). For tests.
func (s *Simulator) Tokens(domain string) (access, refresh string, accessExpires time.Time, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sh := s.shops[domain]
	if sh == nil || sh.curAccess == "" {
		return "", "", time.Time{}, false
	}
	return sh.curAccess, sh.curRefresh, sh.curExpires, true
}

// RevokeTokens invalidates every access and refresh token of the shop, as
// uninstalling the app does; Admin API calls then answer 401.
func (s *Simulator) RevokeTokens(domain string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sh := s.shops[domain]; sh != nil {
		sh.access, sh.refresh = map[string]*token{}, map[string]*refreshToken{}
		sh.curAccess, sh.curRefresh, sh.curExpires = "", "", time.Time{}
	}
}

// FailNext makes the shop's next n Admin GraphQL calls (past authentication)
// answer 503 Service Unavailable, as Shopify does during incidents.
func (s *Simulator) FailNext(domain string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sh := s.shops[domain]; sh != nil {
		sh.failNext = n
	}
}

// ThrottleNext makes the shop's next n Admin GraphQL calls answer THROTTLED.
// Each one empties the cost bucket first, as a burst from another client of
// the same app would, so the throttleStatus tells the app how long to wait
// (cost / restore rate).
func (s *Simulator) ThrottleNext(domain string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sh := s.shops[domain]; sh != nil {
		sh.throttle = n
	}
}

// Discounts returns the shop's discount codes, oldest first, with their
// status at the simulator's current time: one entry per redeem code, so a
// discount holding many codes (discountRedeemCodeBulkAdd) appears once per
// code, each entry with the discount's id.
func (s *Simulator) Discounts(domain string) []Discount {
	s.mu.Lock()
	defer s.mu.Unlock()
	sh := s.shops[domain]
	if sh == nil {
		return nil
	}
	now := s.cfg.Now()
	s.runBulks(sh, now)
	out := make([]Discount, 0, len(sh.discounts))
	for _, d := range sh.discounts {
		c := d.Discount
		c.Status = d.status(now)
		out = append(out, c)
		for _, r := range d.more {
			c.Code = r.code
			out = append(out, c)
		}
	}
	return out
}

// Deliveries returns the shop's webhook delivery attempts, oldest first (the
// last 1000).
func (s *Simulator) Deliveries(domain string) []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sh := s.shops[domain]; sh != nil {
		return append([]Delivery(nil), sh.deliveries...)
	}
	return nil
}

// Orders returns the shop's orders as REST Order JSON (the webhook body,
// with later cancellations and refunds applied), oldest first.
func (s *Simulator) Orders(domain string) [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	sh := s.shops[domain]
	if sh == nil {
		return nil
	}
	out := make([][]byte, 0, len(sh.orders))
	for _, o := range sh.orders {
		b, _ := json.Marshal(o)
		out = append(out, b)
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeRaw writes a JSON body that is already encoded.
func writeRaw(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// notFound is Shopify's answer for an unknown shop on API endpoints.
func notFound(w http.ResponseWriter) { writeRaw(w, http.StatusNotFound, `{"errors":"Not Found"}`+"\n") }

// gid builds a Shopify global id.
func gid(kind string, id int64) string { return fmt.Sprintf("gid://shopify/%s/%d", kind, id) }
