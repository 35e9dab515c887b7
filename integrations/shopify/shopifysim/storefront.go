package shopifysim

import (
	"html/template"
	"net/http"
	"strings"
)

var storefrontPage = template.Must(template.New("store").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>{{.Shop}}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem}
.banner{background:#e3f1df;border-radius:8px;padding:.75rem 1rem}button{background:#008060;color:#fff;border:0;border-radius:8px;padding:.6rem 1.2rem}
input{padding:.4rem;margin:.2rem 0;width:100%}</style></head>
<body><h1>{{.Name}}</h1>
{{if .Code}}<p class="banner">Discount <strong>{{.Code}}</strong> will be applied at checkout.</p>{{end}}
<form method="post" action="/_sim/shops/{{.Shop}}/orders">
<label>Your email <input name="email" value="friend@example.com"></label>
<label>First name <input name="first_name" value="Bob"></label>
<label>Order total <input name="total" value="80.00"></label>
<input type="hidden" name="discount_code" value="{{.Code}}"><input type="hidden" name="landing_site" value="{{.Landing}}">
<button>Buy (simulated checkout)</button></form>
<p><small>Shopify simulator storefront. <a href="/_sim/">Simulator home</a></small></p></body></html>`))

// storefrontRoutes serve a one-form stand-in for the online store, so that a
// person can follow a referral link to the end: the store's home page and
// Shopify's shareable discount link.
func (s *Simulator) storefrontRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /discount/{code}", s.discount)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { s.renderStore(w, r, "", "/") })
}

// discount plays Shopify's shareable discount link,
// /discount/CODE?redirect=/path: the code is applied to the session and the
// shopper lands on the redirect path, which must be a path on the same store
// (shopify.md §4). The landing here is the one-form store; the order it
// places carries the code and the landing path as landing_site.
func (s *Simulator) discount(w http.ResponseWriter, r *http.Request) {
	landing := r.URL.Query().Get("redirect")
	if !strings.HasPrefix(landing, "/") || strings.HasPrefix(landing, "//") || strings.Contains(landing, `\`) {
		landing = "/"
	}
	s.renderStore(w, r, r.PathValue("code"), landing)
}

func (s *Simulator) renderStore(w http.ResponseWriter, r *http.Request, code, landing string) {
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
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = storefrontPage.Execute(w, map[string]any{"Shop": domain, "Name": name, "Code": code, "Landing": landing})
}
