package shopifysim

import (
	"bytes"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Token-endpoint grant and token types (shopify.md §1.1, §1.2).
const (
	grantAuthorizationCode = "authorization_code"
	grantRefreshToken      = "refresh_token"
	grantTokenExchange     = "urn:ietf:params:oauth:grant-type:token-exchange"
	tokenTypeIDToken       = "urn:ietf:params:oauth:token-type:id_token"
	tokenTypeOffline       = "urn:shopify:params:oauth:token-type:offline-access-token"
	tokenTypeOnline        = "urn:shopify:params:oauth:token-type:online-access-token"
)

// codeTTL is the life of an authorization code: Shopify's expire after a
// minute, so the app must exchange them at once.
const codeTTL = 60 * time.Second

// onlineTokenTTL is the life of an online (per-user) access token: Shopify
// ties it to the staff member's session, at most a day.
const onlineTokenTTL = 24 * time.Hour

// sessionTokenLeeway is the clock skew allowed on session-token exp and nbf,
// as shopify-app-js's decodeSessionToken allows (shopify.md §1.3).
const sessionTokenLeeway = 10 * time.Second

var consentPage = template.Must(template.New("consent").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Install app · {{.Shop}}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:4rem auto;padding:0 1rem;color:#202223}
button{background:#008060;color:#fff;border:0;border-radius:8px;padding:.6rem 1.2rem;font-size:1rem}
li{margin:.2rem 0}</style></head>
<body><h1>Install Parrain on {{.Shop}}?</h1>
<p>The app asks for these permissions:</p><ul>{{range .Scopes}}<li><code>{{.}}</code></li>{{else}}<li>none</li>{{end}}</ul>
{{if .Online}}<p>It will act as you (online access).</p>{{end}}
<form method="post" action="/admin/oauth/authorize">{{range $k, $vs := .Params}}{{range $vs}}<input type="hidden" name="{{$k}}" value="{{.}}">{{end}}{{end}}
<button type="submit">Install app</button> <a href="/_sim/">Cancel</a></form>
<p><small>Shopify simulator: this page stands in for the admin's permission screen.</small></p></body></html>`))

// htmlError is how Shopify's admin shows OAuth errors: a page, not JSON,
// since a browser is at the other end.
func htmlError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, "<!doctype html><title>Oauth error</title><h1>"+template.HTMLEscapeString(msg)+"</h1>\n")
}

// checkAuthorize validates an authorize request as Shopify does before it
// shows anything to the merchant; it returns the error page's text.
func (s *Simulator) checkAuthorize(p url.Values) string {
	if p.Get("client_id") != s.cfg.APIKey {
		return "Oauth error invalid_request: Could not find Shopify API application with api_key " + p.Get("client_id")
	}
	ru, err := url.Parse(p.Get("redirect_uri"))
	if p.Get("redirect_uri") == "" || err != nil || !ru.IsAbs() || (ru.Scheme != "https" && ru.Scheme != "http") {
		return "Oauth error invalid_request: The redirect_uri is missing or invalid"
	}
	if len(s.cfg.RedirectURLs) > 0 && !slices.Contains(s.cfg.RedirectURLs, p.Get("redirect_uri")) {
		return "Oauth error invalid_request: The redirect_uri is not whitelisted"
	}
	return ""
}

// authorize is GET /admin/oauth/authorize: the merchant's permission screen
// of the authorization-code grant (shopify.md §1.1).
func (s *Simulator) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	sh, domain := s.lookupShop(r)
	s.mu.Unlock()
	if sh == nil {
		htmlError(w, http.StatusNotFound, "There's no page at this address (unknown shop "+domain+")")
		return
	}
	if msg := s.checkAuthorize(q); msg != "" {
		htmlError(w, http.StatusBadRequest, msg)
		return
	}
	if s.cfg.AutoApprove {
		s.grant(w, r, domain, q)
		return
	}
	q.Set("shop", domain) // the form posts without the Host header
	var scopes []string
	for sc := range strings.SplitSeq(q.Get("scope"), ",") {
		if sc = strings.TrimSpace(sc); sc != "" {
			scopes = append(scopes, sc)
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = consentPage.Execute(w, map[string]any{"Shop": domain, "Scopes": scopes, "Online": isOnline(q), "Params": q})
}

// approve is the consent form's Install button.
func (s *Simulator) approve(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
	if err := r.ParseForm(); err != nil {
		htmlError(w, http.StatusBadRequest, "Oauth error invalid_request: malformed form")
		return
	}
	s.mu.Lock()
	sh, domain := s.lookupShop(r)
	s.mu.Unlock()
	if sh == nil {
		htmlError(w, http.StatusNotFound, "There's no page at this address (unknown shop "+domain+")")
		return
	}
	if msg := s.checkAuthorize(r.PostForm); msg != "" {
		htmlError(w, http.StatusBadRequest, msg)
		return
	}
	s.grant(w, r, domain, r.PostForm)
}

// isOnline reports whether the app asked for an online (per-user) token.
func isOnline(p url.Values) bool { return slices.Contains(p["grant_options[]"], "per-user") }

// grant mints a single-use authorization code valid for a minute and sends
// the browser back to the app with Shopify's signed callback parameters:
// code, host, shop, state, timestamp and hmac (shopify.md §1.1).
func (s *Simulator) grant(w http.ResponseWriter, r *http.Request, domain string, p url.Values) {
	code := randHex(16)
	scope := p.Get("scope")
	if scope == "" {
		scope = s.cfg.Scopes
	}
	now := s.cfg.Now()
	s.mu.Lock()
	for c, ac := range s.codes { // forget expired codes
		if now.After(ac.expires) {
			delete(s.codes, c)
		}
	}
	s.codes[code] = authCode{shop: domain, scope: scope, online: isOnline(p), expires: now.Add(codeTTL)}
	s.mu.Unlock()
	cb := url.Values{}
	cb.Set("code", code)
	cb.Set("host", hostParam(domain))
	cb.Set("shop", domain)
	if st, ok := p["state"]; ok && len(st) > 0 {
		cb.Set("state", st[0])
	}
	cb.Set("timestamp", strconv.FormatInt(now.Unix(), 10))
	target, _ := url.Parse(p.Get("redirect_uri")) // checked by checkAuthorize
	// Keep any query the app put in its redirect_uri, and sign it too:
	// verifiers (go-shopify, shopify-app-js) check every parameter but
	// hmac.
	merged := target.Query()
	for k, v := range cb {
		merged[k] = v
	}
	merged.Set("hmac", SignQuery(merged, s.cfg.APISecret))
	target.RawQuery = merged.Encode()
	s.log.Info("oauth: authorization granted", "shop", domain, "online", isOnline(p))
	http.Redirect(w, r, target.String(), http.StatusFound)
}

// oauthError writes the token endpoint's OAuth error body
// ({"error","error_description"}, RFC 6749 §5.2), the shape Shopify uses,
// e.g. {"error":"invalid_request","error_description":"The authorization
// code was not found or was already used"}.
func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// tokenParams reads the token endpoint's body: JSON (what shopify-app-js
// and go-shopify send) or a form. Numbers and booleans become strings, so
// "expiring": 1, true and "1" all read as "1"/"true".
func tokenParams(w http.ResponseWriter, r *http.Request) (map[string]string, error) {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<16))
	if err != nil {
		return nil, err
	}
	p := map[string]string{}
	trimmed := bytes.TrimSpace(raw)
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || bytes.HasPrefix(trimmed, []byte("{")) {
		var m map[string]any
		if err := json.Unmarshal(trimmed, &m); err != nil {
			return nil, err
		}
		for k, v := range m {
			switch t := v.(type) {
			case string:
				p[k] = t
			case float64:
				p[k] = strconv.FormatFloat(t, 'f', -1, 64)
			case bool:
				p[k] = strconv.FormatBool(t)
			}
		}
		return p, nil
	}
	f, err := url.ParseQuery(string(trimmed))
	if err != nil {
		return nil, err
	}
	for k := range f {
		p[k] = f.Get(k)
	}
	return p, nil
}

func truthy(v string) bool { return v == "1" || v == "true" }

// accessToken is POST /admin/oauth/access_token: the authorization-code
// grant, refresh with rotation, and token exchange (shopify.md §1.1, §1.2).
//
// Client authentication: an unknown client_id gets 400 invalid_request with
// the message developers report from Shopify ("Could not find Shopify API
// application with api_key …"); a wrong client_secret gets 401
// invalid_client, RFC 6749 §5.2's answer — Shopify's exact status and text
// for that case are not documented.
func (s *Simulator) accessToken(w http.ResponseWriter, r *http.Request) {
	p, err := tokenParams(w, r)
	if err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "malformed request body: send JSON or a form")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sh, domain := s.lookupShop(r)
	if sh == nil {
		notFound(w)
		return
	}
	if p["client_id"] != s.cfg.APIKey {
		oauthError(w, http.StatusBadRequest, "invalid_request", "Could not find Shopify API application with api_key "+p["client_id"])
		return
	}
	if p["client_secret"] != s.cfg.APISecret {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed: wrong client_secret")
		return
	}
	now := s.cfg.Now()
	switch p["grant_type"] {
	case "", grantAuthorizationCode:
		code, ok := s.codes[p["code"]]
		delete(s.codes, p["code"]) // single use, even when refused
		if !ok || code.shop != domain || now.After(code.expires) {
			oauthError(w, http.StatusBadRequest, "invalid_request", "The authorization code was not found or was already used")
			return
		}
		s.issue(w, sh, issueOpts{expiring: truthy(p["expiring"]), scope: code.scope, online: code.online, userID: 1})
	case grantRefreshToken:
		rt := sh.refresh[p["refresh_token"]]
		if rt == nil || rt.dead || !now.Before(rt.expires) {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "The refresh token is invalid, expired, revoked or was replaced")
			return
		}
		// Rotation: every refresh returns a new refresh token. Since
		// 2026-08-28 the previous one stays valid until the new one is
		// first used, so a client that crashed before storing the new
		// pair can retry with the old token (shopify.md §1.1, changelog
		// "more resilient refreshes"). Using rt is what retires its
		// predecessor. Access tokens issued earlier stay valid until
		// they expire: Shopify documents no revocation on refresh.
		if rt.prev != nil {
			rt.prev.dead = true
		}
		s.issue(w, sh, issueOpts{expiring: true, scope: rt.scopes, prev: rt})
	case grantTokenExchange:
		s.exchange(w, sh, domain, p)
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type "+p["grant_type"]+" is not supported")
	}
}

// exchange is token exchange: an App Bridge session token (ID token) for an
// offline or online access token, or a non-expiring offline token for an
// expiring one (the migration of shopify.md §1.1). Any invalid subject gets
// 400 invalid_subject_token, Shopify's answer for a bad or expired session
// token. Callers hold s.mu.
func (s *Simulator) exchange(w http.ResponseWriter, sh *shop, domain string, p map[string]string) {
	subject := p["subject_token"]
	if subject == "" {
		oauthError(w, http.StatusBadRequest, "missing_subject_token", "subject_token is required")
		return
	}
	requested := p["requested_token_type"]
	if requested == "" {
		requested = tokenTypeOffline
	}
	if requested != tokenTypeOffline && requested != tokenTypeOnline {
		oauthError(w, http.StatusBadRequest, "invalid_request", "unsupported requested_token_type")
		return
	}
	switch p["subject_token_type"] {
	case tokenTypeIDToken:
		sub, err := s.verifySessionToken(subject, domain)
		if err != nil {
			s.log.Info("oauth: token exchange refused", "shop", domain, "reason", err.Error())
			oauthError(w, http.StatusBadRequest, "invalid_subject_token", "Token exchange cannot be performed due to an invalid subject token.")
			return
		}
		userID, _ := strconv.ParseInt(sub, 10, 64)
		s.issue(w, sh, issueOpts{expiring: truthy(p["expiring"]), scope: s.cfg.Scopes, online: requested == tokenTypeOnline, userID: userID})
	case tokenTypeOffline:
		// Migration: only a live non-expiring offline token of this shop
		// can be traded, for an expiring one; the old token is revoked so
		// that exactly one credential remains.
		old := sh.access[subject]
		if requested != tokenTypeOffline || old == nil || old.online || !old.expires.IsZero() {
			oauthError(w, http.StatusBadRequest, "invalid_subject_token", "Token exchange cannot be performed due to an invalid subject token.")
			return
		}
		delete(sh.access, subject)
		s.issue(w, sh, issueOpts{expiring: true, scope: old.scopes})
	default:
		oauthError(w, http.StatusBadRequest, "invalid_request", "unsupported subject_token_type")
	}
}

type issueOpts struct {
	expiring bool
	online   bool
	scope    string
	userID   int64
	prev     *refreshToken // the refresh token being rotated
}

// issue mints an access token (and a refresh token for expiring offline
// tokens) and writes the token response in Shopify's shape (shopify.md
// §1.1): {access_token, scope[, expires_in, refresh_token,
// refresh_token_expires_in]} offline, plus associated_user online. Callers
// hold s.mu.
func (s *Simulator) issue(w http.ResponseWriter, sh *shop, o issueOpts) {
	now := s.cfg.Now()
	resp := map[string]any{"scope": o.scope}
	if o.online {
		// Online tokens (shpua_) always expire and come with the user.
		access := "shpua_" + randHex(16)
		sh.access[access] = &token{expires: now.Add(onlineTokenTTL), scopes: o.scope, online: true, userID: o.userID}
		resp["access_token"] = access
		resp["expires_in"] = int(onlineTokenTTL.Seconds())
		resp["associated_user_scope"] = o.scope
		resp["associated_user"] = map[string]any{
			"id": o.userID, "first_name": "Shop", "last_name": "Owner", "email": sh.info.Email,
			"email_verified": true, "account_owner": o.userID == 1, "locale": "en", "collaborator": false,
		}
		writeJSON(w, http.StatusOK, resp)
		return
	}
	access := "shpat_" + randHex(16)
	resp["access_token"] = access
	sh.curAccess, sh.curRefresh, sh.curExpires = access, "", time.Time{}
	if !o.expiring {
		sh.access[access] = &token{scopes: o.scope}
		writeJSON(w, http.StatusOK, resp)
		return
	}
	exp := now.Add(s.cfg.AccessTokenTTL)
	sh.access[access] = &token{expires: exp, scopes: o.scope}
	rt := &refreshToken{value: "shprt_" + randHex(16), expires: now.Add(s.cfg.RefreshTokenTTL), prev: o.prev, scopes: o.scope}
	sh.refresh[rt.value] = rt
	sh.curRefresh, sh.curExpires = rt.value, exp
	resp["expires_in"] = int(s.cfg.AccessTokenTTL.Seconds())
	resp["refresh_token"] = rt.value
	resp["refresh_token_expires_in"] = int(s.cfg.RefreshTokenTTL.Seconds())
	writeJSON(w, http.StatusOK, resp)
}

// validAccess returns the live token for value, or nil. Callers hold s.mu.
func (s *Simulator) validAccess(sh *shop, value string) *token {
	t := sh.access[value]
	if t == nil || (!t.expires.IsZero() && !s.cfg.Now().Before(t.expires)) {
		return nil
	}
	return t
}

// SessionToken mints an App Bridge session token (ID token) for a staff
// member of shop, as Shopify's admin hands the embedded app: HS256 signed
// with APISecret, claims iss https://{shop}/admin, dest https://{shop}, aud
// APIKey, sub the user id, exp, nbf, iat, jti, sid (shopify.md §1.3). A
// negative ttl gives an already expired token.
func (s *Simulator) SessionToken(domain string, userID int64, ttl time.Duration) string {
	now := s.cfg.Now()
	claims := jwt.MapClaims{
		"iss": "https://" + domain + "/admin", "dest": "https://" + domain, "aud": s.cfg.APIKey,
		"sub": strconv.FormatInt(userID, 10), "exp": now.Add(ttl).Unix(), "nbf": now.Unix(),
		"iat": now.Unix(), "jti": newUUID(), "sid": randHex(16),
	}
	tok, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(s.cfg.APISecret))
	return tok
}

// verifySessionToken checks a session token as shopify-app-js's
// decodeSessionToken does (HS256 only, signature with the app secret, aud ==
// API key, exp and nbf with 10 s leeway) and that it was issued for domain;
// it returns the sub claim (the user id).
func (s *Simulator) verifySessionToken(tok, domain string) (string, error) {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(tok, claims, func(*jwt.Token) (any, error) { return []byte(s.cfg.APISecret), nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithAudience(s.cfg.APIKey), jwt.WithLeeway(sessionTokenLeeway),
		jwt.WithTimeFunc(s.cfg.Now), jwt.WithExpirationRequired())
	if err != nil {
		return "", err
	}
	dest, _ := claims["dest"].(string)
	iss, _ := claims["iss"].(string)
	if dest != "https://"+domain {
		return "", errors.New("token was issued for another shop")
	}
	if iss != dest+"/admin" {
		return "", errors.New("iss does not match dest")
	}
	sub, _ := claims["sub"].(string)
	return sub, nil
}

// CheckoutSessionToken mints the session token a checkout UI extension
// gets from shopify.sessionToken.get(): same signature and dest as App
// Bridge's, sub the buyer's customer GID only when logged in (customerID 0:
// a guest, no sub) (shopify.md §1.3).
func (s *Simulator) CheckoutSessionToken(domain string, customerID int64, ttl time.Duration) string {
	now := s.cfg.Now()
	claims := jwt.MapClaims{
		"iss": "https://" + domain + "/admin", "dest": "https://" + domain, "aud": s.cfg.APIKey,
		"exp": now.Add(ttl).Unix(), "nbf": now.Unix(), "iat": now.Unix(), "jti": newUUID(),
	}
	if customerID != 0 {
		claims["sub"] = "gid://shopify/Customer/" + strconv.FormatInt(customerID, 10)
	}
	tok, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(s.cfg.APISecret))
	return tok
}
