package shopifysim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// control serves /_sim/, the simulator's own surface: what a person (HTML
// page, plain forms, no JavaScript) or a script (JSON in and out) uses to
// add shops, place and cancel orders, refund, send any topic, uninstall,
// send compliance requests, and look at deliveries and discount codes.
func (s *Simulator) control(mux *http.ServeMux) {
	mux.HandleFunc("GET /_sim/{$}", s.page)
	mux.HandleFunc("GET /_sim/install-url", s.ctlInstallURL)
	mux.HandleFunc("GET /_sim/session-token", s.ctlSessionToken)
	mux.HandleFunc("GET /_sim/shops", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.Shops()) })
	mux.HandleFunc("POST /_sim/shops", s.ctlAddShop)
	mux.HandleFunc("GET /_sim/shops/{shop}/orders", s.ctlListOrders)
	mux.HandleFunc("POST /_sim/shops/{shop}/orders", s.ctlCreateOrder)
	mux.HandleFunc("POST /_sim/shops/{shop}/orders/{id}/cancel", s.ctlCancelOrder)
	mux.HandleFunc("POST /_sim/shops/{shop}/refunds", s.ctlRefund)
	mux.HandleFunc("POST /_sim/shops/{shop}/webhooks", s.ctlWebhook)
	mux.HandleFunc("POST /_sim/shops/{shop}/uninstall", s.ctlUninstall)
	mux.HandleFunc("POST /_sim/shops/{shop}/compliance/{kind}", s.ctlCompliance)
	mux.HandleFunc("GET /_sim/shops/{shop}/deliveries", func(w http.ResponseWriter, r *http.Request) {
		if s.known(w, r.PathValue("shop")) {
			writeJSON(w, http.StatusOK, s.Deliveries(r.PathValue("shop")))
		}
	})
	mux.HandleFunc("GET /_sim/shops/{shop}/discounts", func(w http.ResponseWriter, r *http.Request) {
		if s.known(w, r.PathValue("shop")) {
			writeJSON(w, http.StatusOK, s.Discounts(r.PathValue("shop")))
		}
	})
}

// known answers 404 for an unknown shop.
func (s *Simulator) known(w http.ResponseWriter, domain string) bool {
	if _, ok := s.Shop(domain); !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "unknown shop " + domain})
		return false
	}
	return true
}

// ctlError maps an error to a status: unknown shop 404, bad input 400.
func ctlError(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrUnknownShop):
		status = http.StatusNotFound
	case errors.Is(err, ErrInvalidInput):
		status = http.StatusBadRequest
	}
	writeJSON(w, status, map[string]string{"error": err.Error()})
}

func badRequest(w http.ResponseWriter, msg string) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": msg})
}

// readInput reads a control request body into v when it is JSON, or returns
// its form values when it is an HTML form. The body decides, not the
// Content-Type: `curl -d '{…}'` sends JSON labelled as a form. fromForm is
// true for the control page's forms, which get a redirect back instead of
// JSON. An empty body leaves v alone.
func readInput(w http.ResponseWriter, r *http.Request, v any) (form url.Values, fromForm bool, err error) {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		return nil, false, fmt.Errorf("%w: body too large or unreadable", ErrInvalidInput)
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	isForm := ct == "application/x-www-form-urlencoded"
	t := bytes.TrimSpace(raw)
	switch {
	case len(t) > 0 && t[0] == '{':
		dec := json.NewDecoder(bytes.NewReader(t))
		dec.DisallowUnknownFields() // a typo in a field name should not pass silently
		if err := dec.Decode(v); err != nil {
			return nil, false, fmt.Errorf("%w: malformed JSON: %v", ErrInvalidInput, err)
		}
		return nil, false, nil
	case isForm:
		f, err := url.ParseQuery(string(t))
		if err != nil {
			return nil, true, fmt.Errorf("%w: malformed form", ErrInvalidInput)
		}
		return f, true, nil
	case len(t) > 0:
		return nil, false, fmt.Errorf("%w: send a JSON object", ErrInvalidInput)
	}
	return nil, false, nil
}

// reply answers a script with JSON and a browser form with a redirect to
// the control page.
func reply(w http.ResponseWriter, r *http.Request, fromForm bool, v any) {
	if fromForm {
		http.Redirect(w, r, "/_sim/", http.StatusSeeOther)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Simulator) ctlInstallURL(w http.ResponseWriter, r *http.Request) {
	domain := r.URL.Query().Get("shop")
	if !s.known(w, domain) {
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, s.InstallURL(domain))
}

// ctlSessionToken mints an App Bridge session token for scripts that call
// the app's admin API as the embedded admin would (user_id default 1, ttl
// default 5m).
func (s *Simulator) ctlSessionToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	domain := q.Get("shop")
	if !s.known(w, domain) {
		return
	}
	user, ttl := int64(1), 5*time.Minute
	if v := q.Get("user_id"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			badRequest(w, "user_id must be an integer")
			return
		}
		user = n
	}
	if v := q.Get("ttl"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			badRequest(w, "ttl must be a duration such as 1m")
			return
		}
		ttl = d
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, s.SessionToken(domain, user, ttl))
}

func (s *Simulator) ctlAddShop(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Domain   string `json:"domain"`
		Name     string `json:"name"`
		Email    string `json:"email"`
		Currency string `json:"currency"`
		Timezone string `json:"timezone"`
		Plan     string `json:"plan"`
		ID       int64  `json:"id"`
	}
	form, fromForm, err := readInput(w, r, &in)
	if err != nil {
		ctlError(w, err)
		return
	}
	if form != nil {
		in.Domain, in.Name, in.Currency, in.Timezone = form.Get("domain"), form.Get("name"), form.Get("currency"), form.Get("timezone")
	}
	in.Domain = strings.ToLower(strings.TrimSpace(in.Domain))
	if !ValidShopDomain(in.Domain) {
		badRequest(w, `want {"domain":"name.myshopify.com", "name", "email", "currency", "timezone", "plan"}`)
		return
	}
	if in.Timezone != "" {
		if _, err := time.LoadLocation(in.Timezone); err != nil {
			badRequest(w, "unknown IANA time zone "+in.Timezone)
			return
		}
	}
	if in.Currency != "" && (len(in.Currency) != 3 || strings.ToUpper(in.Currency) != in.Currency) {
		badRequest(w, "currency must be an ISO 4217 code such as EUR")
		return
	}
	s.AddShop(in.Domain, ShopInfo{ID: in.ID, Name: in.Name, Email: in.Email, CurrencyCode: in.Currency, IanaTimezone: in.Timezone, PlanDisplayName: in.Plan})
	reply(w, r, fromForm, map[string]any{"domain": in.Domain, "install_url": s.InstallURL(in.Domain)})
}

func (s *Simulator) ctlListOrders(w http.ResponseWriter, r *http.Request) {
	if !s.known(w, r.PathValue("shop")) {
		return
	}
	list := []json.RawMessage{}
	for _, o := range s.Orders(r.PathValue("shop")) {
		list = append(list, o)
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *Simulator) ctlCreateOrder(w http.ResponseWriter, r *http.Request) {
	var in OrderInput
	form, fromForm, err := readInput(w, r, &in)
	if err != nil {
		ctlError(w, err)
		return
	}
	if form != nil {
		in = OrderInput{Email: form.Get("email"), FirstName: form.Get("first_name"), LastName: form.Get("last_name"),
			Total: form.Get("total"), LandingSite: form.Get("landing_site"), Ref: strings.TrimSpace(form.Get("ref"))}
		if c := strings.TrimSpace(form.Get("discount_code")); c != "" {
			in.DiscountCodes = []string{c}
		}
	}
	body, err := s.CreateOrder(r.PathValue("shop"), in)
	if err != nil && body == nil {
		ctlError(w, err)
		return
	}
	if fromForm {
		reply(w, r, true, nil)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(body)
}

func (s *Simulator) ctlCancelOrder(w http.ResponseWriter, r *http.Request) {
	_, fromForm, err := readInput(w, r, &struct{}{})
	if err != nil {
		ctlError(w, err)
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		badRequest(w, "order id must be an integer")
		return
	}
	body, err := s.CancelOrder(r.PathValue("shop"), id)
	if err != nil && body == nil {
		ctlError(w, err)
		return
	}
	if fromForm {
		reply(w, r, true, nil)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(body)
}

func (s *Simulator) ctlRefund(w http.ResponseWriter, r *http.Request) {
	var in struct {
		OrderID int64  `json:"order_id"`
		Amount  string `json:"amount"`
	}
	form, fromForm, err := readInput(w, r, &in)
	if err != nil {
		ctlError(w, err)
		return
	}
	if form != nil {
		in.OrderID, _ = strconv.ParseInt(form.Get("order_id"), 10, 64)
		in.Amount = form.Get("amount")
	}
	if in.OrderID == 0 || in.Amount == "" {
		badRequest(w, `want {"order_id": 123, "amount": "10.00"}`)
		return
	}
	id, err := s.Refund(r.PathValue("shop"), in.OrderID, in.Amount)
	if err != nil {
		ctlError(w, err)
		return
	}
	reply(w, r, fromForm, map[string]any{"event_id": id})
}

func (s *Simulator) ctlWebhook(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Topic   string          `json:"topic"`
		Payload json.RawMessage `json:"payload"`
	}
	form, fromForm, err := readInput(w, r, &in)
	if err != nil {
		ctlError(w, err)
		return
	}
	if form != nil {
		in.Topic, in.Payload = form.Get("topic"), json.RawMessage(form.Get("payload"))
	}
	if in.Topic == "" || len(in.Payload) == 0 || !json.Valid(in.Payload) {
		badRequest(w, `want {"topic": "orders/create", "payload": {…}}`)
		return
	}
	id, err := s.SendWebhook(r.Context(), r.PathValue("shop"), in.Topic, in.Payload)
	if err != nil {
		ctlError(w, err)
		return
	}
	reply(w, r, fromForm, map[string]any{"event_id": id})
}

func (s *Simulator) ctlUninstall(w http.ResponseWriter, r *http.Request) {
	_, fromForm, err := readInput(w, r, &struct{}{})
	if err != nil {
		ctlError(w, err)
		return
	}
	id, err := s.Uninstall(r.PathValue("shop"))
	if err != nil {
		ctlError(w, err)
		return
	}
	reply(w, r, fromForm, map[string]any{"event_id": id})
}

func (s *Simulator) ctlCompliance(w http.ResponseWriter, r *http.Request) {
	var in ComplianceRequest
	form, fromForm, err := readInput(w, r, &in)
	if err != nil {
		ctlError(w, err)
		return
	}
	if form != nil {
		in.Email = strings.TrimSpace(form.Get("email"))
	}
	if _, ok := complianceTopics[r.PathValue("kind")]; !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "unknown compliance kind: want customers-data_request, customers-redact or shop-redact"})
		return
	}
	id, err := s.SendCompliance(r.PathValue("shop"), r.PathValue("kind"), in)
	if err != nil {
		ctlError(w, err)
		return
	}
	reply(w, r, fromForm, map[string]any{"event_id": id})
}

var simPage = template.Must(template.New("sim").Funcs(template.FuncMap{
	"itoa": strconv.Itoa,
	// Parrain's referral link of a friend code (FRIEND-X → /r/X), so a
	// person can play the friend from here.
	"referral": func(code string) string {
		if rest, ok := strings.CutPrefix(code, "FRIEND-"); ok {
			return rest
		}
		return ""
	},
	"failed": func(d Delivery) bool { return d.Err != "" || d.Status < 200 || d.Status >= 300 },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Shopify simulator</title>
<style>body{font:15px/1.45 system-ui,sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem;color:#202223}
section{border:1px solid #e1e3e5;border-radius:12px;padding:1rem 1.25rem;margin:1rem 0}
table{border-collapse:collapse;width:100%;font-size:13px}td,th{border-bottom:1px solid #eee;padding:.25rem .4rem;text-align:left;vertical-align:top}
input{padding:.3rem;margin:.15rem}button{background:#008060;color:#fff;border:0;border-radius:6px;padding:.35rem .8rem;cursor:pointer}
button.quiet{background:#6d7175}form.inline{display:inline}.bad{color:#d72c0d}small{color:#6d7175}</style></head><body>
<h1>Shopify simulator</h1>
<p>Plays Shopify for Parrain in development: OAuth, Admin GraphQL, webhooks. App: <code>{{.AppURL}}</code>; default webhook address <code>{{.AppURL}}/webhooks/shopify</code>.</p>
<form method="post" action="/_sim/shops"><strong>Add a shop</strong>
<input name="domain" placeholder="name.myshopify.com" required> <input name="name" placeholder="display name">
<input name="currency" placeholder="USD" size="4"> <input name="timezone" placeholder="America/New_York" size="16"> <button>Add</button></form>
{{range $sh := .Shops}}<section id="{{.Domain}}"><h2>{{.Domain}}</h2>
<p>{{.Info.Name}} · {{.Info.CurrencyCode}} · {{.Info.IanaTimezone}} · plan {{.Info.PlanDisplayName}} · id {{.Info.ID}}</p>
<p><a href="{{.Install}}">Install / open Parrain on this shop</a> · access token: {{if .Installed}}issued{{else}}none{{end}}
<form class="inline" method="post" action="/_sim/shops/{{.Domain}}/uninstall"><button class="quiet">Uninstall</button></form></p>
{{if .Subs}}<p><small>API subscriptions: {{range .Subs}}<code>{{.}}</code> {{end}}</small></p>{{end}}
<form method="post" action="/_sim/shops/{{.Domain}}/orders"><strong>Place an order</strong><br>
<input name="email" placeholder="customer email" value="marie@example.com"> <input name="first_name" placeholder="first name" value="Marie">
<input name="total" placeholder="total paid" value="120.00" size="7"> <input name="discount_code" placeholder="discount code" size="14">
<input name="ref" placeholder="ref (landing /?ref=…)" size="14"> <input name="landing_site" placeholder="or landing site" size="14"> <button>Place order</button></form>
<h3>Orders</h3>{{if .Orders}}<table><tr><th>order</th><th>customer</th><th>paid</th><th>codes</th><th>status</th><th></th></tr>{{range .Orders}}
<tr><td>{{.Name}} <small>{{.ID}}</small></td><td>{{.Email}}</td><td>{{.Total}} {{.Currency}}</td><td>{{.Codes}}</td><td>{{.Status}}</td>
<td>{{if not .Cancelled}}<form class="inline" method="post" action="/_sim/shops/{{$sh.Domain}}/orders/{{.ID}}/cancel"><button class="quiet">Cancel + refund</button></form>
<form class="inline" method="post" action="/_sim/shops/{{$sh.Domain}}/refunds"><input type="hidden" name="order_id" value="{{.ID}}"><input name="amount" placeholder="amount" size="6"><button class="quiet">Refund</button></form>{{end}}</td></tr>{{end}}</table>{{else}}<p>none yet</p>{{end}}
<h3>Discount codes</h3>{{if .Discounts}}<table><tr><th>code</th><th>title</th><th>status</th><th>used</th><th>share</th></tr>{{range .Discounts}}<tr><td>{{.Code}}</td><td>{{.Title}}</td><td>{{.Status}}</td><td>{{.UsageCount}}</td>
<td>{{with referral .Code}}<a href="{{$.AppURL}}/r/{{.}}">{{$.AppURL}}/r/{{.}}</a> (open it to buy as a friend){{end}}</td></tr>{{end}}</table>{{else}}<p>none yet</p>{{end}}
<h3>Compliance requests</h3>
<form class="inline" method="post" action="/_sim/shops/{{.Domain}}/compliance/customers-data_request"><input name="email" placeholder="customer email" value="marie@example.com"><button class="quiet">customers/data_request</button></form>
<form class="inline" method="post" action="/_sim/shops/{{.Domain}}/compliance/customers-redact"><input name="email" placeholder="customer email" value="marie@example.com"><button class="quiet">customers/redact</button></form>
<form class="inline" method="post" action="/_sim/shops/{{.Domain}}/compliance/shop-redact"><button class="quiet">shop/redact</button></form>
<h3>Recent webhook deliveries</h3>{{if .Deliveries}}<table><tr><th>at</th><th>topic</th><th>attempt</th><th>status</th><th>event id</th><th>url</th></tr>
{{range .Deliveries}}<tr><td>{{.At.Format "15:04:05.000"}}</td><td>{{.Topic}}</td><td>{{.Attempt}}{{if .Duplicate}} (duplicate){{end}}</td><td {{if failed .}}class="bad"{{end}}>{{if .Err}}{{.Err}}{{else}}{{itoa .Status}}{{end}}</td><td><code>{{.EventID}}</code></td><td><small>{{.URL}}</small></td></tr>{{end}}</table>{{else}}<p>none yet</p>{{end}}
</section>{{end}}</body></html>`))

type orderView struct {
	ID                                  int64
	Name, Email, Total, Currency, Codes string
	Status                              string
	Cancelled                           bool
}

// orderViews lists the last orders of a shop for the page, newest first.
func (s *Simulator) orderViews(domain string, n int) []orderView {
	s.mu.Lock()
	defer s.mu.Unlock()
	sh := s.shops[domain]
	if sh == nil {
		return nil
	}
	var out []orderView
	for i := len(sh.orders) - 1; i >= 0 && len(out) < n; i-- {
		o := sh.orders[i]
		v := orderView{Name: fmt.Sprint(o["name"]), Email: fmt.Sprint(o["email"]), Total: fmt.Sprint(o["total_price"]),
			Currency: fmt.Sprint(o["currency"]), Status: fmt.Sprint(o["financial_status"]), Cancelled: o["cancelled_at"] != nil}
		v.ID, _ = o["id"].(int64)
		if v.Cancelled {
			v.Status += ", cancelled"
		}
		if dcs, ok := o["discount_codes"].([]any); ok {
			var codes []string
			for _, d := range dcs {
				if m, ok := d.(map[string]any); ok {
					codes = append(codes, fmt.Sprint(m["code"]))
				}
			}
			v.Codes = strings.Join(codes, ", ")
		}
		out = append(out, v)
	}
	return out
}

func (s *Simulator) page(w http.ResponseWriter, r *http.Request) {
	type view struct {
		Domain, Install string
		Info            ShopInfo
		Installed       bool
		Subs            []string
		Orders          []orderView
		Discounts       []Discount
		Deliveries      []Delivery
	}
	var shops []view
	for _, d := range s.Shops() {
		info, _ := s.Shop(d)
		_, _, _, ok := s.Tokens(d)
		dl := s.Deliveries(d)
		for i, j := 0, len(dl)-1; i < j; i, j = i+1, j-1 {
			dl[i], dl[j] = dl[j], dl[i]
		}
		if len(dl) > 30 {
			dl = dl[:30]
		}
		var subs []string
		s.mu.Lock()
		if sh := s.shops[d]; sh != nil {
			for _, sub := range sh.subs {
				subs = append(subs, topicByEnum[sub.topic]+" → "+sub.uri)
			}
		}
		s.mu.Unlock()
		shops = append(shops, view{Domain: d, Install: s.InstallURL(d), Info: info, Installed: ok, Subs: subs,
			Orders: s.orderViews(d, 10), Discounts: s.Discounts(d), Deliveries: dl})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = simPage.Execute(w, map[string]any{"AppURL": s.cfg.AppURL, "Shops": shops})
}
