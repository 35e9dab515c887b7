package stack_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/advocatepage"
	"github.com/parrain/parrain/app/httpapi"
	"github.com/parrain/parrain/integrations/shopify/shopifysim"
	"github.com/parrain/parrain/jobs"
)

// advocatePageWorld is Marie, an advocate of a Paris shop, with one friend's
// order in each state the page words differently: rewarded (Dan), waiting
// (Bob), refunded (Carol), not counted (her own order with her code).
type advocatePageWorld struct {
	h          *harness
	shop       string
	adv        *advocateView
	rewardCode string
	holdUntil  time.Time
}

func newAdvocatePageWorld(t *testing.T) *advocatePageWorld {
	h := newHarness(t, withSimulator(), withEnv("ADVOCATE_PAGE_PER_MINUTE_PER_IP", "10000"), withEnv("WIDGET_PER_MINUTE_PER_IP", "10000"))
	const shop = "advocate-page.myshopify.com"
	h.installAndSync(shop, "EUR")
	h.order(shop, shopifysim.OrderInput{Email: "marie@example.com", FirstName: "Marie", LastName: "Curie", Total: "120.00"})
	var a *advocateView
	eventually(t, 15*time.Second, "Marie an advocate", func() bool { a = h.advocate("marie@example.com"); return a != nil && a.FriendState == "created" })
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, ch := range []string{"whatsapp", "email"} {
		resp, err := noFollow.Get(h.app.URL + "/r/" + a.Code + "?ch=" + ch)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}

	dan := h.order(shop, shopifysim.OrderInput{Email: "dan@example.com", FirstName: "Dan", LastName: "Durand", Total: "70.00", DiscountCodes: []string{a.FriendCode}})
	eventually(t, 15*time.Second, "Dan's referral", func() bool { s, _, _ := h.referral(dan); return s == "pending" })
	h.advance(15 * 24 * time.Hour)
	if err := h.stack.Mux().ProcessTask(context.Background(), jobs.NewApproveReferralsTask()); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "Dan's referral rewarded", func() bool { s, _, _ := h.referral(dan); return s == "rewarded" })

	bob := h.order(shop, shopifysim.OrderInput{Email: "bob@example.com", FirstName: "Bob", LastName: "martin", Total: "80.00", DiscountCodes: []string{a.FriendCode}})
	carol := h.order(shop, shopifysim.OrderInput{Email: "carol@example.com", FirstName: "Carol", LastName: "Lefèvre", Total: "60.00", DiscountCodes: []string{a.FriendCode}})
	own := h.order(shop, shopifysim.OrderInput{Email: "marie@example.com", FirstName: "Marie", LastName: "Curie", Total: "50.00", DiscountCodes: []string{a.FriendCode}})
	eventually(t, 15*time.Second, "the friends' referrals", func() bool {
		b, _, _ := h.referral(bob)
		c, _, _ := h.referral(carol)
		o, _, _ := h.referral(own)
		return b == "pending" && c == "pending" && o == "rejected"
	})
	if _, err := h.sim.Refund(shop, carol, "60.00"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "Carol's referral reversed", func() bool { s, _, _ := h.referral(carol); return s == "reversed" })
	w := &advocatePageWorld{h: h, shop: shop, adv: a}
	h.direct.QueryRow(`SELECT code FROM rewards WHERE advocate_id = $1 AND state = 'issued'`, a.ID).Scan(&w.rewardCode)
	h.direct.QueryRow(`SELECT f.hold_until FROM referrals f JOIN orders o ON o.id = f.order_id WHERE o.platform_order_id = $1`,
		strconv.FormatInt(bob, 10)).Scan(&w.holdUntil)
	if w.rewardCode == "" || w.holdUntil.IsZero() {
		t.Fatalf("reward %q, hold until %v", w.rewardCode, w.holdUntil)
	}
	return w
}

func (w *advocatePageWorld) shopID() int64 {
	sh, err := w.h.stack.DB.Shops().ShopByDomain(context.Background(), app.PlatformShopify, w.shop)
	if err != nil {
		w.h.t.Fatal(err)
	}
	return sh.ID
}

func (w *advocatePageWorld) link() string {
	u, err := w.h.stack.AdvocatePages().AdvocateURL(context.Background(), w.shopID(), w.adv.ID)
	if err != nil {
		w.h.t.Fatal(err)
	}
	return u
}

func get(t *testing.T, u, lang string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if lang != "" {
		req.Header.Set("Accept-Language", lang)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// tamper changes one character of the token's payload.
func tamper(link string) string {
	i := strings.LastIndex(link, "/a/") + 3
	kid, rest, _ := strings.Cut(link[i:], ".")
	c := byte('A')
	if rest[0] == 'A' {
		c = 'B'
	}
	return link[:i] + kid + "." + string(c) + rest[1:]
}

// TestAdvocatePage builds Marie's referrals once (the world is the slow
// part) and checks the page over HTTP, through the app proxy, and in the
// browser (skipped with -short).
func TestAdvocatePage(t *testing.T) {
	w := newAdvocatePageWorld(t)
	// The browser first: the HTTP checks revoke Marie's links.
	t.Run("in the browser", func(t *testing.T) {
		if testing.Short() {
			t.Skip("browser tests need chromium")
		}
		advocatePageInBrowser(t, w)
	})
	t.Run("through the app proxy", func(t *testing.T) { advocatePageThroughAppProxy(t, w) })
	t.Run("over HTTP", func(t *testing.T) { advocatePageOverHTTP(t, w) })
}

// The page over HTTP: every state in plain words, friends as first name and
// initial, dates in the shop's time zone, and nothing for a link that is
// tampered with, expired or revoked.
func advocatePageOverHTTP(t *testing.T, w *advocatePageWorld) {
	h := w.h
	link := w.link()
	status, body := get(t, link, "en")
	paris, _ := time.LoadLocation("Europe/Paris")
	for _, want := range []string{
		"Your referrals at Referral Shop", w.adv.FriendCode, "/r/" + w.adv.Code,
		"Dan D.", "rewarded: " + w.rewardCode,
		"Bob M.", "waiting until " + w.holdUntil.In(paris).Format("2 Jan 2006"),
		"Carol L.", "not counted: the order was refunded",
		"not counted: it looks like your own order",
		`<dd id="clicks">2</dd>`, `<dd id="ordered">2</dd>`, "https://wa.me/?text=",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	for _, never := range []string{"bob@example.com", "dan@example.com", "carol@example.com", "Martin", "Durand"} {
		if strings.Contains(body, never) {
			t.Errorf("the page shows %q", never)
		}
	}
	if status != http.StatusOK {
		t.Fatalf("page: %d", status)
	}
	if _, fr := get(t, link+"?lang=fr", ""); !strings.Contains(fr, "non pris en compte : la commande a été remboursée") || !strings.Contains(fr, `lang="fr"`) {
		t.Errorf("French page: %s", fr)
	}

	secret := []string{w.adv.FriendCode, w.adv.Code, w.rewardCode, "Bob", "Dan"}
	expired, err := advocatepage.Sign(h.stack.Config.Keyring, advocatepage.Claims{ShopID: w.shopID(), AdvocateID: w.adv.ID, Expires: h.now().Add(-time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, url string
		status    int
		says      string
	}{
		{"tampered", tamper(link), http.StatusNotFound, "This link does not work"},
		{"truncated", link[:len(link)-3], http.StatusNotFound, "This link does not work"},
		{"garbage", h.app.URL + "/a/" + url.PathEscape("x.y.z"), http.StatusNotFound, "This link does not work"},
		{"expired", h.app.URL + "/a/" + expired, http.StatusGone, "This link has expired"},
	} {
		status, body := get(t, c.url, "en")
		if status != c.status || !strings.Contains(body, c.says) {
			t.Errorf("%s link: %d %q", c.name, status, body)
		}
		for _, s := range secret {
			if strings.Contains(body, s) {
				t.Errorf("%s link shows %q", c.name, s)
			}
		}
	}

	// Revoking: links signed before stop working, a new one works.
	if err := h.stack.AdvocatePages().Revoke(context.Background(), w.shopID(), w.adv.ID); err != nil {
		t.Fatal(err)
	}
	if status, body := get(t, link, "fr"); status != http.StatusGone || !strings.Contains(body, "Ce lien n&#39;est plus valable") || strings.Contains(body, w.adv.FriendCode) {
		t.Errorf("revoked link: %d %s", status, body)
	}
	if status, _ := get(t, w.link(), ""); status != http.StatusOK {
		t.Errorf("a link signed after revoking: %d", status)
	}
	// Another shop's advocate id in a validly signed token finds nothing.
	other, _ := advocatepage.Sign(h.stack.Config.Keyring, advocatepage.Claims{ShopID: w.shopID() + 1000, AdvocateID: w.adv.ID, Expires: h.now().Add(time.Hour)})
	if status, body := get(t, h.app.URL+"/a/"+other, ""); status != http.StatusGone || strings.Contains(body, w.adv.FriendCode) {
		t.Errorf("a token for another shop: %d", status)
	}
}

// The Shopify app proxy door: the logged-in advocate's own page; nobody
// logged in, or an unsigned request, gets none.
func advocatePageThroughAppProxy(t *testing.T, w *advocatePageWorld) {
	h := w.h
	jar := newJar(t)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(h.simSrv.URL + "/account/login?email=marie@example.com&shop=" + w.shop)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = c.Get(h.simSrv.URL + shopifysim.ProxySubpath + "/advocate")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "rewarded: "+w.rewardCode) || !strings.Contains(string(b), "Bob M.") {
		t.Fatalf("proxy page: %d %s", resp.StatusCode, b)
	}
	// Straight to the app without Shopify's signature: refused.
	if status, body := get(t, h.app.URL+"/proxy/shopify/advocate?shop="+w.shop+"&logged_in_customer_id=1", ""); status != http.StatusForbidden || strings.Contains(body, w.rewardCode) {
		t.Errorf("unsigned proxy request: %d", status)
	}
	// Logged out: asked to log in.
	anon := &http.Client{Jar: newJar(t)}
	resp, err = anon.Get(h.simSrv.URL + "/?shop=" + w.shop)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = anon.Get(h.simSrv.URL + shopifysim.ProxySubpath + "/advocate")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(b), "Log in to see your referrals") {
		t.Errorf("logged out: %d %s", resp.StatusCode, b)
	}
}

// The WooCommerce door: a link the plugin signs with the shop's webhook
// secret. Checked here with the plugin's documented signature (the plugin's
// PHP is linted by scripts/plugin-check.sh, not run).
func TestAdvocatePageWooCommerceLink(t *testing.T) {
	h := newHarness(t, withEnv("ADVOCATE_PAGE_PER_MINUTE_PER_IP", "10000"))
	ctx := context.Background()
	shops := h.stack.DB.Shops()
	sh, err := shops.Install(ctx, app.PlatformWooCommerce, "woo.example", app.Credentials{AccessToken: "ck_x", RefreshToken: "cs_y"}, h.now())
	if err != nil {
		t.Fatal(err)
	}
	if err := shops.SetWebhookSecret(ctx, sh.ID, "woo-secret"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.direct.Exec(`INSERT INTO programs (shop_id, currency) VALUES ($1, 'EUR') ON CONFLICT DO NOTHING`, sh.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := h.direct.Exec(`INSERT INTO advocates (shop_id, customer_id, first_name, code, friend_code, friend_code_state)
		VALUES ($1, '17', 'Zoé', 'ZOE-W00C', 'FRIEND-ZOE-W00C', 'created')`, sh.ID); err != nil {
		t.Fatal(err)
	}
	signed := func(customer string, at time.Time, secret string) string {
		ts := strconv.FormatInt(at.Unix(), 10)
		sig := hex.EncodeToString(httpapi.WooPageSignature(secret, "woo.example", customer, ts))
		return fmt.Sprintf("%s/proxy/woocommerce/advocate?shop=woo.example&customer_id=%s&timestamp=%s&signature=%s", h.app.URL, customer, ts, sig)
	}
	for _, c := range []struct {
		name, url string
		status    int
		says      string
	}{
		{"signed", signed("17", h.now(), "woo-secret"), http.StatusOK, "FRIEND-ZOE-W00C"},
		{"another customer's signature", strings.Replace(signed("17", h.now(), "woo-secret"), "customer_id=17", "customer_id=18", 1), http.StatusForbidden, "This link does not work"},
		{"wrong secret", signed("17", h.now(), "guess"), http.StatusForbidden, "This link does not work"},
		{"old", signed("17", h.now().Add(-time.Hour), "woo-secret"), http.StatusGone, "This link has expired"},
		{"not an advocate", signed("18", h.now(), "woo-secret"), http.StatusNotFound, "No referral link yet"},
		{"logged out", signed("0", h.now(), "woo-secret"), http.StatusForbidden, "Log in"},
	} {
		status, body := get(t, c.url, "en")
		if status != c.status || !strings.Contains(body, c.says) {
			t.Errorf("%s: %d %s", c.name, status, body)
		}
		if c.status != http.StatusOK && strings.Contains(body, "ZOE-W00C") {
			t.Errorf("%s shows the advocate's code", c.name)
		}
	}
}

// advocatePageInBrowser runs widget/test/advocate.test.mjs: the page
// through its emailed link in English and French on a phone-sized screen
// with each referral state, the expired and tampered links, the app proxy
// page of the logged-in advocate, axe-core on each.
func advocatePageInBrowser(t *testing.T, w *advocatePageWorld) {
	root, testDir, chromium := browserTests(t)
	h := w.h
	link := w.link()
	expired, err := advocatepage.Sign(h.stack.Config.Keyring, advocatepage.Claims{ShopID: w.shopID(), AdvocateID: w.adv.ID, Expires: h.now().Add(-time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	runNodeTests(t, testDir, "advocate.test.mjs",
		"SIM_URL="+h.simSrv.URL, "APP_URL="+h.app.URL, "SHOP="+w.shop, "PAGE_URL="+link, "EXPIRED_URL="+h.app.URL+"/a/"+expired,
		"TAMPERED_URL="+tamper(link), "REWARD_CODE="+w.rewardCode, "FRIEND_CODE="+w.adv.FriendCode, "LINK="+h.app.URL+"/r/"+w.adv.Code,
		"HOLD_EN="+w.holdUntil.In(paris).Format("2 Jan 2006"), "HOLD_FR="+advocatepage.FormatDate(w.holdUntil, paris, "fr"),
		"OUT_DIR="+filepath.Join(root, "test-output", "advocate"), "CHROMIUM="+chromium)
}

func newJar(t *testing.T) http.CookieJar {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return jar
}

// The console shows an advocate's page link on the customer page and
// revokes them: support can (with CSRF, audited), a viewer cannot, and an
// advocate of another shop is not reachable through this one.
func TestConsoleAdvocatePageLinks(t *testing.T) {
	w := newConsoleWorld(t)
	h := w.h
	support := w.login(t, "support@parrain.test")
	pa := "/console/shops/" + w.shopA
	status, page := support.get(pa + "/customers?q=" + w.advocateA.Code)
	m := regexp.MustCompile(`id="pagelink" readonly value="([^"]+)"`).FindStringSubmatch(page)
	if status != http.StatusOK || m == nil || !strings.HasPrefix(m[1], h.app.URL+"/a/") {
		t.Fatalf("customer page: %d, link %v", status, m)
	}
	link := html.UnescapeString(m[1])
	if s, _ := get(t, link, ""); s != http.StatusOK {
		t.Fatalf("the console's link: %d", s)
	}
	revoke := fmt.Sprintf("%s/customers/%d/revoke-links", pa, w.advocateA.ID)
	post := func(sc *staffClient, path, csrf string) int {
		form := url.Values{"csrf": {csrf}, "q": {w.advocateA.Code}}
		resp, err := sc.c.PostForm(sc.base+path, form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	viewer := w.login(t, "viewer@parrain.test")
	if _, vp := viewer.get(pa + "/customers?q=" + w.advocateA.Code); strings.Contains(vp, "revoke-links") {
		t.Error("a viewer is offered to revoke")
	}
	if s := post(viewer, revoke, viewer.csrf); s != http.StatusForbidden {
		t.Errorf("viewer revoke: %d", s)
	}
	if s := post(support, revoke, "forged"); s != http.StatusForbidden {
		t.Errorf("revoke without the CSRF token: %d", s)
	}
	if s, _ := get(t, link, ""); s != http.StatusOK {
		t.Fatalf("refused revocations changed something: %d", s)
	}
	// Shop B's advocate id under shop A: not found, nothing changed.
	var other int64
	h.direct.QueryRow(`SELECT a.id FROM advocates a JOIN shops s ON s.id = a.shop_id WHERE s.domain = $1 LIMIT 1`, w.shopB).Scan(&other)
	if s := post(support, fmt.Sprintf("%s/customers/%d/revoke-links", pa, other), support.csrf); s != http.StatusNotFound {
		t.Errorf("revoking another shop's advocate: %d", s)
	}
	if n := h.count("SELECT count(*) FROM advocates WHERE page_generation <> 0"); n != 0 {
		t.Fatalf("%d advocates revoked by refused requests", n)
	}
	if s := post(support, revoke, support.csrf); s != http.StatusSeeOther {
		t.Fatalf("revoke: %d", s)
	}
	if s, _ := get(t, link, ""); s != http.StatusGone {
		t.Errorf("revoked link: %d", s)
	}
	if n := h.count("SELECT count(*) FROM audit_log WHERE action = 'revoke_advocate_links' AND subject = $1", fmt.Sprintf("advocate:%d", w.advocateA.ID)); n != 1 {
		t.Errorf("%d audit rows", n)
	}
	_, page = support.get(pa + "/customers?q=" + w.advocateA.Code)
	if m := regexp.MustCompile(`id="pagelink" readonly value="([^"]+)"`).FindStringSubmatch(page); m == nil {
		t.Fatal("no new link after revoking")
	} else if s, _ := get(t, html.UnescapeString(m[1]), ""); s != http.StatusOK {
		t.Errorf("the new link: %d", s)
	}
}
