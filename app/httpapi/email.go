package httpapi

import (
	"context"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/email"
)

// Emails is what the HTTP layer needs of the outbox and email settings
// (postgres.EmailStore).
type Emails interface {
	Settings(ctx context.Context, shopID int64) (email.Settings, error)
	SaveSettings(ctx context.Context, st email.Settings) error
	Messages(ctx context.Context, shopID, advocateID int64, limit int) ([]email.Item, error)
	QueueTest(ctx context.Context, shopID int64, kind email.Kind, lang, to string, at time.Time) (int64, error)
	Unsubscribe(ctx context.Context, outboxID int64) (string, error)
}

// EmailPreviewer renders a kind with sample data (email.Service).
type EmailPreviewer interface {
	Preview(ctx context.Context, shop app.Shop, p app.Program, st email.Settings, k email.Kind, lang string) email.Rendered
}

func (s *Server) emailRoutes(r *gin.Engine, shopAPI, console *gin.RouterGroup) {
	// Registered whatever the wiring, so docs/openapi.yaml's test sees
	// them; without an outbox they answer 404.
	need := func(c *gin.Context) {
		if s.Emails == nil {
			_ = c.Error(app.Errorf(app.ENOTFOUND, "email is not wired in this process"))
			c.Abort()
		}
	}
	shopAPI = shopAPI.Group("", need)
	console = console.Group("", need)
	r.GET("/email/unsubscribe/:token", need, s.unsubscribePage)
	r.POST("/email/unsubscribe/:token", need, s.unsubscribe)
	shopAPI.GET("/emails/settings", s.apiEmailSettings)
	shopAPI.PUT("/emails/settings", requireAct, s.apiPutEmailSettings)
	shopAPI.GET("/emails/preview", s.apiEmailPreview)
	shopAPI.POST("/emails/test", requireAct, s.apiEmailTest)
	console.GET("/emails", s.consoleEmails)
	console.POST("/emails", requireAct, s.consoleSaveEmails)
	console.POST("/emails/test", requireAct, s.consoleEmailTest)
}

var unsubscribePage = template.Must(template.New("unsub").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{{.Title}}</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;color:#202223}
button{font:inherit;padding:.6rem 1.2rem;border-radius:6px;border:1px solid #008060;background:#008060;color:#fff}</style></head>
<body><main><h1>{{.Title}}</h1><p>{{.Text}}</p>{{if .Form}}<form method="post"><button>{{.Button}}</button></form>{{end}}</main></body></html>`))

// unsubscribePage asks for a click: a GET must not unsubscribe (mail
// scanners follow links); the mail client's one-click POST does.
func (s *Server) unsubscribePage(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Type", "text/html; charset=utf-8")
	if _, ok := email.ParseUnsubscribeToken(s.EmailKey, c.Param("token")); !ok {
		c.Status(http.StatusNotFound)
		_ = unsubscribePage.Execute(c.Writer, map[string]any{"Lang": "en", "Title": "Link not valid",
			"Text": "This unsubscribe link is not valid. Use the link of the email itself."})
		return
	}
	_ = unsubscribePage.Execute(c.Writer, map[string]any{"Lang": "en", "Title": "Stop these emails?",
		"Text": "You will get no more reminders from this shop. Messages about your own rewards still come.", "Form": true, "Button": "Unsubscribe"})
}

// unsubscribe is the one-click endpoint (RFC 8058: a POST with
// List-Unsubscribe=One-Click, no cookie, no confirmation).
func (s *Server) unsubscribe(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Type", "text/html; charset=utf-8")
	id, ok := email.ParseUnsubscribeToken(s.EmailKey, c.Param("token"))
	if !ok {
		c.Status(http.StatusNotFound)
		_ = unsubscribePage.Execute(c.Writer, map[string]any{"Lang": "en", "Title": "Link not valid", "Text": "This unsubscribe link is not valid."})
		return
	}
	shop, err := s.Emails.Unsubscribe(c.Request.Context(), id)
	if err != nil {
		if app.ErrorCode(err) == app.ENOTFOUND {
			c.Status(http.StatusNotFound)
			_ = unsubscribePage.Execute(c.Writer, map[string]any{"Lang": "en", "Title": "Link not valid", "Text": app.ErrorMessage(err)})
			return
		}
		fail(c, err)
		return
	}
	_ = unsubscribePage.Execute(c.Writer, map[string]any{"Lang": "en", "Title": "Unsubscribed",
		"Text": "You will get no more reminders from " + shop + "."})
}

func (s *Server) apiEmailSettings(c *gin.Context) {
	st, err := s.Emails.Settings(c.Request.Context(), shopFrom(c).ID)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, st)
}

func (s *Server) apiPutEmailSettings(c *gin.Context) {
	shop := shopFrom(c)
	var st email.Settings
	if err := c.ShouldBindJSON(&st); err != nil {
		fail(c, app.Errorf(app.EINVALID, "want the email settings as JSON: %s", err))
		return
	}
	st.ShopID = shop.ID
	before, err := s.Emails.Settings(c.Request.Context(), shop.ID)
	if err != nil {
		fail(c, err)
		return
	}
	if err := s.Emails.SaveSettings(c.Request.Context(), st); err != nil {
		fail(c, err)
		return
	}
	if err := s.Console.Record(c.Request.Context(), shop.ID, principalFrom(c).actor, "update_email_settings", "email_settings", before, st); err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, st)
}

func kindAndLang(kind, lang string) (email.Kind, string, error) {
	k := email.Kind(kind)
	if kind == "" {
		k = email.RewardEarned
	}
	if lang == "" {
		lang = "en"
	}
	if !k.Valid() {
		return "", "", app.Errorf(app.EINVALID, "kind: one of reward_earned, friend_ordered, share_reminder, reward_expiring, welcome")
	}
	if lang != "en" && lang != "fr" {
		return "", "", app.Errorf(app.EINVALID, "lang: en or fr")
	}
	return k, lang, nil
}

func (s *Server) preview(c *gin.Context, st email.Settings, k email.Kind, lang string) (email.Rendered, error) {
	shop := shopFrom(c)
	p, err := s.Programs.Program(c.Request.Context(), shop)
	if err != nil {
		return email.Rendered{}, err
	}
	return s.EmailPreview.Preview(c.Request.Context(), *shop, p, st, k, lang), nil
}

func (s *Server) apiEmailPreview(c *gin.Context) {
	k, lang, err := kindAndLang(c.Query("kind"), c.Query("lang"))
	if err != nil {
		fail(c, err)
		return
	}
	st, err := s.Emails.Settings(c.Request.Context(), shopFrom(c).ID)
	if err != nil {
		fail(c, err)
		return
	}
	r, err := s.preview(c, st, k, lang)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"lang": r.Lang, "subject": r.Subject, "text": r.Text, "html": r.HTML})
}

// testRecipient is whom a test goes to: the staff member, else (the
// embedded admin) the shop's own email.
func testRecipient(c *gin.Context) string {
	if pr := principalFrom(c); pr.member != nil {
		return pr.member.Email
	}
	return shopFrom(c).Email
}

func (s *Server) queueTest(c *gin.Context, kind, lang string) (string, error) {
	k, l, err := kindAndLang(kind, lang)
	if err != nil {
		return "", err
	}
	to := testRecipient(c)
	if to == "" {
		return "", app.Errorf(app.EINVALID, "no address to send the test to: the shop has no email")
	}
	if _, err := s.Emails.QueueTest(c.Request.Context(), shopFrom(c).ID, k, l, to, s.Now()); err != nil {
		return "", err
	}
	return to, nil
}

func (s *Server) apiEmailTest(c *gin.Context) {
	var in struct {
		Kind string `json:"kind"`
		Lang string `json:"lang"`
	}
	if err := c.ShouldBindJSON(&in); err != nil {
		fail(c, app.Errorf(app.EINVALID, "want {kind, lang} as JSON"))
		return
	}
	to, err := s.queueTest(c, in.Kind, in.Lang)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"to": to})
}

func (s *Server) consoleEmails(c *gin.Context) {
	// The page's own links name the email's language mail_lang: a lang=
	// would also switch the console's language. Without either, the
	// email shown is in the viewer's language.
	lang := c.Query("mail_lang")
	if lang == "" {
		lang = c.Query("lang")
	}
	if lang == "" {
		lang = s.printer(c, shopFrom(c).Timezone).Lang
	}
	k, lang, err := kindAndLang(c.Query("kind"), lang)
	if err != nil {
		fail(c, err)
		return
	}
	s.renderEmails(c, http.StatusOK, k, lang, nil, "")
}

func (s *Server) renderEmails(c *gin.Context, status int, k email.Kind, lang string, edited *email.Settings, formErr string) {
	shop := shopFrom(c)
	st, err := s.Emails.Settings(c.Request.Context(), shop.ID)
	if err != nil {
		fail(c, err)
		return
	}
	if edited != nil {
		st = *edited
	}
	r, err := s.preview(c, st, k, lang)
	if err != nil {
		fail(c, err)
		return
	}
	recent, err := s.Emails.Messages(c.Request.Context(), shop.ID, 0, 50)
	if err != nil {
		fail(c, err)
		return
	}
	builtin := email.Builtin(k, lang)
	cur := st.Templates[k][lang]
	s.render(c, status, "emails", view{"Title": s.printer(c, shop.Timezone).T("emails.title"), "Page": "emails", "S": st, "Kind": string(k), "Lang": lang,
		"Kinds": email.Kinds, "Languages": email.Languages, "Tpl": cur, "Builtin": builtin, "Preview": r,
		"PreviewHTML": r.HTML, "Placeholders": email.Placeholders(), "Recent": emailViews(recent, s.EmailEnabled),
		"FormError": formErr, "Enabled": s.EmailEnabled})
}

func (s *Server) consoleSaveEmails(c *gin.Context) {
	shop := shopFrom(c)
	k, lang, err := kindAndLang(c.PostForm("kind"), c.PostForm("lang"))
	if err != nil {
		fail(c, err)
		return
	}
	before, err := s.Emails.Settings(c.Request.Context(), shop.ID)
	if err != nil {
		fail(c, err)
		return
	}
	st := before
	st.Templates = map[email.Kind]map[string]email.Template{}
	for kk, m := range before.Templates {
		st.Templates[kk] = map[string]email.Template{}
		for l, t := range m {
			st.Templates[kk][l] = t
		}
	}
	st.ReplyTo = strings.TrimSpace(c.PostForm("reply_to"))
	st.Welcome = c.PostForm("welcome") == "1"
	days := func(name string) int {
		n, err := strconv.Atoi(strings.TrimSpace(c.PostForm(name)))
		if err != nil {
			return -1
		}
		return n
	}
	st.ReminderAfterDays, st.ExpiringBeforeDays = days("reminder_after_days"), days("expiring_before_days")
	if st.Templates[k] == nil {
		st.Templates[k] = map[string]email.Template{}
	}
	st.Templates[k][lang] = email.Template{Subject: strings.TrimSpace(c.PostForm("subject")), Body: strings.TrimSpace(c.PostForm("body"))}
	if c.PostForm("preview") == "1" {
		if err := st.Validate(); err != nil {
			s.renderEmails(c, http.StatusBadRequest, k, lang, &st, app.ErrorMessage(err))
			return
		}
		s.renderEmails(c, http.StatusOK, k, lang, &st, "")
		return
	}
	if err := s.Emails.SaveSettings(c.Request.Context(), st); err != nil {
		if app.ErrorCode(err) == app.EINVALID {
			s.renderEmails(c, http.StatusBadRequest, k, lang, &st, app.ErrorMessage(err))
			return
		}
		fail(c, err)
		return
	}
	if err := s.Console.Record(c.Request.Context(), shop.ID, principalFrom(c).actor, "update_email_settings", "email_settings", before, st); err != nil {
		fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/shops/"+shop.Domain+"/emails?kind="+string(k)+"&mail_lang="+lang+"&done="+
		url.QueryEscape(s.printer(c, shop.Timezone).T("emails.saved")))
}

func (s *Server) consoleEmailTest(c *gin.Context) {
	shop := shopFrom(c)
	to, err := s.queueTest(c, c.PostForm("kind"), c.PostForm("lang"))
	if err != nil {
		fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/shops/"+shop.Domain+"/emails?kind="+url.QueryEscape(c.PostForm("kind"))+"&mail_lang="+
		url.QueryEscape(c.PostForm("lang"))+"&done="+url.QueryEscape(s.printer(c, shop.Timezone).T("emails.test_sent", to)))
}

// EmailView is one message as the console shows it.
type EmailView struct {
	email.Item
	Status string
}

// emailStatus says where a message is, in the console's words.
func emailStatus(it email.Item, enabled bool) string {
	switch it.State {
	case email.StateSent:
		if it.SentAt != nil {
			return "emailed on " + it.SentAt.UTC().Format("2 Jan 2006 15:04 UTC")
		}
		return "emailed"
	case email.StateSkipped:
		return "not emailed: " + it.Reason
	case email.StateFailed:
		if strings.Contains(it.Reason, "gave up") {
			return "not emailed: " + it.Reason
		}
		return "bounced: " + it.Reason
	}
	if !enabled {
		return "not emailed: email is not set up (SMTP_URL)"
	}
	if it.LastError != "" {
		return "waiting to be sent (the mail server said: " + it.LastError + "; retrying)"
	}
	return "waiting to be sent"
}

func emailViews(items []email.Item, enabled bool) []EmailView {
	out := make([]EmailView, len(items))
	for i, it := range items {
		out[i] = EmailView{Item: it, Status: emailStatus(it, enabled)}
	}
	return out
}
