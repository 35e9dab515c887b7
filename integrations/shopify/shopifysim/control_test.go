package shopifysim

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	goshopify "github.com/bold-commerce/go-shopify/v3"
	"github.com/golang-jwt/jwt/v5"
)

var (
	asJSON = http.Header{"Content-Type": {"application/json"}}
	asForm = http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
)

func TestControlPage(t *testing.T) {
	f := newSim(t, nil)
	if _, err := f.sim.CreateOrder(demo, OrderInput{Email: "marie@example.com", Quiet: true}); err != nil {
		t.Fatal(err)
	}
	status, h, body := f.do(t, http.MethodGet, "/_sim/", "", nil, nil)
	page := html.UnescapeString(string(body))
	if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
		t.Fatalf("%d %s", status, h.Get("Content-Type"))
	}
	for _, want := range []string{
		"<h2>demo.myshopify.com</h2>", f.sim.InstallURL(demo), `action="/_sim/shops/demo.myshopify.com/orders"`,
		`action="/_sim/shops/demo.myshopify.com/uninstall"`, "marie@example.com", "#1001",
		`action="/_sim/shops/demo.myshopify.com/compliance/shop-redact"`, "<script",
	} {
		if want == "<script" {
			if strings.Contains(page, want) {
				t.Error("the control page must work without JavaScript")
			}
			continue
		}
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestControlAddShop(t *testing.T) {
	f := newSim(t, nil)
	status, _, body := f.do(t, http.MethodPost, "/_sim/shops", "", asJSON,
		[]byte(`{"domain":"lyon.myshopify.com","name":"Lyon","currency":"EUR","timezone":"Europe/Paris"}`))
	var out struct {
		Domain     string `json:"domain"`
		InstallURL string `json:"install_url"`
	}
	if err := json.Unmarshal(body, &out); status != 200 || err != nil || out.Domain != "lyon.myshopify.com" || !strings.Contains(out.InstallURL, "shop=lyon.myshopify.com") {
		t.Fatalf("%d %s", status, body)
	}
	if info, ok := f.sim.Shop("lyon.myshopify.com"); !ok || info.CurrencyCode != "EUR" || info.IanaTimezone != "Europe/Paris" || info.Name != "Lyon" || info.ID == 0 {
		t.Fatalf("shop %+v %v", info, ok)
	}
	// From the page's form: a redirect back.
	status, h, _ := f.do(t, http.MethodPost, "/_sim/shops", "", asForm, []byte("domain=nice.myshopify.com&currency=USD"))
	if _, ok := f.sim.Shop("nice.myshopify.com"); status != http.StatusSeeOther || h.Get("Location") != "/_sim/" || !ok {
		t.Fatalf("form: %d %v", status, h)
	}
	for _, bad := range []string{
		`{"domain":"not-a-shop"}`, `{"domain":"evil.com"}`, `{`, `{"domain":"x.myshopify.com","curency":"EUR"}`,
		`{"domain":"x.myshopify.com","timezone":"Mars/Olympus"}`, `{"domain":"x.myshopify.com","currency":"euro"}`, `[1]`,
	} {
		status, _, body := f.do(t, http.MethodPost, "/_sim/shops", "", asJSON, []byte(bad))
		if status != 400 || !json.Valid(body) {
			t.Errorf("%s: %d %s, want 400 with a JSON message", bad, status, body)
		}
	}
	if status, _, body := f.do(t, http.MethodGet, "/_sim/shops", "", nil, nil); status != 200 || !strings.Contains(string(body), "lyon.myshopify.com") {
		t.Fatalf("list: %d %s", status, body)
	}
}

func TestControlOrdersAndWebhooks(t *testing.T) {
	f := newSim(t, nil)
	// JSON, as a script sends it (curl -d labels it a form).
	status, _, body := f.do(t, http.MethodPost, "/_sim/shops/"+demo+"/orders", "", asForm,
		[]byte(`{"email":"marie@example.com","first_name":"Marie","total":"50.00","ref":"MARIE"}`))
	var order struct {
		ID          int64  `json:"id"`
		Name        string `json:"name"`
		Email       string `json:"email"`
		TotalPrice  string `json:"total_price"`
		LandingSite string `json:"landing_site"`
	}
	if err := json.Unmarshal(body, &order); status != 200 || err != nil || order.Name != "#1001" || order.Email != "marie@example.com" ||
		order.TotalPrice != "50.00" || order.LandingSite != "/?ref=MARIE" {
		t.Fatalf("order: %d %s", status, body)
	}
	f.waitIdle(t)
	if len(f.app.byTopic("orders/create")) != 1 || len(f.app.byTopic("orders/paid")) != 1 {
		t.Fatalf("order webhooks: %d requests", len(f.app.requests()))
	}
	// The page's form: a redirect back.
	status, h, _ := f.do(t, http.MethodPost, "/_sim/shops/"+demo+"/orders", "", asForm, []byte("email=bob%40example.com&total=20.00&discount_code=FRIEND-X"))
	if status != http.StatusSeeOther || h.Get("Location") != "/_sim/" || len(f.sim.Orders(demo)) != 2 {
		t.Fatalf("form order: %d %v", status, h)
	}

	// Any topic, any payload.
	status, _, body = f.do(t, http.MethodPost, "/_sim/shops/"+demo+"/webhooks", "", asJSON, []byte(`{"topic":"orders/cancelled","payload":{"id":7}}`))
	var sent struct {
		EventID string `json:"event_id"`
	}
	if err := json.Unmarshal(body, &sent); status != 200 || err != nil || len(sent.EventID) != 36 {
		t.Fatalf("webhook: %d %s", status, body)
	}
	f.waitIdle(t)
	if got := f.app.byTopic("orders/cancelled"); len(got) != 1 || string(got[0].body) != `{"id":7}` || got[0].header.Get("X-Shopify-Event-Id") != sent.EventID {
		t.Fatalf("delivered: %v", got)
	}

	for _, tc := range []struct {
		path, body string
		status     int
	}{
		{"/_sim/shops/" + demo + "/orders", `{`, 400},
		{"/_sim/shops/" + demo + "/orders", `{"total":"lots"}`, 400},
		{"/_sim/shops/" + demo + "/orders", `{"emial":"typo@example.com"}`, 400},
		{"/_sim/shops/" + demo + "/orders", `not json`, 400},
		{"/_sim/shops/nowhere.myshopify.com/orders", `{}`, 404},
		{"/_sim/shops/" + demo + "/webhooks", `{"topic":""}`, 400},
		{"/_sim/shops/" + demo + "/webhooks", `{"topic":"orders/paid"}`, 400},
		{"/_sim/shops/nowhere.myshopify.com/webhooks", `{"topic":"orders/paid","payload":{}}`, 404},
		{"/_sim/shops/" + demo + "/refunds", `{"order_id":1}`, 400},
		{"/_sim/shops/" + demo + "/refunds", `{"order_id":1,"amount":"-3"}`, 400},
		{"/_sim/shops/" + demo + "/orders/abc/cancel", ``, 400},
		{"/_sim/shops/" + demo + "/orders/123/cancel", ``, 400},
	} {
		status, _, body := f.do(t, http.MethodPost, tc.path, "", asJSON, []byte(tc.body))
		if status != tc.status || !json.Valid(body) {
			t.Errorf("POST %s %s: %d %s, want %d with JSON", tc.path, tc.body, status, body, tc.status)
		}
	}
	for _, path := range []string{"/_sim/shops/nowhere.myshopify.com/deliveries", "/_sim/shops/nowhere.myshopify.com/discounts", "/_sim/install-url?shop=nowhere.myshopify.com"} {
		if status, _, _ := f.do(t, http.MethodGet, path, "", nil, nil); status != 404 {
			t.Errorf("GET %s: %d, want 404", path, status)
		}
	}
	status, _, body = f.do(t, http.MethodGet, "/_sim/shops/"+demo+"/deliveries", "", nil, nil)
	var log []Delivery
	if err := json.Unmarshal(body, &log); status != 200 || err != nil || len(log) != 5 || log[0].EventID == "" { // two orders (create, paid), one cancel
		t.Fatalf("deliveries: %d %s", status, body)
	}
}

func TestControlCancelAndRefund(t *testing.T) {
	f := newSim(t, nil)
	body, err := f.sim.CreateOrder(demo, OrderInput{Email: "marie@example.com", Total: "80.00", Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		ID int64 `json:"id"`
	}
	_ = json.Unmarshal(body, &o)
	status, _, _ := f.do(t, http.MethodPost, "/_sim/shops/"+demo+"/refunds", "", asJSON, []byte(`{"order_id":`+itoa64(o.ID)+`,"amount":"30.00"}`))
	if status != 200 {
		t.Fatalf("refund: %d", status)
	}
	f.waitIdle(t)
	refunds := f.app.byTopic("refunds/create")
	var refund struct {
		OrderID      int64 `json:"order_id"`
		Transactions []struct {
			Kind, Status, Amount, Currency string
		} `json:"transactions"`
	}
	if len(refunds) != 1 || json.Unmarshal(refunds[0].body, &refund) != nil || refund.OrderID != o.ID || len(refund.Transactions) != 1 ||
		refund.Transactions[0].Amount != "30.00" || refund.Transactions[0].Currency != "EUR" || refund.Transactions[0].Kind != "refund" {
		t.Fatalf("refund payload: %s", refunds[0].body)
	}
	if !strings.Contains(string(f.sim.Orders(demo)[0]), `"financial_status":"partially_refunded"`) {
		t.Fatal("the order does not show the partial refund")
	}
	status, _, body = f.do(t, http.MethodPost, "/_sim/shops/"+demo+"/orders/"+itoa64(o.ID)+"/cancel", "", nil, nil)
	if status != 200 || !strings.Contains(string(body), `"financial_status":"refunded"`) || strings.Contains(string(body), `"cancelled_at":null`) {
		t.Fatalf("cancel: %d %s", status, body)
	}
	f.waitIdle(t)
	if len(f.app.byTopic("orders/cancelled")) != 1 || len(f.app.byTopic("refunds/create")) != 2 {
		t.Fatalf("cancel events: %d requests", len(f.app.requests()))
	}
	if status, _, _ := f.do(t, http.MethodPost, "/_sim/shops/"+demo+"/orders/"+itoa64(o.ID)+"/cancel", "", nil, nil); status != 400 {
		t.Fatalf("second cancel: %d", status)
	}
}

func itoa64(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestControlUninstall(t *testing.T) {
	f := newSim(t, nil)
	tok := f.access(t)
	f.gql(t, tok, `mutation { webhookSubscriptionCreate(topic: ORDERS_PAID, webhookSubscription: {callbackUrl: "https://app.example/hooks"}) { userErrors { message } } }`, nil)
	status, _, body := f.do(t, http.MethodPost, "/_sim/shops/"+demo+"/uninstall", "", nil, nil)
	if status != 200 || !strings.Contains(string(body), "event_id") {
		t.Fatalf("uninstall: %d %s", status, body)
	}
	f.waitIdle(t)
	if _, _, _, ok := f.sim.Tokens(demo); ok {
		t.Fatal("tokens survive uninstalling")
	}
	if status, _ := f.postJSON(t, gqlPath, tok, map[string]any{"query": "{ shop { id } }"}); status != 401 {
		t.Fatalf("old token after uninstall: %d", status)
	}
	got := f.app.byTopic("app/uninstalled")
	info, _ := f.sim.Shop(demo)
	var shopRes struct {
		ID              int64  `json:"id"`
		Name            string `json:"name"`
		MyshopifyDomain string `json:"myshopify_domain"`
		Currency        string `json:"currency"`
	}
	if len(got) != 1 || json.Unmarshal(got[0].body, &shopRes) != nil || shopRes.ID != info.ID || shopRes.MyshopifyDomain != demo ||
		shopRes.Name != "Demo" || shopRes.Currency != "EUR" {
		t.Fatalf("app/uninstalled: %v", got)
	}
	verifies(t, got[0])
	// Shopify deletes the app's API subscriptions on uninstall.
	tok = f.access(t)
	if out := f.gql(t, tok, `{ webhookSubscriptions(first: 10) { nodes { id } } }`, nil); len(dig(out, "data", "webhookSubscriptions", "nodes").([]any)) != 0 {
		t.Fatalf("subscriptions survive uninstalling: %v", out)
	}
	// From the page's button: a redirect back.
	if status, h, _ := f.do(t, http.MethodPost, "/_sim/shops/"+demo+"/uninstall", "", asForm, nil); status != http.StatusSeeOther || h.Get("Location") != "/_sim/" {
		t.Fatalf("form uninstall: %d", status)
	}
}

func TestControlCompliance(t *testing.T) {
	f := newSim(t, nil)
	body, _ := f.sim.CreateOrder(demo, OrderInput{Email: "marie@example.com", Quiet: true})
	var o struct {
		ID int64 `json:"id"`
	}
	_ = json.Unmarshal(body, &o)
	info, _ := f.sim.Shop(demo)
	for _, tc := range []struct {
		kind, topic, body string
		check             func(map[string]any) bool
	}{
		{"customers-data_request", "customers/data_request", `{"email":"marie@example.com"}`, func(m map[string]any) bool {
			return dig(m, "customer", "id") == float64(customerID("marie@example.com")) && dig(m, "customer", "email") == "marie@example.com" &&
				dig(m, "orders_requested", 0) == float64(o.ID) && dig(m, "data_request", "id") != nil
		}},
		{"customers-redact", "customers/redact", `{"customer_id":42,"orders":[1,2]}`, func(m map[string]any) bool {
			return dig(m, "customer", "id") == float64(42) && dig(m, "orders_to_redact", 1) == float64(2)
		}},
		{"shop-redact", "shop/redact", ``, func(m map[string]any) bool { return len(m) == 2 }},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			status, _, resp := f.do(t, http.MethodPost, "/_sim/shops/"+demo+"/compliance/"+tc.kind, "", asJSON, []byte(tc.body))
			if status != 200 {
				t.Fatalf("%d %s", status, resp)
			}
			f.waitIdle(t)
			got := f.app.byTopic(tc.topic)
			var m map[string]any
			if len(got) != 1 || json.Unmarshal(got[0].body, &m) != nil || m["shop_id"] != float64(info.ID) || m["shop_domain"] != demo || !tc.check(m) {
				t.Fatalf("payload: %v", got)
			}
			verifies(t, got[0])
		})
	}
	for _, tc := range []struct {
		path, body string
		status     int
	}{
		{"/_sim/shops/" + demo + "/compliance/customers-delete", `{}`, 404},
		{"/_sim/shops/nowhere.myshopify.com/compliance/shop-redact", `{}`, 404},
		{"/_sim/shops/" + demo + "/compliance/customers-redact", `{"customer_id":"x"}`, 400},
	} {
		if status, _, _ := f.do(t, http.MethodPost, tc.path, "", asJSON, []byte(tc.body)); status != tc.status {
			t.Errorf("%s %s: %d, want %d", tc.path, tc.body, status, tc.status)
		}
	}
}

func TestControlInstallURLAndSessionToken(t *testing.T) {
	f := newSim(t, nil)
	status, _, body := f.do(t, http.MethodGet, "/_sim/install-url?shop="+demo, "", nil, nil)
	u, err := url.Parse(string(body))
	if status != 200 || err != nil {
		t.Fatalf("%d %s", status, body)
	}
	if ok, _ := (goshopify.App{ApiSecret: secret}).VerifyAuthorizationURL(u); !ok || !strings.HasPrefix(string(body), f.app.srv.URL+"/auth/shopify/install?") {
		t.Fatalf("install url %s", body)
	}
	status, _, body = f.do(t, http.MethodGet, "/_sim/session-token?shop="+demo+"&user_id=9&ttl=2m", "", nil, nil)
	claims := jwt.MapClaims{}
	if _, err := jwt.ParseWithClaims(string(body), claims, func(*jwt.Token) (any, error) { return []byte(secret), nil },
		jwt.WithTimeFunc(f.clk.now), jwt.WithAudience(key)); status != 200 || err != nil || claims["sub"] != "9" ||
		claims["exp"] != float64(f.clk.now().Add(2*time.Minute).Unix()) {
		t.Fatalf("session token: %d %v %v", status, err, claims)
	}
	if status, _, _ := f.do(t, http.MethodGet, "/_sim/session-token?shop="+demo+"&ttl=soon", "", nil, nil); status != 400 {
		t.Fatalf("bad ttl: %d", status)
	}
}

func TestControlDiscountsListing(t *testing.T) {
	f := newSim(t, nil)
	tok := f.access(t)
	f.gql(t, tok, createDiscount, map[string]any{"d": discountInput("FRIEND-ANNE")})
	status, _, body := f.do(t, http.MethodGet, "/_sim/shops/"+demo+"/discounts", "", nil, nil)
	var ds []Discount
	if err := json.Unmarshal(body, &ds); status != 200 || err != nil || len(ds) != 1 || ds[0].Code != "FRIEND-ANNE" || ds[0].Status != "ACTIVE" ||
		!slices.Contains([]string{"DiscountCodeBasic"}, ds[0].Kind) || dig(ds[0].Input, "customerGets", "value", "percentage") != 0.1 {
		t.Fatalf("discounts: %d %s", status, body)
	}
	// The storefront stand-in applies a shared discount link's code and
	// lands on the redirect path, where the capture script sees ?ref=.
	status, hdr, _ := f.do(t, http.MethodGet, "/discount/FRIEND-ANNE?redirect=%2F%3Fref%3DANNE&shop="+demo, "", nil, nil)
	if status != 302 || hdr.Get("Location") != "/?ref=ANNE&shop="+demo || !strings.Contains(hdr.Get("Set-Cookie"), "discount_code=FRIEND-ANNE") {
		t.Fatalf("discount link: %d %v", status, hdr)
	}
	status, _, page := f.do(t, http.MethodGet, "/?ref=ANNE&shop="+demo, "", http.Header{"Cookie": {"discount_code=FRIEND-ANNE"}}, nil)
	if status != 200 || !strings.Contains(string(page), `name="discount_code" value="FRIEND-ANNE"`) || !strings.Contains(string(page), `value="/?ref=ANNE"`) {
		t.Fatalf("storefront: %d %s", status, page)
	}
	if status, hdr, _ := f.do(t, http.MethodGet, "/discount/X?redirect=https://evil.example&shop="+demo, "", nil, nil); status != 302 ||
		hdr.Get("Location") != "/?shop="+demo {
		t.Fatalf("off-site redirect kept: %v", hdr)
	}
}

// The capture script's cart write reaches the order as a note attribute,
// and checkout lands on an order-received page that loads the widget.
func TestStorefrontCartCheckoutThankYou(t *testing.T) {
	f := newSim(t, nil)
	status, hdr, _ := f.do(t, http.MethodPost, "/cart/update.js?shop="+demo, "", http.Header{"Content-Type": {"application/json"}},
		[]byte(`{"attributes":{"parrain_ref":"ANNE"}}`))
	cookie := strings.Split(hdr.Get("Set-Cookie"), ";")[0]
	if status != 200 || !strings.HasPrefix(cookie, "cart=") {
		t.Fatalf("cart update: %d %v", status, hdr)
	}
	if status, _, _ := f.do(t, http.MethodPost, "/cart/update.js", "", nil, []byte(`not json`)); status != 400 {
		t.Fatalf("bad cart update: %d", status)
	}
	form := "email=bob%40example.com&first_name=Bob&total=80.00&landing_site=%2F%3Fref%3DANNE"
	status, hdr, _ = f.do(t, http.MethodPost, "/checkout?shop="+demo, "",
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Cookie": {cookie}}, []byte(form))
	if status != 303 || !strings.HasPrefix(hdr.Get("Location"), "/thank-you/") {
		t.Fatalf("checkout: %d %v", status, hdr)
	}
	orders := f.sim.Orders(demo)
	if len(orders) != 1 || !strings.Contains(string(orders[0]), `"note_attributes":[{"name":"parrain_ref","value":"ANNE"}]`) {
		t.Fatalf("order lacks the cart attribute: %s", orders)
	}
	status, _, page := f.do(t, http.MethodGet, hdr.Get("Location")+"&lang=fr", "", nil, nil)
	if status != 200 || !strings.Contains(string(page), `/widget/loader.js" data-shop="`+demo+`"`) ||
		!strings.Contains(string(page), `data-email="bob@example.com"`) || !strings.Contains(string(page), `lang="fr"`) {
		t.Fatalf("thank-you page: %d %s", status, page)
	}
}
