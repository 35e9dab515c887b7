// Command shopify-sim runs the Shopify simulator
// (integrations/shopify/shopifysim) as a process, for `make dev` and for
// trying the app by hand: OAuth, Admin GraphQL and signed webhook deliveries
// for a demo shop, and the control page at /_sim/.
//
// Usage:
//
//	SHOPIFY_API_KEY=… SHOPIFY_API_SECRET=… shopify-sim [-addr 127.0.0.1:8090] [-shop parrain-demo.myshopify.com] [-auto-approve] [-duplicate-rate 0.05]
//
// The key and secret are the app's pair: the simulator signs what it sends
// with the secret, as Shopify does. APP_URL (default http://127.0.0.1:8080)
// is where webhooks go (APP_URL/webhooks/shopify) and install links point.
// Logs are JSON on stderr; tokens, secrets, codes and query strings are
// never logged.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/parrain/parrain/integrations/shopify/shopifysim"
)

func main() { os.Exit(run(os.Args[1:])) }

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func run(args []string) int {
	fs := flag.NewFlagSet("shopify-sim", flag.ContinueOnError)
	addr := fs.String("addr", env("SHOPIFY_SIM_ADDR", "127.0.0.1:8090"), "listen address (env SHOPIFY_SIM_ADDR)")
	shop := fs.String("shop", "parrain-demo.myshopify.com", "demo shop created at start")
	auto := fs.Bool("auto-approve", false, "skip the consent page: authorize redirects straight back to the app")
	dup := fs.Float64("duplicate-rate", 0.05, "probability in [0,1] that a delivered webhook is sent a second time")
	bucket := fs.Float64("graphql-bucket", 0, "Admin GraphQL cost bucket size (0: Shopify's default); a huge one measures the app, not Shopify's limit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	key, secret := os.Getenv("SHOPIFY_API_KEY"), os.Getenv("SHOPIFY_API_SECRET")
	appURL := env("APP_URL", "http://127.0.0.1:8080")
	switch u, err := url.Parse(appURL); {
	case key == "" || secret == "":
		log.Error("SHOPIFY_API_KEY and SHOPIFY_API_SECRET must be set to the app's pair")
		return 2
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		log.Error("APP_URL must be an http(s) origin", "app_url", appURL)
		return 2
	case *dup < 0 || *dup > 1:
		log.Error("-duplicate-rate must be within [0,1]", "duplicate_rate", *dup)
		return 2
	case !shopifysim.ValidShopDomain(*shop):
		log.Error("-shop must be a name.myshopify.com domain", "shop", *shop)
		return 2
	}

	sim := shopifysim.New(shopifysim.Config{
		APIKey: key, APISecret: secret, AppURL: appURL, AutoApprove: *auto, DuplicateRate: *dup, Logger: log,
		GraphQLBucket: *bucket, GraphQLRestore: *bucket,
	})
	sim.AddShop(*shop, shopifysim.ShopInfo{Name: "Parrain Demo Store", CurrencyCode: "EUR", IanaTimezone: "Europe/Paris", PlanDisplayName: "Basic"})

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Error("listen", "addr", *addr, "error", err.Error())
		return 1
	}
	srv := &http.Server{
		Handler:           logRequests(log, sim.Handler()),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("shopify simulator listening", "addr", ln.Addr().String(), "shop", *shop, "app_url", appURL,
		"control", fmt.Sprintf("http://%s/_sim/", ln.Addr()), "auto_approve", *auto, "duplicate_rate", *dup)

	select {
	case err := <-served:
		if !errors.Is(err, http.ErrServerClosed) {
			log.Error("serve", "error", err.Error())
			return 1
		}
	case <-ctx.Done():
	}
	stop()
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("shutdown", "error", err.Error())
	}
	// Pending webhook retries are abandoned: a restarted simulator has no
	// memory of them, like a Shopify whose retry queue was lost.
	_ = sim.Close()
	log.Info("stopped")
	return 0
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

// WriteHeader records the status for the request log.
func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write records an implicit 200 for the request log.
func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// logRequests logs one line per request: method, path, host, status and
// duration. The query string is left out on purpose: it carries OAuth codes,
// hmacs and session tokens.
func logRequests(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		log.Info("request", "method", r.Method, "path", r.URL.Path, "host", r.Host, "status", sw.status,
			"duration_ms", time.Since(start).Milliseconds())
	})
}
