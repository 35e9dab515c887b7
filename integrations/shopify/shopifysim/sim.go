// Package shopifysim plays the parts of Shopify that Parrain talks to, over
// real HTTP: OAuth (authorization-code grant with expiring offline tokens,
// refresh with rotation, token exchange), the Admin GraphQL operations the
// app uses (with cost-based throttling) and signed webhook deliveries with
// retries and duplicates. Tests serve it with httptest; `cmd/shopify-sim`
// runs it for `make dev`. It follows shared/platforms/shopify.md and starts
// its payloads from Shopify's own samples (fixtures/).
package shopifysim

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

//go:embed fixtures/*.json
var fixtures embed.FS

// Config configures a Simulator.
type Config struct {
	// APIKey and APISecret are the app's client credentials: the secret signs
	// webhooks, OAuth redirects and session tokens.
	APIKey, APISecret string
	// AppURL is the app's origin; deliveries for topics without an API
	// subscription go to AppURL+"/webhooks/shopify", as TOML app-specific
	// subscriptions and compliance topics do.
	AppURL string
	// AccessTokenTTL is the life of an expiring offline token (default 1h).
	AccessTokenTTL time.Duration
	// RefreshTokenTTL is the life of a refresh token (default 90 days).
	RefreshTokenTTL time.Duration
	// Now is the simulator's clock (default time.Now).
	Now func() time.Time
	// DuplicateRate is the probability that a delivered event is sent a
	// second time with the same X-Shopify-Event-Id.
	DuplicateRate float64
	// RetryBackoff are the delays between attempts after a failure; the
	// default compresses Shopify's 8 retries over 4 hours into 8 short ones.
	RetryBackoff []time.Duration
	// GraphQLBucket and GraphQLRestore are the cost bucket size and restore
	// rate per second (defaults 2000 and 100: the Standard plan).
	GraphQLBucket, GraphQLRestore float64
	// AutoApprove skips the consent page.
	AutoApprove bool
	// HTTPClient delivers webhooks (default: 5 s timeout, no redirects).
	HTTPClient *http.Client
	// Logger receives one line per delivery attempt; tokens are never logged.
	Logger *slog.Logger
}

// ShopInfo describes a simulated shop.
type ShopInfo struct {
	ID              int64
	Name            string
	Email           string
	CurrencyCode    string
	IanaTimezone    string
	PlanDisplayName string
}

// Delivery is one webhook delivery attempt.
type Delivery struct {
	EventID   string
	WebhookID string
	Topic     string
	URL       string
	Attempt   int
	Status    int
	Err       string
	At        time.Time
}

// Discount is a code discount created through discountCodeBasicCreate.
type Discount struct {
	ID     string
	Code   string
	Title  string
	Status string // ACTIVE or EXPIRED (deactivated)
	// Input is the DiscountCodeBasicInput as the app sent it.
	Input map[string]any
}

// Simulator is a fake Shopify for any number of shops.
type Simulator struct {
	cfg   Config
	mu    sync.Mutex
	shops map[string]*shop
	codes map[string]authCode
	gids  int64
	wg    sync.WaitGroup
}

type authCode struct {
	shop    string
	expires time.Time
}

type refreshToken struct {
	token   string
	expires time.Time
	prev    *refreshToken
	dead    bool
}

type subscription struct {
	id, topic, url string
}

type shop struct {
	domain     string
	info       ShopInfo
	access     map[string]time.Time // token → expiry (zero: never)
	refresh    map[string]*refreshToken
	curAccess  string
	curRefresh string
	curExpires time.Time
	subs       []subscription
	discounts  []*Discount
	orders     []map[string]any
	deliveries []Delivery
	bucket     float64
	bucketAt   time.Time
	failNext   int
	throttle   int
	nextOrder  int
}

// New returns a simulator with defaults filled in.
func New(cfg Config) *Simulator {
	if cfg.AccessTokenTTL == 0 {
		cfg.AccessTokenTTL = time.Hour
	}
	if cfg.RefreshTokenTTL == 0 {
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
	if cfg.GraphQLBucket == 0 {
		cfg.GraphQLBucket = 2000
	}
	if cfg.GraphQLRestore == 0 {
		cfg.GraphQLRestore = 100
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	return &Simulator{cfg: cfg, shops: map[string]*shop{}, codes: map[string]authCode{}, gids: 1000}
}

// AddShop creates (or updates) a shop.
func (s *Simulator) AddShop(domain string, info ShopInfo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if info.ID == 0 {
		s.gids++
		info.ID = 548380000 + s.gids
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
	s.shops[domain] = &shop{domain: domain, info: info, access: map[string]time.Time{}, refresh: map[string]*refreshToken{},
		bucket: s.cfg.GraphQLBucket, bucketAt: s.cfg.Now(), nextOrder: 1001}
}

// Shops lists the simulated shop domains.
func (s *Simulator) Shops() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for d := range s.shops {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// Handler serves Shopify's endpoints and the /_sim/ control pages.
func (s *Simulator) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /admin/oauth/authorize", s.authorize)
	mux.HandleFunc("POST /admin/oauth/authorize", s.approve)
	mux.HandleFunc("POST /admin/oauth/access_token", s.accessToken)
	mux.HandleFunc("POST /admin/api/{version}/graphql.json", s.graphql)
	s.control(mux)
	s.storefrontRoutes(mux)
	return mux
}

// shopOf finds the shop a request is for: the Host header when the app
// rewrote the URL (shopify.md §7), else a shop query parameter (browsers).
func (s *Simulator) shopOf(r *http.Request) (*shop, string) {
	host := r.Host
	if i := strings.IndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	domain := host
	if !strings.HasSuffix(domain, ".myshopify.com") {
		domain = r.URL.Query().Get("shop")
		if domain == "" {
			domain = r.FormValue("shop")
		}
	}
	return s.shops[domain], domain
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// signQuery is Shopify's OAuth query signature: hex HMAC-SHA256 of the
// sorted k=v pairs without hmac/signature (shopify.md §1.1).
func signQuery(q url.Values, secret string) string {
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

// InstallURL is the signed link Shopify's admin opens when a merchant
// installs the app: the app URL with shop, timestamp, host and hmac.
func (s *Simulator) InstallURL(domain string) string {
	q := url.Values{}
	q.Set("shop", domain)
	q.Set("timestamp", strconv.FormatInt(s.cfg.Now().Unix(), 10))
	q.Set("host", base64.RawURLEncoding.EncodeToString([]byte(domain+"/admin")))
	q.Set("hmac", signQuery(q, s.cfg.APISecret))
	return s.cfg.AppURL + "/auth/shopify/install?" + q.Encode()
}

// Tokens returns the shop's current token pair.
func (s *Simulator) Tokens(domain string) (access, refresh string, accessExpires time.Time, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sh := s.shops[domain]
	if sh == nil || sh.curAccess == "" {
		return "", "", time.Time{}, false
	}
	return sh.curAccess, sh.curRefresh, sh.curExpires, true
}

// RevokeTokens invalidates every token of the shop (what uninstalling does).
func (s *Simulator) RevokeTokens(domain string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sh := s.shops[domain]; sh != nil {
		sh.access, sh.refresh = map[string]time.Time{}, map[string]*refreshToken{}
		sh.curAccess, sh.curRefresh, sh.curExpires = "", "", time.Time{}
	}
}

// FailNext makes the next n Admin API calls of the shop answer 503.
func (s *Simulator) FailNext(domain string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sh := s.shops[domain]; sh != nil {
		sh.failNext = n
	}
}

// ThrottleNext makes the next n Admin GraphQL calls of the shop answer
// THROTTLED, as a drained cost bucket does.
func (s *Simulator) ThrottleNext(domain string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sh := s.shops[domain]; sh != nil {
		sh.throttle = n
	}
}

// Discounts returns the shop's code discounts.
func (s *Simulator) Discounts(domain string) []Discount {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Discount
	if sh := s.shops[domain]; sh != nil {
		for _, d := range sh.discounts {
			out = append(out, *d)
		}
	}
	return out
}

// Deliveries returns the shop's delivery attempts, oldest first.
func (s *Simulator) Deliveries(domain string) []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sh := s.shops[domain]; sh != nil {
		return append([]Delivery(nil), sh.deliveries...)
	}
	return nil
}

func writeJSONError(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprint(w, body)
}
