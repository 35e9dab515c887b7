// Package httpapi is the HTTP adapter: the Gin router, its middleware and the
// handlers for install flows, webhook intake and health. Handlers verify,
// translate and delegate; they hold no business rules.
package httpapi

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/events"
	"github.com/parrain/parrain/app/logging"
	"github.com/parrain/parrain/app/metrics"
	"github.com/parrain/parrain/app/referrals"
	"github.com/parrain/parrain/integrations/shopify"
	"github.com/parrain/parrain/integrations/woocommerce"
)

// Checker reports whether a dependency is reachable, for /readyz.
type Checker func(ctx context.Context) error

// EventNotifier is told about each newly stored webhook event so its job can
// be enqueued off the request path.
type EventNotifier interface {
	Notify(ev app.EventRef)
}

// InstallJobs enqueues the work that follows an install.
type InstallJobs interface {
	ShopInstalled(ctx context.Context, shop *app.Shop) error
}

// ShopifyTokens is the part of Shopify's token endpoint the install flows use.
type ShopifyTokens interface {
	ExchangeCode(ctx context.Context, shop, code string) (app.Credentials, error)
	ExchangeSessionToken(ctx context.Context, shop, sessionToken string) (app.Credentials, error)
}

// Server holds the HTTP layer's dependencies.
type Server struct {
	Log      *slog.Logger
	Now      func() time.Time
	Shops    app.ShopService
	Webhooks app.WebhookService
	Notifier EventNotifier
	Install  InstallJobs
	Ready    map[string]Checker
	Links    ReferralLinks
	Programs Programs
	Limiter  Limiter
	// Milestones reads advocates' milestone progress; nil: no such route.
	Milestones MilestoneReader
	// ClicksPerMinute bounds /r/{code} per IP: enough for a household
	// behind one address, too few to enumerate codes.
	ClicksPerMinute int
	Popups          Popups
	Staff           Staff
	Review          Review
	// Campaigns, when set, serves the campaigns' API and console page.
	Campaigns Campaigns
	// Events manages the merchant's event endpoints.
	Events      *events.Service
	WooInstalls WooInstalls
	// WooHTTP calls WooCommerce stores (nil: woocommerce.NewHTTPClient(false),
	// which refuses non-public addresses at connect time).
	WooHTTP *http.Client
	// WooAllowPrivateStores skips the early address check of the install
	// (development against a simulator on 127.0.0.1); WooHTTP must then
	// allow them too.
	WooAllowPrivateStores bool
	// WooResolver resolves store hosts for that check (nil: the system's).
	WooResolver woocommerce.Resolver
	Console     Console
	// AdvocatePages serves the advocate's page (/a/{token}, the app
	// proxies) and makes its links; nil: not served.
	AdvocatePages AdvocatePages
	// AdvocatePagePerIPPerMinute bounds the page's routes per IP.
	AdvocatePagePerIPPerMinute int
	// WooSecrets checks the WooCommerce plugin's My account links.
	WooSecrets WooSecrets
	// Setup reads from each shop's store what the setup checklist needs;
	// Signals keeps what Parrain itself saw of the setup.
	Setup   app.StoreSetup
	Signals app.SetupSignals
	// PopupScript is the popup's versioned file name (for the preview).
	PopupScript string
	// WidgetAssets serves /widget/{file}.
	WidgetAssets http.Handler
	// WidgetPerIPPerMinute and WidgetPerShopPerMinute bound the widget
	// API: a shopper's page asks a few times, a prober many.
	WidgetPerIPPerMinute   int
	WidgetPerShopPerMinute int
	// MetricsToken guards /metrics; empty means /metrics is not served
	// here (see config.Config.MetricsAddr).
	MetricsToken string
	// OAuthStates consumes Shopify OAuth states (single use).
	OAuthStates OAuthStates

	AppURL        string
	ShopifyKey    string
	ShopifySecret string
	ShopifyScopes string
	ShopifyOrigin shopify.Origin
	// Stores gives each shop's landing URL for referral links.
	Stores interface {
		LandingURL(shop *app.Shop, friendCode, refCode string) string
	}
	ShopifyTokens ShopifyTokens
	// TrustedProxies are the addresses whose X-Forwarded-For is believed.
	TrustedProxies []string
	WebhookMaxBody int64

	// Emails is the outbox and email settings; nil leaves out the email
	// pages and the unsubscribe endpoint. EmailPreview renders samples,
	// EmailKey signs unsubscribe links, EmailEnabled says SMTP is set up.
	Emails       Emails
	EmailPreview EmailPreviewer
	EmailKey     []byte
	EmailEnabled bool

	// Replays runs the replay of a program change (nil: not served).
	Replays *referrals.Replayer

	// Experiments are the A/B tests of the offer.
	Experiments Experiments

	consoleShop *gin.RouterGroup
	shopCache   *shopCache
	// signalled remembers the setup signals this process already
	// recorded, so a busy shop's popups write them once.
	signalled sync.Map
}

// Handler builds the router. Middleware order is deliberate: recovery first
// (nothing escapes), then metrics labelled by route template, then the
// request id and log line, then the one place that maps errors to responses.
func (s *Server) Handler() http.Handler {
	if s.Now == nil {
		s.Now = time.Now
	}
	s.shopCache = newShopCache(30*time.Second, s.Now)
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	// Trust no proxy headers by default: a client-sent X-Forwarded-For
	// would otherwise defeat the per-IP rate limit on /r/{code}.
	_ = r.SetTrustedProxies(s.TrustedProxies)
	r.Use(s.recovery(), s.metrics(), s.requestLog(), s.errors())
	r.HandleMethodNotAllowed = true
	r.NoRoute(func(c *gin.Context) { c.Error(app.Errorf(app.ENOTFOUND, "no such endpoint")) })
	r.NoMethod(func(c *gin.Context) {
		c.AbortWithStatusJSON(http.StatusMethodNotAllowed, gin.H{"error": "method not allowed"})
	})

	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/readyz", s.readyz)
	if s.MetricsToken != "" {
		r.GET("/metrics", gin.WrapH(MetricsHandler(s.MetricsToken)))
	}

	r.GET("/auth/shopify/install", s.shopifyInstall)
	r.GET("/auth/shopify/callback", s.shopifyCallback)
	r.GET("/api/shopify/session", s.shopifySession)
	r.POST("/webhooks/shopify", s.shopifyWebhook)
	r.POST("/webhooks/woocommerce/*shop", s.woocommerceWebhook) // a store in a folder: host/path
	if s.WooInstalls != nil {
		r.GET("/auth/woocommerce/start", s.wooInstallStart)
		r.POST("/auth/woocommerce/callback", s.wooInstallCallback)
		r.GET("/auth/woocommerce/return", s.wooInstallReturn)
	}
	r.GET("/r/:code", s.referralLink)

	if s.WidgetAssets != nil {
		r.GET("/widget/:file", gin.WrapH(s.WidgetAssets))
		r.HEAD("/widget/:file", gin.WrapH(s.WidgetAssets))
	}
	w := r.Group("/api/widget", widgetCORS)
	w.POST("/session", s.widgetSession)
	w.OPTIONS("/session", func(*gin.Context) {})
	r.POST("/proxy/shopify/widget/session", s.proxyWidgetSession)
	if s.AdvocatePages != nil {
		r.GET("/a/:token", s.advocatePage)
		r.GET("/proxy/shopify/advocate", s.proxyAdvocatePage)
		r.GET("/proxy/woocommerce/advocate", s.wooAdvocatePage)
	}

	admin := r.Group("/api/admin", s.requireShopifySession)
	admin.GET("/program", s.getProgram)
	admin.PUT("/program", s.putProgram)

	// The admin API of one shop, for the embedded admin (session token)
	// and the console (session cookie + CSRF): authenticate, then scope
	// to the shop in the path; nothing below reads a shop from elsewhere.
	shopAPI := r.Group("/api/admin/shops/:shop", s.authenticate(false), s.scopeShop)
	shopAPI.GET("/program", s.getProgram)
	shopAPI.PUT("/program", requireAct, s.putProgram)
	shopAPI.GET("/referrals", s.apiQueue)
	shopAPI.GET("/referrals/:id", s.apiReferral)
	shopAPI.POST("/referrals/:id/:action", requireAct, s.apiAction)
	shopAPI.POST("/attributions", requireAct, s.apiAction)
	shopAPI.GET("/attributions/check", s.apiCheckAttribution)
	shopAPI.GET("/whynot", s.apiWhyNot)

	s.milestoneRoutes(shopAPI)
	s.consoleRoutes(r, shopAPI)
	s.campaignRoutes(shopAPI, s.consoleShop)
	s.emailRoutes(r, shopAPI, s.consoleShop)
	s.replayRoutes(admin, shopAPI)
	s.abtestRoutes(shopAPI, s.consoleShop)
	return r
}

func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	out := gin.H{}
	ok := true
	for name, check := range s.Ready {
		if err := check(ctx); err != nil {
			out[name] = "unreachable"
			ok = false
			logging.From(c.Request.Context()).Warn("readiness check failed", "dependency", name, "error", err.Error())
		} else {
			out[name] = "ok"
		}
	}
	if !ok {
		c.JSON(http.StatusServiceUnavailable, out)
		return
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) recovery() gin.HandlerFunc {
	return gin.CustomRecoveryWithWriter(nil, func(c *gin.Context, rec any) {
		logging.From(c.Request.Context()).Error("panic in handler", "panic", slog.AnyValue(rec).String())
		c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": "internal error"})
	})
}

func (s *Server) metrics() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		metrics.HTTPRequests.WithLabelValues(route, c.Request.Method, strconv.Itoa(c.Writer.Status())).Inc()
		metrics.HTTPDuration.WithLabelValues(route, c.Request.Method).Observe(time.Since(start).Seconds())
	}
}

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)

// requestLog gives the request an id (the caller's X-Request-Id when it looks
// sane) and a logger carrying it, and writes one line per request. The line
// has the route template, not the URL: query strings carry HMACs, codes and
// sometimes emails.
func (s *Server) requestLog() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader("X-Request-Id")
		if !requestIDPattern.MatchString(id) {
			b := make([]byte, 8)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		c.Header("X-Request-Id", id)
		log := s.Log.With("request_id", id)
		c.Request = c.Request.WithContext(logging.With(c.Request.Context(), log))
		start := time.Now()
		c.Next()
		level := slog.LevelInfo
		if c.Writer.Status() >= 500 {
			level = slog.LevelError
		}
		log.Log(c.Request.Context(), level, "request",
			"method", c.Request.Method, "route", c.FullPath(), "status", c.Writer.Status(),
			"duration_ms", float64(time.Since(start).Microseconds())/1000)
	}
}

var statusByCode = map[string]int{
	app.EINVALID:      http.StatusBadRequest,
	app.EUNAUTHORIZED: http.StatusUnauthorized,
	app.EFORBIDDEN:    http.StatusForbidden,
	app.ENOTFOUND:     http.StatusNotFound,
	app.ECONFLICT:     http.StatusConflict,
	app.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	app.ERATELIMITED:  http.StatusTooManyRequests,
	app.EUNAVAILABLE:  http.StatusServiceUnavailable,
	app.EINTERNAL:     http.StatusInternalServerError,
}

// errors is the one place that turns a handler's error into a response:
// the code picks the status, the public message is shown, internal detail is
// logged and never sent.
func (s *Server) errors() gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Next()
		if len(c.Errors) == 0 || c.Writer.Written() {
			return
		}
		err := c.Errors.Last().Err
		code := app.ErrorCode(err)
		status, ok := statusByCode[code]
		if !ok {
			status = http.StatusInternalServerError
		}
		log := logging.From(c.Request.Context())
		if status >= 500 {
			log.Error("request failed", "code", code, "error", err.Error())
		} else {
			log.Info("request refused", "code", code, "reason", app.ErrorMessage(err))
		}
		switch status {
		case http.StatusServiceUnavailable:
			c.Header("Retry-After", "5")
		case http.StatusTooManyRequests:
			c.Header("Retry-After", "60")
		}
		body := gin.H{"error": app.ErrorMessage(err), "code": code}
		if f := app.FieldsOf(err); len(f) > 0 {
			body["fields"] = f // each bad field with its problem, for a form
		}
		c.AbortWithStatusJSON(status, body)
	}
}

// fail records err for the error middleware and stops the chain.
func fail(c *gin.Context, err error) {
	_ = c.Error(err)
	c.Abort()
}

// MetricsHandler serves the Prometheus metrics, to requests bearing token
// when it is set (compared in constant time). Metrics name routes, topics
// and failure counts: not for the public (issue 10).
func MetricsHandler(token string) http.Handler {
	h := promhttp.Handler()
	if token == "" {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "metrics need the bearer token (METRICS_TOKEN)", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}
