package stack_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

type widgetReply struct {
	State string            `json:"state"`
	Lang  string            `json:"lang"`
	Texts map[string]string `json:"texts"`
	Link  string            `json:"link"`
	Code  string            `json:"code"`
	Share []struct{ Channel, URL string }
	Error string `json:"error"`
}

// widgetSession posts to the widget API as a store page or extension would.
func (h *harness) widgetSession(body map[string]any, token string) (int, widgetReply, string) {
	h.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, h.app.URL+"/api/widget/session", bytes.NewReader(b))
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("Origin", "https://shop.example")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out widgetReply
	_ = json.Unmarshal(raw, &out)
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		h.t.Errorf("status %d without CORS header", resp.StatusCode)
	}
	return resp.StatusCode, out, string(raw)
}

func TestWidgetSession(t *testing.T) {
	h := newHarness(t, withSimulator())
	const shop = "widget-shop.myshopify.com"
	h.installAndSync(shop, "EUR")
	orderID, adv := h.newAdvocate(shop, "ann@example.com", "Ann")
	oid := strconv.FormatInt(orderID, 10)
	customer := h.customerOf(oid)
	confirmation := h.simConfirmationNumber(shop, orderID)

	// The happy paths: each proof shows the buyer's own link and code.
	ok := []struct {
		name  string
		body  map[string]any
		token string
	}{
		{"order id and email", map[string]any{"shop": shop, "order_id": oid, "email": "Ann@Example.com"}, ""},
		{"checkout token, guest, with the confirmation number", map[string]any{"order_id": "gid://shopify/Order/" + oid, "confirmation_number": confirmation}, h.sim.CheckoutSessionToken(shop, 0, time.Minute)},
		{"checkout token, the buyer", map[string]any{"order_id": oid}, h.sim.CheckoutSessionToken(shop, customer, time.Minute)},
	}
	for _, tc := range ok {
		status, got, raw := h.widgetSession(tc.body, tc.token)
		if status != 200 || got.State != "ready" {
			t.Fatalf("%s: %d %s", tc.name, status, raw)
		}
		if got.Link != h.app.URL+"/r/"+adv.Code || got.Code != adv.FriendCode {
			t.Errorf("%s: link %q code %q, want %s and %s", tc.name, got.Link, got.Code, adv.Code, adv.FriendCode)
		}
		if len(got.Share) != 6 {
			t.Errorf("%s: %d share links", tc.name, len(got.Share))
		}
		for _, s := range got.Share {
			if !strings.Contains(s.URL, "ch%3D"+s.Channel) && !strings.Contains(s.URL, "ch="+s.Channel) {
				t.Errorf("%s: %s share URL lacks its channel: %s", tc.name, s.Channel, s.URL)
			}
		}
	}

	// French for a French page.
	if _, got, _ := h.widgetSession(map[string]any{"shop": shop, "order_id": oid, "email": "ann@example.com", "lang": "fr-FR"}, ""); got.Lang != "fr" || !strings.Contains(got.Texts["offer"], "Offrez") {
		t.Errorf("fr: lang %q offer %q", got.Lang, got.Texts["offer"])
	}

	// Refusals: never the advocate's data.
	forged, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"dest": "https://" + shop, "exp": time.Now().Add(time.Minute).Unix()}).
		SignedString([]byte("not-the-secret"))
	h.sim.AddShop("other-widget.myshopify.com", simShop("Other", "EUR", "UTC"))
	// A token signed with the app secret whose iss names another shop
	// than its dest (issue 10 §6h).
	crossed, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": "https://other-widget.myshopify.com/admin", "dest": "https://" + shop,
		"aud": apiKey, "sub": "gid://shopify/Customer/" + strconv.FormatInt(customer, 10), "exp": time.Now().Add(time.Minute).Unix()}).SignedString([]byte(apiSecret))
	refused := []struct {
		name   string
		body   map[string]any
		token  string
		status int
	}{
		{"no proof", map[string]any{"shop": shop, "order_id": oid}, "", 403},
		// A wrong proof is answered like an order not known yet (202).
		{"mismatched email", map[string]any{"shop": shop, "order_id": oid, "email": "eve@example.com"}, "", 202},
		{"wrong order key", map[string]any{"shop": shop, "order_id": oid, "order_key": "wc_order_guess"}, "", 202},
		// A guest's token proves the shop, not the order (issue 10 §3).
		{"guest token alone", map[string]any{"order_id": oid}, h.sim.CheckoutSessionToken(shop, 0, time.Minute), 403},
		{"guest token, wrong confirmation number", map[string]any{"order_id": oid, "confirmation_number": "ZZZZ99999"}, h.sim.CheckoutSessionToken(shop, 0, time.Minute), 202},
		{"expired token", map[string]any{"order_id": oid}, h.sim.CheckoutSessionToken(shop, 0, -time.Minute), 403},
		{"forged token", map[string]any{"order_id": oid}, forged, 403},
		{"token whose iss is another shop", map[string]any{"order_id": oid}, crossed, 403},
		{"token of another customer", map[string]any{"order_id": oid}, h.sim.CheckoutSessionToken(shop, customer+1, time.Minute), 202},
		{"token for another shop", map[string]any{"shop": shop, "order_id": oid}, h.sim.CheckoutSessionToken("other-widget.myshopify.com", 0, time.Minute), 403},
		{"shop not using Parrain", map[string]any{"shop": "nobody.myshopify.com", "order_id": oid, "email": "ann@example.com"}, "", 403},
		{"bad order id", map[string]any{"shop": shop, "order_id": "1 OR 1=1", "email": "ann@example.com"}, "", 400},
		{"bad shop", map[string]any{"shop": "evil.example.com", "order_id": oid, "email": "ann@example.com"}, "", 400},
	}
	for _, tc := range refused {
		status, got, raw := h.widgetSession(tc.body, tc.token)
		if status != tc.status || (got.Error == "" && status != 202) {
			t.Errorf("%s: %d %s, want %d with a message", tc.name, status, raw, tc.status)
		}
		if strings.Contains(raw, adv.Code) {
			t.Errorf("%s: refusal leaks the code: %s", tc.name, raw)
		}
	}

	// An unknown order and a known order with a wrong proof get the same
	// answer, byte for byte: the API is no oracle of which orders exist.
	for _, proof := range []struct {
		body  func(id string) map[string]any
		token string
	}{
		{func(id string) map[string]any {
			return map[string]any{"shop": shop, "order_id": id, "email": "eve@example.com"}
		}, ""},
		{func(id string) map[string]any {
			return map[string]any{"order_id": id, "confirmation_number": "ZZZZ99999"}
		}, h.sim.CheckoutSessionToken(shop, 0, time.Minute)},
	} {
		s1, _, known := h.widgetSession(proof.body(oid), proof.token)
		s2, _, unknown := h.widgetSession(proof.body("987654321"), proof.token)
		if s1 != s2 || known != unknown {
			t.Errorf("known order %d %s vs unknown order %d %s", s1, known, s2, unknown)
		}
	}

	// Not JSON at all.
	resp, err := http.Post(h.app.URL+"/api/widget/session", "text/plain", strings.NewReader("order=1"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("non-JSON body: %d", resp.StatusCode)
	}

	// CORS preflight, as the checkout extension's fetch with Authorization
	// sends it.
	req, _ := http.NewRequest(http.MethodOptions, h.app.URL+"/api/widget/session", nil)
	req.Header.Set("Origin", "https://extensions.shopifycdn.com")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
}

// newAdvocate places a first paid order for email and waits until the buyer
// is an advocate with a friend code in the store.
func (h *harness) newAdvocate(shop, email, first string) (int64, *advocateView) {
	h.t.Helper()
	in := simOrder(email)
	in.FirstName = first
	orderID := h.order(shop, in)
	var adv *advocateView
	eventually(h.t, 15*time.Second, "advocate with friend code", func() bool {
		adv = h.advocate(email)
		return adv != nil && adv.FriendState == "created"
	})
	return orderID, adv
}

// putProgram changes the program through the admin API, as the embedded
// admin does.
func (h *harness) putProgram(shop, body string) {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodPut, h.app.URL+"/api/admin/program", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+h.sim.SessionToken(shop, 1, time.Minute))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		h.t.Fatalf("PUT program %s: %d %s", body, resp.StatusCode, readAll(resp))
	}
}

// The storefront launcher asks through the store's app proxy: Shopify signs
// the logged-in customer, and only that customer's link comes back.
func TestWidgetThroughAppProxy(t *testing.T) {
	h := newHarness(t, withSimulator())
	const shop = "widget-proxy.myshopify.com"
	h.installAndSync(shop, "USD")
	h.order(shop, simOrder("cleo@example.com"))
	var adv *advocateView
	eventually(t, 15*time.Second, "advocate", func() bool {
		adv = h.advocate("cleo@example.com")
		return adv != nil && adv.FriendState == "created"
	})
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	post := func(path string) (int, string) {
		resp, err := browser.Post(h.simSrv.URL+path, "text/plain", strings.NewReader(`{"langs":["en"]}`))
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, readAll(resp)
	}
	if status, body := post("/apps/parrain/widget/session?shop=" + shop); status != 404 {
		t.Fatalf("launcher off: %d %s", status, body) // the merchant has not turned it on
	}
	h.putProgram(shop, `{"widget":{"launcher":true}}`)
	if status, body := post("/apps/parrain/widget/session?shop=" + shop); status != 403 || strings.Contains(body, adv.Code) {
		t.Fatalf("visitor: %d %s", status, body)
	}
	if _, err := browser.Get(h.simSrv.URL + "/account/login?email=cleo@example.com&shop=" + shop); err != nil {
		t.Fatal(err)
	}
	status, body := post("/apps/parrain/widget/session?shop=" + shop)
	if status != 200 || !strings.Contains(body, `"code":"`+adv.FriendCode+`"`) {
		t.Fatalf("logged-in advocate: %d %s", status, body)
	}
	// Straight to the app, without Shopify's signature, or with a
	// customer swapped into a signed query: refused.
	for _, q := range []string{
		"shop=" + shop + "&logged_in_customer_id=1&timestamp=" + strconv.FormatInt(time.Now().Unix(), 10),
		"shop=" + shop + "&logged_in_customer_id=1&path_prefix=%2Fapps%2Fparrain&timestamp=1&signature=" + strings.Repeat("ab", 32),
	} {
		resp, err := http.Post(h.app.URL+"/proxy/shopify/widget/session?"+q, "text/plain", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		if b := readAll(resp); resp.StatusCode != 403 || strings.Contains(b, adv.Code) {
			t.Errorf("unsigned proxy call: %d %s", resp.StatusCode, b)
		}
	}
}

// An order whose webhook is not processed yet answers 202 ("not yet"), then
// the popup once it is; too many calls from one address get 429.
func TestWidgetSessionPendingThenReadyAndRateLimit(t *testing.T) {
	h := newHarness(t, withSimulator(), withoutWorker(), withEnv("WIDGET_PER_MINUTE_PER_IP", "6"))
	const shop = "widget-pending.myshopify.com"
	stop := h.runWorker()
	h.installAndSync(shop, "USD")
	stop()

	oid := strconv.FormatInt(h.order(shop, simOrder("bea@example.com")), 10)
	body := map[string]any{"shop": shop, "order_id": oid, "email": "bea@example.com"}
	status, got, raw := h.widgetSession(body, "")
	if status != 202 || got.State != "pending" {
		t.Fatalf("before processing: %d %s, want 202 pending", status, raw)
	}
	defer h.runWorker()()
	deadline := time.Now().Add(15 * time.Second)
	for status != 200 && time.Now().Before(deadline) {
		time.Sleep(300 * time.Millisecond)
		status, got, raw = h.widgetSession(body, "")
		if status == 429 {
			// The limit is low for this test; a real widget retries
			// five times at most. Wait out the window.
			h.rdb.FlushDB(t.Context())
		}
	}
	if status != 200 || got.Code == "" {
		t.Fatalf("after processing: %d %s", status, raw)
	}

	h.rdb.FlushDB(t.Context())
	h.startOfMinute()
	codes := []int{}
	for range 7 {
		status, _, _ := h.widgetSession(body, "")
		codes = append(codes, status)
	}
	if codes[5] != 200 || codes[6] != 429 {
		t.Fatalf("statuses %v: want 200 six times then 429", codes)
	}
}

// simConfirmationNumber is the confirmation number Shopify (the simulator)
// gave the order, as the thank-you page shows it.
func (h *harness) simConfirmationNumber(shop string, orderID int64) string {
	h.t.Helper()
	for _, b := range h.sim.Orders(shop) {
		var o struct {
			ID                 int64  `json:"id"`
			ConfirmationNumber string `json:"confirmation_number"`
		}
		if json.Unmarshal(b, &o) == nil && o.ID == orderID && o.ConfirmationNumber != "" {
			return o.ConfirmationNumber
		}
	}
	h.t.Fatalf("no confirmation number for order %d", orderID)
	return ""
}
