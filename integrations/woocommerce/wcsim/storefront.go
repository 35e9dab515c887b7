package wcsim

import (
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// The storefront a shopper sees, with what the companion plugin
// (widget/woocommerce/parrain/parrain.php) adds: ?ref=CODE kept in the
// parrain_ref cookie; ?parrain_coupon=CODE applied to the session's cart on
// that first page view, when the store accepts the coupon (WC_Cart::
// apply_coupon validates it; email restrictions wait for checkout); the
// checkout copies the cookie into the order's _parrain_ref meta and the
// cart's coupons onto the order.

const (
	refCookie  = "parrain_ref"
	cartCookie = "wp_woocommerce_session_sim" // the session's cart: its coupons
)

var refShape = regexp.MustCompile(`^[A-Za-z0-9-]{3,40}$`)

var storePage = template.Must(template.New("store").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>{{.Title}}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}</style></head><body>
<h1>{{.Title}}</h1>
{{range .Notices}}<p class="woocommerce-error" role="alert">{{.}}</p>{{end}}
{{range .Coupons}}<p class="woocommerce-message">Coupon code applied successfully: <span class="coupon">{{.}}</span></p>{{end}}
<form method="post" action="/checkout/"><label>Email <input name="billing_email" type="email" required></label>
<label>First name <input name="billing_first_name"></label><label>Total <input name="total" value="50.00"></label>
<button type="submit">Place order</button></form></body></html>`))

func (s *Sim) cartCoupons(r *http.Request) []string {
	c, err := r.Cookie(cartCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	v, _ := url.QueryUnescape(c.Value)
	return strings.Split(v, ",")
}

// storeHome is any store page.
func (s *Sim) storeHome(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if ref := q.Get("ref"); refShape.MatchString(ref) {
		http.SetCookie(w, &http.Cookie{Name: refCookie, Value: strings.ToUpper(ref), Path: "/", MaxAge: 30 * 86400, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	}
	coupons := s.cartCoupons(r)
	var notices []string
	if code := strings.ToLower(q.Get("parrain_coupon")); refShape.MatchString(code) {
		s.mu.Lock()
		// The cart applies what checkout would accept, minus the email
		// check (no email yet).
		_, err := s.checkCoupon(code, "")
		if err != nil && strings.Contains(err.Error(), "email") {
			err = nil
		}
		s.mu.Unlock()
		switch {
		case err != nil:
			notices = append(notices, err.Error())
		case !contains(coupons, code):
			coupons = append(coupons, code)
			http.SetCookie(w, &http.Cookie{Name: cartCookie, Value: url.QueryEscape(strings.Join(coupons, ",")), Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	_ = storePage.Execute(w, map[string]any{"Title": s.Title, "Coupons": coupons, "Notices": notices})
}

// storeCheckout places the order from the form, the cart's coupons and the
// ref cookie, then shows the order-received page; a refused coupon is the
// checkout's error.
func (s *Sim) storeCheckout(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	in := OrderInput{Email: r.PostForm.Get("billing_email"), FirstName: r.PostForm.Get("billing_first_name"),
		Total: r.PostForm.Get("total"), Coupons: s.cartCoupons(r)}
	if cid, err := strconv.ParseInt(r.PostForm.Get("customer_id"), 10, 64); err == nil {
		in.CustomerID = cid
	}
	if c, err := r.Cookie(refCookie); err == nil && refShape.MatchString(c.Value) {
		in.Ref = c.Value
	}
	id, key, err := s.PlaceOrder(in)
	if err != nil {
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		w.WriteHeader(http.StatusBadRequest)
		_ = storePage.Execute(w, map[string]any{"Title": s.Title, "Coupons": in.Coupons, "Notices": []string{err.Error()}})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: cartCookie, Value: "", Path: "/", MaxAge: -1})
	http.Redirect(w, r, "/checkout/order-received/"+strconv.FormatInt(id, 10)+"/?key="+key, http.StatusSeeOther)
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
