package shopifysim

import (
	"bytes"
	"context"
	"encoding/json"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// control serves /_sim/: what a person (or a script) uses to drive the
// simulator — add shops, place orders, send any topic, uninstall, send
// compliance requests, and see deliveries and discount codes.
func (s *Simulator) control(mux *http.ServeMux) {
	mux.HandleFunc("GET /_sim/{$}", s.page)
	mux.HandleFunc("GET /_sim/install-url", func(w http.ResponseWriter, r *http.Request) {
		if !s.known(r.URL.Query().Get("shop")) {
			writeJSONError(w, 404, `{"error":"unknown shop"}`)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte(s.InstallURL(r.URL.Query().Get("shop"))))
	})
	// An App Bridge session token for scripts that call the app's admin API
	// as the merchant would from the embedded admin.
	mux.HandleFunc("GET /_sim/session-token", func(w http.ResponseWriter, r *http.Request) {
		if !s.known(r.URL.Query().Get("shop")) {
			writeJSONError(w, 404, `{"error":"unknown shop"}`)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte(s.SessionToken(r.URL.Query().Get("shop"), 1, 5*time.Minute)))
	})
	mux.HandleFunc("POST /_sim/shops", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Domain, Name, Currency, Timezone string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || !strings.HasSuffix(in.Domain, ".myshopify.com") {
			writeJSONError(w, 400, `{"error":"want {\"domain\":\"x.myshopify.com\", ...}"}`)
			return
		}
		s.AddShop(in.Domain, ShopInfo{Name: in.Name, CurrencyCode: in.Currency, IanaTimezone: in.Timezone})
		writeJSON(w, map[string]any{"domain": in.Domain, "install_url": s.InstallURL(in.Domain)})
	})
	mux.HandleFunc("POST /_sim/shops/{shop}/orders", func(w http.ResponseWriter, r *http.Request) {
		// JSON from scripts (curl -d sends a form content type, so the body
		// decides), a form from the control page.
		raw, _ := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<16))
		var in OrderInput
		fromPage := false
		if trimmed := bytes.TrimSpace(raw); len(trimmed) > 0 && trimmed[0] == '{' {
			if err := json.Unmarshal(trimmed, &in); err != nil {
				writeJSONError(w, 400, `{"error":"malformed JSON order"}`)
				return
			}
		} else if f, err := url.ParseQuery(string(raw)); err == nil && len(raw) > 0 {
			fromPage = true
			in = OrderInput{Email: f.Get("email"), FirstName: f.Get("first_name"), Total: f.Get("total"), LandingSite: f.Get("landing_site")}
			if c := strings.TrimSpace(f.Get("discount_code")); c != "" {
				in.DiscountCodes = []string{c}
			}
		} else if len(raw) > 0 {
			writeJSONError(w, 400, `{"error":"malformed order"}`)
			return
		}
		body, err := s.CreateOrder(r.PathValue("shop"), in)
		if err != nil {
			writeJSONError(w, 404, `{"error":"unknown shop"}`)
			return
		}
		if fromPage {
			http.Redirect(w, r, "/_sim/", http.StatusSeeOther)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	mux.HandleFunc("POST /_sim/shops/{shop}/webhooks", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Topic   string          `json:"topic"`
			Payload json.RawMessage `json:"payload"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Topic == "" || len(in.Payload) == 0 {
			writeJSONError(w, 400, `{"error":"want {\"topic\":..., \"payload\":{...}}"}`)
			return
		}
		id, err := s.SendWebhook(r.Context(), r.PathValue("shop"), in.Topic, in.Payload)
		if err != nil {
			writeJSONError(w, 404, `{"error":"unknown shop"}`)
			return
		}
		writeJSON(w, map[string]any{"event_id": id})
	})
	mux.HandleFunc("POST /_sim/shops/{shop}/uninstall", func(w http.ResponseWriter, r *http.Request) {
		domain := r.PathValue("shop")
		if !s.known(domain) {
			writeJSONError(w, 404, `{"error":"unknown shop"}`)
			return
		}
		s.RevokeTokens(domain)
		body := s.fixtureFor(domain, "app-uninstalled.json", nil)
		id, _ := s.SendWebhook(context.Background(), domain, "app/uninstalled", body)
		writeJSON(w, map[string]any{"event_id": id})
	})
	mux.HandleFunc("POST /_sim/shops/{shop}/compliance/{kind}", func(w http.ResponseWriter, r *http.Request) {
		domain := r.PathValue("shop")
		topics := map[string]string{"customers-data_request": "customers/data_request", "customers-redact": "customers/redact", "shop-redact": "shop/redact"}
		topic, ok := topics[r.PathValue("kind")]
		if !ok || !s.known(domain) {
			writeJSONError(w, 404, `{"error":"unknown shop or kind (customers-data_request, customers-redact, shop-redact)"}`)
			return
		}
		var in struct {
			CustomerID int64   `json:"customer_id"`
			Email      string  `json:"email"`
			Phone      string  `json:"phone"`
			Orders     []int64 `json:"orders"`
		}
		_ = json.NewDecoder(r.Body).Decode(&in) // all optional
		body := s.fixtureFor(domain, "compliance-"+r.PathValue("kind")+".json", func(m map[string]any) {
			if c, ok := m["customer"].(map[string]any); ok {
				if in.CustomerID != 0 {
					c["id"] = in.CustomerID
				}
				if in.Email != "" {
					c["email"] = in.Email
				}
				if in.Phone != "" {
					c["phone"] = in.Phone
				}
			}
			if in.Orders != nil {
				for _, k := range []string{"orders_requested", "orders_to_redact"} {
					if _, ok := m[k]; ok {
						m[k] = in.Orders
					}
				}
			}
		})
		id, _ := s.SendWebhook(context.Background(), domain, topic, body)
		writeJSON(w, map[string]any{"event_id": id})
	})
	mux.HandleFunc("GET /_sim/shops/{shop}/deliveries", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, s.Deliveries(r.PathValue("shop")))
	})
	mux.HandleFunc("GET /_sim/shops/{shop}/discounts", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, s.Discounts(r.PathValue("shop")))
	})
}

func (s *Simulator) known(domain string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shops[domain] != nil
}

// fixtureFor fills a fixture's shop fields with this shop's and lets mut
// adjust the rest.
func (s *Simulator) fixtureFor(domain, name string, mut func(map[string]any)) []byte {
	m, _ := fixtureMap(name) // embedded at build time: cannot fail at run time
	s.mu.Lock()
	info := s.shops[domain].info
	s.mu.Unlock()
	if _, ok := m["shop_domain"]; ok {
		m["shop_id"], m["shop_domain"] = info.ID, domain
	} else {
		m["id"], m["name"], m["myshopify_domain"], m["domain"] = info.ID, info.Name, domain, domain
	}
	if mut != nil {
		mut(m)
	}
	b, _ := json.Marshal(m)
	return b
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

var simPage = template.Must(template.New("sim").Funcs(template.FuncMap{
	"itoa": strconv.Itoa,
	// The advocate's link code is the friend code without its prefix.
	"referral": func(code string) string {
		if rest, ok := strings.CutPrefix(code, "FRIEND-"); ok {
			return rest
		}
		return ""
	},
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Shopify simulator</title>
<style>body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#202223}
section{border:1px solid #e1e3e5;border-radius:12px;padding:1rem 1.25rem;margin:1rem 0}
table{border-collapse:collapse;width:100%;font-size:13px}td,th{border-bottom:1px solid #eee;padding:.25rem .4rem;text-align:left}
input{padding:.3rem;margin:.15rem}button{background:#008060;color:#fff;border:0;border-radius:6px;padding:.4rem .9rem}
.bad{color:#d72c0d}</style></head><body>
<h1>Shopify simulator</h1><p>Plays Shopify for Parrain in development: OAuth, Admin GraphQL, webhooks. App: <code>{{.AppURL}}</code></p>
{{range .Shops}}<section><h2>{{.Domain}}</h2>
<p><a href="{{.Install}}">Install Parrain on this shop</a> · token: {{if .Installed}}issued{{else}}none{{end}}</p>
<form method="post" action="/_sim/shops/{{.Domain}}/orders"><strong>Place an order</strong><br>
<input name="email" placeholder="customer email" value="marie@example.com"> <input name="first_name" placeholder="first name" value="Marie">
<input name="total" placeholder="total" value="120.00" size="7"> <input name="discount_code" placeholder="discount code">
<input name="landing_site" placeholder="landing site, e.g. /?ref=CODE"> <button>Place order</button></form>
<h3>Discount codes</h3>{{if .Discounts}}<table><tr><th>code</th><th>title</th><th>status</th><th>share</th></tr>{{range .Discounts}}<tr><td>{{.Code}}</td><td>{{.Title}}</td><td>{{.Status}}</td>
<td>{{with referral .Code}}<a href="{{$.AppURL}}/r/{{.}}">{{$.AppURL}}/r/{{.}}</a> (open it to buy as a friend){{end}}</td></tr>{{end}}</table>{{else}}<p>none yet</p>{{end}}
<h3>Recent webhook deliveries</h3>{{if .Deliveries}}<table><tr><th>at</th><th>topic</th><th>attempt</th><th>status</th><th>event id</th></tr>
{{range .Deliveries}}<tr><td>{{.At.Format "15:04:05"}}</td><td>{{.Topic}}</td><td>{{.Attempt}}</td><td {{if or (lt .Status 200) (ge .Status 300)}}class="bad"{{end}}>{{if .Err}}{{.Err}}{{else}}{{itoa .Status}}{{end}}</td><td><code>{{.EventID}}</code></td></tr>{{end}}</table>{{else}}<p>none yet</p>{{end}}
</section>{{end}}</body></html>`))

func (s *Simulator) page(w http.ResponseWriter, r *http.Request) {
	type view struct {
		Domain, Install string
		Installed       bool
		Discounts       []Discount
		Deliveries      []Delivery
	}
	var shops []view
	for _, d := range s.Shops() {
		_, _, _, ok := s.Tokens(d)
		dl := s.Deliveries(d)
		for i, j := 0, len(dl)-1; i < j; i, j = i+1, j-1 {
			dl[i], dl[j] = dl[j], dl[i]
		}
		if len(dl) > 30 {
			dl = dl[:30]
		}
		shops = append(shops, view{Domain: d, Install: s.InstallURL(d), Installed: ok, Discounts: s.Discounts(d), Deliveries: dl})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = simPage.Execute(w, map[string]any{"AppURL": s.cfg.AppURL, "Shops": shops})
}
