// Package config reads Parrain's settings from environment variables. Every
// setting is listed in the README with its default; a missing or malformed
// required one stops start-up with one line naming it.
package config

import (
	"fmt"
	"net/mail"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/parrain/parrain/app/secretbox"
	"github.com/parrain/parrain/integrations/smtp"
)

// Config is the whole runtime configuration.
type Config struct {
	ListenAddr  string
	AppURL      *url.URL
	DatabaseURL string
	RedisURL    string
	LogLevel    string

	ShopifyAPIKey     string
	ShopifyAPISecret  string
	ShopifyScopes     string
	ShopifyAPIVersion string
	// ShopifyAPIOrigin, when set, sends every Admin API and OAuth call (and
	// the merchant's browser) to this origin instead of https://{shop}; the
	// shop hostname is kept in the Host header. Only the simulator needs it.
	ShopifyAPIOrigin *url.URL

	Keyring *secretbox.Keyring

	WebhookMaxBody    int64
	WorkerConcurrency int
	// TrustedProxies are load balancers whose X-Forwarded-For is believed.
	TrustedProxies []string
	// ClicksPerMinute bounds /r/{code} hits per IP and minute.
	ClicksPerMinute int
	// WidgetPerIP and WidgetPerShop bound the widget API per minute.
	WidgetPerIP   int
	WidgetPerShop int
	// AdvocatePagePerIP bounds the advocate's page (/a/{token} and its
	// app-proxy doors) per IP and minute.
	AdvocatePagePerIP int
	// AdvocateLinkTTL is how long a signed advocate page link works.
	AdvocateLinkTTL time.Duration
	ShutdownTimeout time.Duration
	// RelayAfter is how long a stored webhook event may wait unenqueued
	// before the relay enqueues it (its direct enqueue failed or the process
	// died in between).
	RelayAfter time.Duration
	// WooAllowPrivateStores lets WooCommerce stores live on loopback,
	// private and link-local addresses. Development and tests only (a
	// simulator on 127.0.0.1): in production it would let anyone make
	// Parrain call the internal network.
	WooAllowPrivateStores bool
	// ApproveEvery is how often due referrals are approved (and lost
	// reward jobs re-queued).
	ApproveEvery time.Duration
	// MetricsToken, when set, serves /metrics on the main listener to
	// requests bearing it (Authorization: Bearer …); unset, /metrics is not
	// served there at all.
	MetricsToken string
	// MetricsAddr, when set, serves /metrics (only) on a listener of its
	// own, for a private network; MetricsToken applies there too if set.
	MetricsAddr string
	// EventsAllowPrivate lets merchants' event endpoints live on loopback
	// and private addresses (EVENTS_ALLOW_PRIVATE_DESTINATIONS). Development
	// and tests only, like WooAllowPrivateStores.
	EventsAllowPrivate bool
	// EventsSweepEvery is how often due event deliveries are queued.
	EventsSweepEvery time.Duration
	// EventsDisableAfter is how long an endpoint may fail before it is
	// disabled (a day; shorter in tests).
	EventsDisableAfter time.Duration

	// SMTPURL is where emails go (smtp://user:pass@host:port?tls=…);
	// empty: Parrain decides messages but sends none (the console says
	// "not emailed: email is not set up").
	SMTPURL string
	// EmailFrom is the sender address; the sender name is the shop's.
	EmailFrom string
	// EmailPerRecipientPerHour and EmailPerShopPerMinute bound sends.
	EmailPerRecipientPerHour int
	EmailPerShopPerMinute    int
	// EmailRelayEvery is how often queued messages are handed to the
	// send job (the outbox relay).
	EmailRelayEvery time.Duration
	// EmailRetryBase is the first retry's delay after an SMTP server's
	// temporary refusal; each next one doubles (up to two hours).
	EmailRetryBase time.Duration
}

// Getenv looks a variable up; os.LookupEnv in production, a map in tests.
type Getenv func(string) (string, bool)

// FromEnv reads the configuration from the process environment.
func FromEnv() (*Config, error) { return Load(os.LookupEnv) }

// Load reads the configuration through getenv. The error names the first
// offending variable and says what is expected, in one line.
func Load(getenv Getenv) (*Config, error) {
	r := reader{getenv: getenv}
	c := &Config{
		ListenAddr:        r.str("LISTEN_ADDR", ":8080"),
		DatabaseURL:       r.str("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/parrain?sslmode=disable"),
		RedisURL:          r.str("REDIS_URL", "redis://127.0.0.1:6379/0"),
		LogLevel:          r.oneOf("LOG_LEVEL", "info", "debug", "info", "warn", "error"),
		ShopifyAPIKey:     r.required("SHOPIFY_API_KEY"),
		ShopifyAPISecret:  r.required("SHOPIFY_API_SECRET"),
		ShopifyScopes:     r.str("SHOPIFY_SCOPES", "read_orders,read_customers,write_discounts,write_app_proxy,read_themes,write_store_credit_account_transactions,read_store_credit_accounts"),
		ShopifyAPIVersion: r.str("SHOPIFY_API_VERSION", "2026-07"),
		WebhookMaxBody:    int64(r.integer("WEBHOOK_MAX_BODY_BYTES", 2<<20, 1024, 64<<20)),
		WorkerConcurrency: r.integer("WORKER_CONCURRENCY", 20, 1, 1000),
		ClicksPerMinute:   r.integer("CLICKS_PER_MINUTE_PER_IP", 30, 1, 1_000_000),
		WidgetPerIP:       r.integer("WIDGET_PER_MINUTE_PER_IP", 30, 1, 1_000_000),
		WidgetPerShop:     r.integer("WIDGET_PER_MINUTE_PER_SHOP", 1200, 1, 10_000_000),
		AdvocatePagePerIP: r.integer("ADVOCATE_PAGE_PER_MINUTE_PER_IP", 30, 1, 1_000_000),
		AdvocateLinkTTL:   time.Duration(r.integer("ADVOCATE_LINK_DAYS", 90, 1, 3650)) * 24 * time.Hour,
		ShutdownTimeout:   r.duration("SHUTDOWN_TIMEOUT", 25*time.Second),
		RelayAfter:        r.duration("WEBHOOK_RELAY_AFTER", 10*time.Second),

		WooAllowPrivateStores: r.boolean("WOOCOMMERCE_ALLOW_PRIVATE_STORES", false),
		ApproveEvery:          r.duration("APPROVE_REFERRALS_EVERY", time.Minute),
		MetricsToken:          r.str("METRICS_TOKEN", ""),
		MetricsAddr:           r.str("METRICS_ADDR", ""),
		EventsAllowPrivate:    r.boolean("EVENTS_ALLOW_PRIVATE_DESTINATIONS", false),
		EventsSweepEvery:      r.duration("EVENTS_SWEEP_EVERY", 5*time.Second),
		EventsDisableAfter:    r.duration("EVENTS_DISABLE_AFTER", 24*time.Hour),

		SMTPURL:                  r.str("SMTP_URL", ""),
		EmailPerRecipientPerHour: r.integer("EMAIL_PER_RECIPIENT_PER_HOUR", 10, 1, 1_000_000),
		EmailPerShopPerMinute:    r.integer("EMAIL_PER_SHOP_PER_MINUTE", 600, 1, 10_000_000),
		EmailRelayEvery:          r.duration("EMAIL_RELAY_EVERY", 2*time.Second),
		EmailRetryBase:           r.duration("EMAIL_RETRY_BASE", 30*time.Second),
	}
	if t := c.MetricsToken; t != "" && len(t) < 16 {
		r.fail("METRICS_TOKEN", "want at least 16 characters (e.g. openssl rand -hex 24)")
	}
	c.AppURL = r.url("APP_URL", "http://127.0.0.1:8080", true)
	if v := r.str("TRUSTED_PROXIES", ""); v != "" {
		for _, p := range strings.Split(v, ",") {
			c.TrustedProxies = append(c.TrustedProxies, strings.TrimSpace(p))
		}
	}
	c.ShopifyAPIOrigin = r.url("SHOPIFY_API_ORIGIN", "", false)
	if c.SMTPURL != "" {
		if _, err := smtp.ParseURL(c.SMTPURL); err != nil {
			// The error never repeats the URL: it may hold a password.
			r.fail("SMTP_URL", err.Error())
		}
	}
	if c.AppURL != nil {
		c.EmailFrom = r.str("EMAIL_FROM", "parrain@"+c.AppURL.Hostname())
		if a, err := mail.ParseAddress(c.EmailFrom); err != nil || a.Name != "" || a.Address != c.EmailFrom {
			r.fail("EMAIL_FROM", fmt.Sprintf("want a bare address like rewards@example.com (the sender name is the shop's), got %q", c.EmailFrom))
		}
	}
	if spec := r.required("ENCRYPTION_KEY"); r.err == nil {
		k, err := secretbox.Parse(spec)
		if err != nil {
			r.fail("ENCRYPTION_KEY", err.Error()+` (generate one with: echo "k1:$(openssl rand -base64 32)")`)
		}
		c.Keyring = k
	}
	if r.err == nil && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		r.fail("DATABASE_URL", "want a postgres:// URL")
	}
	if r.err == nil && !strings.HasPrefix(c.RedisURL, "redis://") && !strings.HasPrefix(c.RedisURL, "rediss://") {
		r.fail("REDIS_URL", "want a redis:// or rediss:// URL")
	}
	if r.err != nil {
		return nil, r.err
	}
	return c, nil
}

type reader struct {
	getenv Getenv
	err    error
}

func (r *reader) fail(name, why string) {
	if r.err == nil {
		r.err = fmt.Errorf("config: %s: %s", name, why)
	}
}

func (r *reader) str(name, def string) string {
	if v, ok := r.getenv(name); ok && strings.TrimSpace(v) != "" {
		return strings.TrimSpace(v)
	}
	return def
}

func (r *reader) required(name string) string {
	v := r.str(name, "")
	if v == "" {
		r.fail(name, "required but not set")
	}
	return v
}

func (r *reader) oneOf(name, def string, allowed ...string) string {
	v := strings.ToLower(r.str(name, def))
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	r.fail(name, fmt.Sprintf("want one of %s, got %q", strings.Join(allowed, ", "), v))
	return def
}

func (r *reader) integer(name string, def, min, max int) int {
	s := r.str(name, "")
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < min || n > max {
		r.fail(name, fmt.Sprintf("want an integer between %d and %d, got %q", min, max, s))
		return def
	}
	return n
}

func (r *reader) boolean(name string, def bool) bool {
	switch s := strings.ToLower(r.str(name, "")); s {
	case "":
		return def
	case "true", "1", "yes":
		return true
	case "false", "0", "no":
		return false
	default:
		r.fail(name, fmt.Sprintf("want true or false, got %q", s))
		return def
	}
}

func (r *reader) duration(name string, def time.Duration) time.Duration {
	s := r.str(name, "")
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		r.fail(name, fmt.Sprintf("want a positive duration like 10s, got %q", s))
		return def
	}
	return d
}

// url parses an absolute http(s) origin-like URL; a trailing slash is dropped.
func (r *reader) url(name, def string, required bool) *url.URL {
	s := strings.TrimRight(r.str(name, def), "/")
	if s == "" {
		if required {
			r.fail(name, "required but not set")
		}
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		r.fail(name, fmt.Sprintf("want an absolute http(s) URL, got %q", s))
		return nil
	}
	return u
}
