package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/popup"
	"github.com/parrain/parrain/integrations/shopify"
)

// Popups answers the widget's session requests.
type Popups interface {
	Session(ctx context.Context, r popup.Request) (*popup.Content, error)
	ForCustomer(ctx context.Context, shop *app.Shop, customerID string, languages []string) (*popup.Content, error)
}

// widgetCORS lets any store page call the widget API. No cookies are ever
// read on these routes, so "*" is safe; the checkout extension sends its
// session token in Authorization (shopify.md §1.3).
func widgetCORS(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", "Retry-After")
	if c.Request.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
		h.Set("Access-Control-Max-Age", "7200")
		c.AbortWithStatus(http.StatusNoContent)
		return
	}
	c.Next()
}

type widgetSessionRequest struct {
	Shop     string `json:"shop"`
	OrderID  string `json:"order_id"`
	Email    string `json:"email"`
	OrderKey string `json:"order_key"`
	// ConfirmationNumber is the order's confirmation number, which the
	// thank-you extension reads (shopify.orderConfirmation.value.number).
	ConfirmationNumber string   `json:"confirmation_number"`
	Lang               string   `json:"lang"`
	Langs              []string `json:"langs"`
	// Platform is "woocommerce" for a WooCommerce store; Shopify otherwise.
	Platform string `json:"platform"`
}

// orderIDShape accepts a platform order id, bare or as a Shopify GID
// (gid://shopify/Order/123, gid://shopify/OrderIdentity/123).
var orderIDShape = regexp.MustCompile(`^(?:gid://shopify/[A-Za-z]+/)?([0-9]{1,20})$`)

// widgetSession shows the order's referral popup to a caller who proves
// they saw the order: a checkout-extension session token, or the order's
// email (or WooCommerce order key). 202 while the order is not processed.
func (s *Server) widgetSession(c *gin.Context) {
	ctx := c.Request.Context()
	ipKey := "w:ip:" + s.hashIP(c.ClientIP())
	if !s.allow(ctx, ipKey, s.WidgetPerIPPerMinute) {
		fail(c, app.Errorf(app.ERATELIMITED, "too many requests from this address; try again in a minute"))
		return
	}
	var in widgetSessionRequest
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, 4<<10))
	if err := dec.Decode(&in); err != nil {
		fail(c, app.Wrap(app.EINVALID, err, "body must be a JSON object with order_id"))
		return
	}
	m := orderIDShape.FindStringSubmatch(strings.TrimSpace(in.OrderID))
	if m == nil {
		fail(c, app.Errorf(app.EINVALID, "order_id must be the order's id"))
		return
	}
	req := popup.Request{OrderID: m[1], Proof: popup.Proof{Email: in.Email, OrderKey: in.OrderKey, ConfirmationNumber: in.ConfirmationNumber}}
	domain := strings.ToLower(strings.TrimSpace(in.Shop))
	if raw, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer "); ok {
		// Extension tokens are checked without the audience, like
		// Shopify's own server code (shopify.md §1.3).
		d, claims, err := shopify.VerifySessionToken(raw, s.ShopifyKey, s.ShopifySecret, false, s.Now())
		if err != nil {
			fail(c, app.Errorf(app.EFORBIDDEN, "invalid or expired session token"))
			return
		}
		if domain != "" && domain != d {
			fail(c, app.Errorf(app.EFORBIDDEN, "the session token is for another shop"))
			return
		}
		domain = d
		req.Proof.SessionToken = true
		if sub := claims.Subject; sub != "" {
			req.Proof.TokenCustomerID = sub[strings.LastIndexByte(sub, '/')+1:]
		}
	}
	platform := app.PlatformShopify
	if in.Platform == string(app.PlatformWooCommerce) && !req.Proof.SessionToken {
		// A WooCommerce store is known by its host (and folder).
		platform = app.PlatformWooCommerce
		if domain == "" || len(domain) > 255 || strings.ContainsAny(domain, " \t\r\n?#") {
			fail(c, app.Errorf(app.EINVALID, "shop must be the store's host"))
			return
		}
	} else {
		d, err := shopify.NormalizeShop(domain)
		if err != nil {
			fail(c, app.Errorf(app.EINVALID, "shop must be the store's myshopify.com domain"))
			return
		}
		domain = d
	}
	if !s.allow(ctx, "w:shop:"+domain, s.WidgetPerShopPerMinute) {
		fail(c, app.Errorf(app.ERATELIMITED, "too many requests for this shop; try again in a minute"))
		return
	}
	// Same answer for an unknown shop as for a failed proof: the API does
	// not confirm which shops use Parrain.
	shop, ok := s.widgetShop(c, platform, domain, "cannot show a referral link: this page did not prove it shows this order")
	if !ok {
		return
	}
	s.sawSignal(ctx, shop.ID, app.SignalThankYou)
	req.Shop = shop
	req.Languages = in.languages(c)
	content, err := s.Popups.Session(ctx, req)
	c.Header("Cache-Control", "no-store")
	if errors.Is(err, popup.ErrPending) {
		c.Header("Retry-After", "1")
		c.JSON(http.StatusAccepted, gin.H{"state": "pending", "retry_after_ms": 1000})
		return
	}
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, struct {
		State string `json:"state"`
		*popup.Content
	}{"ready", content})
}

// proxyWidgetSession serves the storefront launcher through Shopify's app
// proxy (https://{shop}/apps/parrain/widget/session → /proxy/shopify/widget/session):
// same origin as the store, and Shopify signs the logged-in customer's id,
// so no other proof is needed.
func (s *Server) proxyWidgetSession(c *gin.Context) {
	ctx := c.Request.Context()
	if !s.allow(ctx, "w:ip:"+s.hashIP(c.ClientIP()), s.WidgetPerIPPerMinute) {
		fail(c, app.Errorf(app.ERATELIMITED, "too many requests from this address; try again in a minute"))
		return
	}
	domain, customer, err := shopify.VerifyProxyQuery(c.Request.URL.Query(), s.ShopifySecret, s.Now())
	if err != nil {
		fail(c, app.Errorf(app.EFORBIDDEN, "not a signed app proxy request"))
		return
	}
	shop, ok := s.widgetShop(c, app.PlatformShopify, domain, "shop is not installed")
	if !ok {
		return
	}
	s.sawSignal(ctx, shop.ID, app.SignalStorefront)
	var in widgetSessionRequest
	_ = json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, 4<<10)).Decode(&in) // only languages are read
	content, err := s.Popups.ForCustomer(ctx, shop, customer, in.languages(c))
	c.Header("Cache-Control", "no-store, private")
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, struct {
		State string `json:"state"`
		*popup.Content
	}{"ready", content})
}

// widgetShop loads an installed shop for the widget API; an unknown or
// uninstalled one is refused with the given message.
func (s *Server) widgetShop(c *gin.Context, platform app.Platform, domain, refusal string) (*app.Shop, bool) {
	shop, err := s.Shops.ShopByDomain(c.Request.Context(), platform, domain)
	if app.ErrorCode(err) == app.ENOTFOUND || (err == nil && shop.Status != app.ShopInstalled) {
		fail(c, app.Errorf(app.EFORBIDDEN, "%s", refusal))
		return nil, false
	}
	if err != nil {
		fail(c, err)
		return nil, false
	}
	if shop.Name == "" {
		shop.Name = domain
	}
	return shop, true
}

// languages are the shopper's, most preferred first: the page's, the
// browser's, then Accept-Language.
func (in widgetSessionRequest) languages(c *gin.Context) []string {
	return append(append([]string{in.Lang}, in.Langs...), acceptLanguages(c.GetHeader("Accept-Language"))...)
}

// allow applies a per-minute limit; 0 means none.
func (s *Server) allow(ctx context.Context, key string, perMinute int) bool {
	return s.Limiter == nil || perMinute <= 0 || s.Limiter.Allow(ctx, key, perMinute, time.Minute)
}

// acceptLanguages lists Accept-Language tags by preference.
func acceptLanguages(h string) []string {
	type tag struct {
		name string
		q    float64
	}
	var tags []tag
	for _, part := range strings.Split(h, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		if name != "" && name != "*" && q > 0 {
			tags = append(tags, tag{name, q})
		}
	}
	// Stable insertion sort: a handful of tags at most.
	for i := 1; i < len(tags); i++ {
		for j := i; j > 0 && tags[j].q > tags[j-1].q; j-- {
			tags[j], tags[j-1] = tags[j-1], tags[j]
		}
	}
	out := make([]string, len(tags))
	for i, t := range tags {
		out[i] = t.name
	}
	return out
}
