package shopifysim

import (
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var consentPage = template.Must(template.New("consent").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Install app</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}
button{background:#008060;color:#fff;border:0;border-radius:8px;padding:.6rem 1.2rem;font-size:1rem}</style></head>
<body><h1>Install Parrain on {{.Shop}}?</h1><p>It will be able to: <strong>{{.Scope}}</strong></p>
<form method="post" action="/admin/oauth/authorize">{{range $k, $vs := .Query}}{{range $vs}}<input type="hidden" name="{{$k}}" value="{{.}}">{{end}}{{end}}
<button type="submit">Install app</button></form>
<p><small>Shopify simulator: this page stands in for the admin's permission screen.</small></p></body></html>`))

// authorize is the merchant's consent screen (the authorization-code grant).
func (s *Simulator) authorize(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	sh, domain := s.shopOf(r)
	s.mu.Unlock()
	q := r.URL.Query()
	switch {
	case sh == nil:
		http.Error(w, "There's no page at this address (unknown shop "+domain+")", http.StatusNotFound)
		return
	case q.Get("client_id") != s.cfg.APIKey:
		http.Error(w, "Oauth error invalid_request: The client_id is invalid", http.StatusBadRequest)
		return
	case q.Get("redirect_uri") == "" || q.Get("state") == "":
		http.Error(w, "Oauth error invalid_request: redirect_uri and state are required", http.StatusBadRequest)
		return
	}
	if s.cfg.AutoApprove {
		s.grant(w, r, domain, q)
		return
	}
	q.Set("shop", domain)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = consentPage.Execute(w, map[string]any{"Shop": domain, "Scope": q.Get("scope"), "Query": q})
}

// approve is the consent form's submit.
func (s *Simulator) approve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	sh, domain := s.shopOf(r)
	s.mu.Unlock()
	if sh == nil || r.PostForm.Get("client_id") != s.cfg.APIKey {
		http.Error(w, "Oauth error invalid_request", http.StatusBadRequest)
		return
	}
	s.grant(w, r, domain, r.PostForm)
}

// grant mints a one-time code (valid 60 s) and redirects to the app's
// callback with Shopify's signed parameters.
func (s *Simulator) grant(w http.ResponseWriter, r *http.Request, domain string, q url.Values) {
	code := randHex(16)
	s.mu.Lock()
	s.codes[code] = authCode{shop: domain, expires: s.cfg.Now().Add(60 * time.Second)}
	s.mu.Unlock()
	cb := url.Values{}
	cb.Set("code", code)
	cb.Set("host", base64.RawURLEncoding.EncodeToString([]byte(domain+"/admin")))
	cb.Set("shop", domain)
	cb.Set("state", q.Get("state"))
	cb.Set("timestamp", strconv.FormatInt(s.cfg.Now().Unix(), 10))
	cb.Set("hmac", signQuery(cb, s.cfg.APISecret))
	target := q.Get("redirect_uri")
	sep := "?"
	if strings.Contains(target, "?") {
		sep = "&"
	}
	http.Redirect(w, r, target+sep+cb.Encode(), http.StatusFound)
}

// Token-endpoint grant types (shopify.md §1.1, §1.2).
const (
	grantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	tokenTypeIDToken   = "urn:ietf:params:oauth:token-type:id_token"
	tokenTypeOffline   = "urn:shopify:params:oauth:token-type:offline-access-token"
)

// accessToken is POST /admin/oauth/access_token: code grant, refresh and
// token exchange. Errors follow OAuth's {error, error_description} shape.
func (s *Simulator) accessToken(w http.ResponseWriter, r *http.Request) {
	p := map[string]string{}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var raw map[string]any
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&raw); err != nil {
			writeJSONError(w, 400, `{"error":"invalid_request","error_description":"malformed JSON body"}`)
			return
		}
		for k, v := range raw {
			switch t := v.(type) {
			case string:
				p[k] = t
			case float64:
				p[k] = strconv.FormatFloat(t, 'f', -1, 64)
			case bool:
				p[k] = strconv.FormatBool(t)
			}
		}
	} else {
		if err := r.ParseForm(); err != nil {
			writeJSONError(w, 400, `{"error":"invalid_request"}`)
			return
		}
		for k := range r.PostForm {
			p[k] = r.PostForm.Get(k)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sh, domain := s.shopOf(r)
	if sh == nil {
		writeJSONError(w, 404, `{"errors":"Not Found"}`)
		return
	}
	if p["client_id"] != s.cfg.APIKey || p["client_secret"] != s.cfg.APISecret {
		writeJSONError(w, 400, `{"error":"invalid_client","error_description":"Client credentials are invalid"}`)
		return
	}
	now := s.cfg.Now()
	expiring := p["expiring"] == "1" || p["expiring"] == "true"
	switch p["grant_type"] {
	case "", "authorization_code":
		c, ok := s.codes[p["code"]]
		delete(s.codes, p["code"]) // single use, even when refused
		if !ok || c.shop != domain || now.After(c.expires) {
			writeJSONError(w, 400, `{"error":"invalid_request","error_description":"The authorization code was not found or was already used"}`)
			return
		}
	case "refresh_token":
		rt := sh.refresh[p["refresh_token"]]
		if rt == nil || rt.dead || now.After(rt.expires) {
			writeJSONError(w, 400, `{"error":"invalid_grant","error_description":"The refresh token is invalid, expired or was revoked"}`)
			return
		}
		// Rotation: using this token retires its predecessor; the token
		// itself stays valid until its successor is used (Shopify
		// changelog 2026-08-28, "more resilient refreshes").
		if rt.prev != nil {
			rt.prev.dead = true
		}
		s.issue(w, sh, true, rt)
		return
	case grantTokenExchange:
		if p["subject_token_type"] != tokenTypeIDToken || p["requested_token_type"] != tokenTypeOffline {
			writeJSONError(w, 400, `{"error":"invalid_request","error_description":"unsupported token types"}`)
			return
		}
		if err := s.verifySessionToken(p["subject_token"], domain); err != nil {
			writeJSONError(w, 400, `{"error":"invalid_subject_token","error_description":"`+err.Error()+`"}`)
			return
		}
	default:
		writeJSONError(w, 400, `{"error":"unsupported_grant_type"}`)
		return
	}
	s.issue(w, sh, expiring, nil)
}

// issue mints a new access token (and, for expiring tokens, a refresh
// token chained to prev) and writes the token response. Older access tokens
// stay valid until they expire.
func (s *Simulator) issue(w http.ResponseWriter, sh *shop, expiring bool, prev *refreshToken) {
	now := s.cfg.Now()
	access := "shpat_" + randHex(16)
	resp := map[string]any{"access_token": access, "scope": "read_orders,read_customers,write_discounts"}
	sh.curAccess, sh.curRefresh, sh.curExpires = access, "", time.Time{}
	if expiring {
		exp := now.Add(s.cfg.AccessTokenTTL)
		sh.access[access] = exp
		rt := &refreshToken{token: "shprt_" + randHex(16), expires: now.Add(s.cfg.RefreshTokenTTL), prev: prev}
		sh.refresh[rt.token] = rt
		sh.curRefresh, sh.curExpires = rt.token, exp
		resp["expires_in"] = int(s.cfg.AccessTokenTTL.Seconds())
		resp["refresh_token"] = rt.token
		resp["refresh_token_expires_in"] = int(s.cfg.RefreshTokenTTL.Seconds())
	} else {
		sh.access[access] = time.Time{}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

// SessionToken mints an App Bridge session token for shop: HS256 with the
// app secret and the claims of shopify.md §1.3. A negative ttl gives an
// already expired token.
func (s *Simulator) SessionToken(domain string, userID int64, ttl time.Duration) string {
	now := s.cfg.Now()
	claims := jwt.MapClaims{
		"iss": "https://" + domain + "/admin", "dest": "https://" + domain, "aud": s.cfg.APIKey,
		"sub": strconv.FormatInt(userID, 10), "exp": now.Add(ttl).Unix(), "nbf": now.Add(-time.Second).Unix(),
		"iat": now.Unix(), "jti": randHex(16), "sid": randHex(16),
	}
	tok, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(s.cfg.APISecret))
	return tok
}

func (s *Simulator) verifySessionToken(token, domain string) error {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return []byte(s.cfg.APISecret), nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithAudience(s.cfg.APIKey), jwt.WithLeeway(10*time.Second),
		jwt.WithTimeFunc(s.cfg.Now), jwt.WithExpirationRequired())
	if err != nil {
		return err
	}
	if dest, _ := claims["dest"].(string); dest != "https://"+domain {
		return jwt.ErrTokenInvalidClaims
	}
	return nil
}
