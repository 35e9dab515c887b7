package stack_test

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// englishSentinels are words and phrases that only English has: any of
// them in the text of a French console page is a sentence left
// untranslated (data, codes and e-mail addresses aside).
var englishSentinels = []string{
	"the", "and", "of", "with", "your", "is", "are", "was", "not", "from", "yet", "none", "None",
	"order", "orders", "Order", "referral", "referrals", "Referral", "advocate", "Advocate", "reward", "Reward",
	"customer", "customers", "Customers", "Settings", "Setup", "Dashboard", "Review queue", "Log out", "Log in",
	"Save", "Open", "Look up", "Waiting", "Approved", "Rejected", "Held", "until", "Done", "To do", "clicks",
	"Clicks", "days", "store", "Shops", "Staff", "Email", "Password", "Add", "Show", "Export", "Channels",
	"Top advocates", "Within", "Others", "Referred", "emailed", "same", "test order", "All shops",
}

var (
	scriptOrStyle = regexp.MustCompile(`(?is)<(script|style)\b.*?</(script|style)>`)
	codeTag       = regexp.MustCompile(`(?is)<code\b.*?</code>`)
	// Data in its own language (a shop's name, an email's subject and text) is
	// marked translate="no", as HTML says.
	noTranslate = regexp.MustCompile(`(?is)<(td|span|a|pre)\b[^>]*translate="no"[^>]*>.*?</(td|span|a|pre)>`)
	// Placeholders ({friend}) and identifiers (shopify_draft_order) are
	// the code's words, the same in every language.
	identifier = regexp.MustCompile(`\{\w+\}|\w+_\w+`)
	anyTag     = regexp.MustCompile(`(?s)<[^>]*>`)
	emailLike  = regexp.MustCompile(`\S+@\S+`)
	// "12,50 €" (or "12 €") in French; "€12.50" is English.
	frenchEuros  = regexp.MustCompile(`\d+(,\d\d)?\x{a0}€`)
	englishEuros = regexp.MustCompile(`€\d|\d\.\d\d\x{a0}?€`)
)

// englishIn returns the sentinels found in a page's visible text.
func englishIn(page string) []string {
	text := scriptOrStyle.ReplaceAllString(page, " ")
	text = codeTag.ReplaceAllString(text, " ")
	text = noTranslate.ReplaceAllString(text, " ")
	text = html.UnescapeString(anyTag.ReplaceAllString(text, " "))
	text = emailLike.ReplaceAllString(text, " ")
	text = identifier.ReplaceAllString(text, " ")
	var found []string
	for _, w := range englishSentinels {
		re := regexp.MustCompile(`(^|[^\p{L}\-'’])` + regexp.QuoteMeta(w) + `($|[^\p{L}\-'’])`)
		if loc := re.FindStringIndex(text); loc != nil {
			from, to := max(loc[0]-60, 0), min(loc[1]+60, len(text))
			found = append(found, fmt.Sprintf("%q in …%s…", w, strings.Join(strings.Fields(text[from:to]), " ")))
		}
	}
	return found
}

// TestConsoleFrenchPagesShowNoEnglish renders every console page in
// French, standalone and in the Shopify admin's shell, and fails on any
// English sentinel in what the viewer reads.
func TestConsoleFrenchPagesShowNoEnglish(t *testing.T) {
	w := newConsoleWorld(t)
	h := w.h
	pa := "/console/shops/" + w.shopA
	check := func(name, page string) {
		t.Helper()
		for _, f := range englishIn(page) {
			t.Errorf("%s (fr): %s", name, f)
		}
	}
	// Logged out: the login page, the embedded shell inside and outside
	// the admin.
	for name, path := range map[string]string{
		"login":            "/console/login?lang=fr",
		"embedded":         "/shopify/admin?lang=fr&shop=" + w.shopA + "&host=YWRtaW4",
		"embedded outside": "/shopify/admin?lang=fr&shop=" + w.shopA,
	} {
		resp, err := http.Get(h.app.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		check(name, string(b))
	}
	support := w.login(t, "support@parrain.test")
	owner := w.login(t, "owner@parrain.test")
	var adv string
	h.direct.QueryRow(`SELECT code FROM advocates a JOIN shops s ON s.id = a.shop_id WHERE s.domain = $1 LIMIT 1`, w.shopA).Scan(&adv)
	var own string
	h.direct.QueryRow(`SELECT platform_order_id FROM orders WHERE email_norm = 'adv0@example.com'`).Scan(&own)
	pages := map[string]string{
		"shops":            "/console/",
		"setup":            pa + "/setup",
		"queue":            pa + "/queue",
		"queue, all":       pa + "/queue?state=",
		"referral":         fmt.Sprintf("%s/referrals/%d", pa, w.refA),
		"referral, review": fmt.Sprintf("%s/referrals/%d", pa, w.reviewA),
		"customers":        pa + "/customers?q=" + adv,
		"dashboard":        pa + "/dashboard",
		"dashboard, year":  pa + "/dashboard?from=2025-01-01&to=2025-12-31",
		"settings":         pa + "/settings",
		"why not":          pa + "/whynot?q=" + fmt.Sprint(w.unattributedOrderA),
		"why not, none":    pa + "/whynot?q=nobody@example.com",
		"attribute":        pa + "/attribute?order_id=" + own + "&advocate_code=" + adv,
		"emails":           pa + "/emails",
		"emails, welcome":  pa + "/emails?kind=welcome",
		"endpoints":        pa + "/endpoints",
		"campaigns":        pa + "/campaigns",
		"abtest":           pa + "/abtest",
	}
	for _, sc := range []*staffClient{support, owner} {
		sc.get("/console/?lang=fr")
	}
	for name, path := range pages {
		status, body := support.get(path)
		if status != 200 {
			t.Fatalf("%s: %d %.300s", path, status, body)
		}
		check(name, body)
	}
	status, body := owner.get("/console/staff")
	if status != 200 {
		t.Fatalf("staff: %d", status)
	}
	check("staff", body)
	// An endpoint added in the console: the answer page (its secret shown
	// once), then the endpoint's own page.
	status, body = owner.postFormPage(pa+"/endpoints", url.Values{"url": {"https://93.184.216.34/hook"},
		"description": {"Zapier"}, "events": {"reward.revoked"}})
	if status != 200 {
		t.Fatalf("add endpoint: %d %.300s", status, body)
	}
	check("endpoint added", body)
	var ep int64
	h.direct.QueryRow(`SELECT e.id FROM event_endpoints e JOIN shops s ON s.id = e.shop_id WHERE s.domain = $1`, w.shopA).Scan(&ep)
	if status, body = owner.get(fmt.Sprintf("%s/endpoints/%d", pa, ep)); status != 200 {
		t.Fatalf("endpoint: %d %.300s", status, body)
	}
	check("endpoint", body)
	// Money is written the French way: the amount, a comma, then "€".
	_, dash := support.get(pa + "/dashboard")
	if !frenchEuros.MatchString(dash) || englishEuros.MatchString(dash) {
		t.Errorf("the French dashboard does not write euros the French way: %v", frenchEuros.FindAllString(dash, 5))
	}
	// The sentinels do catch English: the same page in English has them.
	_, en := support.get(pa + "/dashboard?lang=en")
	if len(englishIn(en)) == 0 {
		t.Fatal("the sentinels find no English on the English dashboard")
	}
}
