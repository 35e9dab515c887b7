package httpapi

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/logging"
	"github.com/parrain/parrain/integrations/shopify"
)

const (
	stateCookie = "parrain_shopify_state"
	// stateTTL bounds the whole consent step: long enough for a merchant to
	// read the permissions screen, short enough that a leaked cookie is
	// useless soon after.
	stateTTL = 5 * time.Minute
	// installPerMinute bounds install and callback hits per address: a
	// merchant needs two or three, a prober of HMACs or codes many more.
	installPerMinute = 20
)

// OAuthStates makes OAuth states single use on the server.
type OAuthStates interface {
	// ConsumeOAuthState records the state as used and reports whether this
	// was its first use; records older than keep may be forgotten.
	ConsumeOAuthState(ctx context.Context, nonceHash string, keep time.Duration) (bool, error)
}

// stateKey derives the key that signs state cookies from the app secret, so
// the cookie MAC is never the same function as Shopify's query HMAC.
func (s *Server) stateKey() []byte {
	m := hmac.New(sha256.New, []byte(s.ShopifySecret))
	m.Write([]byte("parrain oauth state v1"))
	return m.Sum(nil)
}

// signState returns the cookie value nonce|shop|expiry|mac.
func (s *Server) signState(nonce, shop string, exp time.Time) string {
	payload := nonce + "|" + shop + "|" + strconv.FormatInt(exp.Unix(), 10)
	m := hmac.New(sha256.New, s.stateKey())
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkState verifies the cookie's MAC and expiry, then that it was issued
// for this shop and that its nonce equals the state Shopify echoed back, in
// constant time. It fails closed on anything unexpected.
func (s *Server) checkState(cookie, state, shop string) error {
	p64, mac64, ok := strings.Cut(cookie, ".")
	payload, err1 := base64.RawURLEncoding.DecodeString(p64)
	mac, err2 := base64.RawURLEncoding.DecodeString(mac64)
	if !ok || err1 != nil || err2 != nil {
		return app.Errorf(app.EUNAUTHORIZED, "missing or malformed OAuth state; start the install again")
	}
	m := hmac.New(sha256.New, s.stateKey())
	m.Write(payload)
	if !hmac.Equal(mac, m.Sum(nil)) {
		return app.Errorf(app.EUNAUTHORIZED, "OAuth state was tampered with")
	}
	parts := strings.Split(string(payload), "|")
	if len(parts) != 3 {
		return app.Errorf(app.EUNAUTHORIZED, "malformed OAuth state")
	}
	exp, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || s.Now().After(time.Unix(exp, 0)) {
		return app.Errorf(app.EUNAUTHORIZED, "OAuth state expired; start the install again")
	}
	if subtle.ConstantTimeCompare([]byte(parts[0]), []byte(state)) != 1 {
		return app.Errorf(app.EUNAUTHORIZED, "OAuth state does not match")
	}
	if parts[1] != shop {
		return app.Errorf(app.EUNAUTHORIZED, "OAuth state was issued for another shop")
	}
	return nil
}

func (s *Server) secureCookies() bool { return strings.HasPrefix(s.AppURL, "https://") }

// shopifyInstall is the app URL Shopify opens when a merchant installs from
// the admin (authorization-code grant). Everything is checked before the
// redirect, so a forged link cannot send a browser anywhere.
func (s *Server) shopifyInstall(c *gin.Context) {
	if !s.allow(c.Request.Context(), "install:ip:"+s.hashIP(c.ClientIP()), installPerMinute) {
		fail(c, app.Errorf(app.ERATELIMITED, "too many install attempts from this address; try again in a minute"))
		return
	}
	shop, err := shopify.VerifyQuery(c.Request.URL.Query(), s.ShopifySecret, s.Now())
	if err != nil {
		fail(c, err)
		return
	}
	nb := make([]byte, 16)
	if _, err := rand.Read(nb); err != nil {
		fail(c, fmt.Errorf("state nonce: %w", err))
		return
	}
	nonce := hex.EncodeToString(nb)
	// SameSite=Lax: the cookie must come back on Shopify's top-level
	// redirect to the callback, and on nothing cross-site else.
	http.SetCookie(c.Writer, &http.Cookie{
		Name: stateCookie, Value: s.signState(nonce, shop, s.Now().Add(stateTTL)), Path: "/auth/shopify",
		MaxAge: int(stateTTL.Seconds()), HttpOnly: true, Secure: s.secureCookies(), SameSite: http.SameSiteLaxMode,
	})
	c.Redirect(http.StatusFound, shopify.AuthorizeURL(s.ShopifyOrigin, shop, s.ShopifyKey, s.ShopifyScopes, s.AppURL+"/auth/shopify/callback", nonce))
}

// shopifyCallback finishes the authorization-code grant: query HMAC and
// timestamp, shop, state; then the code is exchanged for an expiring offline
// token, stored encrypted, and the post-install job is queued.
func (s *Server) shopifyCallback(c *gin.Context) {
	if !s.allow(c.Request.Context(), "install:ip:"+s.hashIP(c.ClientIP()), installPerMinute) {
		fail(c, app.Errorf(app.ERATELIMITED, "too many install attempts from this address; try again in a minute"))
		return
	}
	q := c.Request.URL.Query()
	shop, err := shopify.VerifyQuery(q, s.ShopifySecret, s.Now())
	if err != nil {
		fail(c, err)
		return
	}
	cookie, _ := c.Cookie(stateCookie)
	if err := s.checkState(cookie, q.Get("state"), shop); err != nil {
		fail(c, err)
		return
	}
	code := q.Get("code")
	if code == "" || len(code) > 256 {
		fail(c, app.Errorf(app.EINVALID, "missing authorization code"))
		return
	}
	// Single use on the server too: the cookie alone would let a captured
	// callback (cookie + state) be replayed with another code until it
	// expires. The first callback with a state consumes it.
	sum := sha256.Sum256([]byte(q.Get("state")))
	first, err := s.OAuthStates.ConsumeOAuthState(c.Request.Context(), hex.EncodeToString(sum[:]), 2*stateTTL)
	if err != nil {
		fail(c, err)
		return
	}
	if !first {
		fail(c, app.Errorf(app.EUNAUTHORIZED, "OAuth state already used; start the install again"))
		return
	}
	// The state is single-use: clear it before doing anything that could
	// be replayed.
	http.SetCookie(c.Writer, &http.Cookie{Name: stateCookie, Value: "", Path: "/auth/shopify", MaxAge: -1,
		HttpOnly: true, Secure: s.secureCookies(), SameSite: http.SameSiteLaxMode})
	installed, err := s.installShop(c, shop, func() (app.Credentials, error) {
		return s.ShopifyTokens.ExchangeCode(c.Request.Context(), shop, code)
	})
	if err != nil {
		fail(c, err)
		return
	}
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Status(http.StatusOK)
	_ = installedPage.Execute(c.Writer, installed)
}

// installShop obtains credentials, stores the shop and queues its sync. A
// failure to queue is logged, not fatal: the install itself is done, and the
// sync is re-queued by the next install or session check.
func (s *Server) installShop(c *gin.Context, shop string, creds func() (app.Credentials, error)) (*app.Shop, error) {
	cr, err := creds()
	if err != nil {
		return nil, fmt.Errorf("install %s: %w", shop, err)
	}
	sh, err := s.Shops.Install(c.Request.Context(), app.PlatformShopify, shop, cr, s.Now().UTC())
	if err != nil {
		return nil, err
	}
	s.shopCache.forget(shop)
	log := logging.From(c.Request.Context())
	if err := s.Install.ShopInstalled(c.Request.Context(), sh); err != nil {
		log.Warn("queue shop sync", "shop_id", sh.ID, "error", err.Error())
	}
	log.Info("shop installed", "shop_id", sh.ID)
	return sh, nil
}

// shopifySession is the entry point of the embedded app and of managed
// installs: the App Bridge session token proves the merchant and the shop; a
// shop seen for the first time (or without a token) gets its offline token by
// token exchange.
func (s *Server) shopifySession(c *gin.Context) {
	raw, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
	if !ok || raw == "" {
		fail(c, app.Errorf(app.EUNAUTHORIZED, "missing session token (Authorization: Bearer …)"))
		return
	}
	shop, _, err := shopify.VerifySessionToken(raw, s.ShopifyKey, s.ShopifySecret, true, s.Now())
	if err != nil {
		fail(c, err)
		return
	}
	sh, err := s.Shops.ShopByDomain(c.Request.Context(), app.PlatformShopify, shop)
	if app.ErrorCode(err) == app.ENOTFOUND || (err == nil && sh.Status != app.ShopInstalled) {
		sh, err = s.installShop(c, shop, func() (app.Credentials, error) {
			return s.ShopifyTokens.ExchangeSessionToken(c.Request.Context(), shop, raw)
		})
	}
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"shop": sh.Domain, "status": sh.Status, "name": sh.Name})
}

var installedPage = template.Must(template.New("installed").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Parrain installed</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#202223}
.card{border:1px solid #e1e3e5;border-radius:12px;padding:1.5rem;box-shadow:0 1px 2px rgba(0,0,0,.05)}
h1{font-size:1.4rem;margin:0 0 .5rem}.ok{color:#008060}</style></head>
<body><div class="card"><h1 class="ok">Parrain is installed</h1>
<p>Your referral program for <strong>{{.Domain}}</strong> is being set up: we are recording your shop's details
and subscribing to order events. You can close this tab.</p></div></body></html>`))
