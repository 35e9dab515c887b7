package stack_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/events"
	"github.com/parrain/parrain/app/staff"
	"github.com/parrain/parrain/integrations/shopify/shopifysim"
	"github.com/parrain/parrain/jobs"
)

// verifyStandardWebhook checks a request the way a receiver following the
// Standard Webhooks spec does, written from the spec's text
// (spec/standard-webhooks.md, "Signature scheme", "Verifying signatures"),
// not from Parrain's code: the key is the base64 after "whsec_"; the
// signed content is "{webhook-id}.{webhook-timestamp}.{body}"; the header
// is a space-separated list of "v1,<base64 HMAC-SHA256>"; compare in
// constant time; the timestamp within 5 minutes of now.
func verifyStandardWebhook(secret string, hdr http.Header, body []byte, now time.Time) error {
	id, ts, sigs := hdr.Get("webhook-id"), hdr.Get("webhook-timestamp"), hdr.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return fmt.Errorf("missing webhook-* headers")
	}
	if strings.Contains(id, ".") {
		return fmt.Errorf("webhook-id %q contains a full stop", id)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("webhook-timestamp %q: %v", ts, err)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("webhook-timestamp %s is %s away", ts, d)
	}
	if !strings.HasPrefix(secret, "whsec_") {
		return fmt.Errorf("secret without whsec_")
	}
	key, err := base64.StdEncoding.DecodeString(secret[len("whsec_"):])
	if err != nil {
		return fmt.Errorf("secret: %v", err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "." + string(body)))
	want := mac.Sum(nil)
	for _, s := range strings.Fields(sigs) {
		version, b64, ok := strings.Cut(s, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return fmt.Errorf("no v1 signature matches")
}

// receiver is a merchant's endpoint: it keeps what it is sent and answers
// with status.
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    []received
	status atomic.Int32
}

type received struct {
	header http.Header
	body   []byte
	at     time.Time
}

// newReceiver starts a receiver whose clock is now (the app's: tests move
// it).
func newReceiver(t testing.TB, now func() time.Time) *receiver {
	r := &receiver{}
	r.status.Store(200)
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{header: req.Header.Clone(), body: b, at: now()})
		r.mu.Unlock()
		w.WriteHeader(int(r.status.Load()))
		fmt.Fprint(w, `{"ok":`+strconv.FormatBool(r.status.Load() < 300)+`}`)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) all() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

func eventType(body []byte) string {
	var b struct{ Type string }
	json.Unmarshal(body, &b)
	return b.Type
}

// ownerClient logs an owner into the console of h.
func ownerClient(t *testing.T, h *harness) *staffClient {
	if _, err := h.stack.Staff().Add(context.Background(), "owner@parrain.test", "", staff.Owner, staffPassword, nil); err != nil {
		t.Fatal(err)
	}
	return (&consoleWorld{h: h}).login(t, "owner@parrain.test")
}

func addEndpoint(t *testing.T, sc *staffClient, shop, url string, types ...string) (id int64, secret string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"url": url, "description": "test", "events": types})
	status, out := sc.send("POST", "/api/admin/shops/"+shop+"/endpoints", string(body), sc.csrf)
	if status != http.StatusCreated {
		t.Fatalf("add endpoint: %d %s", status, out)
	}
	var e struct {
		ID     int64
		Secret string
	}
	json.Unmarshal([]byte(out), &e)
	return e.ID, e.Secret
}

// An endpoint subscribed to every engine event receives, over real HTTP
// through the worker, each one once, signed so that an independent
// Standard Webhooks verifier accepts it; running the engine's steps again
// emits nothing more.
func TestSignedEventsEndToEnd(t *testing.T) {
	h := newHarness(t, withSimulator(), withUnlimitedAPI(),
		withEnv("EVENTS_ALLOW_PRIVATE_DESTINATIONS", "true"), withEnv("EVENTS_SWEEP_EVERY", "200ms"))
	const shop = "events.myshopify.com"
	sh := h.installAndSync(shop, "EUR")
	sc := ownerClient(t, h)
	rcv := newReceiver(t, h.now)
	epID, secret := addEndpoint(t, sc, shop, rcv.srv.URL+"/hooks", "advocate.created", "referral.created", "referral.approved",
		"referral.reversed", "reward.issued", "reward.revoked")
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret %q", secret)
	}
	// A second endpoint wants rewards only.
	rcv2 := newReceiver(t, h.now)
	addEndpoint(t, sc, shop, rcv2.srv.URL, "reward.issued")

	h.order(shop, shopifysim.OrderInput{Email: "marie@example.com", FirstName: "Marie", Total: "120.00"})
	var a *advocateView
	eventually(t, 15*time.Second, "Marie an advocate", func() bool { a = h.advocate("marie@example.com"); return a != nil && a.FriendState == "created" })
	b := h.order(shop, shopifysim.OrderInput{Email: "bob@example.com", FirstName: "Bob", Total: "80.00", DiscountCodes: []string{a.FriendCode}})
	c := h.order(shop, shopifysim.OrderInput{Email: "carol@example.com", FirstName: "Carol", Total: "60.00", DiscountCodes: []string{a.FriendCode}})
	eventually(t, 15*time.Second, "referrals", func() bool {
		s1, _, _ := h.referral(b)
		s2, _, _ := h.referral(c)
		return s1 == "pending" && s2 == "pending"
	})
	if _, err := h.sim.Refund(shop, c, "60.00"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "C reversed", func() bool { s, _, _ := h.referral(c); return s == "reversed" })
	// Everything so far delivered before the clock jumps (a message signed
	// before the jump and received after it would look 15 days old).
	eventually(t, 20*time.Second, "the first six events delivered", func() bool { return len(rcv.all()) >= 6 })
	h.advance(15 * 24 * time.Hour)
	if err := h.stack.Mux().ProcessTask(context.Background(), jobs.NewApproveReferralsTask()); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "B rewarded", func() bool { s, _, _ := h.referral(b); return s == "rewarded" })

	want := map[string]int{"advocate.created": 1, "referral.created": 2, "referral.reversed": 1, "referral.approved": 1, "reward.issued": 1}
	// Bob and Carol are advocates too (their paid orders).
	want["advocate.created"] = 3
	total := 0
	for _, n := range want {
		total += n
	}
	eventually(t, 20*time.Second, "every event delivered", func() bool { return len(rcv.all()) >= total && len(rcv2.all()) >= 1 })
	time.Sleep(500 * time.Millisecond) // a double would arrive now
	got := map[string]int{}
	ids := map[string]bool{}
	for _, r := range rcv.all() {
		if err := verifyStandardWebhook(secret, r.header, r.body, r.at); err != nil {
			t.Errorf("%s: %v", r.body, err)
		}
		if err := verifyStandardWebhook("whsec_"+base64.StdEncoding.EncodeToString([]byte("another endpoint's secret key!!!")), r.header, r.body, r.at); err == nil {
			t.Error("a signature verified with the wrong secret")
		}
		id := r.header.Get("webhook-id")
		if ids[id] {
			t.Errorf("event %s delivered twice", id)
		}
		ids[id] = true
		got[eventType(r.body)]++
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: received %d, want %d (all: %v)", k, got[k], n, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("received types %v, want %v", got, want)
	}
	if n := len(rcv2.all()); n != 1 || eventType(rcv2.all()[0].body) != "reward.issued" {
		t.Errorf("the rewards-only endpoint got %d events", n)
	}
	// The payloads say what happened, and name no friend.
	for _, r := range rcv.all() {
		var body struct {
			Type string
			Data struct {
				Advocate struct {
					Code  string
					Email *string
				}
				Referral struct {
					State string
					Order struct{ ID string }
				}
				Reward struct{ Code string }
			}
		}
		if err := json.Unmarshal(r.body, &body); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(r.body), "bob@example.com") && body.Type != "advocate.created" {
			t.Errorf("%s names the friend: %s", body.Type, r.body)
		}
		switch body.Type {
		case "reward.issued":
			if !strings.HasPrefix(body.Data.Reward.Code, "THANKS-") || body.Data.Advocate.Code != a.Code || *body.Data.Advocate.Email != "marie@example.com" {
				t.Errorf("reward.issued: %s", r.body)
			}
		case "referral.reversed":
			if body.Data.Referral.State != "reversed" || body.Data.Referral.Order.ID != strconv.FormatInt(c, 10) {
				t.Errorf("referral.reversed: %s", r.body)
			}
		}
	}

	// The engine's steps run again (a retried job): nothing new.
	ctx := context.Background()
	before := h.count("SELECT count(*) FROM event_deliveries")
	var refB, rewardB, refC, orderB int64
	h.direct.QueryRow(`SELECT f.id, f.order_id, w.id FROM referrals f JOIN orders o ON o.id = f.order_id JOIN rewards w ON w.referral_id = f.id
		WHERE o.platform_order_id = $1`, strconv.FormatInt(b, 10)).Scan(&refB, &orderB, &rewardB)
	h.direct.QueryRow(`SELECT f.id FROM referrals f JOIN orders o ON o.id = f.order_id WHERE o.platform_order_id = $1`, strconv.FormatInt(c, 10)).Scan(&refC)
	repo := h.stack.DB.Referrals()
	if err := repo.CreateReferral(ctx, &app.Referral{ShopID: sh.ID, AdvocateID: a.ID, OrderID: orderB, EvidenceKind: "discount_code", Decision: []byte("{}"), State: "pending", HoldUntil: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := repo.ReverseReferral(ctx, refC, "order fully refunded"); err != nil {
		t.Fatal(err)
	}
	if err := repo.MarkRewardIssued(ctx, rewardB, "x", time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := repo.ApproveReferral(ctx, refB, &app.Reward{ShopID: sh.ID, ReferralID: refB, AdvocateID: a.ID, Code: "THANKS-X"}); err != nil {
		t.Fatal(err)
	}
	// And every order webhook is processed again by the worker.
	if _, err := h.direct.Exec(`UPDATE webhook_events SET processed_at = NULL, enqueued_at = NULL WHERE shop_id = $1`, sh.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "webhooks processed again", func() bool {
		return h.count(`SELECT count(*) FROM webhook_events WHERE shop_id = $1 AND processed_at IS NULL`, sh.ID) == 0
	})
	time.Sleep(time.Second)
	if after := h.count("SELECT count(*) FROM event_deliveries"); after != before {
		t.Fatalf("engine steps run again made %d more deliveries", after-before)
	}
	if n := len(rcv.all()); n != total {
		t.Fatalf("the endpoint received %d messages, want %d", n, total)
	}

	// The console shows the log (logged in again: 15 days went by).
	sc = (&consoleWorld{h: h}).login(t, "owner@parrain.test")
	status, page := sc.get(fmt.Sprintf("/console/shops/%s/endpoints/%d", shop, epID))
	if status != 200 || !strings.Contains(page, "reward.issued") || !strings.Contains(page, "delivered") {
		t.Fatalf("endpoint page: %d %.300s", status, page)
	}
}

// A failing endpoint is retried on the Standard Webhooks schedule; after a
// day of failures it is disabled, its pending deliveries stop, the merchant
// is told on the dashboard; once fixed and enabled, "send again" delivers.
func TestFailingEndpointIsRetriedThenDisabled(t *testing.T) {
	h := newHarness(t, withoutWorker(), withEnv("EVENTS_ALLOW_PRIVATE_DESTINATIONS", "true"))
	const shop = "failing.myshopify.com"
	sh := h.installShop(shop)
	sc := ownerClient(t, h)
	rcv := newReceiver(t, h.now)
	rcv.status.Store(503)
	epID, secret := addEndpoint(t, sc, shop, rcv.srv.URL, "advocate.created")
	ctx := context.Background()
	if _, err := h.stack.DB.Referrals().EnsureAdvocate(ctx, &app.Advocate{ShopID: sh.ID, Email: "ada@example.com", FirstName: "Ada",
		Code: "ADA-12345", FriendCode: "FRIEND-ADA-12345"}); err != nil {
		t.Fatal(err)
	}
	var delivery int64
	h.direct.QueryRow(`SELECT id FROM event_deliveries`).Scan(&delivery)
	deliverer := h.stack.EventDeliverer()
	sweep := h.stack.EventSweep()
	start := h.now()
	for i := 0; ; i++ {
		// Jump to the delivery's next attempt; the sweep offers it then.
		var next time.Time
		var state string
		h.direct.QueryRow(`SELECT state, next_at FROM event_deliveries WHERE id = $1`, delivery).Scan(&state, &next)
		if state != "pending" {
			break
		}
		if i > 20 {
			t.Fatal("never stopped retrying")
		}
		if d := next.Sub(h.now()); d > 0 {
			h.advance(d)
		}
		if n, err := sweep.Sweep(ctx); err != nil || n != 1 {
			t.Fatalf("sweep: %d %v", n, err)
		}
		if err := deliverer.Deliver(ctx, delivery); err != nil {
			t.Fatal(err)
		}
	}
	got := rcv.all()
	// Attempts at 0, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h: 17h35 without a
	// success; the next, at 27h35, is past a day: disabled then.
	if len(got) != 8 {
		t.Fatalf("%d attempts, want 8", len(got))
	}
	for i, r := range got {
		if err := verifyStandardWebhook(secret, r.header, r.body, r.at); err != nil {
			t.Errorf("attempt %d: %v", i, err)
		}
		if r.header.Get("webhook-id") != got[0].header.Get("webhook-id") {
			t.Errorf("attempt %d changed the webhook-id", i)
		}
	}
	if d := h.now().Sub(start); d < 24*time.Hour || d > 28*time.Hour {
		t.Errorf("disabled after %s", d)
	}
	var enabled bool
	var reason string
	h.direct.QueryRow(`SELECT enabled, disabled_reason FROM event_endpoints WHERE id = $1`, epID).Scan(&enabled, &reason)
	if enabled || !strings.Contains(reason, "no successful delivery since") {
		t.Fatalf("endpoint enabled=%v reason=%q", enabled, reason)
	}
	if n := h.count(`SELECT count(*) FROM event_attempts WHERE delivery_id = $1 AND status = 503`, delivery); n != 8 {
		t.Fatalf("%d attempts logged", n)
	}
	// The merchant is told (logged in again: a day went by).
	sc = (&consoleWorld{h: h}).login(t, "owner@parrain.test")
	_, page := sc.get("/console/shops/" + shop + "/dashboard")
	if !strings.Contains(page, "Parrain stopped sending events to "+rcv.srv.URL) {
		t.Fatalf("no notice on the dashboard: %.2000s", page)
	}
	// "Send again" refuses while disabled, then works.
	status, out := sc.send("POST", fmt.Sprintf("/api/admin/shops/%s/deliveries/%d/resend", shop, delivery), "", sc.csrf)
	if status != http.StatusConflict {
		t.Fatalf("resend to a disabled endpoint: %d %s", status, out)
	}
	rcv.status.Store(204)
	if status, out := sc.send("POST", fmt.Sprintf("/api/admin/shops/%s/endpoints/%d/enable", shop, epID), "", sc.csrf); status != 200 {
		t.Fatalf("enable: %d %s", status, out)
	}
	if status, out := sc.send("POST", fmt.Sprintf("/api/admin/shops/%s/deliveries/%d/resend", shop, delivery), "", sc.csrf); status != 202 {
		t.Fatalf("resend: %d %s", status, out)
	}
	if _, err := sweep.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if err := deliverer.Deliver(ctx, delivery); err != nil {
		t.Fatal(err)
	}
	var state string
	h.direct.QueryRow(`SELECT state FROM event_deliveries WHERE id = $1`, delivery).Scan(&state)
	if state != "delivered" || len(rcv.all()) != 9 {
		t.Fatalf("after send again: %s, %d requests", state, len(rcv.all()))
	}
	// The delivery log in the API.
	_, out = sc.send("GET", fmt.Sprintf("/api/admin/shops/%s/endpoints/%d/deliveries", shop, epID), "", "")
	if !strings.Contains(out, `"state":"delivered"`) || strings.Count(out, `"status":503`) != 8 || !strings.Contains(out, `"latency_ms"`) {
		t.Fatalf("delivery log: %.1000s", out)
	}
	// customers/redact: the events that name Ada lose her email and name.
	if _, err := h.stack.DB.Compliance().RedactCustomer(ctx, sh.ID, app.CustomerRef{ID: 1, Email: "ada@example.com"}, h.now()); err != nil {
		t.Fatal(err)
	}
	var payload string
	h.direct.QueryRow(`SELECT payload::text FROM events WHERE shop_id = $1`, sh.ID).Scan(&payload)
	if strings.Contains(payload, "ada@example.com") || strings.Contains(payload, "Ada") || !strings.Contains(payload, `"email": null`) {
		t.Fatalf("after customers/redact: %s", payload)
	}
}

// By default a destination on loopback or a private network is refused at
// save time with a clear 400, and at connect time (a name that resolved
// to a public address when saved, then to 127.0.0.1): no connection.
func TestEventDestinationsMustBePublic(t *testing.T) {
	h := newHarness(t, withoutWorker())
	const shop = "ssrf-events.myshopify.com"
	sh := h.installShop(shop)
	sc := ownerClient(t, h)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			c.Close()
		}
	}()
	defer ln.Close()
	for _, u := range []string{"http://" + ln.Addr().String() + "/", "http://localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port),
		"http://169.254.169.254/latest", "http://10.0.0.8/hook", "http://[::1]/x"} {
		body, _ := json.Marshal(map[string]any{"url": u, "events": []string{"reward.issued"}})
		status, out := sc.send("POST", "/api/admin/shops/"+shop+"/endpoints", string(body), sc.csrf)
		if status != 400 || !strings.Contains(out, "not a public address") {
			t.Errorf("%s: %d %s, want 400 not a public address", u, status, out)
		}
	}
	for _, bad := range []string{`{"url":"ftp://x.example","events":["reward.issued"]}`, `{"url":"https://x.example","events":["order.paid"]}`,
		`{"url":"https://x.example","events":[]}`, `{"url":"https://user:pw@x.example","events":["reward.issued"]}`, `not json`} {
		if status, out := sc.send("POST", "/api/admin/shops/"+shop+"/endpoints", bad, sc.csrf); status != 400 {
			t.Errorf("%s: %d %s, want 400", bad, status, out)
		}
	}
	if n := h.count("SELECT count(*) FROM event_endpoints"); n != 0 {
		t.Fatalf("%d endpoints saved", n)
	}
	// Saved while public, now resolving to loopback: the dialer refuses.
	if _, err := h.stack.DB.Events().CreateEndpoint(context.Background(), sh.ID,
		eventsInput("http://"+ln.Addr().String()+"/"), "whsec_"+base64.StdEncoding.EncodeToString(make([]byte, 32))); err != nil {
		t.Fatal(err)
	}
	if _, err := h.stack.DB.Referrals().EnsureAdvocate(context.Background(), &app.Advocate{ShopID: sh.ID, Email: "z@example.com",
		Code: "ZED-12345", FriendCode: "FRIEND-ZED-12345"}); err != nil {
		t.Fatal(err)
	}
	var delivery int64
	h.direct.QueryRow(`SELECT id FROM event_deliveries`).Scan(&delivery)
	if err := h.stack.EventDeliverer().Deliver(context.Background(), delivery); err != nil {
		t.Fatal(err)
	}
	var lastErr string
	h.direct.QueryRow(`SELECT last_error FROM event_deliveries WHERE id = $1`, delivery).Scan(&lastErr)
	if !strings.Contains(lastErr, "not a public address") || conns.Load() != 0 {
		t.Fatalf("connect-time guard: %q, %d connections", lastErr, conns.Load())
	}
}

func eventsInput(url string) events.EndpointInput {
	return events.EndpointInput{URL: url, Types: []string{"advocate.created"}}
}

// The console's Events page: the owner adds an endpoint with the form
// (CSRF), sees its secret once, a private address gets the form back with
// the reason; support staff can neither add one nor reveal a secret.
func TestConsoleEventEndpoints(t *testing.T) {
	h := newHarness(t, withoutWorker())
	const shop = "console-events.myshopify.com"
	sh := h.installShop(shop)
	sc := ownerClient(t, h)
	if _, err := h.stack.Staff().Add(context.Background(), "support@parrain.test", "", staff.Support, staffPassword, []string{shop}); err != nil {
		t.Fatal(err)
	}
	post := func(c *staffClient, path string, form url.Values) (int, string) {
		resp, err := c.c.PostForm(c.base+path, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	base := "/console/shops/" + shop + "/endpoints"
	form := url.Values{"url": {"http://127.0.0.1:9/hook"}, "description": {"Zapier"}, "events": {"reward.issued", "email.sent"}, "csrf": {sc.csrf}}
	status, page := post(sc, base, form)
	if status != 400 || !strings.Contains(page, "not a public address") || h.count("SELECT count(*) FROM event_endpoints") != 0 {
		t.Fatalf("private address: %d %.300s", status, page)
	}
	// Without the CSRF token: refused.
	form.Set("url", "https://93.184.216.34/hook")
	form.Del("csrf")
	if status, _ := post(sc, base, form); status != 403 {
		t.Fatalf("no CSRF: %d", status)
	}
	form.Set("csrf", sc.csrf)
	status, page = post(sc, base, form)
	if status != 200 || !strings.Contains(page, `<code id="secret">whsec_`) {
		t.Fatalf("add: %d %.500s", status, page)
	}
	var id int64
	h.direct.QueryRow(`SELECT id FROM event_endpoints WHERE shop_id = $1`, sh.ID).Scan(&id)
	if _, page = sc.get(base); strings.Contains(page, "whsec_") || !strings.Contains(page, "Zapier") {
		t.Fatalf("the list shows the secret or not the endpoint: %.500s", page)
	}
	secret, err := h.stack.Events().Secret(context.Background(), sh.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	var sealed string
	h.direct.QueryRow(`SELECT secret FROM event_endpoints WHERE id = $1`, id).Scan(&sealed)
	if strings.Contains(sealed, secret[6:]) || !strings.HasPrefix(secret, "whsec_") {
		t.Fatal("the secret is stored in clear")
	}
	if _, page = post(sc, fmt.Sprintf("%s/%d/secret", base, id), url.Values{"csrf": {sc.csrf}}); !strings.Contains(html.UnescapeString(page), secret) {
		t.Fatalf("owner reveal: %.300s", page)
	}
	support := (&consoleWorld{h: h}).login(t, "support@parrain.test")
	if status, page := post(support, fmt.Sprintf("%s/%d/secret", base, id), url.Values{"csrf": {support.csrf}}); status != 403 || strings.Contains(html.UnescapeString(page), secret) {
		t.Fatalf("support reveal: %d", status)
	}
	if status, _ := support.send("GET", fmt.Sprintf("/api/admin/shops/%s/endpoints/%d/secret", shop, id), "", ""); status != 403 {
		t.Fatalf("support API reveal: %d", status)
	}
	if status, _ := post(support, base, url.Values{"url": {"https://93.184.216.34/x"}, "events": {"reward.issued"}, "csrf": {support.csrf}}); status != 403 {
		t.Fatalf("support add: %d", status)
	}
	if status, page := support.get(fmt.Sprintf("%s/%d", base, id)); status != 200 || strings.Contains(page, "Reveal") {
		t.Fatalf("support view: %d", status)
	}
	if status, _ := post(sc, fmt.Sprintf("%s/%d/delete", base, id), url.Values{"csrf": {sc.csrf}}); status != 303 || h.count("SELECT count(*) FROM event_endpoints") != 0 {
		t.Fatalf("delete: %d", status)
	}
}
