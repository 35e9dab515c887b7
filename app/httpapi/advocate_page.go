package httpapi

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/advocatepage"
	"github.com/parrain/parrain/app/logging"
	"github.com/parrain/parrain/app/popup"
	"github.com/parrain/parrain/integrations/shopify"
)

// AdvocatePages answers the advocate's page and makes its links.
type AdvocatePages interface {
	ByToken(ctx context.Context, token string, languages []string) (*advocatepage.Page, error)
	ForCustomer(ctx context.Context, shop *app.Shop, customerID string, languages []string) (*advocatepage.Page, error)
	AdvocateURL(ctx context.Context, shopID, advocateID int64) (string, error)
	Revoke(ctx context.Context, shopID, advocateID int64) error
}

// WooSecrets gives a WooCommerce shop's webhook secret, the secret the
// companion plugin shares with Parrain (it reads it from the store's
// Parrain webhooks).
type WooSecrets interface {
	WooWebhookSecret(ctx context.Context, shop *app.Shop) (string, error)
}

// wooPageLinkMaxAge is how long a link the plugin signed for a logged-in
// customer works: the plugin signs it when it renders My account.
const wooPageLinkMaxAge = 15 * time.Minute

// advocatePage serves /a/{token}: the signed, expiring, revocable link of
// emails. A bad, expired or revoked link gets a page saying so and no data.
func (s *Server) advocatePage(c *gin.Context) {
	ctx := c.Request.Context()
	langs := pageLanguages(c)
	if !s.allow(ctx, "a:ip:"+s.hashIP(c.ClientIP()), s.AdvocatePagePerIPPerMinute) {
		s.refusePage(c, http.StatusTooManyRequests, "slow", langs)
		return
	}
	pg, err := s.AdvocatePages.ByToken(ctx, c.Param("token"), langs)
	switch {
	case errors.Is(err, advocatepage.ErrInvalidToken):
		s.refusePage(c, http.StatusNotFound, "bad", langs)
	case errors.Is(err, advocatepage.ErrExpiredToken):
		s.refusePage(c, http.StatusGone, "expired", langs)
	case errors.Is(err, advocatepage.ErrRevokedToken):
		s.refusePage(c, http.StatusGone, "revoked", langs)
	case err != nil:
		s.pageFailed(c, err, langs)
	default:
		s.renderAdvocatePage(c, pg)
	}
}

// proxyAdvocatePage serves the page to a logged-in Shopify customer
// through the app proxy (https://{shop}/apps/parrain/advocate →
// /proxy/shopify/advocate): Shopify signs logged_in_customer_id.
func (s *Server) proxyAdvocatePage(c *gin.Context) {
	ctx := c.Request.Context()
	langs := pageLanguages(c)
	if !s.allow(ctx, "a:ip:"+s.hashIP(c.ClientIP()), s.AdvocatePagePerIPPerMinute) {
		s.refusePage(c, http.StatusTooManyRequests, "slow", langs)
		return
	}
	domain, customer, err := shopify.VerifyProxyQuery(c.Request.URL.Query(), s.ShopifySecret, s.Now())
	if err != nil {
		s.refusePage(c, http.StatusForbidden, "bad", langs)
		return
	}
	shop, err := s.Shops.ShopByDomain(ctx, app.PlatformShopify, domain)
	if err != nil || shop.Status != app.ShopInstalled {
		s.refusePage(c, http.StatusNotFound, "none", langs)
		return
	}
	s.customerPage(c, shop, customer, langs)
}

// wooAdvocatePage serves the page to a logged-in WooCommerce customer: the
// companion plugin's My account tab links here with shop, customer_id and
// timestamp signed by the shop's webhook secret (hex HMAC-SHA256 of
// "shop\ncustomer_id\ntimestamp"), the same secret its deliveries carry.
// The store vouches for the customer as Shopify's app proxy does; the link
// is good for 15 minutes.
func (s *Server) wooAdvocatePage(c *gin.Context) {
	ctx := c.Request.Context()
	langs := pageLanguages(c)
	if !s.allow(ctx, "a:ip:"+s.hashIP(c.ClientIP()), s.AdvocatePagePerIPPerMinute) {
		s.refusePage(c, http.StatusTooManyRequests, "slow", langs)
		return
	}
	q := c.Request.URL.Query()
	domain, customer, ts, sig := strings.ToLower(q.Get("shop")), q.Get("customer_id"), q.Get("timestamp"), q.Get("signature")
	at, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || domain == "" || len(domain) > 255 || len(customer) > 20 || s.WooSecrets == nil {
		s.refusePage(c, http.StatusForbidden, "bad", langs)
		return
	}
	if age := s.Now().Sub(time.Unix(at, 0)); age > wooPageLinkMaxAge || age < -time.Minute {
		s.refusePage(c, http.StatusGone, "expired", langs)
		return
	}
	shop, err := s.Shops.ShopByDomain(ctx, app.PlatformWooCommerce, domain)
	if err != nil || shop.Status != app.ShopInstalled {
		s.refusePage(c, http.StatusForbidden, "bad", langs)
		return
	}
	secret, err := s.WooSecrets.WooWebhookSecret(ctx, shop)
	if err != nil {
		s.pageFailed(c, err, langs)
		return
	}
	got, err := hex.DecodeString(sig)
	if err != nil || !hmac.Equal(got, WooPageSignature(secret, domain, customer, ts)) {
		s.refusePage(c, http.StatusForbidden, "bad", langs)
		return
	}
	if customer == "0" {
		customer = ""
	}
	s.customerPage(c, shop, customer, langs)
}

// WooPageSignature is what the plugin signs for a My account link.
func WooPageSignature(secret, shop, customerID, timestamp string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(shop + "\n" + customerID + "\n" + timestamp))
	return m.Sum(nil)
}

func (s *Server) customerPage(c *gin.Context, shop *app.Shop, customer string, langs []string) {
	pg, err := s.AdvocatePages.ForCustomer(c.Request.Context(), shop, customer, langs)
	switch app.ErrorCode(err) {
	case "":
		s.renderAdvocatePage(c, pg)
	case app.EFORBIDDEN:
		s.refusePage(c, http.StatusForbidden, "login", langs)
	case app.ENOTFOUND:
		s.refusePage(c, http.StatusNotFound, "none", langs)
	default:
		s.pageFailed(c, err, langs)
	}
}

func (s *Server) pageFailed(c *gin.Context, err error, langs []string) {
	logging.From(c.Request.Context()).Error("advocate page", "error", err.Error())
	c.Header("Retry-After", "5")
	s.refusePage(c, http.StatusServiceUnavailable, "unavailable", langs)
}

// pageLanguages: ?lang= (emails add the customer's), then the browser's.
func pageLanguages(c *gin.Context) []string {
	return append([]string{c.Query("lang")}, acceptLanguages(c.GetHeader("Accept-Language"))...)
}

// pageHeaders: the page is personal (no caching, no indexing), its address
// is a credential (no Referer to the sites the share buttons open), and it
// runs only its own inline style and script.
func pageHeaders(c *gin.Context) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	nonce := base64.RawStdEncoding.EncodeToString(b)
	h := c.Writer.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store, private")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Robots-Tag", "noindex, nofollow")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'nonce-"+nonce+"'; script-src 'nonce-"+nonce+
		"'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	return nonce
}

func (s *Server) renderAdvocatePage(c *gin.Context, pg *advocatepage.Page) {
	nonce := pageHeaders(c)
	c.Status(http.StatusOK)
	if err := pages.ExecuteTemplate(c.Writer, "advocate", view{"P": pg, "Nonce": nonce, "T": pg.T}); err != nil {
		logging.From(c.Request.Context()).Error("render advocate page", "error", err.Error())
	}
}

// refusePage shows why there is no page (kind: bad, expired, revoked,
// login, none, slow, unavailable) and nothing else.
func (s *Server) refusePage(c *gin.Context, status int, kind string, langs []string) {
	lang := popup.PickLanguage("", langs...)
	nonce := pageHeaders(c)
	if status == http.StatusTooManyRequests {
		c.Header("Retry-After", "60")
	}
	c.Status(status)
	_ = pages.ExecuteTemplate(c.Writer, "advocate_refusal", view{
		"Lang": lang, "Nonce": nonce,
		"Title": advocatepage.Text(lang, kind+"_title"), "Body": advocatepage.Text(lang, kind+"_body"),
	})
}

// consoleAdvocateLinks revokes an advocate's page links (new links are
// signed with the next generation).
func (s *Server) consoleRevokeAdvocateLinks(c *gin.Context) {
	shop := shopFrom(c)
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		fail(c, app.Errorf(app.EINVALID, "advocate id must be a number"))
		return
	}
	ctx := c.Request.Context()
	if err := s.AdvocatePages.Revoke(ctx, shop.ID, id); err != nil {
		fail(c, err)
		return
	}
	if err := s.Console.Record(ctx, shop.ID, principalFrom(c).actor, "revoke_advocate_links", "advocate:"+strconv.FormatInt(id, 10), nil, nil); err != nil {
		fail(c, err)
		return
	}
	back := "/console/shops/" + shop.Domain + "/customers?q=" + url.QueryEscape(c.PostForm("q")) +
		"&done=" + url.QueryEscape("Links revoked: earlier links to this advocate's page no longer work.")
	c.Redirect(http.StatusSeeOther, back)
}
