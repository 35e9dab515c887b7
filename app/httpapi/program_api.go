package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/integrations/shopify"
)

// Programs reads and saves a shop's program.
type Programs interface {
	Program(ctx context.Context, shop *app.Shop) (app.Program, error)
	SaveProgram(ctx context.Context, p app.Program) error
}

const shopKey = "parrain.shop"

// requireShopifySession authenticates an embedded-admin call by its App
// Bridge session token. The shop in the token is the only shop the request
// can touch: handlers read it from the context, never from the request.
func (s *Server) requireShopifySession(c *gin.Context) {
	raw, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
	if !ok || raw == "" {
		fail(c, app.Errorf(app.EUNAUTHORIZED, "missing session token (Authorization: Bearer …)"))
		return
	}
	domain, _, err := shopify.VerifySessionToken(raw, s.ShopifyKey, s.ShopifySecret, true, s.Now())
	if err != nil {
		fail(c, err)
		return
	}
	shop, err := s.Shops.ShopByDomain(c.Request.Context(), app.PlatformShopify, domain)
	if err != nil && app.ErrorCode(err) != app.ENOTFOUND {
		fail(c, err) // an outage is a 503, not a 403
		return
	}
	if err != nil || shop.Status != app.ShopInstalled {
		fail(c, app.Errorf(app.EFORBIDDEN, "shop is not installed"))
		return
	}
	c.Set(shopKey, shop)
	c.Next()
}

func shopFrom(c *gin.Context) *app.Shop { return c.MustGet(shopKey).(*app.Shop) }

// programJSON is the program as the API shows and takes it.
type programJSON struct {
	Enabled               *bool       `json:"enabled"`
	Currency              string      `json:"currency"`
	FriendKind            *string     `json:"friend_kind"`
	FriendPercent         *int        `json:"friend_percent"`
	FriendAmountMinor     *int64      `json:"friend_amount_minor"`
	FriendMinOrderMinor   *int64      `json:"friend_min_order_minor"`
	RewardKind            *string     `json:"reward_kind"`
	RewardPercent         *int        `json:"reward_percent"`
	RewardAmountMinor     *int64      `json:"reward_amount_minor"`
	RewardExpiryDays      *int        `json:"reward_expiry_days"`
	HoldingDays           *int        `json:"holding_days"`
	NewCustomersOnly      *bool       `json:"new_customers_only"`
	MinOrderMinor         *int64      `json:"min_order_minor"`
	ExcludeTestOrders     *bool       `json:"exclude_test_orders"`
	ExcludedSources       []string    `json:"excluded_sources"`
	CapPerAdvocate        *int        `json:"cap_per_advocate"`
	CapWindowDays         *int        `json:"cap_window_days"`
	VelocityPerIP         *int        `json:"velocity_per_ip"`
	VelocityPerAdvocate   *int        `json:"velocity_per_advocate"`
	VelocityWindowMinutes *int        `json:"velocity_window_minutes"`
	Widget                *widgetJSON `json:"widget,omitempty"`
	// Milestones replaces the whole ladder when sent ([] removes it).
	Milestones *[]app.Milestone `json:"milestones,omitempty"`
}

// widgetJSON is the popup's settings as the API shows and takes them.
type widgetJSON struct {
	Enabled         *bool                        `json:"enabled"`
	Language        *string                      `json:"language"`
	Texts           map[string]map[string]string `json:"texts"`
	AccentColor     *string                      `json:"accent_color"`
	BackgroundColor *string                      `json:"background_color"`
	TextColor       *string                      `json:"text_color"`
	Position        *string                      `json:"position"`
	CapDays         *int                         `json:"frequency_cap_days"`
	Launcher        *bool                        `json:"launcher"`
}

func toJSON(p app.Program) programJSON {
	w := p.Widget
	ladder := append([]app.Milestone{}, p.Milestones...)
	return programJSON{
		Enabled: &p.Enabled, Currency: p.Currency, FriendKind: &p.FriendKind, FriendPercent: &p.FriendPercent,
		FriendAmountMinor: &p.FriendAmountMinor, FriendMinOrderMinor: &p.FriendMinOrderMinor, RewardKind: &p.RewardKind,
		RewardPercent: &p.RewardPercent, RewardAmountMinor: &p.RewardAmountMinor, RewardExpiryDays: &p.RewardExpiryDays,
		HoldingDays: &p.HoldingDays, NewCustomersOnly: &p.NewCustomersOnly, MinOrderMinor: &p.MinOrderMinor,
		ExcludeTestOrders: &p.ExcludeTestOrders, ExcludedSources: append([]string{}, p.ExcludedSources...),
		CapPerAdvocate: &p.CapPerAdvocate, CapWindowDays: &p.CapWindowDays, VelocityPerIP: &p.VelocityPerIP,
		VelocityPerAdvocate: &p.VelocityPerAdvocate, VelocityWindowMinutes: &p.VelocityWindowMinutes,
		Widget: &widgetJSON{
			Enabled: &w.Enabled, Language: &w.Language, Texts: w.Texts, AccentColor: &w.AccentColor,
			BackgroundColor: &w.BackgroundColor, TextColor: &w.TextColor, Position: &w.Position,
			CapDays: &w.CapDays, Launcher: &w.Launcher,
		},
		Milestones: &ladder,
	}
}

// set copies v into dst when the caller sent it.
func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// apply copies the fields the caller sent; absent fields keep their value.
func (j programJSON) apply(p *app.Program) {
	set(&p.Enabled, j.Enabled)
	set(&p.FriendKind, j.FriendKind)
	set(&p.FriendPercent, j.FriendPercent)
	set(&p.FriendAmountMinor, j.FriendAmountMinor)
	set(&p.FriendMinOrderMinor, j.FriendMinOrderMinor)
	set(&p.RewardKind, j.RewardKind)
	set(&p.RewardPercent, j.RewardPercent)
	set(&p.RewardAmountMinor, j.RewardAmountMinor)
	set(&p.RewardExpiryDays, j.RewardExpiryDays)
	set(&p.HoldingDays, j.HoldingDays)
	set(&p.NewCustomersOnly, j.NewCustomersOnly)
	set(&p.MinOrderMinor, j.MinOrderMinor)
	set(&p.ExcludeTestOrders, j.ExcludeTestOrders)
	if j.ExcludedSources != nil {
		p.ExcludedSources = j.ExcludedSources
	}
	set(&p.CapPerAdvocate, j.CapPerAdvocate)
	set(&p.CapWindowDays, j.CapWindowDays)
	set(&p.VelocityPerIP, j.VelocityPerIP)
	set(&p.VelocityPerAdvocate, j.VelocityPerAdvocate)
	set(&p.VelocityWindowMinutes, j.VelocityWindowMinutes)
	if j.Milestones != nil {
		p.Milestones = *j.Milestones
	}
	if w := j.Widget; w != nil {
		set(&p.Widget.Enabled, w.Enabled)
		set(&p.Widget.Language, w.Language)
		if w.Texts != nil {
			// Texts replace the whole override set: what the merchant
			// removed in the form goes back to the built-in text.
			p.Widget.Texts = w.Texts
		}
		set(&p.Widget.AccentColor, w.AccentColor)
		set(&p.Widget.BackgroundColor, w.BackgroundColor)
		set(&p.Widget.TextColor, w.TextColor)
		set(&p.Widget.Position, w.Position)
		set(&p.Widget.CapDays, w.CapDays)
		set(&p.Widget.Launcher, w.Launcher)
	}
}

func (s *Server) getProgram(c *gin.Context) {
	p, err := s.Programs.Program(c.Request.Context(), shopFrom(c))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toJSON(p))
}

// putProgram changes the program. The currency is the shop's and cannot be
// set: every amount is in it.
func (s *Server) putProgram(c *gin.Context) {
	var in programJSON
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		fail(c, app.Wrap(app.EINVALID, err, "invalid program JSON: "+err.Error()))
		return
	}
	p, err := s.Programs.Program(c.Request.Context(), shopFrom(c))
	if err != nil {
		fail(c, err)
		return
	}
	if in.Currency != "" && in.Currency != p.Currency {
		fail(c, app.Errorf(app.EINVALID, "currency is the shop's (%s) and cannot be changed", p.Currency))
		return
	}
	before := toJSON(p)
	in.apply(&p)
	if err := s.storeProblems(shopFrom(c), p).Err(); err != nil {
		fail(c, err)
		return
	}
	if err := s.Programs.SaveProgram(c.Request.Context(), p); err != nil {
		fail(c, err)
		return
	}
	if s.Console != nil {
		actor := "shopify:" + shopFrom(c).Domain
		if pr, ok := c.Get(principalKey); ok {
			actor = pr.(*principal).actor
		}
		if err := s.Console.Record(c.Request.Context(), p.ShopID, actor, "update_program", "program", before, toJSON(p)); err != nil {
			fail(c, err)
			return
		}
	}
	c.JSON(http.StatusOK, toJSON(p))
}
