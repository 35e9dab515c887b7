package httpapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/review"
	"github.com/parrain/parrain/app/staff"
	"github.com/parrain/parrain/integrations/shopify"
)

// Staff logs console members in and recognises their sessions.
type Staff interface {
	Login(ctx context.Context, email, password string) (*staff.Session, *staff.Member, error)
	Authenticate(ctx context.Context, token string) (*staff.Session, *staff.Member, error)
	Logout(ctx context.Context, token string) error
	Add(ctx context.Context, email, name string, role staff.Role, password string, shopDomains []string) (*staff.Member, error)
}

// sessionCookie carries a console member's session token.
const sessionCookie = "parrain_console"

// principal is who calls the admin API or the console: a merchant inside
// the Shopify admin (their shop only) or a staff member (their shops).
type principal struct {
	actor   string
	canAct  bool
	onlyFor int64 // the merchant's shop; 0 for staff
	member  *staff.Member
	session *staff.Session
}

func (p *principal) canSee(shopID int64) bool {
	if p.member != nil {
		return p.member.CanSee(shopID)
	}
	return p.onlyFor == shopID
}

func (p *principal) reviewActor() review.Actor { return review.Actor{ID: p.actor, CanAct: p.canAct} }

const principalKey = "parrain.principal"

func principalFrom(c *gin.Context) *principal { return c.MustGet(principalKey).(*principal) }

// authenticate is the one place the admin API and the console decide who is
// calling. A Bearer token is a Shopify session token (the embedded admin);
// otherwise the console's session cookie, and then every request that
// changes something must carry the session's CSRF token (X-CSRF-Token header
// or csrf form field).
func (s *Server) authenticate(pages bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		if raw, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer "); ok {
			domain, claims, err := shopify.VerifySessionToken(raw, s.ShopifyKey, s.ShopifySecret, true, s.Now())
			if err != nil {
				fail(c, err)
				return
			}
			shop, err := s.Shops.ShopByDomain(ctx, app.PlatformShopify, domain)
			if err != nil && app.ErrorCode(err) != app.ENOTFOUND {
				fail(c, err)
				return
			}
			if err != nil || shop.Status != app.ShopInstalled {
				fail(c, app.Errorf(app.EFORBIDDEN, "shop is not installed"))
				return
			}
			c.Set(principalKey, &principal{actor: "shopify:" + domain + "/" + claims.Subject, canAct: true, onlyFor: shop.ID})
			c.Set(shopKey, shop)
			c.Next()
			return
		}
		cookie, _ := c.Cookie(sessionCookie)
		var sess *staff.Session
		var m *staff.Member
		var err error = app.Errorf(app.EUNAUTHORIZED, "log in first")
		if cookie != "" && s.Staff != nil {
			sess, m, err = s.Staff.Authenticate(ctx, cookie)
		}
		if err != nil {
			if pages && app.ErrorCode(err) == app.EUNAUTHORIZED {
				c.Redirect(http.StatusSeeOther, "/console/login")
				c.Abort()
				return
			}
			fail(c, err)
			return
		}
		if c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead {
			token := c.GetHeader("X-CSRF-Token")
			if token == "" {
				token = c.PostForm("csrf")
			}
			if !staff.CheckCSRF(sess, token) {
				fail(c, app.Errorf(app.EFORBIDDEN, "missing or wrong CSRF token: reload the page"))
				return
			}
		}
		c.Set(principalKey, &principal{actor: "staff:" + m.Email, canAct: m.CanAct(), member: m, session: sess})
		c.Next()
	}
}

// scopeShop resolves the :shop of the path and lets the request through
// only if the caller may see it. Another shop's data is "not found", never
// "forbidden": the answer does not confirm that a shop exists.
func (s *Server) scopeShop(c *gin.Context) {
	p := principalFrom(c)
	domain := strings.ToLower(c.Param("shop"))
	platform := app.PlatformShopify
	if !strings.HasSuffix(domain, ".myshopify.com") {
		platform = app.PlatformWooCommerce // known by its host
	}
	shop, err := s.Shops.ShopByDomain(c.Request.Context(), platform, domain)
	if err != nil && app.ErrorCode(err) != app.ENOTFOUND {
		fail(c, err)
		return
	}
	if err != nil || !p.canSee(shop.ID) {
		fail(c, app.Errorf(app.ENOTFOUND, "no shop %s", domain))
		return
	}
	c.Set(shopKey, shop)
	c.Next()
}

// requireAct refuses read-only callers.
func requireAct(c *gin.Context) {
	if !principalFrom(c).canAct {
		fail(c, app.Errorf(app.EFORBIDDEN, "your role is read-only"))
		return
	}
	c.Next()
}
