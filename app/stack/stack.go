// Package stack assembles a running Parrain from its configuration: the
// database, the queue, the Shopify adapter, the HTTP handler, the dispatcher,
// the relay and the worker. cmd/parrain calls it; integration tests build the
// same stack in-process, so what they test is what runs.
package stack

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/config"
	"github.com/parrain/parrain/app/httpapi"
	"github.com/parrain/parrain/app/popup"
	"github.com/parrain/parrain/app/postgres"
	"github.com/parrain/parrain/app/ratelimit"
	"github.com/parrain/parrain/app/referrals"
	"github.com/parrain/parrain/app/review"
	"github.com/parrain/parrain/app/staff"
	"github.com/parrain/parrain/app/storebudget"
	"github.com/parrain/parrain/integrations/shopify"
	"github.com/parrain/parrain/integrations/woocommerce"
	"github.com/parrain/parrain/jobs"
	"github.com/parrain/parrain/widget"
)

// Stack is the assembled application.
type Stack struct {
	Config   *config.Config
	Log      *slog.Logger
	Now      func() time.Time
	DB       *postgres.DB
	Webhooks *postgres.WebhookService
	Redis    *redis.Client
	Queue    *asynq.Client
	// Jobs enqueues row-derived tasks, reviving archived ones.
	Jobs     *jobs.Client
	RedisOpt asynq.RedisConnOpt
	Tokens   *shopify.Tokens
	Admin    *shopify.Admin
	// WooHTTP is the client of every call to a WooCommerce store: it
	// refuses non-public addresses unless WOOCOMMERCE_ALLOW_PRIVATE_STORES.
	WooHTTP *http.Client

	// AfterStoreCall is a fault-injection hook for crash tests (see
	// referrals.Engine.AfterStoreCall); nil in production.
	AfterStoreCall func()

	dispatcher   *jobs.Dispatcher
	widgetAssets *widget.Assets
	closeOnce    sync.Once
}

// New connects to Postgres (and refuses to go on while migrations are
// pending) and prepares the Redis clients. Redis is not required to be up:
// the intake keeps accepting webhooks without it.
func New(ctx context.Context, cfg *config.Config, log *slog.Logger) (*Stack, error) {
	db, err := postgres.Open(ctx, cfg.DatabaseURL, cfg.Keyring)
	if err != nil {
		return nil, err
	}
	if err := db.CheckMigrations(ctx); err != nil {
		db.Close()
		return nil, err
	}
	redisOpt, err := asynq.ParseRedisURI(cfg.RedisURL)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("config: REDIS_URL: %w", err)
	}
	ropt, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("config: REDIS_URL: %w", err)
	}
	assets, err := widget.NewAssets()
	if err != nil {
		db.Close()
		return nil, err
	}
	origin := shopify.Origin{Override: cfg.ShopifyAPIOrigin}
	s := &Stack{
		widgetAssets: assets,
		Config:       cfg, Log: log, Now: time.Now, DB: db,
		Webhooks: db.NewWebhookService(2, 64),
		Redis:    redis.NewClient(ropt),
		Queue:    asynq.NewClient(redisOpt),
		Jobs:     &jobs.Client{Inspector: asynq.NewInspector(redisOpt)},
		RedisOpt: redisOpt,
		Admin:    shopify.NewAdmin(cfg.ShopifyAPIKey, cfg.ShopifyAPISecret, cfg.ShopifyAPIVersion, origin),
		WooHTTP:  woocommerce.NewHTTPClient(cfg.WooAllowPrivateStores),
	}
	tc := shopify.NewTokenClient(cfg.ShopifyAPIKey, cfg.ShopifyAPISecret, origin)
	tc.Now = s.now // expiries are computed on the same clock that checks them
	s.Tokens = &shopify.Tokens{Store: db.Shops(), Client: tc, Now: s.now, Margin: 10 * time.Minute}
	// Every process shares each shop's model of Shopify's cost bucket.
	s.Admin.Budget = &storebudget.Bucket{Redis: s.Redis}
	s.Jobs.Client = s.Queue
	s.dispatcher = jobs.NewDispatcher(s.Jobs, 4, log)
	return s, nil
}

func (s *Stack) now() time.Time { return s.Now() }

// platformStores sends each shop's store calls to its platform's adapter.
type platformStores map[app.Platform]app.StorePlatform

func (p platformStores) of(shop *app.Shop) (app.StorePlatform, error) {
	if st, ok := p[shop.Platform]; ok {
		return st, nil
	}
	return nil, app.Errorf(app.EINVALID, "no store adapter for platform %q", shop.Platform)
}

func (p platformStores) CreateDiscount(ctx context.Context, shop *app.Shop, d app.DiscountSpec) (string, error) {
	st, err := p.of(shop)
	if err != nil {
		return "", err
	}
	return st.CreateDiscount(ctx, shop, d)
}

func (p platformStores) DeactivateDiscount(ctx context.Context, shop *app.Shop, code string) error {
	st, err := p.of(shop)
	if err != nil {
		return err
	}
	return st.DeactivateDiscount(ctx, shop, code)
}

func (p platformStores) FetchOrder(ctx context.Context, shop *app.Shop, orderID string) (*app.FetchedOrder, error) {
	st, err := p.of(shop)
	if err != nil {
		return nil, err
	}
	return st.FetchOrder(ctx, shop, orderID)
}

func (p platformStores) CustomerOrderCount(ctx context.Context, shop *app.Shop, customerID string) (int, error) {
	st, err := p.of(shop)
	if err != nil {
		return 0, err
	}
	return st.CustomerOrderCount(ctx, shop, customerID)
}

// SetupChecks asks the shop's adapter what it can read of the merchant's
// setup; an adapter that reads nothing answers no checks.
func (p platformStores) SetupChecks(ctx context.Context, shop *app.Shop) ([]app.SetupCheck, error) {
	st, err := p.of(shop)
	if err != nil {
		return nil, err
	}
	if l, ok := st.(storebudget.Limited); ok {
		st = l.StorePlatform
	}
	if r, ok := st.(app.StoreSetup); ok {
		return r.SetupChecks(ctx, shop)
	}
	return nil, nil
}

func (p platformStores) LandingURL(shop *app.Shop, friendCode, refCode string) string {
	st, err := p.of(shop)
	if err != nil {
		return ""
	}
	return st.LandingURL(shop, friendCode, refCode)
}

func merge(maps ...map[string]jobs.TopicHandler) map[string]jobs.TopicHandler {
	out := map[string]jobs.TopicHandler{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// WooCommerce is the WooCommerce stores' setup, health and poll.
func (s *Stack) WooCommerce() *jobs.WooCommerceMaintain {
	return &jobs.WooCommerceMaintain{
		Shops: s.DB.Shops(), Clients: woocommerce.ShopClients{Shops: s.DB.Shops(), HTTP: s.WooHTTP}, Engine: s.Engine(),
		Notices: s.DB.Console(), AppURL: strings.TrimRight(s.Config.AppURL.String(), "/"), Now: s.now,
	}
}

// Staff is the console's accounts service.
func (s *Stack) Staff() *staff.Service { return &staff.Service{Store: s.DB.Console(), Now: s.now} }

// HTTPHandler returns the web process's handler.
func (s *Stack) HTTPHandler() http.Handler {
	srv := &httpapi.Server{
		Log: s.Log, Now: s.now, Shops: s.DB.Shops(), Webhooks: s.Webhooks, Notifier: s.dispatcher,
		Install:  jobs.InstallQueue{Queue: s.Queue},
		Links:    s.DB.Referrals(),
		Stores:   s.stores(),
		Programs: s.DB.Referrals(),
		Limiter:  &ratelimit.Limiter{Redis: s.Redis, Now: s.now},
		Ready: map[string]httpapi.Checker{
			"postgres": s.DB.Ping,
			"redis":    func(ctx context.Context) error { return s.Redis.Ping(ctx).Err() },
		},
		AppURL:          s.Config.AppURL.String(),
		ShopifyKey:      s.Config.ShopifyAPIKey,
		ShopifySecret:   s.Config.ShopifyAPISecret,
		ShopifyScopes:   s.Config.ShopifyScopes,
		ShopifyOrigin:   shopify.Origin{Override: s.Config.ShopifyAPIOrigin},
		ShopifyTokens:   s.Tokens.Client,
		WebhookMaxBody:  s.Config.WebhookMaxBody,
		ClicksPerMinute: s.Config.ClicksPerMinute,
		TrustedProxies:  s.Config.TrustedProxies,
		Popups: &popup.Service{Data: s.DB.Referrals(), LinkBase: strings.TrimRight(s.Config.AppURL.String(), "/"),
			Fetch: &httpapi.OrderFetcher{Store: s.stores(), Webhooks: s.Webhooks, Notifier: s.dispatcher}},
		WidgetAssets:           s.widgetAssets,
		Staff:                  s.Staff(),
		Review:                 &review.Service{Store: s.DB.Console(), Engine: s.Engine(), Rewards: jobs.RewardQueue{Queue: s.Jobs}, Now: s.now},
		Console:                s.DB.Console(),
		Setup:                  s.stores(),
		Signals:                s.DB.Console(),
		WooInstalls:            s.DB.Shops(),
		WooHTTP:                s.WooHTTP,
		WooAllowPrivateStores:  s.Config.WooAllowPrivateStores,
		PopupScript:            s.widgetAssets.PopupName,
		WidgetPerIPPerMinute:   s.Config.WidgetPerIP,
		WidgetPerShopPerMinute: s.Config.WidgetPerShop,
		MetricsToken:           s.Config.MetricsToken,
		OAuthStates:            s.DB.Shops(),
	}
	return srv.Handler()
}

// Relay returns the relay that enqueues stored-but-unqueued webhook events.
func (s *Stack) Relay(interval time.Duration) *jobs.Relay {
	return &jobs.Relay{Queue: s.Jobs, Webhooks: s.Webhooks, Log: s.Log, Now: s.now, After: s.Config.RelayAfter, Interval: interval, Revisit: 10 * time.Minute,
		Marker: jobs.RedisMarker{Redis: s.Redis, Key: jobs.RelayMarkerKey}}
}

// Mux returns the worker's task routes.
func (s *Stack) Mux() *asynq.ServeMux {
	shops := s.DB.Shops()
	mux := asynq.NewServeMux()
	mux.Use(jobs.Instrument(s.Log))
	engine := s.Engine()
	rewards := jobs.RewardQueue{Queue: s.Jobs}
	mux.Handle(jobs.TypeProcessWebhook, &jobs.WebhookProcessor{
		Webhooks: s.Webhooks, Shops: shops, Now: s.now,
		Topics: merge(jobs.ShopifyTopics(shops, s.DB.Compliance(), engine, &shopify.Store{Admin: s.Admin, Tokens: s.Tokens}, s.now), jobs.WooCommerceTopics(engine)),
	})
	mux.Handle(jobs.TypeIssueReward, &jobs.IssueReward{Engine: engine})
	mux.Handle(jobs.TypeApproveReferrals, &jobs.ApproveReferrals{Engine: engine, Stuck: s.DB.Referrals(), Rewards: rewards, Now: s.now,
		LostAfter: max(s.Config.RelayAfter, s.Config.ApproveEvery)})
	woo := s.WooCommerce()
	mux.Handle(jobs.TypeSyncShop, &jobs.SyncShop{
		Shops: shops, Admin: s.Admin, Tokens: s.Tokens, Programs: s.DB.Referrals(), WebhookURL: s.Config.AppURL.String() + "/webhooks/shopify",
		WooCommerce: woo,
	})
	mux.Handle(jobs.TypeWooCommerceMaintain, woo)
	mux.Handle(jobs.TypeResyncShops, &jobs.ResyncShops{Shops: shops, Install: jobs.InstallQueue{Queue: s.Queue}})
	mux.Handle(jobs.TypeRefreshTokens, &jobs.RefreshTokens{Shops: shops, Tokens: s.Tokens, Now: s.now, Ahead: s.Tokens.Margin})
	return mux
}

// stores sends each shop's store calls to its platform's adapter.
func (s *Stack) stores() platformStores {
	return platformStores{
		app.PlatformShopify: &shopify.Store{Admin: s.Admin, Tokens: s.Tokens, Origin: shopify.Origin{Override: s.Config.ShopifyAPIOrigin},
			Absent: &storebudget.Notes{Redis: s.Redis}, APIKey: s.Config.ShopifyAPIKey},
		// At most 3 calls in flight per WooCommerce store, across every
		// worker: a shared host answers bursts with 429s.
		app.PlatformWooCommerce: storebudget.Limited{
			StorePlatform: &woocommerce.Store{Clients: woocommerce.ShopClients{Shops: s.DB.Shops(), HTTP: s.WooHTTP}},
			Sem:           &storebudget.Semaphore{Redis: s.Redis, Limit: 3},
		},
	}
}

// Engine returns the referral engine wired to Postgres, the Shopify store
// and the reward queue.
func (s *Stack) Engine() *referrals.Engine {
	key := hmac.New(sha256.New, []byte(s.Config.ShopifyAPISecret))
	key.Write([]byte("parrain reward codes v1"))
	return &referrals.Engine{
		Repo: s.DB.Referrals(), Shops: s.DB.Shops(),
		Store:   s.stores(),
		Rewards: jobs.RewardQueue{Queue: s.Jobs}, Now: s.now, CodeKey: key.Sum(nil), AfterStoreCall: s.AfterStoreCall,
	}
}

// RunWorker processes jobs and runs the scheduler until ctx is done, then
// stops taking work and waits for in-flight jobs (up to ShutdownTimeout).
func (s *Stack) RunWorker(ctx context.Context) error {
	srv := jobs.NewServer(s.RedisOpt, s.Config.WorkerConcurrency, s.Config.ShutdownTimeout, s.Log)
	if err := srv.Start(s.Mux()); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	sched := asynq.NewScheduler(s.RedisOpt, &asynq.SchedulerOpts{Logger: nil, LogLevel: asynq.WarnLevel})
	for _, e := range []struct {
		cron string
		task *asynq.Task
	}{
		{jobs.RefreshTokensCron, jobs.NewRefreshTokensTask()},
		{jobs.ResyncShopsCron, jobs.NewResyncShopsTask()},
		{"@every " + s.Config.ApproveEvery.String(), jobs.NewApproveReferralsTask()},
		{jobs.WooCommerceMaintainCron, jobs.NewWooCommerceMaintainTask()},
	} {
		cron, task := e.cron, e.task
		if _, err := sched.Register(cron, task); err != nil {
			srv.Shutdown()
			return fmt.Errorf("register schedule %s: %w", task.Type(), err)
		}
	}
	if err := sched.Start(); err != nil {
		srv.Shutdown()
		return fmt.Errorf("start scheduler: %w", err)
	}
	<-ctx.Done()
	sched.Shutdown()
	srv.Shutdown()
	return nil
}

// Serve runs the HTTP server and the relay until ctx is done, then lets
// in-flight requests finish (up to ShutdownTimeout).
func (s *Stack) Serve(ctx context.Context, addr string) error {
	hs := &http.Server{Addr: addr, Handler: s.HTTPHandler(), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.ListenAndServe() }()
	if addr := s.Config.MetricsAddr; addr != "" {
		ms := &http.Server{Addr: addr, Handler: httpapi.MetricsHandler(s.Config.MetricsToken), ReadHeaderTimeout: 5 * time.Second}
		go func() {
			if err := ms.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("metrics listener: %w", err)
			}
		}()
		defer ms.Close()
		s.Log.Info("metrics listening", "addr", addr)
	}
	rctx, stopRelay := context.WithCancel(ctx)
	defer stopRelay()
	go s.Relay(2 * time.Second).Run(rctx)
	s.Log.Info("http listening", "addr", addr, "app_url", s.Config.AppURL.String())
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.Config.ShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http shutdown: %w", err)
	}
	return nil
}

// Close flushes the dispatcher and insert stage, then closes connections.
// Call it after Serve and RunWorker have returned.
func (s *Stack) Close() {
	s.closeOnce.Do(func() {
		s.dispatcher.Close()
		s.Webhooks.Close()
		s.Queue.Close()
		s.Jobs.Inspector.Close()
		s.Redis.Close()
		s.DB.Close()
	})
}
