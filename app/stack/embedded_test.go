package stack_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// embeddedGet fetches a page as the embedded shell does: with an App
// Bridge session token, no cookie.
func embeddedDo(t *testing.T, method, u, token string, form url.Values) (int, string, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, u, body)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header.Get("Location")
}

// The embedded admin serves the console's own pages with the session
// token: no console header, no CSRF token needed (no cookie), the token's
// shop only; and it opens on a setup checklist that reads the theme.
func TestEmbeddedAdminPagesAndSetup(t *testing.T) {
	w := newConsoleWorld(t)
	h := w.h
	tok := h.sim.SessionToken(w.shopA, 42, 10*time.Minute)
	setup := h.app.URL + "/console/shops/" + w.shopA + "/setup"

	status, page, _ := embeddedDo(t, "GET", setup, tok, nil)
	if status != 200 {
		t.Fatalf("setup with the session token: %d %s", status, page)
	}
	if strings.Contains(page, "<header>") || strings.Contains(page, "Log out") {
		t.Fatal("the embedded page carries the console's header")
	}
	for _, want := range []string{
		`Not added to your published theme \"Dawn\" yet.`,
		"/admin/themes/current/editor?context=apps&amp;activateAppId=" + url.QueryEscape(h.stack.Config.ShopifyAPIKey+"/app-embed"),
		"Shopify does not tell apps where checkout blocks are placed",
		"/admin/settings/checkout",
		"2 of 4 steps done", // program on, referrals seen
	} {
		if !strings.Contains(page, strings.ReplaceAll(want, `\"`, "&#34;")) {
			t.Errorf("setup lacks %q:\n%s", want, page)
		}
	}

	// The merchant switches the embed on in the theme editor, then off.
	h.sim.SetAppEmbed(w.shopA, true, true)
	if _, page, _ = embeddedDo(t, "GET", setup, tok, nil); !strings.Contains(page, "On in your published theme") || !strings.Contains(page, "3 of 4 steps done") {
		t.Errorf("embed on not seen:\n%s", page)
	}
	h.sim.SetAppEmbed(w.shopA, true, false)
	if _, page, _ = embeddedDo(t, "GET", setup, tok, nil); !strings.Contains(page, "Switched off in your published theme") {
		t.Errorf("embed off not seen:\n%s", page)
	}

	// The order confirmation page asks for a popup: the block is placed.
	if status, _, body := h.widgetSession(map[string]any{"shop": w.shopA, "order_id": "1", "email": "x@example.com"}, ""); status >= 300 && status != 202 {
		t.Fatalf("widget session: %d %s", status, body)
	}
	if _, page, _ = embeddedDo(t, "GET", setup, tok, nil); !strings.Contains(page, "First seen") || !strings.Contains(page, "3 of 4 steps done") {
		t.Errorf("thank-you block not seen:\n%s", page)
	}

	// An action with the token needs no CSRF token; the answer is the
	// console's redirect with what happened.
	status, _, loc := embeddedDo(t, "POST", fmt.Sprintf("%s/console/shops/%s/referrals/%d/notes", h.app.URL, w.shopA, w.refA), tok, url.Values{"body": {"from the admin"}})
	if status != http.StatusSeeOther || !strings.Contains(loc, "done=") {
		t.Fatalf("note with the session token: %d %s", status, loc)
	}
	// Another shop's pages are not found; a bad token is refused.
	if status, _, _ := embeddedDo(t, "GET", h.app.URL+"/console/shops/"+w.shopB+"/setup", tok, nil); status != 404 {
		t.Errorf("shop B with shop A's token: %d", status)
	}
	if status, _, _ := embeddedDo(t, "GET", setup, tok+"x", nil); status != 401 {
		t.Errorf("bad token: %d", status)
	}
	// Without a token or cookie, a console page sends to the login.
	if status, _, loc := embeddedDo(t, "GET", setup, "", nil); status != http.StatusSeeOther || loc != "/console/login" {
		t.Errorf("no credentials: %d %s", status, loc)
	}

	// The shell: inside the admin (shop and host given) it loads App
	// Bridge, Polaris and the nav menu; opened on its own it says so.
	_, shell, _ := embeddedDo(t, "GET", h.app.URL+"/shopify/admin/queue?shop="+w.shopA+"&host=YWRtaW4&embedded=1", "", nil)
	for _, want := range []string{"cdn.shopify.com/shopifycloud/app-bridge.js", "cdn.shopify.com/shopifycloud/polaris-1.js", "<ui-nav-menu>", `rel="home">Setup</a>`} {
		if !strings.Contains(shell, want) {
			t.Errorf("shell lacks %q", want)
		}
	}
	_, out, _ := embeddedDo(t, "GET", h.app.URL+"/shopify/admin", "", nil)
	if !strings.Contains(out, "Parrain opens inside your Shopify admin") || strings.Contains(out, "app-bridge.js") || strings.Contains(out, "Loading") {
		t.Errorf("outside the admin:\n%s", out)
	}
}
