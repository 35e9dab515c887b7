package stack_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parrain/parrain/app/i18n"
	"github.com/parrain/parrain/integrations/shopify/shopifysim"
)

// postForm posts a console form with the member's CSRF token and returns
// the status and where it redirects.
func (sc *staffClient) postForm(path string, v url.Values) (int, string) {
	sc.t.Helper()
	v.Set("csrf", sc.csrf)
	resp, err := sc.c.PostForm(sc.base+path, v)
	if err != nil {
		sc.t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.QueryUnescape(resp.Header.Get("Location"))
	return resp.StatusCode, loc
}

func (w *consoleWorld) referralOf(t *testing.T, orderID int64) int64 {
	t.Helper()
	var id int64
	eventually(t, 15*time.Second, fmt.Sprintf("referral of order %d", orderID), func() bool {
		w.h.direct.QueryRow(`SELECT f.id FROM referrals f JOIN orders o ON o.id = f.order_id WHERE o.platform_order_id = $1`, fmt.Sprint(orderID)).Scan(&id)
		return id != 0
	})
	return id
}

// The console answers its users' questions in their words (issue 14):
// each check below fails on the console before it.
func TestConsoleAnswersInTheUsersWords(t *testing.T) {
	w := newConsoleWorld(t)
	h := w.h
	support := w.login(t, "support@parrain.test")
	pa := "/console/shops/" + w.shopA
	page := func(path string) string {
		t.Helper()
		status, body := support.get(path)
		if status != 200 {
			t.Fatalf("GET %s: %d %.300s", path, status, body)
		}
		return body
	}

	t.Run("the click shown is the one that led to this order", func(t *testing.T) {
		// Someone clicks the advocate's link (from this test's address);
		// a friend from another address orders with the code.
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Get(h.app.URL + "/r/" + w.advocateA.Code + "?ch=whatsapp")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		time.Sleep(1100 * time.Millisecond) // order times are whole seconds
		other := h.order(w.shopA, shopifysim.OrderInput{Email: "f3@example.com", Total: "70.00", DiscountCodes: []string{w.advocateA.FriendCode}, BrowserIP: "203.0.113.9"})
		same := h.order(w.shopA, shopifysim.OrderInput{Email: "f4@example.com", Total: "70.00", DiscountCodes: []string{w.advocateA.FriendCode}, BrowserIP: "127.0.0.1"})
		body := page(fmt.Sprintf("%s/referrals/%d", pa, w.referralOf(t, other)))
		if !strings.Contains(body, "No click recorded from this buyer before the order") || strings.Contains(body, "whatsapp") {
			t.Errorf("an order without a click shows another visitor's click:\n%s", body)
		}
		if body := page(fmt.Sprintf("%s/referrals/%d", pa, w.referralOf(t, same))); !strings.Contains(body, "whatsapp") {
			t.Errorf("the click from the buyer's address is not shown:\n%s", body)
		}
	})

	t.Run("why not: an unknown code, a rule", func(t *testing.T) {
		sale := h.order(w.shopA, shopifysim.OrderInput{Email: "sale@example.com", Total: "70.00", DiscountCodes: []string{"SALE10"}})
		test := h.order(w.shopA, shopifysim.OrderInput{Email: "tester@example.com", Total: "70.00", DiscountCodes: []string{w.advocateA.FriendCode}, Test: true})
		eventually(t, 15*time.Second, "orders stored", func() bool {
			return h.count(`SELECT count(*) FROM orders WHERE platform_order_id IN ($1, $2) AND known`, fmt.Sprint(sale), fmt.Sprint(test)) == 2
		})
		w.referralOf(t, test)
		body := page(pa + "/whynot?q=" + fmt.Sprint(sale))
		if !strings.Contains(body, "SALE10") || !strings.Contains(body, "no advocate of this shop has this code") ||
			!strings.Contains(body, "No code on the order belongs to an advocate of this shop.") {
			t.Errorf("why not, unknown code:\n%s", body)
		}
		body = page(pa + "/whynot?q=tester@example.com")
		if !strings.Contains(body, "Not a test order ✗ — test order") || !strings.Contains(body, "Rejected") || !strings.Contains(body, w.advocateA.FriendCode) {
			t.Errorf("why not, refused by a rule:\n%s", body)
		}
		if body := page(pa + "/whynot?q=nobody@example.com"); !strings.Contains(body, "No order with this number or email") {
			t.Errorf("why not, no order:\n%s", body)
		}
	})

	t.Run("attribution by hand of the advocate's own order needs an override", func(t *testing.T) {
		var own string
		h.direct.QueryRow(`SELECT platform_order_id FROM orders WHERE email_norm = 'adv0@example.com'`).Scan(&own)
		form := url.Values{"order_id": {own}, "advocate_code": {w.advocateA.Code}, "reason": {"she says a friend sent her"}}
		status, loc := support.postForm(pa+"/attributions", form)
		if status != http.StatusSeeOther || !strings.Contains(loc, "override") || !strings.Contains(loc, "same customer as the advocate") {
			t.Fatalf("refused without override: %d %s", status, loc)
		}
		if body := page(pa + "/attribute?" + url.Values{"order_id": {own}, "advocate_code": {w.advocateA.Code}}.Encode()); !strings.Contains(body, "Not the advocate themself ✗") ||
			!strings.Contains(body, `name="override"`) {
			t.Errorf("the check page does not show the failing rule and the override:\n%s", body)
		}
		if n := h.count(`SELECT count(*) FROM referrals f JOIN orders o ON o.id = f.order_id WHERE o.platform_order_id = $1`, own); n != 0 {
			t.Fatal("a refused attribution wrote a referral")
		}
		form.Set("override", "1")
		status, loc = support.postForm(pa+"/attributions", form)
		if status != http.StatusSeeOther || !strings.Contains(loc, "/referrals/") || !strings.Contains(loc, "waits for a review") {
			t.Fatalf("with override: %d %s", status, loc)
		}
		if n := h.count(`SELECT count(*) FROM referrals f JOIN orders o ON o.id = f.order_id WHERE o.platform_order_id = $1 AND f.state = 'needs_review' AND f.flagged`, own); n != 1 {
			t.Fatal("the overridden attribution does not wait for review")
		}
		if n := h.count(`SELECT count(*) FROM audit_log WHERE action = 'attribute' AND (after->>'override')::bool AND reason = 'she says a friend sent her'`); n != 1 {
			t.Fatal("the override is not audited with its reason")
		}
	})

	t.Run("words, dates in the shop's zone, French", func(t *testing.T) {
		body := page(fmt.Sprintf("%s/referrals/%d", pa, w.reviewA))
		for _, raw := range []string{"needs_review", "landing_site", "discount_code", "✓ self-referral", "1h0m0s"} {
			if strings.Contains(strings.ReplaceAll(body, `b-needs_review`, ""), ">"+raw) || strings.Contains(body, raw+"<") {
				t.Errorf("the referral page shows %q", raw)
			}
		}
		var ordered time.Time
		h.direct.QueryRow(`SELECT o.placed_at FROM referrals f JOIN orders o ON o.id = f.order_id WHERE f.id = $1`, w.reviewA).Scan(&ordered)
		want := i18n.New("en", "Europe/Paris").DateTime(ordered)
		if !strings.Contains(body, want) || !strings.Contains(body, "Not the advocate themself ✓") || !strings.Contains(body, "Waiting for a review") {
			t.Errorf("want the order time %q in the shop's zone and rules in words:\n%s", want, body)
		}
		fr := page(fmt.Sprintf("%s/referrals/%d?lang=fr", pa, w.refA))
		if !strings.Contains(fr, "En attente jusqu&#39;au") || !strings.Contains(fr, "Pas le parrain lui-même ✓") || !strings.Contains(fr, i18n.New("fr", "Europe/Paris").DateTime(ordered)[:2]) {
			t.Errorf("French page:\n%s", fr)
		}
		// The choice sticks (cookie) until changed.
		if q := page(pa + "/queue"); !strings.Contains(q, "File de revue") {
			t.Error("the language choice was not kept")
		}
		page(pa + "/queue?lang=en")
	})

	t.Run("the queue opens on what needs attention; search finds parts", func(t *testing.T) {
		body := page(pa + "/queue")
		if !strings.Contains(body, fmt.Sprintf("/referrals/%d\"", w.reviewA)) || strings.Contains(body, fmt.Sprintf("/referrals/%d\"", w.refA)) {
			t.Errorf("the queue does not open on what needs attention:\n%s", body)
		}
		for _, q := range []string{"f1-0@exa", "f1-0", "ADV0@EXAMPLE"} {
			if body := page(pa + "/queue?state=&q=" + url.QueryEscape(q)); !strings.Contains(body, fmt.Sprintf("/referrals/%d\"", w.refA)) {
				t.Errorf("search %q does not find referral %d", q, w.refA)
			}
		}
		if body := page(pa + "/queue?state=&q=zzzz-nothing"); strings.Contains(body, "/referrals/") {
			t.Error("a search matching nothing lists referrals")
		}
	})

	t.Run("settings: every bad field at once, contrast", func(t *testing.T) {
		resp, err := support.c.PostForm(support.base+pa+"/settings", url.Values{"csrf": {support.csrf}, "friend_kind": {"percent"}, "friend_percent": {"0"}, "reward_kind": {"fixed"},
			"reward_amount": {"10"}, "holding_days": {"-1"}, "reward_expiry_days": {"99999"}, "min_order": {"20"}, "cap_window_days": {"30"},
			"velocity_window_minutes": {"60"}, "language": {"auto"}, "accent_color": {"#1f6f5c"}, "background_color": {"#ffffff"}, "text_color": {"#1a1a1a"},
			"position": {"center"}, "cap_days": {"30"}})
		if err != nil {
			t.Fatal(err)
		}
		b := new(strings.Builder)
		b.WriteString(readAll(resp))
		if resp.StatusCode != 400 {
			t.Fatalf("bad settings: %d", resp.StatusCode)
		}
		for _, msg := range []string{"percent off must be between 1 and 100", "holding period must be between 0 and 365", "reward expiry must be at most 3650"} {
			if !strings.Contains(b.String(), msg) {
				t.Errorf("missing %q in\n%s", msg, b.String())
			}
		}
		status, _ := support.postForm(pa+"/settings", url.Values{"friend_kind": {"percent"}, "friend_percent": {"10"}, "reward_kind": {"fixed"},
			"reward_amount": {"10"}, "holding_days": {"14"}, "reward_expiry_days": {"90"}, "min_order": {"20"}, "cap_window_days": {"30"},
			"velocity_window_minutes": {"60"}, "language": {"auto"}, "accent_color": {"#1f6f5c"}, "background_color": {"#ffffff"}, "text_color": {"#eeeeee"},
			"position": {"center"}, "cap_days": {"30"}, "widget_enabled": {"1"}})
		if status != http.StatusSeeOther {
			t.Fatalf("valid settings: %d", status)
		}
		if body := page(pa + "/settings"); !strings.Contains(body, "The text on the background has a contrast of 1.2:1") {
			t.Errorf("no contrast warning:\n%s", body)
		}
	})

	t.Run("approve says what happened", func(t *testing.T) {
		status, loc := support.postForm(fmt.Sprintf("%s/referrals/%d/approve", pa, w.reviewA), url.Values{})
		if status != http.StatusSeeOther || !strings.Contains(loc, "Approved. The reward THANKS-") || !strings.Contains(loc, "is being created in the store") {
			t.Fatalf("approve: %d %s", status, loc)
		}
		body := page(fmt.Sprintf("%s/referrals/%d", pa, w.reviewA))
		if !strings.Contains(body, "Approved</span>") && !strings.Contains(body, "Approved") {
			t.Error("no approval on the timeline")
		}
		if !strings.Contains(body, "https://"+w.shopA+"/admin/orders/") {
			t.Error("no link to the order in the store's admin")
		}
	})

	t.Run("the program switched off stops attributions and the popup", func(t *testing.T) {
		var own string
		h.direct.QueryRow(`SELECT platform_order_id FROM orders WHERE email_norm = 'adv0@example.com'`).Scan(&own)
		popup := func() int {
			status, _, _ := h.widgetSession(map[string]any{"shop": w.shopA, "order_id": own, "email": "adv0@example.com"}, "")
			return status
		}
		if s := popup(); s != 200 {
			t.Fatalf("popup with the program on: %d", s)
		}
		if body := page(pa + "/queue"); !strings.Contains(body, "Program on") {
			t.Error("no program switch on the page")
		}
		status, loc := support.postForm(pa+"/program/switch", url.Values{"enabled": {"0"}, "back": {pa + "/queue"}})
		if status != http.StatusSeeOther || !strings.Contains(loc, "The program is off") {
			t.Fatalf("switch off: %d %s", status, loc)
		}
		if s := popup(); s == 200 {
			t.Error("the popup shows with the program off")
		}
		off := h.order(w.shopA, shopifysim.OrderInput{Email: "late@example.com", Total: "70.00", DiscountCodes: []string{w.advocateA.FriendCode}})
		eventually(t, 15*time.Second, "order stored and processed", func() bool {
			return h.count(`SELECT count(*) FROM orders WHERE platform_order_id = $1 AND known`, fmt.Sprint(off)) == 1 &&
				h.count(`SELECT count(*) FROM webhook_events WHERE processed_at IS NULL`) == 0
		})
		if s, _, _ := h.referral(off); s != "" {
			t.Errorf("an order while the program is off was attributed: %s", s)
		}
		if body := page(pa + "/whynot?q=" + fmt.Sprint(off)); !strings.Contains(body, "The program was switched off.") {
			t.Errorf("why not, program off:\n%s", body)
		}
		support.postForm(pa+"/program/switch", url.Values{"enabled": {"1"}})
		if s := popup(); s != 200 {
			t.Errorf("popup after switching on: %d", s)
		}
		if n := h.count(`SELECT count(*) FROM audit_log WHERE action = 'switch_program'`); n != 2 {
			t.Errorf("%d switch audit rows, want 2", n)
		}
	})
}
