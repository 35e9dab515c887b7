package httpapi

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/analytics"
	"github.com/parrain/parrain/app/i18n"
	"github.com/parrain/parrain/app/logging"
	"github.com/parrain/parrain/app/popup"
	"github.com/parrain/parrain/app/review"
	"github.com/parrain/parrain/app/staff"
	"github.com/parrain/parrain/integrations/shopify"
)

// Console is the storage the console's pages read besides the review
// queue.
type Console interface {
	ShopsFor(ctx context.Context, m *staff.Member) ([]staff.ShopSummary, error)
	Record(ctx context.Context, shopID int64, actor, action, subject string, before, after any) error
	Stats(ctx context.Context, shopID int64, rg analytics.Range, now time.Time) (analytics.Stats, error)
	ExportReferrals(ctx context.Context, shopID int64, rg analytics.Range, w io.Writer) error
	ExportRewards(ctx context.Context, shopID int64, rg analytics.Range, w io.Writer) error
	CustomerByEmailOrCode(ctx context.Context, shopID int64, q string) (*review.Customer, error)
	Members(ctx context.Context) ([]*staff.Member, error)
	Notices(ctx context.Context, shopID int64, limit int) ([]review.AuditEntry, error)
	SetDisabled(ctx context.Context, id int64, disabled bool, actor string) error
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/admin.js
var adminJS []byte

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	// money and pct write amounts and rates as the viewer's language
	// does: "$12.50", "12,50 €"; "12.5%", "12,5 %".
	"money": func(p *i18n.Printer, minor int64, cur string) string {
		return popup.FormatMoney(app.Money{Minor: minor, Currency: cur}, p.Lang)
	},
	"decimal": func(minor int64, cur string) string { return app.Money{Minor: minor, Currency: cur}.Decimal() },
	"pct": func(p *i18n.Printer, f float64) string {
		if p.Lang == "fr" {
			return strings.Replace(fmt.Sprintf("%.1f\u00a0%%", f*100), ".", ",", 1)
		}
		return fmt.Sprintf("%.1f%%", f*100)
	},
	"who": who,
	// tHTML is a catalogue sentence that carries markup (<b>), its
	// values escaped.
	"tHTML": func(p *i18n.Printer, key string, args ...any) template.HTML {
		for i, a := range args {
			args[i] = template.HTMLEscapeString(fmt.Sprint(a))
		}
		return template.HTML(p.T(key, args...))
	},
}).ParseFS(templateFS, "templates/*.html"))

// view is what every page template gets.
type view map[string]any

func (s *Server) render(c *gin.Context, status int, name string, v view) {
	if p, ok := c.Get(principalKey); ok {
		pr := p.(*principal)
		v["Member"], v["CanAct"] = pr.member, pr.canAct
		// Inside the Shopify admin (session token): the page is fetched
		// by the embedded shell, which shows it in the admin's frame,
		// navigation and title bar instead of the console's header.
		v["Embedded"] = pr.member == nil
		if pr.session != nil {
			v["CSRF"] = pr.session.CSRF
		}
	}
	var zone string
	if sh, ok := c.Get(shopKey); ok {
		v["Shop"] = sh
		shop := sh.(*app.Shop)
		zone = shop.Timezone
		if _, ok := v["ProgramOn"]; !ok && s.Programs != nil {
			// The program switch on every page says what is true now.
			if p, err := s.Programs.Program(c.Request.Context(), shop); err == nil {
				v["ProgramOn"], v["Switch"] = p.Enabled, true
			}
		}
	}
	v["L"] = s.printer(c, zone)
	v["Flash"], v["Error"] = c.Query("done"), c.Query("error")
	c.Header("Content-Type", "text/html; charset=utf-8")
	// The console is never framed by another site (clickjacking) and its
	// pages carry personal data: no caching.
	c.Header("X-Frame-Options", "SAMEORIGIN")
	c.Header("Content-Security-Policy", "frame-ancestors 'self'")
	c.Header("Cache-Control", "no-store")
	c.Status(status)
	if err := pages.ExecuteTemplate(c.Writer, name, v); err != nil {
		_ = c.Error(err)
	}
}

// embeddedPages are the console pages the embedded admin shows, by the
// path after /shopify/admin/ (the first is the home: setup).
var embeddedPages = []struct{ Path, Label string }{
	{"setup", "Setup"}, {"queue", "Review queue"}, {"customers", "Customers"}, {"dashboard", "Dashboard"}, {"settings", "Settings"},
	{"campaigns", "Campaigns"},
	{"abtest", "A/B test"},
}

// embeddedAdmin is the app's page inside the Shopify admin: the shell that
// loads App Bridge and Polaris, fills the admin's navigation and title bar,
// and shows the console's own pages, fetched with App Bridge's session
// token (Shopify's pattern for server-rendered apps: the page is fetched
// with the token and swapped in, links and forms intercepted). Shopify
// frames it, and only Shopify may. Opened without the query Shopify adds
// (shop, host), it is not inside the admin: it says so and links there.
func (s *Server) embeddedAdmin(c *gin.Context) {
	shop := c.Query("shop")
	frame := "https://admin.shopify.com"
	domain, err := shopify.NormalizeShop(shop)
	if err == nil {
		frame += " https://" + domain
	}
	c.Header("Content-Security-Policy", "frame-ancestors "+frame)
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Header("Cache-Control", "no-store")
	l := s.printer(c, "")
	words := map[string]string{}
	for _, k := range []string{"js.not_saved", "js.unreachable", "js.unreachable_why", "js.open_failed", "js.shop_failed", "js.empty", "js.exported", "set.save", "nav.queue"} {
		words[k] = l.T(k)
	}
	v := view{"Key": s.ShopifyKey, "Pages": embeddedPages, "Shop": domain, "L": l, "Words": words}
	if domain != "" {
		v["AdminURL"] = "https://" + domain + "/admin/apps/" + s.ShopifyKey
	}
	if domain == "" || c.Query("host") == "" {
		c.Status(http.StatusOK)
		v["Outside"] = true
	}
	_ = pages.ExecuteTemplate(c.Writer, "embedded", v)
}

func (s *Server) consoleRoutes(r *gin.Engine, shopAPI *gin.RouterGroup) {
	r.GET("/shopify/admin", s.embeddedAdmin)
	r.GET("/shopify/admin/*page", s.embeddedAdmin)
	r.GET("/shopify/admin.js", func(c *gin.Context) {
		c.Header("Cache-Control", "no-cache")
		c.Data(http.StatusOK, "text/javascript; charset=utf-8", adminJS)
	})
	r.GET("/console/login", func(c *gin.Context) { s.render(c, http.StatusOK, "login", view{"Title": "Log in"}) })
	r.POST("/console/login", s.consoleLogin)
	pagesGroup := r.Group("/console", s.authenticate(true))
	pagesGroup.POST("/logout", s.consoleLogout)
	pagesGroup.GET("/", s.consoleShops)
	pagesGroup.GET("/staff", requireOwner, s.consoleStaff)
	pagesGroup.POST("/staff", requireOwner, s.consoleAddStaff)
	pagesGroup.POST("/staff/:id/:action", requireOwner, s.consoleToggleStaff)
	shop := pagesGroup.Group("/shops/:shop", s.scopeShop)
	shop.GET("/", func(c *gin.Context) { c.Redirect(http.StatusSeeOther, "/console/shops/"+shopFrom(c).Domain+"/queue") })
	shop.GET("/setup", s.consoleSetup)
	shop.GET("/queue", s.consoleQueue)
	shop.GET("/referrals/:id", s.consoleReferral)
	shop.POST("/referrals/:id/:action", requireAct, s.consoleAction)
	shop.POST("/attributions", requireAct, s.consoleAttribute)
	shop.GET("/settings", s.consoleSettings)
	shop.POST("/settings", requireAct, s.consoleSaveSettings)
	shop.GET("/preview", s.consolePreview)
	shop.GET("/customers", s.consoleCustomers)
	shop.POST("/customers/:id/revoke-links", requireAct, s.consoleRevokeAdvocateLinks)
	shop.GET("/dashboard", s.consoleDashboard)
	shop.GET("/export/:what", s.consoleExport)
	s.eventRoutes(shopAPI, shop)
	s.consoleShop = shop
	shop.POST("/program/switch", requireAct, s.consoleProgramSwitch)
	shop.GET("/whynot", s.consoleWhyNot)
	shop.GET("/attribute", s.consoleCheckAttribution)
}

// Login throttling. Refusing an account after N failures lets anyone lock a
// chosen person out; so refusals are per address, and the account itself is
// only slowed down:
//   - per address: 20 attempts a minute, any accounts (429);
//   - per address and account: 5 attempts a minute (429), so one address
//     cannot hammer one person;
//   - per account: every failed password in the last 15 minutes counts; from
//     the 5th on, each attempt on that account waits loginDelay (100 ms
//     doubling, at most 3 s) before the password is checked. A guesser
//     spread over many addresses is slowed; the owner typing the right
//     password from their own (fresh) address waits at most 3 s and is let in.
const (
	loginPerAddress        = 20
	loginPerAddressAccount = 5
	loginFailWindow        = 15 * time.Minute
	loginFreeFailures      = 5
	loginMaxDelay          = 3 * time.Second
)

// loginDelay is the wait before checking a password for an account with
// failures recent failed attempts.
func loginDelay(failures int64) time.Duration {
	if failures < loginFreeFailures {
		return 0
	}
	shift := min(failures-loginFreeFailures, 10)
	return min(100*time.Millisecond<<shift, loginMaxDelay)
}

// sameOrigin reports whether a form post comes from a page of the app
// itself (APP_URL): the Origin header, or the Referer when a browser sent
// no Origin. A request with neither is not a browser's cross-site post.
func (s *Server) sameOrigin(c *gin.Context) bool {
	app, err := url.Parse(s.AppURL)
	if err != nil {
		return false
	}
	from := c.GetHeader("Origin")
	if from == "" {
		from = c.GetHeader("Referer")
	}
	if from == "" {
		return true
	}
	u, err := url.Parse(from)
	return err == nil && strings.EqualFold(u.Scheme, app.Scheme) && strings.EqualFold(u.Host, app.Host)
}

// consoleLogin checks the password. A login form posted from another site
// is refused (login CSRF: it would log the victim into the attacker's
// account); attempts are throttled as described above.
func (s *Server) consoleLogin(c *gin.Context) {
	ctx := c.Request.Context()
	email := strings.ToLower(strings.TrimSpace(c.PostForm("email")))
	if !s.sameOrigin(c) {
		s.render(c, http.StatusForbidden, "login", view{"Title": "Log in", "Error": "This login form was sent from another site: open the console and log in there."})
		return
	}
	addr, account := s.hashIP(c.ClientIP()), s.hashIP(email)
	if !s.allow(ctx, "login:ip:"+addr, loginPerAddress) || !s.allow(ctx, "login:ip-email:"+addr+":"+account, loginPerAddressAccount) {
		s.render(c, http.StatusTooManyRequests, "login", view{"Title": "Log in", "Email": email, "Error": "Too many attempts: wait a minute and try again."})
		return
	}
	if s.Limiter != nil {
		if d := loginDelay(s.Limiter.Count(ctx, "login:fail:"+account, loginFailWindow)); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return
			}
		}
	}
	sess, _, err := s.Staff.Login(ctx, email, c.PostForm("password"))
	if err != nil {
		if app.ErrorCode(err) == app.EUNAUTHORIZED && s.Limiter != nil {
			s.Limiter.Add(ctx, "login:fail:"+account, loginFailWindow)
		}
		status := http.StatusUnauthorized
		if app.ErrorCode(err) != app.EUNAUTHORIZED {
			status = http.StatusServiceUnavailable
			logging.From(ctx).Error("console login failed", "error", err.Error())
		}
		s.render(c, status, "login", view{"Title": "Log in", "Email": email, "Error": app.ErrorMessage(err)})
		return
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: sessionCookie, Value: sess.Token, Path: "/", HttpOnly: true,
		Secure: strings.HasPrefix(s.AppURL, "https://"), SameSite: http.SameSiteLaxMode, Expires: sess.ExpiresAt})
	c.Redirect(http.StatusSeeOther, "/console/")
}

func (s *Server) consoleLogout(c *gin.Context) {
	if p := principalFrom(c); p.session != nil {
		_ = s.Staff.Logout(c.Request.Context(), p.session.Token)
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true})
	c.Redirect(http.StatusSeeOther, "/console/login")
}

func (s *Server) consoleShops(c *gin.Context) {
	p := principalFrom(c)
	if p.member == nil {
		fail(c, app.Errorf(app.EFORBIDDEN, "the console is for staff accounts"))
		return
	}
	shops, err := s.Console.ShopsFor(c.Request.Context(), p.member)
	if err != nil {
		fail(c, err)
		return
	}
	s.render(c, http.StatusOK, "shops", view{"Title": "Shops", "Shops": shops})
}

// ruleNames are the attribution rules, as app/attribution names them.
// requireOwner lets only owners manage staff.
func requireOwner(c *gin.Context) {
	if p := principalFrom(c); p.member == nil || p.member.Role != staff.Owner {
		fail(c, app.Errorf(app.EFORBIDDEN, "only owners manage staff"))
		return
	}
	c.Next()
}

func (s *Server) renderStaff(c *gin.Context, status int, fields map[string]string) {
	members, err := s.Console.Members(c.Request.Context())
	if err != nil {
		fail(c, err)
		return
	}
	s.render(c, status, "staff", view{"Title": "Staff", "Members": members, "Fields": fields})
}

func (s *Server) consoleStaff(c *gin.Context) { s.renderStaff(c, http.StatusOK, nil) }

func (s *Server) consoleAddStaff(c *gin.Context) {
	role, err := staff.ParseRole(c.PostForm("role"))
	if err != nil {
		s.renderStaff(c, http.StatusBadRequest, map[string]string{"role": app.ErrorMessage(err)})
		return
	}
	var shops []string
	for _, d := range strings.Split(c.PostForm("shops"), ",") {
		if d = strings.TrimSpace(d); d != "" {
			shops = append(shops, d)
		}
	}
	m, err := s.Staff.Add(c.Request.Context(), c.PostForm("email"), "", role, c.PostForm("password"), shops)
	if err != nil {
		if code := app.ErrorCode(err); code == app.EINVALID || code == app.ECONFLICT {
			s.renderStaff(c, http.StatusBadRequest, map[string]string{"member": app.ErrorMessage(err)})
			return
		}
		fail(c, err)
		return
	}
	if err := s.Console.Record(c.Request.Context(), 0, principalFrom(c).actor, "add_staff", "staff:"+m.Email, nil, map[string]any{"role": m.Role, "shops": shops}); err != nil {
		fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/staff?done="+url.QueryEscape("Added "+m.Email+"."))
}

func (s *Server) consoleToggleStaff(c *gin.Context) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	action := c.Param("action")
	if err != nil || (action != "disable" && action != "enable") {
		fail(c, app.Errorf(app.ENOTFOUND, "no such staff action"))
		return
	}
	if id == principalFrom(c).member.ID {
		fail(c, app.Errorf(app.EINVALID, "you cannot disable yourself"))
		return
	}
	if err := s.Console.SetDisabled(c.Request.Context(), id, action == "disable", principalFrom(c).actor); err != nil {
		fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/staff?done="+url.QueryEscape(map[string]string{"disable": "Disabled.", "enable": "Enabled again."}[action]))
}

var ruleNames = []string{"self-referral", "new customer", "minimum order", "not a test order", "sales channel", "advocate cap", "velocity (IP)", "velocity (advocate)"}

func (s *Server) consoleQueue(c *gin.Context) {
	shop := shopFrom(c)
	f, bad := parseFilter(c.Query, shop.Currency)
	raw := map[string]string{}
	for _, k := range []string{"state", "flagged", "rule", "from", "to", "advocate", "min", "max", "q", "attention"} {
		raw[k] = c.Query(k)
	}
	if c.Request.URL.RawQuery == "" || c.Request.URL.RawQuery == "lang=fr" || c.Request.URL.RawQuery == "lang=en" {
		// The queue opens on what needs someone: to review, flagged,
		// rewards the store refused.
		f.Attention, raw["attention"] = true, "1"
	}
	v := view{"Title": s.printer(c, shop.Timezone).T("queue.title"), "Page": "queue", "F": raw, "States": []string{"pending", "needs_review", "approved", "rewarded", "rejected", "reversed"}, "Rules": ruleNames}
	if len(bad) > 0 {
		msgs := []string{}
		for k, m := range bad {
			msgs = append(msgs, k+": "+m)
		}
		v["Error"] = strings.Join(msgs, "; ")
		s.render(c, http.StatusBadRequest, "queue", v)
		return
	}
	if f.Limit == 0 {
		f.Limit = 50
	}
	items, err := s.Review.Queue(c.Request.Context(), shop, f)
	if err != nil {
		fail(c, err)
		return
	}
	v["Items"] = items
	if len(items) == f.Limit {
		q := c.Request.URL.Query()
		q.Set("before", cursorOf(items[len(items)-1]))
		v["Next"], v["NextQuery"] = true, template.URL(q.Encode())
	}
	s.render(c, http.StatusOK, "queue", v)
}

func (s *Server) consoleReferral(c *gin.Context) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		fail(c, app.Errorf(app.ENOTFOUND, "no such referral"))
		return
	}
	d, err := s.Review.Detail(c.Request.Context(), shopFrom(c), id)
	if err != nil {
		fail(c, err)
		return
	}
	s.render(c, http.StatusOK, "referral", view{"Title": s.printer(c, shopFrom(c).Timezone).T("title.referral", id), "Page": "queue", "D": d, "Outcome": outcomeKey(d)})
}

// consoleAction runs a form's action and goes back to the referral with
// what happened (post/redirect/get).
func (s *Server) consoleAction(c *gin.Context) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		fail(c, app.Errorf(app.ENOTFOUND, "no such referral"))
		return
	}
	in, _ := readAction(c)
	back := fmt.Sprintf("/console/shops/%s/referrals/%d", shopFrom(c).Domain, id)
	if _, err := s.runAction(c, c.Param("action"), id, in); err != nil {
		if code := app.ErrorCode(err); code == app.EUNAVAILABLE || code == app.EINTERNAL {
			fail(c, err)
			return
		}
		c.Redirect(http.StatusSeeOther, back+"?error="+url.QueryEscape(app.ErrorMessage(err)))
		return
	}
	c.Redirect(http.StatusSeeOther, back+"?done="+url.QueryEscape(s.confirmation(c, c.Param("action"), id)))
}

// consoleAttribute records a manual attribution and opens the new referral.
func (s *Server) consoleAttribute(c *gin.Context) {
	in, _ := readAction(c)
	check := "/console/shops/" + shopFrom(c).Domain + "/attribute?" + url.Values{"order_id": {in.OrderID}, "advocate_code": {in.AdvocateCode}}.Encode()
	id, err := s.runAction(c, "attribute", 0, in)
	if err != nil {
		if code := app.ErrorCode(err); code == app.EUNAVAILABLE || code == app.EINTERNAL {
			fail(c, err)
			return
		}
		c.Redirect(http.StatusSeeOther, check+"&error="+url.QueryEscape(app.ErrorMessage(err)))
		return
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/console/shops/%s/referrals/%d?done=%s", shopFrom(c).Domain, id,
		url.QueryEscape(s.printer(c, shopFrom(c).Timezone).T("done.attribute"))))
}

func (s *Server) consoleSettings(c *gin.Context) {
	p, err := s.Programs.Program(c.Request.Context(), shopFrom(c))
	if err != nil {
		fail(c, err)
		return
	}
	s.renderSettings(c, http.StatusOK, p, nil)
}

func (s *Server) renderSettings(c *gin.Context, status int, p app.Program, fields map[string]string) {
	titles, offers := map[string]string{}, map[string]string{}
	for _, l := range app.Languages {
		titles[l], offers[l] = p.Widget.Texts[l]["title"], p.Widget.Texts[l]["offer"]
	}
	if fields == nil {
		fields = map[string]string{}
	}
	// Store credit is offered where the shop's store can hold it (the
	// adapter says), or kept on show when the program already uses it.
	rewardKinds := []string{app.OfferFixed, app.OfferPercent}
	if s.storeCreditSupport(shopFrom(c)) == nil || p.RewardKind == app.OfferStoreCredit {
		rewardKinds = append(rewardKinds, app.OfferStoreCredit)
	}
	s.render(c, status, "settings", view{"Title": "Settings", "Page": "settings", "P": p, "Fields": fields, "Titles": titles, "Offers": offers,
		"Contrast": p.Widget.ContrastWarnings(), "Sources": strings.Join(p.ExcludedSources, ", "), "MilestoneRows": milestoneFormRows(p),
		"OfferKinds": []string{app.OfferPercent, app.OfferFixed, app.OfferFreeShipping}, "RewardKinds": rewardKinds,
		"Languages": append([]string{app.LanguageAuto}, app.Languages...),
		"Positions": []string{app.PositionCenter, app.PositionBottomRight, app.PositionBottomLeft},
		"Replay":    replayFor(c), "CanReplay": s.Replays != nil})
}

// programFromForm applies the settings form to p; bad fields are named.
func programFromForm(get func(string) string, has func(string) bool, p *app.Program) map[string]string {
	bad := map[string]string{}
	num := func(name string, dst *int) {
		if v := get(name); v != "" {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				bad[name] = "a whole number"
				return
			}
			*dst = n
		}
	}
	amount := func(name string, dst *int64) {
		if v := get(name); v != "" {
			m, err := app.ParseMoney(strings.TrimSpace(v), p.Currency)
			if err != nil {
				bad[name] = "an amount in " + p.Currency
				return
			}
			*dst = m.Minor
		}
	}
	str := func(name string, dst *string) {
		if has(name) {
			*dst = strings.TrimSpace(get(name))
		}
	}
	str("friend_kind", &p.FriendKind)
	num("friend_percent", &p.FriendPercent)
	amount("friend_amount", &p.FriendAmountMinor)
	str("reward_kind", &p.RewardKind)
	num("reward_percent", &p.RewardPercent)
	amount("reward_amount", &p.RewardAmountMinor)
	num("holding_days", &p.HoldingDays)
	amount("min_order", &p.MinOrderMinor)
	if has("friend_kind") { // the whole form was sent: an unticked box is false
		p.NewCustomersOnly = get("new_customers_only") == "1"
	}
	num("cap_per_advocate", &p.CapPerAdvocate)
	num("cap_window_days", &p.CapWindowDays)
	num("reward_expiry_days", &p.RewardExpiryDays)
	amount("friend_min_order", &p.FriendMinOrderMinor)
	num("velocity_per_ip", &p.VelocityPerIP)
	num("velocity_per_advocate", &p.VelocityPerAdvocate)
	num("velocity_window_minutes", &p.VelocityWindowMinutes)
	if has("friend_kind") {
		p.ExcludeTestOrders = get("exclude_test_orders") == "1"
		p.Widget.Launcher = get("launcher") == "1"
		p.Widget.Enabled = get("widget_enabled") == "1"
	}
	if has("excluded_sources") {
		p.ExcludedSources = []string{}
		for _, src := range strings.Split(get("excluded_sources"), ",") {
			if src = strings.TrimSpace(src); src != "" {
				p.ExcludedSources = append(p.ExcludedSources, src)
			}
		}
	}
	str("language", &p.Widget.Language)
	str("accent_color", &p.Widget.AccentColor)
	str("background_color", &p.Widget.BackgroundColor)
	str("text_color", &p.Widget.TextColor)
	str("position", &p.Widget.Position)
	num("cap_days", &p.Widget.CapDays)
	texts := map[string]map[string]string{}
	for l, t := range p.Widget.Texts {
		texts[l] = map[string]string{}
		for k, v := range t {
			texts[l][k] = v
		}
	}
	for _, l := range app.Languages {
		for _, key := range []string{"title", "offer"} {
			field := key + "_" + l
			if !has(field) {
				continue
			}
			if texts[l] == nil {
				texts[l] = map[string]string{}
			}
			if v := strings.TrimSpace(get(field)); v != "" {
				texts[l][key] = v
			} else {
				delete(texts[l], key)
			}
		}
	}
	p.Widget.Texts = texts
	milestonesFromForm(get, has, p, bad)
	// Every problem at once, next to its field: the form's own (not a
	// number) and the program's rules.
	for k, m := range p.Problems() {
		if _, ok := bad[k]; !ok {
			bad[k] = m
		}
	}
	return bad
}

func (s *Server) consoleSaveSettings(c *gin.Context) {
	ctx, shop := c.Request.Context(), shopFrom(c)
	p, err := s.Programs.Program(ctx, shop)
	if err != nil {
		fail(c, err)
		return
	}
	before := toJSON(p)
	_ = c.Request.ParseForm()
	has := func(k string) bool { _, ok := c.Request.PostForm[k]; return ok }
	bad := programFromForm(c.PostForm, has, &p)
	for k, m := range s.storeProblems(shop, p) {
		if _, ok := bad[k]; !ok {
			bad[k] = m
		}
	}
	if len(bad) > 0 {
		s.renderSettings(c, http.StatusBadRequest, p, bad)
		return
	}
	if intent := c.PostForm("intent"); s.Replays != nil && (intent == "preview" || intent == "apply") {
		s.consoleReplay(c, intent, before, p) // replay.go
		return
	}
	if err := s.Programs.SaveProgram(ctx, p); err != nil {
		if app.ErrorCode(err) == app.EINVALID {
			fields := map[string]string(app.FieldsOf(err))
			if len(fields) == 0 {
				fields = map[string]string{"program": app.ErrorMessage(err)}
			}
			s.renderSettings(c, http.StatusBadRequest, p, fields)
			return
		}
		fail(c, err)
		return
	}
	if err := s.Console.Record(ctx, shop.ID, principalFrom(c).actor, "update_program", "program", before, toJSON(p)); err != nil {
		fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/shops/"+shop.Domain+"/settings?done="+url.QueryEscape(s.printer(c, shop.Timezone).T("done.settings")))
}

// consolePreview renders the real popup with the settings in the query
// (unsaved), for the settings page's live preview.
func (s *Server) consolePreview(c *gin.Context) {
	shop := shopFrom(c)
	p, err := s.Programs.Program(c.Request.Context(), shop)
	if err != nil {
		fail(c, err)
		return
	}
	q := c.Request.URL.Query()
	v := view{"Lang": "en", "L": s.printer(c, shop.Timezone)}
	if bad := programFromForm(q.Get, q.Has, &p); len(bad) > 0 {
		for k, m := range bad {
			v["Error"] = s.printer(c, shop.Timezone).Say("Preview unavailable: " + k + ": " + m)
		}
	} else {
		lang := popup.PickLanguage(p.Widget.Language, "en")
		cp := s.previewCampaign(c, shop)
		if cp != nil {
			p = cp.Apply(p)
		}
		content := popup.Build(p, &app.Advocate{Code: "ANNA-7K2P", FriendCode: "FRIEND-ANNA-7K2P"}, shop.Name, strings.TrimRight(s.AppURL, "/"), lang)
		content.Campaign = popup.CampaignLine(cp, lang, shop.Timezone)
		b, _ := json.Marshal(struct {
			State string `json:"state"`
			*popup.Content
		}{"ready", &content})
		v["Lang"], v["Content"] = lang, template.JS(b)
		v["Popup"] = s.PopupScript
	}
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Header("X-Frame-Options", "SAMEORIGIN")
	c.Header("Cache-Control", "no-store")
	_ = pages.ExecuteTemplate(c.Writer, "preview", v)
}

func (s *Server) consoleCustomers(c *gin.Context) {
	q := strings.TrimSpace(c.Query("q"))
	v := view{"Title": "Customers", "Page": "customers", "Q": q}
	if q != "" {
		cust, err := s.Console.CustomerByEmailOrCode(c.Request.Context(), shopFrom(c).ID, q)
		if err != nil && app.ErrorCode(err) != app.ENOTFOUND {
			fail(c, err)
			return
		}
		if cust != nil {
			cust.Link = strings.TrimRight(s.AppURL, "/") + "/r/" + cust.Code
			v["C"] = cust
			if s.Emails != nil {
				msgs, err := s.Emails.Messages(c.Request.Context(), shopFrom(c).ID, cust.ID, 100)
				if err != nil {
					fail(c, err)
					return
				}
				v["Emails"] = emailViews(msgs, s.EmailEnabled)
			}
			if s.AdvocatePages != nil {
				page, err := s.AdvocatePages.AdvocateURL(c.Request.Context(), shopFrom(c).ID, cust.ID)
				if err != nil {
					fail(c, err)
					return
				}
				v["PageLink"] = page
			}
		}
	}
	s.render(c, http.StatusOK, "customers", v)
}

// dateRange reads from/to (inclusive days of the shop's calendar); the
// default is the last 30 days. The range's bounds are midnights in the
// shop's time zone.
func dateRange(c *gin.Context, now time.Time, loc *time.Location) (analytics.Range, string, string, error) {
	local := now.In(loc)
	to := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
	from := to.AddDate(0, 0, -29)
	var err error
	if v := c.Query("from"); v != "" {
		if from, err = time.ParseInLocation(time.DateOnly, v, loc); err != nil {
			return analytics.Range{}, "", "", app.Errorf(app.EINVALID, "from: a date, YYYY-MM-DD")
		}
	}
	if v := c.Query("to"); v != "" {
		if to, err = time.ParseInLocation(time.DateOnly, v, loc); err != nil {
			return analytics.Range{}, "", "", app.Errorf(app.EINVALID, "to: a date, YYYY-MM-DD")
		}
	}
	if to.Before(from) || to.Sub(from) > 3*366*24*time.Hour {
		return analytics.Range{}, "", "", app.Errorf(app.EINVALID, "to: after from, within three years")
	}
	return analytics.Range{From: from, To: to.AddDate(0, 0, 1)}, from.Format(time.DateOnly), to.Format(time.DateOnly), nil
}

// shopLocation is the shop's time zone (from the store), UTC when unknown.
func shopLocation(sh *app.Shop) *time.Location {
	if sh != nil && sh.Timezone != "" {
		if loc, err := time.LoadLocation(sh.Timezone); err == nil {
			return loc
		}
	}
	return time.UTC
}

func (s *Server) consoleDashboard(c *gin.Context) {
	rg, from, to, err := dateRange(c, s.Now(), shopLocation(shopFrom(c)))
	if err != nil {
		fail(c, err)
		return
	}
	st, err := s.Console.Stats(c.Request.Context(), shopFrom(c).ID, rg, s.Now())
	if err != nil {
		fail(c, err)
		return
	}
	notices, err := s.Console.Notices(c.Request.Context(), shopFrom(c).ID, 5)
	if err != nil {
		fail(c, err)
		return
	}
	l := s.printer(c, shopFrom(c).Timezone)
	s.render(c, http.StatusOK, "dashboard", view{"Title": "Dashboard", "Page": "dashboard", "S": st, "From": from, "To": to, "Notices": notices,
		"FromTime": rg.From, "ToTime": rg.To.AddDate(0, 0, -1),
		"Chart": chartSVG(l, st.Days, rg, shopFrom(c).Currency), "TZ": rg.From.Location().String()})
}

func (s *Server) consoleExport(c *gin.Context) {
	rg, from, to, err := dateRange(c, s.Now(), shopLocation(shopFrom(c)))
	if err != nil {
		fail(c, err)
		return
	}
	shop := shopFrom(c)
	export := s.Console.ExportReferrals
	switch c.Param("what") {
	case "referrals.csv":
	case "rewards.csv":
		export = s.Console.ExportRewards
	default:
		fail(c, app.Errorf(app.ENOTFOUND, "no such export"))
		return
	}
	name := strings.TrimSuffix(c.Param("what"), ".csv")
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s-%s-%s.csv"`, shop.Domain, name, from, to))
	c.Header("Cache-Control", "no-store")
	if err := export(c.Request.Context(), shop.ID, rg, c.Writer); err != nil {
		fail(c, err)
	}
}

// chartSVG draws referred orders (bars) and revenue (line) per day.
func chartSVG(l *i18n.Printer, days []analytics.Day, rg analytics.Range, currency string) template.HTML {
	n := int(rg.To.Sub(rg.From).Hours()/24 + 0.5)
	if n < 1 {
		n = 1
	}
	orders := make([]int64, n)
	revenue := make([]int64, n)
	var maxO, maxR int64 = 1, 1
	for _, d := range days {
		i := int(math.Round(d.Day.Sub(rg.From).Hours() / 24)) // a DST day is 23 or 25 hours
		if i < 0 || i >= n {
			continue
		}
		orders[i], revenue[i] = d.Orders, d.RevenueMinor
		maxO, maxR = max(maxO, d.Orders), max(maxR, d.RevenueMinor)
	}
	const w, h = 720.0, 200.0
	bw := w / float64(n)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg viewBox="0 0 %.0f %.0f" width="100%%" role="img" aria-label="%s" style="max-height:16rem">`,
		w, h+20, template.HTMLEscapeString(l.T("dash.chart_label", l.Date(rg.From), l.Date(rg.To.AddDate(0, 0, -1)))))
	var line []string
	for i := range n {
		bh := float64(orders[i]) / float64(maxO) * (h - 10)
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#95c9b4"><title>%s</title></rect>`,
			float64(i)*bw+1, h-bh, max(bw-2, 1), bh, template.HTMLEscapeString(l.T("dash.chart_bar", l.Date(rg.From.AddDate(0, 0, i)), orders[i])))
		line = append(line, fmt.Sprintf("%.1f,%.1f", float64(i)*bw+bw/2, h-float64(revenue[i])/float64(maxR)*(h-10)))
	}
	fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="#005bd3" stroke-width="2"/>`, strings.Join(line, " "))
	fmt.Fprintf(&b, `<text x="0" y="%.0f" font-size="11" fill="#6d7175">%s</text></svg>`,
		h+16, template.HTMLEscapeString(l.T("dash.chart_legend", maxO, popup.FormatMoney(app.Money{Minor: maxR, Currency: currency}, l.Lang))))
	return template.HTML(b.String())
}

// who says who did something: Parrain itself, a staff member by email, or
// the merchant in the Shopify admin; never the raw actor id.
func who(actor string) string {
	switch {
	case actor == "" || actor == "engine" || actor == "system":
		return "Parrain"
	case strings.HasPrefix(actor, "staff:"):
		return strings.TrimPrefix(actor, "staff:")
	case strings.HasPrefix(actor, "shopify:"):
		return "Shopify admin"
	}
	return actor
}
