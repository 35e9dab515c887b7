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
	"github.com/parrain/parrain/app/advocatepage"
	"github.com/parrain/parrain/app/campaigns"
	"github.com/parrain/parrain/app/config"
	"github.com/parrain/parrain/app/email"
	"github.com/parrain/parrain/app/events"
	"github.com/parrain/parrain/app/experiment"
	"github.com/parrain/parrain/app/friendcodes"
	"github.com/parrain/parrain/app/httpapi"
	"github.com/parrain/parrain/app/popup"
	"github.com/parrain/parrain/app/postgres"
	"github.com/parrain/parrain/app/ratelimit"
	"github.com/parrain/parrain/app/referrals"
	"github.com/parrain/parrain/app/review"
	"github.com/parrain/parrain/app/staff"
	"github.com/parrain/parrain/app/storebudget"
	"github.com/parrain/parrain/integrations/shopify"
	"github.com/parrain/parrain/integrations/smtp"
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
	// EventSender posts events to merchants' endpoints: it refuses
	// non-public addresses unless EVENTS_ALLOW_PRIVATE_DESTINATIONS.
	EventSender events.Sender
	// EventSchedule, when set, replaces the retry schedule (tests).
	EventSchedule []time.Duration

	// AfterStoreCall is a fault-injection hook for crash tests (see
	// referrals.Engine.AfterStoreCall); nil in production.
	AfterStoreCall func()
	// AfterEmailSend is the same for emails: it runs after the SMTP server
	// accepted a message and before the outbox row is marked sent.
	AfterEmailSend func()
	// AdvocateLinks replaces the advocate's page link every email carries
	// (nil: the advocate's page, AdvocatePages); set before the worker
	// starts.
	AdvocateLinks email.AdvocateLinker
	// AfterFriendBatchSent is a fault-injection hook for crash tests (see
	// friendcodes.Flusher.AfterSend); nil in production.
	AfterFriendBatchSent func()

	dispatcher *jobs.Dispatcher
	// dispatchRedis carries the dispatcher's enqueues.
	dispatchRedis *jobs.PipelinedRedis
	campaigns     *campaigns.Service
	widgetAssets  *widget.Assets
	closeOnce     sync.Once

	// flushWindows: the friend-code flush windows this process queued.
	flushWindows jobs.FlushWindows
	// orderGate: one event of an order at a time in this process.
	orderGate referrals.OrderGate
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
	db.SetClickIPKey(cfg.ShopifyAPISecret)
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

		EventSender: events.NewHTTPSender(cfg.EventsAllowPrivate),
	}
	tc := shopify.NewTokenClient(cfg.ShopifyAPIKey, cfg.ShopifyAPISecret, origin)
	tc.Now = s.now // expiries are computed on the same clock that checks them
	s.Tokens = &shopify.Tokens{Store: db.Shops(), Client: tc, Now: s.now, Margin: 10 * time.Minute}
	// Every process shares each shop's model of Shopify's cost bucket.
	s.Admin.Budget = &storebudget.Bucket{Redis: s.Redis}
	s.Jobs.Client = s.Queue
	s.Jobs.Redis = s.Redis
	// The dispatcher's enqueues share round trips to Redis: its workers'
	// concurrent enqueues go as one pipeline (jobs.PipelinedRedis), so
	// more workers mean fuller pipelines, not more connections.
	s.dispatchRedis = jobs.NewPipelinedRedis(ropt, 64)
	s.dispatcher = jobs.NewDispatcher(&jobs.Client{Client: asynq.NewClientFromRedisClient(s.dispatchRedis), Inspector: s.Jobs.Inspector, Redis: s.Redis}, 32, log)
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

func (p platformStores) OrderAdminURL(shop *app.Shop, orderID string) string {
	if st, err := p.of(shop); err == nil {
		return st.OrderAdminURL(shop, orderID)
	}
	return ""
}

func (p platformStores) CustomerAdminURL(shop *app.Shop, customerID string) string {
	if st, err := p.of(shop); err == nil {
		return st.CustomerAdminURL(shop, customerID)
	}
	return ""
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

func (p platformStores) FriendBatchLimit(shop *app.Shop) int {
	st, err := p.of(shop)
	if err != nil {
		return 1
	}
	return st.FriendBatchLimit(shop)
}

func (p platformStores) AddFriendCodes(ctx context.Context, shop *app.Shop, offer app.FriendOffer, codes []string) (app.BulkAdd, error) {
	st, err := p.of(shop)
	if err != nil {
		return app.BulkAdd{}, err
	}
	return st.AddFriendCodes(ctx, shop, offer, codes)
}

func (p platformStores) FriendCodesAdded(ctx context.Context, shop *app.Shop, offer app.FriendOffer, operation string, codes []string) (app.BulkAdd, error) {
	st, err := p.of(shop)
	if err != nil {
		return app.BulkAdd{}, err
	}
	return st.FriendCodesAdded(ctx, shop, offer, operation, codes)
}

func (p platformStores) RemoveFriendCode(ctx context.Context, shop *app.Shop, offer app.FriendOffer, code string) error {
	st, err := p.of(shop)
	if err != nil {
		return err
	}
	return st.RemoveFriendCode(ctx, shop, offer, code)
}

// FriendOfferUpdaterFor gives the shop's adapter's way to change its
// friend discounts for a campaign (app/campaigns.Sync), if it has one.
func (p platformStores) FriendOfferUpdaterFor(shop *app.Shop) (app.FriendOfferUpdater, bool) {
	st, err := p.of(shop)
	if err != nil {
		return nil, false
	}
	u, ok := st.(app.FriendOfferUpdater)
	return u, ok
}

func (p platformStores) StoreCreditSupport(shop *app.Shop) error {
	st, err := p.of(shop)
	if err != nil {
		return err
	}
	return st.StoreCreditSupport(shop)
}

func (p platformStores) CreditStoreCredit(ctx context.Context, shop *app.Shop, c app.StoreCredit) (string, error) {
	st, err := p.of(shop)
	if err != nil {
		return "", err
	}
	return st.CreditStoreCredit(ctx, shop, c)
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

// Events is the merchant's side of events: endpoints and delivery logs.
func (s *Stack) Events() *events.Service {
	return &events.Service{Store: s.DB.Events(), AllowPrivate: s.Config.EventsAllowPrivate}
}

// EventDeliverer makes delivery attempts.
func (s *Stack) EventDeliverer() *events.Deliverer {
	return &events.Deliverer{Store: s.DB.Events(), Sender: s.EventSender, Now: s.now, Schedule: s.EventSchedule,
		DisableAfter: s.Config.EventsDisableAfter}
}

// EventSweep queues due deliveries.
func (s *Stack) EventSweep() *jobs.SweepEvents {
	return &jobs.SweepEvents{Store: s.DB.Events(), Queue: s.Jobs, Now: s.now}
}

// Staff is the console's accounts service.
func (s *Stack) Staff() *staff.Service { return &staff.Service{Store: s.DB.Console(), Now: s.now} }

// HTTPHandler returns the web process's handler.
func (s *Stack) HTTPHandler() http.Handler {
	srv := &httpapi.Server{
		Log: s.Log, Now: s.now, Shops: s.DB.Shops(), Webhooks: s.Webhooks, Notifier: s.dispatcher, Milestones: s.DB.Referrals(),
		Install:  jobs.InstallQueue{Queue: s.Queue},
		Links:    s.DB.Referrals(),
		Stores:   s.stores(),
		Programs: s.DB.Referrals(),
		Replays:  &referrals.Replayer{Store: s.DB.Replays(), Programs: s.DB.Referrals(), Now: s.now},
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
		Popups: &popup.Service{Data: s.DB.Referrals(), LinkBase: strings.TrimRight(s.Config.AppURL.String(), "/"), NoEmail: s.Config.SMTPURL == "",
			Fetch: &httpapi.OrderFetcher{Store: s.stores(), Webhooks: s.Webhooks, Notifier: s.dispatcher}, Campaigns: s.Campaigns(),
			InForce: s.Engine().ProgramFor},
		Campaigns:    s.Campaigns(),
		WidgetAssets: s.widgetAssets,
		Staff:        s.Staff(),
		Review: &review.Service{Store: s.DB.Console(), Engine: s.Engine(), Rewards: jobs.RewardQueue{Queue: s.Jobs}, Now: s.now,
			Links: s.stores()},
		Console:                    s.DB.Console(),
		Setup:                      s.stores(),
		Signals:                    s.DB.Console(),
		Events:                     s.Events(),
		WooInstalls:                s.DB.Shops(),
		WooHTTP:                    s.WooHTTP,
		WooAllowPrivateStores:      s.Config.WooAllowPrivateStores,
		PopupScript:                s.widgetAssets.PopupName,
		WidgetPerIPPerMinute:       s.Config.WidgetPerIP,
		WidgetPerShopPerMinute:     s.Config.WidgetPerShop,
		MetricsToken:               s.Config.MetricsToken,
		OAuthStates:                s.DB.Shops(),
		Emails:                     s.DB.Emails(),
		EmailPreview:               s.emailPreviewer(),
		EmailKey:                   s.emailKey(),
		EmailEnabled:               s.Config.SMTPURL != "",
		AdvocatePages:              s.AdvocatePages(),
		AdvocatePagePerIPPerMinute: s.Config.AdvocatePagePerIP,
		WooSecrets:                 wooSecrets{s.DB.Shops()},
		Experiments:                &experiment.Service{Store: s.DB.Experiments(), Programs: s.DB.Referrals()},
	}
	return srv.Handler()
}

// advocateLinks is what emails link to: the advocate's page unless a test
// set AdvocateLinks.
func (s *Stack) advocateLinks() email.AdvocateLinker {
	if s.AdvocateLinks != nil {
		return s.AdvocateLinks
	}
	return s.AdvocatePages()
}

// AdvocatePages is the advocate's page: its links (AdvocateURL, for emails
// and the console), revocation, and the page itself.
func (s *Stack) AdvocatePages() *advocatepage.Service {
	return &advocatepage.Service{Data: s.DB.Referrals(), Shops: s.DB.Shops(), Keys: s.Config.Keyring,
		LinkBase: strings.TrimRight(s.Config.AppURL.String(), "/"), LinkTTL: s.Config.AdvocateLinkTTL, Now: s.now, Campaigns: s.Campaigns(),
		InForce: s.Engine().ProgramFor}
}

// wooSecrets gives the WooCommerce plugin's shared secret: the shop's
// webhook secret, which the plugin reads from the store's Parrain webhooks.
type wooSecrets struct{ shops *postgres.ShopService }

func (w wooSecrets) WooWebhookSecret(ctx context.Context, shop *app.Shop) (string, error) {
	secret, _, err := woocommerce.ShopWebhookSecret(ctx, w.shops, shop.ID, shop.Domain)
	return secret, err
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
	mux.Handle(jobs.TypeDeliverEvent, &jobs.DeliverEvent{Deliverer: s.EventDeliverer()})
	mux.Handle(jobs.TypeSweepEvents, s.EventSweep())
	if mail := s.Emails(); mail != nil {
		mux.Handle(jobs.TypeSendEmail, &jobs.SendEmail{Emails: mail, RetryBase: s.Config.EmailRetryBase})
	}
	mux.Handle(jobs.TypeScheduleEmails, &jobs.ScheduleEmails{Store: s.DB.Emails(), Now: s.now})
	mux.Handle(jobs.TypeApproveReferrals, &jobs.ApproveReferrals{Engine: engine, Stuck: s.DB.Referrals(), Rewards: rewards, Now: s.now,
		LostAfter: max(s.Config.RelayAfter, s.Config.ApproveEvery), FriendCodes: s.DB.FriendCodes(), FriendCodesQueue: s.FriendCodeQueue()})
	mux.Handle(jobs.TypeSyncCampaign, &jobs.SyncCampaign{Sync: s.CampaignSync()})
	mux.Handle(jobs.TypeSweepCampaigns, &jobs.SweepCampaigns{Shops: s.DB.Campaigns(), Queue: s.campaignQueue(), Now: s.now})
	mux.Handle(jobs.TypeFlushFriendCodes, &jobs.FlushFriendCodes{Flusher: s.FriendCodeFlusher(), Queue: s.FriendCodeQueue()})
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

// FriendCodeQueue queues a shop's friend-code flush.
func (s *Stack) FriendCodeQueue() jobs.FriendCodeQueue {
	return jobs.FriendCodeQueue{Queue: s.Jobs, Now: time.Now, Queued: &s.flushWindows}
}

// FriendCodeFlusher is the batching stage of friend codes, wired to
// Postgres and each shop's store.
func (s *Stack) FriendCodeFlusher() *friendcodes.Flusher {
	return &friendcodes.Flusher{Repo: s.DB.FriendCodes(), Store: s.stores(), Shops: s.DB.Shops(), AfterSend: s.AfterFriendBatchSent}
}

func (s *Stack) campaignQueue() jobs.CampaignQueue {
	return jobs.CampaignQueue{Queue: s.Jobs, Now: s.now}
}

// Campaigns is the merchant's campaigns; what shoppers read asks it for
// the campaign in force (cached briefly).
func (s *Stack) Campaigns() *campaigns.Service {
	if s.campaigns == nil {
		s.campaigns = &campaigns.Service{Repo: s.DB.Campaigns(), Programs: s.DB.Referrals(), Changes: s.campaignQueue(), Now: s.now}
	}
	return s.campaigns
}

// CampaignSync sets the store's friend discounts to the campaign in force.
func (s *Stack) CampaignSync() *campaigns.Sync {
	return &campaigns.Sync{Repo: s.DB.Campaigns(), Store: s.stores(), Shops: s.DB.Shops(), Now: s.now}
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
		FriendCodes: s.FriendCodeQueue(), Milestones: s.DB.Referrals(), Orders: &s.orderGate,
		// The A/B arm first, then the campaign in force when the friend
		// ordered shapes the arm's offer.
		Offers: []referrals.OfferPolicy{&experiment.Policy{Store: s.DB.Experiments()}, campaigns.Policy{Repo: s.DB.Campaigns()}},
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
		{"@every " + s.Config.EventsSweepEvery.String(), jobs.NewSweepEventsTask()},
		{jobs.ScheduleEmailsCron, jobs.NewScheduleEmailsTask()},
		{jobs.SweepCampaignsCron, jobs.NewSweepCampaignsTask()},
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
	relayDone := make(chan struct{})
	go func() {
		defer close(relayDone)
		if r := s.EmailRelay(); r != nil {
			r.Run(ctx)
		}
	}()
	<-ctx.Done()
	<-relayDone
	sched.Shutdown()
	srv.Shutdown()
	return nil
}

// emailKey derives the key of unsubscribe links from the app secret.
func (s *Stack) emailKey() []byte {
	key := hmac.New(sha256.New, []byte(s.Config.ShopifyAPISecret))
	key.Write([]byte("parrain email links v1"))
	return key.Sum(nil)
}

// Emails is the email sender, or nil when SMTP_URL is not set: messages
// are then decided (the outbox) but not sent.
func (s *Stack) Emails() *email.Service {
	if s.Config.SMTPURL == "" {
		return nil
	}
	server, err := smtp.ParseURL(s.Config.SMTPURL)
	if err != nil {
		return nil // config.Load refused it already
	}
	return &email.Service{
		Store: s.DB.Emails(), Sender: &smtp.Sender{Server: server, HELO: s.Config.AppURL.Hostname()},
		Links: s.advocateLinks(), Limiter: &ratelimit.Limiter{Redis: s.Redis, Now: s.now}, Now: s.now,
		FromAddr: s.Config.EmailFrom, AppURL: s.Config.AppURL.String(), TokenKey: s.emailKey(),
		PerRecipientPerHour: s.Config.EmailPerRecipientPerHour, PerShopPerMinute: s.Config.EmailPerShopPerMinute,
		AfterSend: s.AfterEmailSend, Campaigns: s.Campaigns(), InForce: s.Engine().ProgramFor,
	}
}

// emailPreviewer renders samples, SMTP or not.
func (s *Stack) emailPreviewer() *email.Service {
	if e := s.Emails(); e != nil {
		return e
	}
	return &email.Service{Store: s.DB.Emails(), Links: s.AdvocateLinks, Now: s.now, FromAddr: s.Config.EmailFrom,
		AppURL: s.Config.AppURL.String(), TokenKey: s.emailKey(), Campaigns: s.Campaigns(),
		InForce: s.Engine().ProgramFor}
}

// EmailRelay queues the outbox's messages; nil without SMTP.
func (s *Stack) EmailRelay() *jobs.EmailRelay {
	if s.Config.SMTPURL == "" {
		return nil
	}
	return &jobs.EmailRelay{Store: s.DB.Emails(), Queue: jobs.EmailQueue{Queue: s.Queue}, Interval: s.Config.EmailRelayEvery,
		Revisit: 10 * time.Minute, Log: s.Log}
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
		s.dispatchRedis.Close()
		s.Webhooks.Close()
		s.Queue.Close()
		s.Jobs.Inspector.Close()
		s.Redis.Close()
		s.DB.Close()
	})
}
