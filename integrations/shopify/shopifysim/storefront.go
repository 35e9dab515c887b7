package shopifysim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// The storefront loads the app's capture script on every page, as the theme
// app embed does on a real store (widget/shopify/extensions/parrain-embed).
var storefrontPage = template.Must(template.New("store").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>{{.Name}}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem}
.banner{background:#e3f1df;border-radius:8px;padding:.75rem 1rem}button{background:#008060;color:#fff;border:0;border-radius:8px;padding:.6rem 1.2rem}
input{padding:.4rem;margin:.2rem 0;width:100%}</style>
{{if .AppURL}}<script defer src="{{.AppURL}}/widget/capture.js"></script>
{{if .LoggedIn}}<script async src="{{.AppURL}}/widget/popup.js" data-shop="{{.Shop}}" data-proxy="/apps/parrain" data-launcher="bottom-right"></script>{{end}}{{end}}</head>
<body><h1>{{.Name}}</h1>
{{if .Code}}<p class="banner">Discount <strong>{{.Code}}</strong> will be applied at checkout.</p>{{end}}
<form method="post" action="/checkout?shop={{.Shop}}">
<label>Your email <input name="email" value="friend@example.com"></label>
<label>First name <input name="first_name" value="Bob"></label>
<label>Order total <input name="total" value="80.00"></label>
<input type="hidden" name="discount_code" value="{{.Code}}"><input type="hidden" name="landing_site" value="{{.Landing}}">
<button>Buy (simulated checkout)</button></form>
<p><small>Shopify simulator storefront. <a href="/_sim/">Simulator home</a></small></p></body></html>`))

// The launcher stands for the theme app embed, which loads the popup script
// from the extension's own assets (a copy of widget/dist/popup.js) and
// talks to the app through the store's app proxy.

// thankYouPage is an "order received" page that loads the widget exactly as
// a store page does: one async script tag with the order's id and email.
// ?lang=fr makes it a French page; ?css=hostile adds the kind of global CSS
// themes ship, to show it cannot reach the popup.
var thankYouPage = template.Must(template.New("thanks").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{{if eq .Lang "fr"}}Commande confirmée{{else}}Order confirmed{{end}} – {{.Name}}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#222}
.card{border:1px solid #ddd;border-radius:10px;padding:1rem 1.25rem;margin:1rem 0}
.refer{background:#008060;color:#fff;border:0;border-radius:8px;padding:.6rem 1.2rem;font:inherit;cursor:pointer}</style>
{{if .Hostile}}<style>
*,*::before,*::after{font-family:"Comic Sans MS",cursive!important;color:#f0f!important;letter-spacing:.3em!important;line-height:3!important;text-transform:uppercase!important}
div,p,h2,button,a,input,ul,li,label,span{all:unset;background:yellow!important;border:6px dashed red!important;font-size:30px!important;padding:20px!important;display:block!important;position:static!important;width:90vw!important}
body *{box-shadow:0 0 0 10px lime!important;transform:rotate(2deg)!important;visibility:visible!important;opacity:1!important;z-index:1!important}
:root{--a:red;--b:black;--f:white}
</style>{{end}}
<script async src="{{.AppURL}}/widget/loader.js" data-shop="{{.Shop}}" data-order-id="{{.OrderID}}" data-email="{{.Email}}"{{if ne .Lang "en"}} data-lang="{{.Lang}}"{{end}}></script>
</head><body>
<h1>{{if eq .Lang "fr"}}Merci, {{.First}} !{{else}}Thank you, {{.First}}!{{end}}</h1>
<div class="card"><p>{{if eq .Lang "fr"}}Votre commande{{else}}Your order{{end}} <strong>{{.OrderName}}</strong> {{if eq .Lang "fr"}}est confirmée.{{else}}is confirmed.{{end}}</p>
<p>{{if eq .Lang "fr"}}Total{{else}}Total{{end}}: {{.Total}} {{.Currency}}</p></div>
<p><button class="refer" type="button" data-parrain-open>{{if eq .Lang "fr"}}Parrainer un ami{{else}}Refer a friend{{end}}</button></p>
<p><a href="/?shop={{.Shop}}">{{if eq .Lang "fr"}}Continuer vos achats{{else}}Continue shopping{{end}}</a></p>
<p><small>Shopify simulator: demo order-received page of {{.Name}}.</small></p>
</body></html>`))

// storefrontRoutes serve a one-form stand-in for the online store, so that a
// person can follow a referral link to the end: the store's home page,
// Shopify's shareable discount link, the AJAX cart API the capture script
// writes to, checkout, and an order-received page with the widget.
func (s *Simulator) storefrontRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /discount/{code}", s.discount)
	mux.HandleFunc("GET /{$}", s.renderStore)
	mux.HandleFunc("GET /cart.js", s.cartGet)
	mux.HandleFunc("POST /cart/update.js", s.cartUpdate)
	mux.HandleFunc("POST /checkout", s.checkout)
	mux.HandleFunc("GET /thank-you/{id}", s.thankYou)
	mux.HandleFunc("GET /account/login", s.login)
	mux.HandleFunc(ProxySubpath+"/{path...}", s.appProxy)
}

// discount plays Shopify's shareable discount link,
// /discount/CODE?redirect=/path: the code is applied to the session (a
// cookie here) and the shopper is redirected to the path, which must be on
// the same store (shopify.md §4), so the landing page sees ?ref=.
func (s *Simulator) discount(w http.ResponseWriter, r *http.Request) {
	landing := r.URL.Query().Get("redirect")
	if !strings.HasPrefix(landing, "/") || strings.HasPrefix(landing, "//") || strings.Contains(landing, `\`) {
		landing = "/"
	}
	http.SetCookie(w, &http.Cookie{Name: "discount_code", Value: url.QueryEscape(r.PathValue("code")), Path: "/", SameSite: http.SameSiteLaxMode})
	// Without a shop host name, the shop rides along as ?shop=.
	if shop := r.URL.Query().Get("shop"); shop != "" {
		sep := "?"
		if strings.Contains(landing, "?") {
			sep = "&"
		}
		landing += sep + "shop=" + url.QueryEscape(shop)
	}
	http.Redirect(w, r, landing, http.StatusFound)
}

func (s *Simulator) renderStore(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	sh, domain := s.lookupShop(r)
	var name string
	if sh != nil {
		name = sh.info.Name
	}
	s.mu.Unlock()
	if sh == nil {
		htmlError(w, http.StatusNotFound, "There's no store at this address (unknown shop "+domain+")")
		return
	}
	var code string
	if c, err := r.Cookie("discount_code"); err == nil {
		code, _ = url.QueryUnescape(c.Value)
	}
	// landing_site is the first page of the visit, without our ?shop=.
	q := r.URL.Query()
	q.Del("shop")
	landing := r.URL.Path
	if len(q) > 0 {
		landing += "?" + q.Encode()
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, err := r.Cookie("customer_id")
	http.SetCookie(w, &http.Cookie{Name: "sim_shop", Value: domain, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	_ = storefrontPage.Execute(w, map[string]any{"Shop": domain, "Name": name, "Code": code, "Landing": landing, "AppURL": s.cfg.AppURL,
		"LoggedIn": err == nil})
}

// The AJAX cart (https://shopify.dev/docs/api/ajax/reference/cart): one cart
// per "cart" cookie, holding only what the app touches, its attributes.
func (s *Simulator) cartToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie("cart"); err == nil && c.Value != "" {
		return c.Value
	}
	tok := randHex(16)
	http.SetCookie(w, &http.Cookie{Name: "cart", Value: tok, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	return tok
}

func (s *Simulator) cartJSON(w http.ResponseWriter, tok string) {
	s.mu.Lock()
	attrs := map[string]string{}
	for k, v := range s.carts[tok] {
		attrs[k] = v
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"token": tok, "attributes": attrs, "items": []any{}, "item_count": 0})
}

func (s *Simulator) cartGet(w http.ResponseWriter, r *http.Request) { s.cartJSON(w, s.cartToken(w, r)) }

// cartUpdate takes {"attributes": {...}}; an empty value removes the
// attribute, as Shopify's does.
func (s *Simulator) cartUpdate(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Attributes map[string]string `json:"attributes"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&in); err != nil {
		writeRaw(w, http.StatusBadRequest, `{"status":"bad_request","message":"Parameter Missing or Invalid","description":"Required parameter missing or invalid: attributes"}`)
		return
	}
	tok := s.cartToken(w, r)
	s.mu.Lock()
	if s.carts == nil {
		s.carts = map[string]map[string]string{}
	}
	c := s.carts[tok]
	if c == nil {
		c = map[string]string{}
		s.carts[tok] = c
	}
	for k, v := range in.Attributes {
		if v == "" {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	s.mu.Unlock()
	s.cartJSON(w, tok)
}

// Cart returns the attributes of the cart with the token (for tests).
func (s *Simulator) Cart(token string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for k, v := range s.carts[token] {
		out[k] = v
	}
	return out
}

// checkout places the storefront form's order with the cart's attributes
// as note_attributes and shows the order-received page.
func (s *Simulator) checkout(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		htmlError(w, http.StatusBadRequest, "bad form")
		return
	}
	s.mu.Lock()
	_, domain := s.lookupShop(r)
	var attrs map[string]string
	if c, err := r.Cookie("cart"); err == nil {
		attrs = s.carts[c.Value]
		delete(s.carts, c.Value) // a placed order empties the cart
	}
	s.mu.Unlock()
	in := OrderInput{Email: r.PostForm.Get("email"), FirstName: r.PostForm.Get("first_name"), Total: r.PostForm.Get("total"),
		LandingSite: r.PostForm.Get("landing_site"), NoteAttributes: attrs}
	if c := strings.TrimSpace(r.PostForm.Get("discount_code")); c != "" {
		in.DiscountCodes = []string{c}
	}
	body, err := s.CreateOrder(domain, in)
	if err != nil && body == nil {
		htmlError(w, http.StatusBadRequest, err.Error())
		return
	}
	var o struct{ ID int64 }
	_ = json.Unmarshal(body, &o)
	http.Redirect(w, r, fmt.Sprintf("/thank-you/%d?shop=%s", o.ID, domain), http.StatusSeeOther)
}

func (s *Simulator) thankYou(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	s.mu.Lock()
	sh, domain := s.lookupShop(r)
	var order map[string]any
	var name string
	if sh != nil {
		name = sh.info.Name
		for _, o := range sh.orders {
			if n, _ := o["id"].(int64); n == id {
				order = o
			}
		}
	}
	s.mu.Unlock()
	if order == nil {
		htmlError(w, http.StatusNotFound, "No such order on "+domain)
		return
	}
	str := func(k string) string { v, _ := order[k].(string); return v }
	first := ""
	if c, ok := order["customer"].(map[string]any); ok {
		first, _ = c["first_name"].(string)
	}
	lang := "en"
	if r.URL.Query().Get("lang") == "fr" {
		lang = "fr"
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = thankYouPage.Execute(w, map[string]any{
		"Shop": domain, "Name": name, "AppURL": s.cfg.AppURL, "OrderID": id, "Email": str("email"), "First": first,
		"OrderName": str("name"), "Total": str("total_price"), "Currency": str("currency"), "Lang": lang,
		"Hostile": r.URL.Query().Get("css") == "hostile",
	})
}

// ProxySubpath is where the simulated store forwards its app proxy:
// https://{shop}/apps/parrain/… → AppURL/proxy/shopify/… (shopify.app.toml).
const ProxySubpath = "/apps/parrain"

// appProxy plays Shopify's app proxy: the request goes on to the app with
// shop, logged_in_customer_id, path_prefix, timestamp and signature added
// to the query, the storefront's cookies left behind.
func (s *Simulator) appProxy(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	sh, domain := s.lookupShop(r)
	if c, err := r.Cookie("sim_shop"); sh == nil && err == nil {
		// Shopify knows the shop from the host name; the simulator's
		// storefront pages leave it in a cookie.
		sh, domain = s.shops[c.Value], c.Value
	}
	s.mu.Unlock()
	if sh == nil || s.cfg.AppURL == "" {
		htmlError(w, http.StatusNotFound, "no app proxy here")
		return
	}
	q := r.URL.Query()
	q.Del("shop")
	q.Set("shop", domain)
	q.Set("path_prefix", ProxySubpath)
	q.Set("timestamp", strconv.FormatInt(s.cfg.Now().Unix(), 10))
	q.Set("logged_in_customer_id", "")
	if c, err := r.Cookie("customer_id"); err == nil {
		q.Set("logged_in_customer_id", c.Value)
	}
	q.Set("signature", signProxy(q, s.cfg.APISecret))
	target := s.cfg.AppURL + "/proxy/shopify/" + r.PathValue("path") + "?" + q.Encode()
	req, err := http.NewRequestWithContext(r.Context(), r.Method, target, http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		htmlError(w, http.StatusBadGateway, "bad proxy target")
		return
	}
	req.Header.Set("Content-Type", r.Header.Get("Content-Type"))
	req.Header.Set("Accept-Language", r.Header.Get("Accept-Language"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		htmlError(w, http.StatusBadGateway, "the app did not answer")
		return
	}
	defer resp.Body.Close()
	for _, h := range []string{"Content-Type", "Cache-Control", "Retry-After"} {
		if v := resp.Header.Get(h); v != "" {
			w.Header().Set(h, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

// login stands in for the storefront's customer login: ?email= logs in
// the customer the simulator derives from that email, as orders do.
func (s *Simulator) login(w http.ResponseWriter, r *http.Request) {
	email := r.URL.Query().Get("email")
	if email == "" {
		htmlError(w, http.StatusBadRequest, "?email= is required")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: "customer_id", Value: strconv.FormatInt(customerID(email), 10), Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/?shop="+url.QueryEscape(r.URL.Query().Get("shop")), http.StatusSeeOther)
}

// signProxy signs an app proxy query as Shopify does: hex HMAC-SHA256 of
// the sorted key=value pairs (repeated values joined by ","), concatenated.
func signProxy(q url.Values, secret string) string {
	pairs := make([]string, 0, len(q))
	for k, v := range q {
		if k != "signature" {
			pairs = append(pairs, k+"="+strings.Join(v, ","))
		}
	}
	sort.Strings(pairs)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strings.Join(pairs, "")))
	return hex.EncodeToString(m.Sum(nil))
}
