// Command shopify-sim runs the Shopify simulator (integrations/shopify/shopifysim)
// as a process for `make dev`: OAuth, Admin GraphQL and webhook deliveries for
// a demo shop, plus the control page at /_sim/.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/parrain/parrain/integrations/shopify/shopifysim"
)

func main() {
	addr := flag.String("addr", env("SHOPIFY_SIM_ADDR", "127.0.0.1:8090"), "listen address")
	shop := flag.String("shop", "parrain-demo.myshopify.com", "demo shop created at start")
	auto := flag.Bool("auto-approve", false, "skip the consent page")
	dup := flag.Float64("duplicate-rate", 0.05, "probability that a delivered webhook is sent twice")
	flag.Parse()
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	key, secret := os.Getenv("SHOPIFY_API_KEY"), os.Getenv("SHOPIFY_API_SECRET")
	if key == "" || secret == "" {
		fmt.Fprintln(os.Stderr, "shopify-sim: SHOPIFY_API_KEY and SHOPIFY_API_SECRET must be set (the app's pair)")
		os.Exit(1)
	}
	sim := shopifysim.New(shopifysim.Config{
		APIKey: key, APISecret: secret, AppURL: env("APP_URL", "http://127.0.0.1:8080"),
		AutoApprove: *auto, DuplicateRate: *dup, Logger: log,
	})
	sim.AddShop(*shop, shopifysim.ShopInfo{Name: "Parrain Demo Store", CurrencyCode: "EUR", IanaTimezone: "Europe/Paris", PlanDisplayName: "Basic"})

	srv := &http.Server{Addr: *addr, Handler: sim.Handler(), ReadHeaderTimeout: 5 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	log.Info("shopify simulator listening", "addr", *addr, "shop", *shop)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "shopify-sim:", err)
		os.Exit(1)
	}
}

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
