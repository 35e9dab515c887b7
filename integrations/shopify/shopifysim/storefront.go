package shopifysim

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strings"
)

var storefrontPage = template.Must(template.New("store").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>{{.Shop}}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem}
.banner{background:#e3f1df;border-radius:8px;padding:.75rem 1rem}button{background:#008060;color:#fff;border:0;border-radius:8px;padding:.6rem 1.2rem}
input{padding:.4rem;margin:.2rem 0;width:100%}</style></head>
<body><h1>{{.Shop}}</h1>
{{if .Code}}<p class="banner">Discount <strong>{{.Code}}</strong> will be applied at checkout.</p>{{end}}
<form method="post" action="/_sim/shops/{{.Shop}}/orders">
<label>Your email <input name="email" value="friend@example.com"></label>
<label>First name <input name="first_name" value="Bob"></label>
<label>Order total <input name="total" value="80.00"></label>
<input type="hidden" name="discount_code" value="{{.Code}}"><input type="hidden" name="landing_site" value="{{.Landing}}">
<button>Buy (simulated checkout)</button></form>
<p><small>Shopify simulator storefront. <a href="/_sim/">Simulator home</a></small></p></body></html>`))

// discount plays Shopify's shareable discount link, /discount/CODE?redirect=…:
// the code is applied to the session and the shopper lands on the redirect
// path (shopify.md §4). Here the landing is a one-form storefront that places
// the order with the code and the landing path as landing_site.
func (s *Simulator) discount(w http.ResponseWriter, r *http.Request) {
	landing := r.URL.Query().Get("redirect")
	if !strings.HasPrefix(landing, "/") || strings.HasPrefix(landing, "//") {
		landing = "/" // Shopify only redirects to a path on the same store
	}
	s.renderStore(w, r, r.PathValue("code"), landing)
}

// storefront is the store's home page.
func (s *Simulator) storefront(w http.ResponseWriter, r *http.Request) { s.renderStore(w, r, "", "/") }

func (s *Simulator) renderStore(w http.ResponseWriter, r *http.Request, code, landing string) {
	s.mu.Lock()
	sh, domain := s.shopOf(r)
	s.mu.Unlock()
	if sh == nil {
		http.Error(w, "unknown shop", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = storefrontPage.Execute(w, map[string]any{"Shop": domain, "Code": code, "Landing": landing})
}

// Refund sends refunds/create for an order the simulator placed (see
// RefundBody).
func (s *Simulator) Refund(domain string, orderID int64, amount string) (string, error) {
	body, err := s.RefundBody(domain, orderID, amount)
	if err != nil {
		return "", err
	}
	return s.SendWebhook(context.Background(), domain, "refunds/create", body)
}

// RefundBody builds a refunds/create body for an order the simulator
// placed, from Shopify's sample refund (fixtures/refund.json) with one
// successful refund transaction of amount (a decimal string in the order
// currency).
func (s *Simulator) RefundBody(domain string, orderID int64, amount string) ([]byte, error) {
	m, err := fixtureMap("refund.json")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	sh := s.shops[domain]
	if sh == nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("unknown shop %s", domain)
	}
	currency := sh.info.CurrencyCode
	for _, o := range sh.orders {
		if fmt.Sprint(o["id"]) == fmt.Sprint(orderID) {
			currency, _ = o["currency"].(string)
		}
	}
	s.gids++
	id := 9_000_000_000 + s.gids
	s.mu.Unlock()
	m["id"], m["order_id"] = id, orderID
	m["admin_graphql_api_id"] = fmt.Sprintf("gid://shopify/Refund/%d", id)
	m["transactions"] = []any{map[string]any{"id": id + 1, "order_id": orderID, "kind": "refund", "status": "success",
		"amount": amount, "currency": currency, "gateway": "bogus"}}
	m["refund_line_items"] = []any{}
	return json.Marshal(m)
}

func (s *Simulator) storefrontRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /discount/{code}", s.discount)
	mux.HandleFunc("GET /{$}", s.storefront)
	mux.HandleFunc("POST /_sim/shops/{shop}/refunds", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			OrderID int64  `json:"order_id"`
			Amount  string `json:"amount"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.OrderID == 0 || in.Amount == "" {
			writeJSONError(w, 400, `{"error":"want {\"order_id\":…, \"amount\":\"10.00\"}"}`)
			return
		}
		id, err := s.Refund(r.PathValue("shop"), in.OrderID, in.Amount)
		if err != nil {
			writeJSONError(w, 404, `{"error":"unknown shop"}`)
			return
		}
		writeJSON(w, map[string]any{"event_id": id})
	})
}
