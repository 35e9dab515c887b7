package stack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parrain/parrain/app/staff"
	"github.com/parrain/parrain/integrations/shopify/shopifysim"
)

// consoleWorld is two shops with a referral each, and staff.
type consoleWorld struct {
	h                  *harness
	shopA, shopB       string
	refA, refB         int64 // pending referrals
	reviewA            int64 // a referral flagged for review in shop A
	advocateA          *advocateView
	unattributedOrderA int64
}

const staffPassword = "correct horse battery"

func newConsoleWorld(t *testing.T) *consoleWorld {
	h := newHarness(t, withSimulator(), withUnlimitedAPI())
	w := &consoleWorld{h: h, shopA: "console-a.myshopify.com", shopB: "console-b.myshopify.com"}
	for i, shop := range []string{w.shopA, w.shopB} {
		h.installAndSync(shop, "EUR")
		adv := fmt.Sprintf("adv%d@example.com", i)
		h.order(shop, shopifysim.OrderInput{Email: adv, FirstName: "Ada"})
		var a *advocateView
		eventually(t, 15*time.Second, "advocate", func() bool { a = h.advocate(adv); return a != nil && a.FriendState == "created" })
		o1 := h.order(shop, shopifysim.OrderInput{Email: fmt.Sprintf("f1-%d@example.com", i), Total: "80.00", DiscountCodes: []string{a.FriendCode}})
		o2 := h.order(shop, shopifysim.OrderInput{Email: fmt.Sprintf("f2-%d@example.com", i), Total: "90.00", DiscountCodes: []string{a.FriendCode}})
		eventually(t, 15*time.Second, "referrals", func() bool { s1, _, _ := h.referral(o1); s2, _, _ := h.referral(o2); return s1 != "" && s2 != "" })
		var r1, r2 int64
		h.direct.QueryRow(`SELECT f.id FROM referrals f JOIN orders o ON o.id = f.order_id WHERE o.platform_order_id = $1`, fmt.Sprint(o1)).Scan(&r1)
		h.direct.QueryRow(`SELECT f.id FROM referrals f JOIN orders o ON o.id = f.order_id WHERE o.platform_order_id = $1`, fmt.Sprint(o2)).Scan(&r2)
		if i == 0 {
			w.refA, w.reviewA, w.advocateA = r1, r2, a
			// A velocity alarm, as the engine raises it: to review.
			h.direct.Exec(`UPDATE referrals SET state = 'needs_review', flagged = true, reason = '6 referred orders from one address in 60 minutes',
				decision = jsonb_set(decision, '{outcomes}', (SELECT jsonb_agg(CASE WHEN o->>'rule' = 'velocity (IP)'
					THEN '{"rule":"velocity (IP)","passed":false,"effect":"review","reason":"6 referred orders from one address in 60 minutes"}'::jsonb ELSE o END)
					FROM jsonb_array_elements(decision->'outcomes') o)) WHERE id = $1`, r2)
			w.unattributedOrderA = h.order(shop, shopifysim.OrderInput{Email: "lone@example.com", Total: "70.00"})
		} else {
			w.refB = r1
		}
	}
	eventually(t, 15*time.Second, "lone order", func() bool {
		return h.count("SELECT count(*) FROM orders WHERE platform_order_id = $1 AND known", fmt.Sprint(w.unattributedOrderA)) == 1
	})
	svc := h.stack.Staff()
	for _, m := range []struct {
		email string
		role  staff.Role
		shops []string
	}{
		{"owner@parrain.test", staff.Owner, nil},
		{"support@parrain.test", staff.Support, []string{w.shopA}},
		{"viewer@parrain.test", staff.Viewer, []string{w.shopA}},
	} {
		if _, err := svc.Add(context.Background(), m.email, "", m.role, staffPassword, m.shops); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// staffClient is a logged-in browser without JavaScript.
type staffClient struct {
	t    testing.TB
	base string
	c    *http.Client
	csrf string
}

func (w *consoleWorld) login(t testing.TB, email string) *staffClient {
	jar, _ := cookiejar.New(nil)
	sc := &staffClient{t: t, base: w.h.app.URL, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	resp, err := sc.c.PostForm(sc.base+"/console/login", url.Values{"email": {email}, "password": {staffPassword}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login %s: %d", email, resp.StatusCode)
	}
	_, page := sc.get("/console/")
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token on the console page: %s", page)
	}
	sc.csrf = m[1]
	return sc
}

func (sc *staffClient) get(path string) (int, string) {
	resp, err := sc.c.Get(sc.base + path)
	if err != nil {
		sc.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (sc *staffClient) send(method, path, body, csrf string) (int, string) {
	req, _ := http.NewRequest(method, sc.base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if csrf != "" {
		req.Header.Set("X-CSRF-Token", csrf)
	}
	resp, err := sc.c.Do(req)
	if err != nil {
		sc.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestConsoleTenantIsolation(t *testing.T) {
	w := newConsoleWorld(t)
	support := w.login(t, "support@parrain.test")
	a, b := "/api/admin/shops/"+w.shopA, "/api/admin/shops/"+w.shopB
	pa, pb := "/console/shops/"+w.shopA, "/console/shops/"+w.shopB
	// Shop B is not the support member's: every route answers 404, and a
	// referral of B is not found under A either.
	for _, r := range []struct{ method, path string }{
		{"GET", b + "/referrals"}, {"GET", fmt.Sprintf("%s/referrals/%d", b, w.refB)}, {"GET", b + "/program"},
		{"PUT", b + "/program"}, {"POST", fmt.Sprintf("%s/referrals/%d/approve", b, w.refB)}, {"POST", b + "/attributions"},
		{"GET", fmt.Sprintf("%s/referrals/%d", a, w.refB)}, {"POST", fmt.Sprintf("%s/referrals/%d/reject", a, w.refB)},
		{"POST", fmt.Sprintf("%s/referrals/%d/notes", a, w.refB)},
		{"GET", pb + "/queue"}, {"GET", fmt.Sprintf("%s/referrals/%d", pb, w.refB)}, {"GET", pb + "/settings"},
		{"GET", pb + "/dashboard"}, {"GET", pb + "/customers?q=adv1@example.com"}, {"GET", pb + "/export/referrals.csv"},
		{"GET", pb + "/preview"}, {"GET", fmt.Sprintf("%s/referrals/%d", pa, w.refB)},
	} {
		body := `{"reason":"x","body":"x","order_id":"1","advocate_code":"X"}`
		status, out := support.send(r.method, r.path, body, support.csrf)
		if status != 404 {
			t.Errorf("%s %s: %d %.200s, want 404", r.method, r.path, status, out)
		}
	}
	if n := w.h.count("SELECT count(*) FROM audit_log"); n != 0 {
		t.Fatalf("%d audit rows written by refused requests", n)
	}
	// The merchant of shop A, inside the Shopify admin, reaches A only.
	tok := w.h.sim.SessionToken(w.shopA, 7, time.Minute)
	for path, want := range map[string]int{a + "/referrals": 200, b + "/referrals": 404, fmt.Sprintf("%s/referrals/%d", a, w.refB): 404} {
		req, _ := http.NewRequest("GET", w.h.app.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("merchant token %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	// Nobody logged in: 401 on the API, the login page for pages.
	resp, _ := http.Get(w.h.app.URL + a + "/referrals")
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("anonymous API: %d", resp.StatusCode)
	}
	owner := w.login(t, "owner@parrain.test")
	for _, p := range []string{pb + "/queue", pa + "/customers?q=adv0@example.com", pa + "/dashboard", pa + "/settings", pa + "/preview", pa + "/export/rewards.csv"} {
		if status, body := owner.get(p); status != 200 {
			t.Errorf("owner %s: %d %.300s", p, status, body)
		}
	}
}

func TestConsoleCSRFRolesInputsAndAudit(t *testing.T) {
	w := newConsoleWorld(t)
	support := w.login(t, "support@parrain.test")
	a := "/api/admin/shops/" + w.shopA
	reject := fmt.Sprintf("%s/referrals/%d/reject", a, w.refA)

	// CSRF: none or wrong → 403, nothing changed; the pages' forms too.
	for _, tok := range []string{"", "forged"} {
		if status, _ := support.send("POST", reject, `{"reason":"duplicate account"}`, tok); status != 403 {
			t.Errorf("CSRF %q: %d, want 403", tok, status)
		}
	}
	resp, err := support.c.PostForm(support.base+fmt.Sprintf("/console/shops/%s/referrals/%d/reject", w.shopA, w.refA), url.Values{"reason": {"x"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Errorf("form without csrf: %d", resp.StatusCode)
	}
	if s, _, _ := w.h.referralByID(w.refA); s != "pending" {
		t.Fatalf("a refused request changed the referral: %s", s)
	}

	// Bad inputs → 400 with field errors.
	status, out := support.get(a + "/referrals?state=bogus&from=yesterday&min=abc&limit=0")
	var fe struct{ Fields map[string]string }
	json.Unmarshal([]byte(out), &fe)
	for _, f := range []string{"state", "from", "min", "limit"} {
		if status != 400 || fe.Fields[f] == "" {
			t.Errorf("bad filter %s: %d %s", f, status, out)
		}
	}
	for body, field := range map[string]string{`{"reason":""}`: "reason", `{"reasn":"x"}`: "body"} {
		if status, out := support.send("POST", reject, body, support.csrf); status != 400 || !strings.Contains(out, field) {
			t.Errorf("reject %s: %d %s", body, status, out)
		}
	}
	if status, out := support.send("POST", a+"/attributions", `{"order_id":"","advocate_code":""}`, support.csrf); status != 400 {
		t.Errorf("empty attribution: %d %s", status, out)
	}
	if status, out := support.send("PUT", a+"/program", `{"widget":{"accent_color":"pink"}}`, support.csrf); status != 400 || !strings.Contains(out, "colour") {
		t.Errorf("bad colour: %d %s", status, out)
	}

	// A viewer cannot act.
	viewer := w.login(t, "viewer@parrain.test")
	if status, _ := viewer.send("POST", fmt.Sprintf("%s/referrals/%d/approve", a, w.refA), `{}`, viewer.csrf); status != 403 {
		t.Errorf("viewer approve: %d", status)
	}
	if _, page := viewer.get(fmt.Sprintf("/console/shops/%s/referrals/%d", w.shopA, w.reviewA)); strings.Contains(page, "Approve and reward") {
		t.Error("the viewer's page offers actions")
	}

	// The queue filters by a failed rule.
	if status, out := support.get(a + "/referrals?rule=" + url.QueryEscape("velocity (IP)")); status != 200 || !strings.Contains(out, fmt.Sprintf(`"id":%d,`, w.reviewA)) || strings.Contains(out, fmt.Sprintf(`"id":%d,`, w.refA)) {
		t.Errorf("rule filter: %d %s", status, out)
	}

	// Every action leaves exactly one audit row, even when repeated.
	audits := func(action string) int { return w.h.count("SELECT count(*) FROM audit_log WHERE action = $1", action) }
	act := func(path, body string) string {
		status, out := support.send("POST", a+path, body, support.csrf)
		if status != 200 {
			t.Fatalf("POST %s: %d %s", path, status, out)
		}
		return out
	}
	for range 2 {
		act(fmt.Sprintf("/referrals/%d/approve", w.reviewA), `{}`)
		act(fmt.Sprintf("/referrals/%d/reject", w.refA), `{"reason":"same household"}`)
	}
	act(fmt.Sprintf("/referrals/%d/notes", w.refA), `{"body":"called the customer"}`)
	out = act("/attributions", fmt.Sprintf(`{"order_id":"%d","advocate_code":"%s","reason":"told us at the till"}`, w.unattributedOrderA, w.advocateA.Code))
	var manual struct{ ID int64 }
	json.Unmarshal([]byte(out), &manual)
	if status, _ := support.send("POST", a+"/attributions", fmt.Sprintf(`{"order_id":"%d","advocate_code":"%s","reason":"again"}`, w.unattributedOrderA, w.advocateA.Code), support.csrf); status != 409 {
		t.Errorf("attributing twice: %d, want 409", status)
	}
	// The approved referral's reward is issued in the store by the worker.
	eventually(t, 15*time.Second, "reward issued", func() bool {
		return w.h.count("SELECT count(*) FROM rewards WHERE referral_id = $1 AND state = 'issued'", w.reviewA) == 1
	})
	act(fmt.Sprintf("/referrals/%d/revoke", w.reviewA), `{"reason":"order returned after the hold"}`)
	act(fmt.Sprintf("/referrals/%d/revoke", w.reviewA), `{"reason":"again"}`)
	if status, out := support.send("POST", fmt.Sprintf("%s/referrals/%d/reissue", a, w.reviewA), `{}`, support.csrf); status != 409 {
		t.Errorf("reissue of a revoked reward: %d %s", status, out)
	}
	if status, _ := support.send("PUT", a+"/program", `{"holding_days": 3}`, support.csrf); status != 200 {
		t.Errorf("program update: %d", status)
	}
	for action, want := range map[string]int{"approve": 1, "reject": 1, "note": 1, "attribute": 1, "revoke_reward": 1, "update_program": 1} {
		if n := audits(action); n != want {
			t.Errorf("%s: %d audit rows, want %d", action, n, want)
		}
	}
	if n := w.h.count(`SELECT count(*) FROM audit_log WHERE actor = 'staff:support@parrain.test' AND before IS NOT NULL AND after IS NOT NULL AND action = 'reject'
		AND before->>'state' = 'pending' AND after->>'state' = 'rejected' AND reason = 'same household'`); n != 1 {
		t.Error("the reject audit row lacks who, before, after or reason")
	}
	// Attributed by hand: never paid without a review.
	if s, _, _ := w.h.referralByID(manual.ID); s != "needs_review" {
		t.Errorf("manual referral: %s", s)
	}
}

func TestConsoleLogin(t *testing.T) {
	w := newConsoleWorld(t)
	// Owners manage staff; others may not.
	owner := w.login(t, "owner@parrain.test")
	resp, err := owner.c.PostForm(owner.base+"/console/staff", url.Values{"csrf": {owner.csrf}, "email": {"new@parrain.test"},
		"role": {"viewer"}, "shops": {w.shopA}, "password": {staffPassword}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || w.h.count("SELECT count(*) FROM audit_log WHERE action = 'add_staff' AND shop_id IS NULL") != 1 {
		t.Fatalf("owner adds staff: %d", resp.StatusCode)
	}
	var newID int64
	w.h.direct.QueryRow(`SELECT id FROM staff WHERE email = 'new@parrain.test'`).Scan(&newID)
	if status, _ := w.login(t, "new@parrain.test").get("/console/shops/" + w.shopA + "/queue"); status != 200 {
		t.Fatalf("new viewer: %d", status)
	}
	support := w.login(t, "support@parrain.test")
	if status, _ := support.get("/console/staff"); status != 403 {
		t.Errorf("support on the staff page: %d", status)
	}
	resp, _ = owner.c.PostForm(owner.base+fmt.Sprintf("/console/staff/%d/disable", newID), url.Values{"csrf": {owner.csrf}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || w.h.count("SELECT count(*) FROM staff_sessions s JOIN staff m ON m.id = s.staff_id WHERE m.email = 'new@parrain.test'") != 0 {
		t.Fatalf("disable: %d, sessions left", resp.StatusCode)
	}
	post := func(email, pw string) int {
		resp, err := http.PostForm(w.h.app.URL+"/console/login", url.Values{"email": {email}, "password": {pw}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := post("support@parrain.test", "wrong password!"); s != 401 {
		t.Errorf("wrong password: %d", s)
	}
	if s := post("nobody@parrain.test", staffPassword); s != 401 {
		t.Errorf("unknown account: %d", s)
	}
	w.h.startOfMinute()
	codes := []int{}
	for range 11 {
		codes = append(codes, post("viewer@parrain.test", "guess guess guess"))
	}
	if codes[len(codes)-1] != 429 {
		t.Errorf("11 wrong passwords for one account: %v, want 429 at the end", codes)
	}
	w.h.assertLogsLack(staffPassword)
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// Login CSRF: a login form posted from another site is refused (403, no
// session). Lockout: wrong passwords for an account, from a few addresses,
// slow that account down but never refuse its owner's right password from a
// fresh address (before: ten failures a minute refused everyone, 429).
func TestConsoleLoginCrossSiteAndLockout(t *testing.T) {
	h := newHarness(t, withoutWorker(), withEnv("TRUSTED_PROXIES", "127.0.0.1"))
	if _, err := h.stack.Staff().Add(context.Background(), "victim@parrain.test", "", staff.Owner, staffPassword, nil); err != nil {
		t.Fatal(err)
	}
	post := func(from, origin, referer, pw string) (int, time.Duration) {
		form := url.Values{"email": {"victim@parrain.test"}, "password": {pw}}
		req, _ := http.NewRequest(http.MethodPost, h.app.URL+"/console/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", from)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if referer != "" {
			req.Header.Set("Referer", referer)
		}
		start := time.Now()
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, time.Since(start)
	}
	sessions := func() int { return h.count("SELECT count(*) FROM staff_sessions") }

	for _, tc := range []struct{ origin, referer string }{
		{"https://evil.example", ""},
		{"null", ""},
		{"", "https://evil.example/login.html"},
		{strings.Replace(h.app.URL, "http://", "https://", 1), ""}, // another scheme is another origin
	} {
		if s, _ := post("198.51.100.1", tc.origin, tc.referer, staffPassword); s != 403 || sessions() != 0 {
			t.Fatalf("login posted from %q / %q: %d, %d sessions; want 403, none", tc.origin, tc.referer, s, sessions())
		}
	}
	if s, _ := post("198.51.100.1", h.app.URL, h.app.URL+"/console/login", staffPassword); s != http.StatusSeeOther {
		t.Fatalf("login from the console's own page: %d", s)
	}

	h.startOfMinute()
	// Ten wrong passwords from two addresses; the sixth from one address
	// is refused for that address.
	for _, from := range []string{"203.0.113.1", "203.0.113.2"} {
		for i := range 5 {
			if s, _ := post(from, h.app.URL, "", "guess guess guess"); s != 401 {
				t.Fatalf("wrong password %d from %s: %d", i, from, s)
			}
		}
	}
	if s, _ := post("203.0.113.1", h.app.URL, "", "guess guess guess"); s != 429 {
		t.Fatalf("a sixth attempt from one address on one account: %d, want 429", s)
	}
	// The owner, from their own address: let in, after a delay.
	s, took := post("192.0.2.7", h.app.URL, "", staffPassword)
	if s != http.StatusSeeOther {
		t.Fatalf("the right password from a fresh address after failures elsewhere: %d, want 303", s)
	}
	if took < time.Second {
		t.Errorf("an account with 10 recent failures answered in %s: no slow-down", took)
	}
	t.Logf("right password after 10 failures: %s", took.Round(time.Millisecond))
}
