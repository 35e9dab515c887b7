package shopify

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goshopify "github.com/bold-commerce/go-shopify/v3"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/storebudget"
)

// Admin calls the Shopify Admin GraphQL API through go-shopify (REST is
// legacy for public apps since 2025-04, shopify.md §0).
type Admin struct {
	app     goshopify.App
	version string
	http    *http.Client

	// Budget, when set, is asked before every call (the shop's cost bucket
	// shared by every process) and told what the answer's
	// extensions.cost said; without it calls fire and throttling is only
	// learnt from Shopify's refusals.
	Budget CallBudget
	// costs remembers each query's requestedQueryCost as Shopify reported
	// it, so the next reservation asks for what Shopify will charge.
	costs sync.Map
	// Throttled counts THROTTLED answers (benchmarks and tests read it).
	Throttled atomic.Int64
}

// CallBudget is the per-shop budget a call reserves its points from
// (storebudget.Bucket).
type CallBudget interface {
	Reserve(ctx context.Context, shop, op string, cost float64) (*storebudget.Reservation, error)
	Settle(ctx context.Context, r *storebudget.Reservation, st storebudget.Status)
}

// NewAdmin returns an Admin API client for the app, honouring origin.
func NewAdmin(apiKey, apiSecret, version string, origin Origin) *Admin {
	return &Admin{
		app:     goshopify.App{ApiKey: apiKey, ApiSecret: apiSecret},
		version: version,
		http:    &http.Client{Timeout: 15 * time.Second, Transport: origin.Transport(nil)},
	}
}

// RetryError is a transient failure the caller should retry after Delay:
// throttling (GraphQL THROTTLED, HTTP 429 with Retry-After), the shop's
// budget not having the points yet, or a 5xx. Job handlers return it so the
// queue backs off by what Shopify asked instead of burning retries.
type RetryError struct {
	Delay time.Duration
	Err   error
	// NotSent is true when the store did not act on the call: the budget
	// held it back, or Shopify refused it (THROTTLED). A create that failed
	// this way certainly did not create its code.
	NotSent bool
}

func (e *RetryError) Error() string { return fmt.Sprintf("retry after %s: %v", e.Delay, e.Err) }

// Unwrap exposes the cause.
func (e *RetryError) Unwrap() error { return e.Err }

// RetryDelay is when to try again; the job queue honours it.
func (e *RetryError) RetryDelay() time.Duration { return e.Delay }

// call is one Admin GraphQL request: op names it for the budget (stable
// across a job's retries, e.g. "create:FRIEND-ANNA"), cost is Shopify's
// requested cost of q as the docs compute it, used until Shopify has said.
type call struct {
	op   string
	cost int
	q    string
	vars any
}

func (a *Admin) query(ctx context.Context, shop, token string, c call, out any) error {
	cost := float64(c.cost)
	if v, ok := a.costs.Load(c.q); ok {
		cost = v.(float64)
	}
	var res *storebudget.Reservation
	if a.Budget != nil {
		var err error
		res, err = a.Budget.Reserve(ctx, shop, c.op, cost)
		var d *storebudget.Deferred
		if errors.As(err, &d) {
			return &RetryError{Delay: d.Delay, Err: err, NotSent: true}
		}
		if err != nil {
			return err
		}
		if res.Wait > 0 {
			select {
			case <-ctx.Done():
				a.Budget.Settle(ctx, res, storebudget.Status{})
				return ctx.Err()
			case <-time.After(res.Wait):
			}
		}
	}
	// One attempt: go-shopify's own retry sleeps inside the call, which would
	// hold a worker; throttling goes back to the queue as a RetryError.
	gc := goshopify.NewClient(a.app, shop, token, goshopify.WithVersion(a.version), goshopify.WithHTTPClient(a.http), goshopify.WithRetry(1))
	err := gc.GraphQL.Query(c.q, c.vars, out)
	gcost := gc.RateLimits.GraphQLCost
	st := storebudget.Status{}
	if gcost != nil && gcost.ThrottleStatus.RestoreRate > 0 {
		st = storebudget.Status{Known: true, CurrentlyAvailable: gcost.ThrottleStatus.CurrentlyAvailable,
			MaximumAvailable: gcost.ThrottleStatus.MaximumAvailable, RestoreRate: gcost.ThrottleStatus.RestoreRate}
		if gcost.ActualQueryCost != nil {
			st.Spent = float64(*gcost.ActualQueryCost)
		}
		if gcost.RequestedQueryCost > 0 {
			a.costs.Store(c.q, float64(gcost.RequestedQueryCost))
		}
	}
	if a.Budget != nil {
		a.Budget.Settle(ctx, res, st)
	}
	return a.classify(err, gcost)
}

func (a *Admin) classify(err error, cost *goshopify.GraphQLCost) error {
	if err == nil {
		return nil
	}
	var rl goshopify.RateLimitError
	if errors.As(err, &rl) {
		a.Throttled.Add(1)
		// go-shopify rounds the wait up to whole seconds; the throttle
		// status gives it to the millisecond: the missing points over the
		// restore rate.
		d := time.Duration(rl.RetryAfter) * time.Second
		if cost != nil && cost.ThrottleStatus.RestoreRate > 0 {
			missing := float64(cost.RequestedQueryCost) - cost.ThrottleStatus.CurrentlyAvailable
			d = time.Duration(math.Ceil(max(missing, 1)/cost.ThrottleStatus.RestoreRate*1000)) * time.Millisecond
		}
		if d <= 0 {
			d = time.Second
		}
		// THROTTLED (HTTP 200) and 429 are refusals: nothing was done.
		return &RetryError{Delay: d, Err: err, NotSent: true}
	}
	var re goshopify.ResponseError
	if errors.As(err, &re) {
		switch {
		case re.Status >= 500:
			return &RetryError{Delay: 5 * time.Second, Err: err}
		case re.Status == http.StatusUnauthorized || re.Status == http.StatusForbidden:
			return app.Wrap(app.EUNAUTHORIZED, err, "Shopify refused the access token")
		}
		return err
	}
	// Network failure: transient.
	return &RetryError{Delay: 5 * time.Second, Err: err}
}

// userErrors turns a mutation's userErrors (HTTP 200 even on failure) into an
// error.
type userError struct {
	Field   []string `json:"field"`
	Code    string   `json:"code"`
	Message string   `json:"message"`
}

func userErrorsErr(op string, ues []userError) error {
	if len(ues) == 0 {
		return nil
	}
	msgs := make([]string, len(ues))
	for i, u := range ues {
		msgs[i] = strings.Join(u.Field, ".") + ": " + u.Message
	}
	return app.Errorf(app.EINVALID, "%s: %s", op, strings.Join(msgs, "; "))
}

const shopQuery = `query ParrainShop { shop { id name email currencyCode ianaTimezone myshopifyDomain plan { displayName } } }`

// ShopDetails fetches the store facts recorded after install.
func (a *Admin) ShopDetails(ctx context.Context, shop, token string) (app.ShopDetails, error) {
	var out struct {
		Shop struct {
			ID           string `json:"id"`
			Name         string `json:"name"`
			Email        string `json:"email"`
			CurrencyCode string `json:"currencyCode"`
			IanaTimezone string `json:"ianaTimezone"`
			Plan         struct {
				DisplayName string `json:"displayName"`
			} `json:"plan"`
		} `json:"shop"`
	}
	if err := a.query(ctx, shop, token, call{op: "shop", cost: 2, q: shopQuery}, &out); err != nil {
		return app.ShopDetails{}, fmt.Errorf("fetch shop details of %s: %w", shop, err)
	}
	id, _ := ParseGID(out.Shop.ID)
	return app.ShopDetails{
		PlatformShopID: id, Name: out.Shop.Name, Email: out.Shop.Email, Currency: out.Shop.CurrencyCode,
		Timezone: out.Shop.IanaTimezone, Plan: out.Shop.Plan.DisplayName,
	}, nil
}

const webhooksQuery = `query ParrainWebhooks { webhookSubscriptions(first: 100) { nodes { id topic uri endpoint { __typename ... on WebhookHttpEndpoint { callbackUrl } } } } }`

const webhookCreate = `mutation ParrainWebhookCreate($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) {
    webhookSubscription { id topic }
    userErrors { field message }
  }
}`

// TopicEnum converts "orders/create" to the GraphQL enum ORDERS_CREATE.
func TopicEnum(topic string) string {
	return strings.ToUpper(strings.NewReplacer("/", "_").Replace(topic))
}

// EnsureWebhooks creates the subscriptions for topics that are missing for
// callbackURL and returns the topics it created. Safe to repeat: existing
// subscriptions are listed first, so a retry creates nothing twice.
func (a *Admin) EnsureWebhooks(ctx context.Context, shop, token, callbackURL string, topics []string) ([]string, error) {
	var list struct {
		WebhookSubscriptions struct {
			Nodes []struct {
				Topic    string `json:"topic"`
				URI      string `json:"uri"`
				Endpoint struct {
					CallbackURL string `json:"callbackUrl"`
				} `json:"endpoint"`
			} `json:"nodes"`
		} `json:"webhookSubscriptions"`
	}
	// 2 for the connection plus, for each of the 100 nodes asked, the node
	// and its endpoint (shopify.md §5: connections are sized by first).
	if err := a.query(ctx, shop, token, call{op: "webhooks", cost: 202, q: webhooksQuery}, &list); err != nil {
		return nil, fmt.Errorf("list webhooks of %s: %w", shop, err)
	}
	have := map[string]bool{}
	for _, n := range list.WebhookSubscriptions.Nodes {
		if n.URI == callbackURL || n.Endpoint.CallbackURL == callbackURL {
			have[n.Topic] = true
		}
	}
	var created []string
	for _, t := range topics {
		enum := TopicEnum(t)
		if have[enum] {
			continue
		}
		var out struct {
			WebhookSubscriptionCreate struct {
				UserErrors []userError `json:"userErrors"`
			} `json:"webhookSubscriptionCreate"`
		}
		vars := map[string]any{"topic": enum, "sub": map[string]any{"callbackUrl": callbackURL, "format": "JSON"}}
		if err := a.query(ctx, shop, token, call{op: "webhook:" + enum, cost: 10, q: webhookCreate, vars: vars}, &out); err != nil {
			return created, fmt.Errorf("create %s webhook for %s: %w", t, shop, err)
		}
		if err := userErrorsErr("webhookSubscriptionCreate "+t, out.WebhookSubscriptionCreate.UserErrors); err != nil {
			return created, err
		}
		created = append(created, t)
	}
	return created, nil
}

// ParseGID returns the numeric id of a Shopify GID like
// gid://shopify/Shop/123.
func ParseGID(gid string) (int64, error) {
	i := strings.LastIndexByte(gid, '/')
	var id int64
	if _, err := fmt.Sscanf(gid[i+1:], "%d", &id); err != nil {
		return 0, fmt.Errorf("parse gid %q: %w", gid, err)
	}
	return id, nil
}
