package httpapi

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/logging"
)

// ReferralLinks is what the /r/{code} redirect needs from storage.
type ReferralLinks interface {
	AdvocateByLinkCode(ctx context.Context, code string) (*app.Advocate, error)
	Program(ctx context.Context, shop *app.Shop) (app.Program, error)
	RecordClick(ctx context.Context, shopID, advocateID int64, channel, ipHash, userAgent string) error
}

// Limiter counts hits per key.
type Limiter interface {
	Allow(ctx context.Context, key string, limit int, window time.Duration) bool
	// Add and Count keep a count per window without limiting (failed
	// logins, which slow an account down).
	Add(ctx context.Context, key string, window time.Duration) int64
	Count(ctx context.Context, key string, window time.Duration) int64
}

var (
	codeShape    = regexp.MustCompile(`^[A-Za-z0-9-]{3,40}$`)
	channelShape = regexp.MustCompile(`^[a-z]{1,20}$`)
)

// referralLink records a click and sends the friend to the store with the
// friend discount applied and the ref kept for attribution. It never shows
// an error page: a friend who clicked a stale link still lands in a store.
func (s *Server) referralLink(c *gin.Context) {
	ctx := c.Request.Context()
	ip := c.ClientIP()
	if s.Limiter != nil && !s.Limiter.Allow(ctx, "r:"+s.hashIP(ip), s.ClicksPerMinute, time.Minute) {
		c.Header("Retry-After", "60")
		c.String(http.StatusTooManyRequests, "Too many requests; try again in a minute.")
		return
	}
	code := c.Param("code")
	var adv *app.Advocate
	var err error
	if codeShape.MatchString(code) {
		adv, err = s.Links.AdvocateByLinkCode(ctx, code)
	}
	if adv == nil {
		if err != nil && app.ErrorCode(err) != app.ENOTFOUND {
			logging.From(ctx).Warn("referral link lookup failed", "error", err.Error())
		}
		c.Header("Content-Type", "text/html; charset=utf-8")
		c.String(http.StatusNotFound, `<!doctype html><meta charset="utf-8"><title>Link expired</title><p style="font:16px system-ui;margin:3rem">This referral link is no longer active. You can still visit the store.</p>`)
		return
	}
	shop, err := s.Shops.ShopByID(ctx, adv.ShopID)
	if err != nil {
		fail(c, err)
		return
	}
	home := s.Stores.LandingURL(shop, "", "")
	prog, err := s.Links.Program(ctx, shop)
	if err != nil || shop.Status != app.ShopInstalled || !prog.Enabled || adv.FriendCodeState != "created" {
		c.Redirect(http.StatusFound, home)
		return
	}
	ch := strings.ToLower(c.Query("ch"))
	if !channelShape.MatchString(ch) {
		ch = ""
	}
	if err := s.Links.RecordClick(ctx, shop.ID, adv.ID, ch, s.hashIP(ip), coarseAgent(c.Request.UserAgent())); err != nil {
		// The friend still gets to the store; the click is lost, logged.
		logging.From(ctx).Warn("record click", "error", err.Error())
	}
	// Each platform lands the friend on the store with the discount
	// applied where it can and the ref kept (app.StorePlatform.LandingURL).
	c.Redirect(http.StatusFound, s.Stores.LandingURL(shop, adv.FriendCode, adv.Code))
}

// hashIP keeps clicks countable per visitor without storing addresses.
func (s *Server) hashIP(ip string) string { return app.HashClickIP([]byte(s.ShopifySecret), ip) }

// coarseAgent keeps only the device class and browser family.
func coarseAgent(ua string) string {
	l := strings.ToLower(ua)
	device := "desktop"
	switch {
	case strings.Contains(l, "mobi") || strings.Contains(l, "iphone") || strings.Contains(l, "android"):
		device = "mobile"
	case strings.Contains(l, "ipad") || strings.Contains(l, "tablet"):
		device = "tablet"
	case strings.Contains(l, "bot") || strings.Contains(l, "crawl") || strings.Contains(l, "spider"):
		device = "bot"
	}
	browser := "other"
	for _, b := range []string{"edg", "chrome", "firefox", "safari"} {
		if strings.Contains(l, b) {
			browser = b
			break
		}
	}
	return device + "/" + browser
}
