package shopifysim

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	goshopify "github.com/bold-commerce/go-shopify/v3"
)

// rewrite points go-shopify, which always calls https://{shop}, at the
// simulator while keeping the shop as Host (shopify.md §7).
type rewrite struct{ target *url.URL }

func (r rewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	c := req.Clone(req.Context())
	c.Host = req.URL.Host
	c.URL.Scheme, c.URL.Host = r.target.Scheme, r.target.Host
	return http.DefaultTransport.RoundTrip(c)
}

// goshopify returns go-shopify's client for the demo shop, one attempt per
// call: an independent reader of the simulator's answers.
func (f *fixture) goshopify(token string) *goshopify.Client {
	u, _ := url.Parse(f.srv.URL)
	return goshopify.NewClient(goshopify.App{ApiKey: key, ApiSecret: secret}, demo, token,
		goshopify.WithVersion("2026-07"), goshopify.WithHTTPClient(&http.Client{Transport: rewrite{u}, Timeout: 5 * time.Second}), goshopify.WithRetry(1))
}

func TestGraphQLAuthentication(t *testing.T) {
	f := newSim(t, nil)
	good := f.access(t)
	revoked := newSim(t, nil)
	revokedTok := revoked.access(t)
	revoked.sim.RevokeTokens(demo)
	const invalid = `{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}`
	for _, tc := range []struct {
		name   string
		f      *fixture
		host   string
		path   string
		token  string
		body   string
		status int
		want   string
	}{
		{"no token", f, demo, gqlPath, "", `{"query":"{ shop { id } }"}`, 401, invalid},
		{"unknown token", f, demo, gqlPath, "shpat_nope", `{"query":"{ shop { id } }"}`, 401, invalid},
		{"revoked token", revoked, demo, gqlPath, revokedTok, `{"query":"{ shop { id } }"}`, 401, invalid},
		{"unknown shop", f, "nowhere.myshopify.com", gqlPath, good, `{"query":"{ shop { id } }"}`, 404, `{"errors":"Not Found"}`},
		{"token of another shop", f, "nowhere.myshopify.com", gqlPath, good, `{"query":"{ shop { id } }"}`, 404, "Not Found"},
		{"bad version", f, demo, "/admin/api/latest-ish/graphql.json", good, `{"query":"{ shop { id } }"}`, 404, "Not Found"},
		{"malformed body", f, demo, gqlPath, good, `{"query":`, 400, `"query":"Required parameter missing or invalid"`},
		{"no query", f, demo, gqlPath, good, `{"variables":{}}`, 400, "Required parameter missing"},
		{"good", f, demo, gqlPath, good, `{"query":"{ shop { myshopifyDomain } }"}`, 200, `"myshopifyDomain":"demo.myshopify.com"`},
		{"unversioned", f, demo, "/admin/graphql.json", good, `{"query":"{ shop { myshopifyDomain } }"}`, 200, `"myshopifyDomain":"demo.myshopify.com"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{"Content-Type": {"application/json"}}
			if tc.token != "" {
				h.Set("X-Shopify-Access-Token", tc.token)
			}
			status, hdr, body := tc.f.do(t, http.MethodPost, tc.path, tc.host, h, []byte(tc.body))
			if status != tc.status || !strings.Contains(string(body), tc.want) {
				t.Fatalf("%d %s, want %d with %s", status, body, tc.status, tc.want)
			}
			if status == 200 && hdr.Get("X-Shopify-API-Version") == "" {
				t.Fatal("no X-Shopify-API-Version header")
			}
		})
	}
	// The raw GraphQL content type is accepted too.
	status, _, body := f.do(t, http.MethodPost, gqlPath, demo, http.Header{"Content-Type": {"application/graphql"}, "X-Shopify-Access-Token": {good}},
		[]byte(`{ shop { currencyCode } }`))
	if status != 200 || !strings.Contains(string(body), `"currencyCode":"EUR"`) {
		t.Fatalf("application/graphql: %d %s", status, body)
	}
}

const createDiscount = `mutation Create($d: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $d) {
    codeDiscountNode { id codeDiscount { ... on DiscountCodeBasic { title status codes(first: 1) { nodes { code } } } } }
    userErrors { field code message }
  }
}`

func discountInput(code string) map[string]any {
	return map[string]any{"title": "Friend offer", "code": code, "startsAt": "2026-11-22T12:00:00Z", "context": map[string]any{"all": "ALL"},
		"customerGets": map[string]any{"value": map[string]any{"percentage": 0.1}, "items": map[string]any{"all": true}}}
}

func TestGraphQLThrottlingWithInjectedClock(t *testing.T) {
	f := newSim(t, func(c *Config) { c.GraphQLBucket = 25; c.GraphQLRestore = 5 })
	tok := f.access(t)
	cost := func(out map[string]any, k string) any { return dig(out, "extensions", "cost", k) }
	avail := func(out map[string]any) any {
		return dig(out, "extensions", "cost", "throttleStatus", "currentlyAvailable")
	}

	out := f.gql(t, tok, "{ shop { name } }", nil) // 1 point
	if cost(out, "requestedQueryCost") != float64(1) || cost(out, "actualQueryCost") != float64(1) || avail(out) != float64(24) ||
		dig(out, "extensions", "cost", "throttleStatus", "maximumAvailable") != float64(25) ||
		dig(out, "extensions", "cost", "throttleStatus", "restoreRate") != float64(5) {
		t.Fatalf("cost extension: %v", out["extensions"])
	}
	for i, code := range []string{"A1", "A2"} { // 10 points each
		out = f.gql(t, tok, createDiscount, map[string]any{"d": discountInput(code)})
		if out["errors"] != nil || avail(out) != float64(14-10*i) {
			t.Fatalf("mutation %d: %v", i, out)
		}
	}
	// 4 points left, 10 requested: THROTTLED, HTTP 200, nothing done.
	out = f.gql(t, tok, createDiscount, map[string]any{"d": discountInput("A3")})
	if codes := errorCodes(out); len(codes) != 1 || codes[0] != "THROTTLED" || dig(out, "errors", 0, "message") != "Throttled" ||
		out["data"] != nil || cost(out, "actualQueryCost") != nil || avail(out) != float64(4) {
		t.Fatalf("want THROTTLED: %v", out)
	}
	if n := len(f.sim.Discounts(demo)); n != 2 {
		t.Fatalf("a throttled mutation ran: %d discounts", n)
	}
	// go-shopify reads the same answer as a RateLimitError with the wait
	// it computes from throttleStatus: ceil((10 - 4) / 5) = 2 s.
	var resp struct{}
	err := f.goshopify(tok).GraphQL.Query(createDiscount, map[string]any{"d": discountInput("A3")}, &resp)
	var rl goshopify.RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter != 2 {
		t.Fatalf("go-shopify: %v (%T), want a RateLimitError of 2 s", err, err)
	}
	// 1.2 s restores 6 points: enough.
	f.clk.advance(1200 * time.Millisecond)
	if out = f.gql(t, tok, createDiscount, map[string]any{"d": discountInput("A3")}); out["errors"] != nil || avail(out) != float64(0) {
		t.Fatalf("after restore: %v", out)
	}
	// The bucket never fills beyond its size.
	f.clk.advance(time.Hour)
	if out = f.gql(t, tok, "{ shop { name } }", nil); avail(out) != float64(24) {
		t.Fatalf("after an hour: %v", out["extensions"])
	}
	// A connection is charged what it asked for, then refunded what it did
	// not use: first: 10 requests 12 points, an empty list costs 2.
	out = f.gql(t, tok, "{ webhookSubscriptions(first: 10) { nodes { id } } }", nil)
	if cost(out, "requestedQueryCost") != float64(12) || cost(out, "actualQueryCost") != float64(2) || avail(out) != float64(22) {
		t.Fatalf("connection cost: %v", out["extensions"])
	}
}

func TestFailNextAndThrottleNext(t *testing.T) {
	f := newSim(t, nil)
	tok := f.access(t)
	f.sim.FailNext(demo, 1)
	if status, out := f.postJSON(t, gqlPath, tok, map[string]any{"query": "{ shop { id } }"}); status != 503 {
		t.Fatalf("FailNext: %d %v", status, out)
	}
	f.sim.ThrottleNext(demo, 2)
	for i := range 2 {
		out := f.gql(t, tok, "{ shop { id } }", nil)
		if codes := errorCodes(out); len(codes) != 1 || codes[0] != "THROTTLED" || dig(out, "extensions", "cost", "throttleStatus", "currentlyAvailable") != float64(0) {
			t.Fatalf("ThrottleNext call %d: %v", i, out)
		}
	}
	f.clk.advance(time.Second)
	if out := f.gql(t, tok, "{ shop { id } }", nil); out["errors"] != nil {
		t.Fatalf("after the forced throttling: %v", out)
	}
}

func TestGraphQLLanguage(t *testing.T) {
	f := newSim(t, nil)
	tok := f.access(t)

	// Aliases, named fragments, __typename, selection order, @include.
	out := f.gql(t, tok, `
		# two operations; operationName picks one
		query Other { shop { id } }
		query Main($withPlan: Boolean = false) {
			__typename
			store: shop { ...ShopBits plan @include(if: $withPlan) { displayName } }
			again: shop { name }
		}
		fragment ShopBits on Shop { __typename currencyCode name }`, nil)
	if msg := errorMessages(out); msg != "An operation name is required" {
		t.Fatalf("two unnamed-choice operations: %v", out)
	}
	status, _, raw := f.do(t, http.MethodPost, gqlPath, demo, http.Header{"Content-Type": {"application/json"}, "X-Shopify-Access-Token": {tok}},
		[]byte(`{"operationName":"Main","variables":{"withPlan":true},"query":"query Other { shop { id } } query Main($withPlan: Boolean = false) { __typename store: shop { ...ShopBits plan @include(if: $withPlan) { displayName } } again: shop { name } } fragment ShopBits on Shop { __typename currencyCode name }"}`))
	const want = `"data":{"__typename":"QueryRoot","store":{"__typename":"Shop","currencyCode":"EUR","name":"Demo","plan":{"displayName":"Basic"}},"again":{"name":"Demo"}}`
	if status != 200 || !strings.Contains(string(raw), want) {
		t.Fatalf("shaped answer:\n%s\nwant it to contain\n%s", raw, want)
	}

	for _, tc := range []struct {
		name, query string
		vars        map[string]any
		want        string
	}{
		{"parse error", `{ shop { name }`, nil, "Parse error on"},
		{"unknown root field", `{ products(first: 1) { nodes { id } } }`, nil, "Field 'products' doesn't exist on type 'QueryRoot'"},
		{"unknown nested field", `{ shop { name ordersCount } }`, nil, "Field 'ordersCount' doesn't exist on type 'Shop'"},
		{"mutation field in a query", `{ discountCodeDeactivate(id: "x") { userErrors { message } } }`, nil, "Field 'discountCodeDeactivate' doesn't exist on type 'QueryRoot'"},
		{"object without selection", `{ shop }`, nil, "Field must have selections"},
		{"selection on a scalar", `{ shop { name { x } } }`, nil, "Selections can't be made on scalars"},
		{"field directly on a union", `query($c: String!) { codeDiscountNodeByCode(code: $c) { codeDiscount { title } } }`, map[string]any{"c": "X"}, "Selections can't be made directly on unions"},
		{"missing required variable", `query($c: String!) { codeDiscountNodeByCode(code: $c) { id } }`, nil, "Variable $c of type String! was provided invalid value"},
		{"undeclared variable", `{ codeDiscountNodeByCode(code: $c) { id } }`, nil, "Variable $c is used by codeDiscountNodeByCode but not declared"},
		{"impossible fragment", `{ shop { ... on Customer { id } } }`, nil, "Fragment on Customer can't be spread inside Shop"},
		{"undefined fragment", `{ shop { ...Nope } }`, nil, "Fragment Nope was used, but not defined"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := f.gql(t, tok, tc.query, tc.vars)
			if !strings.Contains(errorMessages(out), tc.want) || out["data"] != nil {
				t.Fatalf("got %v, want an error containing %q and no data", out, tc.want)
			}
		})
	}

	// Validation happens before execution: a mutation with a bad selection
	// changes nothing.
	out = f.gql(t, tok, `mutation($d: DiscountCodeBasicInput!) { discountCodeBasicCreate(basicCodeDiscount: $d) { userErrors { nope } } }`,
		map[string]any{"d": discountInput("NEVER")})
	if !strings.Contains(errorMessages(out), "Field 'nope' doesn't exist on type 'DiscountUserError'") || len(f.sim.Discounts(demo)) != 0 {
		t.Fatalf("invalid mutation: %v; discounts %v", out, f.sim.Discounts(demo))
	}
	// Inline argument literals work as well as variables.
	out = f.gql(t, tok, `mutation { discountCodeBasicCreate(basicCodeDiscount: {title: "T", code: "LIT-1", context: {all: ALL},
		customerGets: {value: {discountAmount: {amount: 5, appliesOnEachItem: false}}, items: {all: true}}, usageLimit: 1}) { userErrors { message } } }`, nil)
	if d := f.sim.Discounts(demo); out["errors"] != nil || len(d) != 1 || d[0].Input["usageLimit"] != float64(1) {
		t.Fatalf("literal arguments: %v %v", out, d)
	}
}

func TestDiscountOperations(t *testing.T) {
	f := newSim(t, nil)
	tok := f.access(t)
	create := func(in map[string]any) map[string]any {
		return f.gql(t, tok, createDiscount, map[string]any{"d": in})
	}
	out := create(discountInput("FRIEND-MARIE"))
	node := dig(out, "data", "discountCodeBasicCreate", "codeDiscountNode")
	if dig(node, "codeDiscount", "codes", "nodes", 0, "code") != "FRIEND-MARIE" || dig(node, "codeDiscount", "status") != "ACTIVE" ||
		!strings.HasPrefix(dig(node, "id").(string), "gid://shopify/DiscountCodeNode/") {
		t.Fatalf("create: %v", out)
	}
	id := dig(node, "id").(string)

	for _, tc := range []struct {
		name  string
		mut   func(map[string]any)
		field string
		code  string
		msg   string
	}{
		{"duplicate code, any case", func(in map[string]any) { in["code"] = "friend-marie" }, "basicCodeDiscount.code", "TAKEN", "Code must be unique. Please try a different code."},
		{"no title", func(in map[string]any) { delete(in, "title") }, "basicCodeDiscount.title", "BLANK", "Title can't be blank"},
		{"no code", func(in map[string]any) { in["code"] = " " }, "basicCodeDiscount.code", "BLANK", "Code can't be blank"},
		{"no context", func(in map[string]any) { delete(in, "context") }, "basicCodeDiscount.context", "BLANK", "Context can't be blank"},
		{"percentage as a whole number", func(in map[string]any) {
			in["customerGets"] = map[string]any{"value": map[string]any{"percentage": 10}, "items": map[string]any{"all": true}}
		}, "basicCodeDiscount.customerGets.value.percentage", "VALUE_OUTSIDE_RANGE", "Value must be between 0.0 and 1.0"},
		{"no customerGets", func(in map[string]any) { delete(in, "customerGets") }, "basicCodeDiscount.customerGets", "BLANK", "Customer gets can't be blank"},
		{"ends before it starts", func(in map[string]any) { in["endsAt"] = "2026-11-21T00:00:00Z" }, "basicCodeDiscount.endsAt", "INVALID", "Ends at needs to be after starts_at"},
		{"zero usage limit", func(in map[string]any) { in["usageLimit"] = 0 }, "basicCodeDiscount.usageLimit", "GREATER_THAN", "Usage limit must be greater than 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := discountInput("OTHER-" + strings.ReplaceAll(tc.name, " ", "-"))
			tc.mut(in)
			out := create(in)
			ues, _ := dig(out, "data", "discountCodeBasicCreate", "userErrors").([]any)
			if out["errors"] != nil || len(ues) != 1 || dig(out, "data", "discountCodeBasicCreate", "codeDiscountNode") != nil {
				t.Fatalf("want one userError: %v", out)
			}
			var field []string
			for _, p := range dig(ues[0], "field").([]any) {
				field = append(field, p.(string))
			}
			if strings.Join(field, ".") != tc.field || dig(ues[0], "code") != tc.code || dig(ues[0], "message") != tc.msg {
				t.Fatalf("userError %v, want %s %s %q", ues[0], tc.field, tc.code, tc.msg)
			}
		})
	}
	if n := len(f.sim.Discounts(demo)); n != 1 {
		t.Fatalf("refused creations were stored: %d discounts", n)
	}

	// Free shipping, whose type does not match a DiscountCodeBasic fragment.
	out = f.gql(t, tok, `mutation($d: DiscountCodeFreeShippingInput!) { discountCodeFreeShippingCreate(freeShippingCodeDiscount: $d) { codeDiscountNode { id } userErrors { field code message } } }`,
		map[string]any{"d": map[string]any{"title": "Ship", "code": "SHIP-1", "context": map[string]any{"all": "ALL"}, "destination": map[string]any{"all": true}}})
	if dig(out, "data", "discountCodeFreeShippingCreate", "codeDiscountNode", "id") == nil {
		t.Fatalf("free shipping create: %v", out)
	}
	const byCode = `query($code: String!) { codeDiscountNodeByCode(code: $code) { id codeDiscount { __typename ... on DiscountCodeBasic { status asyncUsageCount codes(first: 1) { nodes { code } } } } } }`
	lookup := func(code string) any {
		return dig(f.gql(t, tok, byCode, map[string]any{"code": code}), "data", "codeDiscountNodeByCode")
	}
	if n := lookup("SHIP-1"); dig(n, "codeDiscount", "__typename") != "DiscountCodeFreeShipping" || dig(n, "codeDiscount", "asyncUsageCount") != nil {
		t.Fatalf("a DiscountCodeBasic fragment must not apply to free shipping: %v", n)
	}
	if n := lookup("NOPE"); n != nil {
		t.Fatalf("unknown code: %v", n)
	}
	// Orders using the code count as its usage.
	if _, err := f.sim.CreateOrder(demo, OrderInput{Email: "bob@example.com", DiscountCodes: []string{"friend-marie"}, Quiet: true}); err != nil {
		t.Fatal(err)
	}
	if n := lookup("Friend-Marie"); dig(n, "id") != id || dig(n, "codeDiscount", "asyncUsageCount") != float64(1) || dig(n, "codeDiscount", "status") != "ACTIVE" {
		t.Fatalf("lookup after one use: %v", n)
	}

	const deactivate = `mutation($id: ID!) { discountCodeDeactivate(id: $id) { codeDiscountNode { id codeDiscount { ... on DiscountCodeBasic { status } } } userErrors { field code message } } }`
	out = f.gql(t, tok, deactivate, map[string]any{"id": id})
	if dig(out, "data", "discountCodeDeactivate", "codeDiscountNode", "codeDiscount", "status") != "EXPIRED" {
		t.Fatalf("deactivate: %v", out)
	}
	if d := f.sim.Discounts(demo)[0]; d.Status != "EXPIRED" || d.UsageCount != 1 || d.Kind != "DiscountCodeBasic" {
		t.Fatalf("Discounts() after deactivate: %+v", d)
	}
	out = f.gql(t, tok, deactivate, map[string]any{"id": "gid://shopify/DiscountCodeNode/1"})
	if dig(out, "data", "discountCodeDeactivate", "userErrors", 0, "message") != "Discount does not exist" {
		t.Fatalf("deactivate unknown: %v", out)
	}
	// A discount starting later is SCHEDULED.
	later := discountInput("LATER")
	later["startsAt"] = "2026-12-01T00:00:00Z"
	create(later)
	if n := lookup("LATER"); dig(n, "codeDiscount", "status") != "SCHEDULED" {
		t.Fatalf("future discount: %v", n)
	}
}

func TestWebhookSubscriptions(t *testing.T) {
	f := newSim(t, nil)
	tok := f.access(t)
	other := newReceiver(t, nil)
	const create = `mutation($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {
		webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) { webhookSubscription { id topic uri endpoint { __typename ... on WebhookHttpEndpoint { callbackUrl } } } userErrors { field message } } }`
	out := f.gql(t, tok, create, map[string]any{"topic": "ORDERS_CREATE", "sub": map[string]any{"callbackUrl": other.srv.URL + "/hooks", "format": "JSON"}})
	sub := dig(out, "data", "webhookSubscriptionCreate", "webhookSubscription")
	if dig(sub, "topic") != "ORDERS_CREATE" || dig(sub, "uri") != other.srv.URL+"/hooks" || dig(sub, "endpoint", "callbackUrl") != other.srv.URL+"/hooks" ||
		dig(sub, "endpoint", "__typename") != "WebhookHttpEndpoint" {
		t.Fatalf("create: %v", out)
	}
	out = f.gql(t, tok, create, map[string]any{"topic": "ORDERS_CREATE", "sub": map[string]any{"uri": other.srv.URL + "/hooks"}})
	if ue := dig(out, "data", "webhookSubscriptionCreate", "userErrors", 0); dig(ue, "message") != "Address for this topic has already been taken" ||
		dig(ue, "field", 1) != "uri" {
		t.Fatalf("duplicate: %v", out)
	}
	// Compliance topics are not in the enum: they cannot be created.
	out = f.gql(t, tok, create, map[string]any{"topic": "CUSTOMERS_REDACT", "sub": map[string]any{"callbackUrl": other.srv.URL}})
	if !strings.Contains(errorMessages(out), "Expected type 'WebhookSubscriptionTopic!'") {
		t.Fatalf("compliance topic: %v", out)
	}
	out = f.gql(t, tok, create, map[string]any{"topic": "APP_UNINSTALLED", "sub": map[string]any{"callbackUrl": "not a url"}})
	if dig(out, "data", "webhookSubscriptionCreate", "userErrors", 0, "message") != "Address is invalid" {
		t.Fatalf("bad address: %v", out)
	}
	f.gql(t, tok, create, map[string]any{"topic": "APP_SUBSCRIPTIONS_UPDATE", "sub": map[string]any{"callbackUrl": other.srv.URL + "/billing"}})

	// Listing pages through the subscriptions.
	const list = `query($after: String) { webhookSubscriptions(first: 1, after: $after) { nodes { topic } pageInfo { hasNextPage endCursor } } }`
	page1 := f.gql(t, tok, list, nil)
	page2 := f.gql(t, tok, list, map[string]any{"after": dig(page1, "data", "webhookSubscriptions", "pageInfo", "endCursor")})
	if dig(page1, "data", "webhookSubscriptions", "nodes", 0, "topic") != "ORDERS_CREATE" || dig(page1, "data", "webhookSubscriptions", "pageInfo", "hasNextPage") != true ||
		dig(page2, "data", "webhookSubscriptions", "nodes", 0, "topic") != "APP_SUBSCRIPTIONS_UPDATE" || dig(page2, "data", "webhookSubscriptions", "pageInfo", "hasNextPage") != false {
		t.Fatalf("pages: %v / %v", page1, page2)
	}

	// Deliveries follow the subscriptions, with the REST-style topic;
	// topics without one go to the default (TOML) address.
	for _, topic := range []string{"orders/create", "app_subscriptions/update", "orders/paid"} {
		if _, err := f.sim.SendWebhook(t.Context(), demo, topic, []byte(`{"id":1}`)); err != nil {
			t.Fatal(err)
		}
	}
	f.waitIdle(t)
	if got := other.byTopic("orders/create"); len(got) != 1 || got[0].path != "/hooks" {
		t.Fatalf("orders/create to the subscription: %v", got)
	}
	if got := other.byTopic("app_subscriptions/update"); len(got) != 1 || got[0].path != "/billing" {
		t.Fatalf("app_subscriptions/update: %v", got)
	}
	if got := f.app.byTopic("orders/paid"); len(got) != 1 || got[0].path != "/webhooks/shopify" || len(f.app.byTopic("orders/create")) != 0 {
		t.Fatalf("default address: %v", f.app.requests())
	}

	out = f.gql(t, tok, `{ webhookSubscriptions(first: 5) { nodes { id } } }`, nil)
	id := dig(out, "data", "webhookSubscriptions", "nodes", 0, "id")
	out = f.gql(t, tok, `mutation($id: ID!) { webhookSubscriptionDelete(id: $id) { deletedWebhookSubscriptionId userErrors { message } } }`, map[string]any{"id": id})
	if dig(out, "data", "webhookSubscriptionDelete", "deletedWebhookSubscriptionId") != id {
		t.Fatalf("delete: %v", out)
	}
	out = f.gql(t, tok, `{ webhookSubscriptions(first: 5) { nodes { id } } }`, nil)
	if n := len(dig(out, "data", "webhookSubscriptions", "nodes").([]any)); n != 1 {
		t.Fatalf("%d subscriptions after deleting one of 2", n)
	}
}

func TestCustomerNumberOfOrders(t *testing.T) {
	f := newSim(t, nil)
	tok := f.access(t)
	const q = `query($id: ID!) { customer(id: $id) { id numberOfOrders amountSpent { amount currencyCode } } }`
	cid := customerID("marie@example.com")
	gidOf := gid("Customer", cid)
	if out := f.gql(t, tok, q, map[string]any{"id": gidOf}); dig(out, "data", "customer") != nil || out["errors"] != nil {
		t.Fatalf("customer without orders: %v", out)
	}
	for _, total := range []string{"10.00", "15.50"} {
		if _, err := f.sim.CreateOrder(demo, OrderInput{Email: "marie@example.com", Total: total, Quiet: true}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.sim.CreateOrder(demo, OrderInput{Email: "bob@example.com", Quiet: true}); err != nil {
		t.Fatal(err)
	}
	out := f.gql(t, tok, q, map[string]any{"id": gidOf})
	// numberOfOrders is an UnsignedInt64: a string.
	if dig(out, "data", "customer", "numberOfOrders") != "2" || dig(out, "data", "customer", "amountSpent", "amount") != "25.50" ||
		dig(out, "data", "customer", "amountSpent", "currencyCode") != "EUR" {
		t.Fatalf("customer: %v", out)
	}
	if out := f.gql(t, tok, q, map[string]any{"id": "42"}); !strings.Contains(errorMessages(out), "Invalid global id") {
		t.Fatalf("bad gid: %v", out)
	}
}

func TestEnforceScopes(t *testing.T) {
	f := newSim(t, func(c *Config) { c.EnforceScopes = true })
	code := f.authorize(t, url.Values{"scope": {"read_orders"}}).Query().Get("code")
	_, tok := f.postJSON(t, "/admin/oauth/access_token", "", map[string]any{"client_id": key, "client_secret": secret, "code": code})
	access := tok["access_token"].(string)
	out := f.gql(t, access, createDiscount, map[string]any{"d": discountInput("NOPE")})
	if codes := errorCodes(out); len(codes) != 1 || codes[0] != "ACCESS_DENIED" || !strings.Contains(errorMessages(out), "`write_discounts`") {
		t.Fatalf("without write_discounts: %v", out)
	}
	if out := f.gql(t, access, `{ shop { name } customer(id: "gid://shopify/Customer/1") { id } }`, nil); dig(out, "data", "shop", "name") != "Demo" ||
		!strings.Contains(errorMessages(out), "read_customers") {
		t.Fatalf("partial access: %v", out)
	}
	// write_X covers read_X.
	if !hasScope("read_orders,write_discounts", "read_discounts") || hasScope("read_discounts", "write_discounts") {
		t.Fatal("hasScope")
	}
}

// The app's own operations (integrations/shopify, as of this writing) pass
// validation and come back in the shape it decodes.
func TestTheAppsOperations(t *testing.T) {
	f := newSim(t, nil)
	tok := f.access(t)
	for _, tc := range []struct {
		name, query string
		vars        map[string]any
		want        []any // a path that must lead to a non-nil value
	}{
		{"shop", `query ParrainShop { shop { id name email currencyCode ianaTimezone myshopifyDomain plan { displayName } } }`, nil,
			[]any{"shop", "plan", "displayName"}},
		{"webhook create", `mutation ParrainWebhookCreate($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) {
    webhookSubscription { id topic }
    userErrors { field message }
  }
}`, map[string]any{"topic": "ORDERS_PAID", "sub": map[string]any{"callbackUrl": "https://app.example/webhooks/shopify", "format": "JSON"}},
			[]any{"webhookSubscriptionCreate", "webhookSubscription", "id"}},
		{"webhook list", `query ParrainWebhooks { webhookSubscriptions(first: 100) { nodes { id topic uri endpoint { __typename ... on WebhookHttpEndpoint { callbackUrl } } } } }`, nil,
			[]any{"webhookSubscriptions", "nodes", 0, "endpoint", "callbackUrl"}},
		{"discount create", `mutation ParrainDiscountCreate($d: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $d) {
    codeDiscountNode { id }
    userErrors { field code message }
  }
}`, map[string]any{"d": discountInput("THANKS-1")}, []any{"discountCodeBasicCreate", "codeDiscountNode", "id"}},
		{"free shipping create", `mutation ParrainFreeShippingCreate($d: DiscountCodeFreeShippingInput!) {
  discountCodeFreeShippingCreate(freeShippingCodeDiscount: $d) {
    codeDiscountNode { id }
    userErrors { field code message }
  }
}`, map[string]any{"d": map[string]any{"title": "s", "code": "FRIEND-S", "context": map[string]any{"all": "ALL"}}},
			[]any{"discountCodeFreeShippingCreate", "codeDiscountNode", "id"}},
		{"discount by code", `query ParrainDiscountByCode($code: String!) {
  codeDiscountNodeByCode(code: $code) { id codeDiscount { ... on DiscountCodeBasic { status asyncUsageCount } } }
}`, map[string]any{"code": "THANKS-1"}, []any{"codeDiscountNodeByCode", "codeDiscount", "status"}},
		{"customer orders", `query ParrainCustomerOrders($id: ID!) { customer(id: $id) { id numberOfOrders } }`,
			map[string]any{"id": "gid://shopify/Customer/123"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := f.gql(t, tok, tc.query, tc.vars)
			if out["errors"] != nil {
				t.Fatalf("errors: %v", out["errors"])
			}
			if tc.want != nil && dig(out["data"], tc.want...) == nil {
				t.Fatalf("no %v in %v", tc.want, out["data"])
			}
		})
	}
}

// The parser and validator never panic, whatever the client sends.
func FuzzGraphQLFrontEnd(f *testing.F) {
	for _, seed := range []string{
		createDiscount, `{ shop { name } }`, `query Q($a: [Int!]! = [1, 2]) @x { a: shop { ...F } } fragment F on Shop { id }`,
		`mutation { webhookSubscriptionCreate(topic: ORDERS_CREATE, webhookSubscription: {callbackUrl: "https://x", includeFields: ["id"]}) { userErrors { message } } }`,
		`{ codeDiscountNodeByCode(code: """block "string" """) { codeDiscount { ... on DiscountCodeBasic { codes(first: 1) { nodes { code } } } } } }`,
		"{ shop { name } } # comment\n", `{ "unterminated`, `{ a(b: -1.5e3, c: null, d: $v) }`, `...`, `{ ... on Node { id } }`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, src string) {
		doc, err := parseGraphQL(src)
		if err != nil {
			return
		}
		for _, op := range doc.ops {
			root := "QueryRoot"
			if op.typ == "mutation" {
				root = "Mutation"
			}
			vars, _ := op.variables(src, map[string]any{})
			doc.validate(root, op.sel, nil, map[string]bool{}, map[string]bool{})
			doc.fieldsFor(root, op.sel, vars)
		}
	})
}

func TestGraphQLNestingLimit(t *testing.T) {
	f := newSim(t, nil)
	tok := f.access(t)
	deep := "{ shop " + strings.Repeat("{ a ", 100) + strings.Repeat("}", 101)
	if out := f.gql(t, tok, deep, nil); !strings.Contains(errorMessages(out), "nested deeper") {
		t.Fatalf("deep selection: %v", out)
	}
	deepValue := `{ codeDiscountNodeByCode(code: ` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `) { id } }`
	if out := f.gql(t, tok, deepValue, nil); !strings.Contains(errorMessages(out), "nested deeper") {
		t.Fatalf("deep value: %v", out)
	}
}

// The calculated cost follows Shopify's table: nested objects 1 each, a
// union the dearest member, a connection 2 + first × one node, a mutation
// 10; the actual cost counts the nodes returned; every answer carries the
// throttle status.
func TestGraphQLCostFollowsShopifysTable(t *testing.T) {
	f := newSim(t, func(c *Config) { c.GraphQLBucket = 2000; c.GraphQLRestore = 100 })
	tok := f.access(t)
	for _, tc := range []struct {
		query             string
		requested, actual float64
	}{
		{"{ shop { name } }", 1, 1},
		{"{ shop { name plan { displayName } } }", 2, 2},
		{`{ codeDiscountNodeByCode(code: "NOPE") { id codeDiscount { ... on DiscountCodeBasic { status } } } }`, 2, 1},
		{"{ webhookSubscriptions(first: 10) { nodes { id endpoint { __typename ... on WebhookHttpEndpoint { callbackUrl } } } } }", 22, 2},
		{`{ customer(id: "gid://shopify/Customer/1") { id numberOfOrders } }`, 1, 1},
	} {
		out := f.gql(t, tok, tc.query, nil)
		if r, a := dig(out, "extensions", "cost", "requestedQueryCost"), dig(out, "extensions", "cost", "actualQueryCost"); r != tc.requested || a != tc.actual {
			t.Errorf("%s: requested %v actual %v, want %v %v", tc.query, r, a, tc.requested, tc.actual)
		}
		if dig(out, "extensions", "cost", "throttleStatus", "restoreRate") != float64(100) {
			t.Errorf("%s: no throttle status: %v", tc.query, out["extensions"])
		}
	}
	out := f.gql(t, tok, createDiscount, map[string]any{"d": discountInput("COST-1")})
	if r := dig(out, "extensions", "cost", "requestedQueryCost"); r != float64(10) {
		t.Fatalf("mutation requested %v, want 10", r)
	}
	out = f.gql(t, tok, `{ codeDiscountNodeByCode(code: "COST-1") { id codeDiscount { ... on DiscountCodeBasic { status } } } }`, nil)
	if a := dig(out, "extensions", "cost", "actualQueryCost"); a != float64(2) {
		t.Fatalf("found code: actual %v, want 2", a)
	}
	if st := f.sim.Stats(demo); st.Fields["codeDiscountNodeByCode"] != 2 || st.Fields["discountCodeBasicCreate"] != 1 || st.Throttled != 0 {
		t.Fatalf("stats %+v", st)
	}
}
