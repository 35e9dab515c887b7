package httpapi

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/i18n"
	"github.com/parrain/parrain/app/review"
)

// langCookie keeps the language a viewer chose (?lang=fr) for the next pages.
const langCookie = "parrain_lang"

const printerKey = "parrain.printer"

// printer is the viewer's words and the shop's time: the language chosen
// (?lang=, then the cookie it leaves) or asked by the browser
// (Accept-Language), dates in the shop's zone (zone: IANA, "" is UTC).
func (s *Server) printer(c *gin.Context, zone string) *i18n.Printer {
	if p, ok := c.Get(printerKey); ok {
		return p.(*i18n.Printer)
	}
	choice := c.Query("lang")
	if choice != "" && i18n.Pick(choice, "") == choice {
		c.SetSameSite(http.SameSiteLaxMode)
		c.SetCookie(langCookie, choice, 365*24*3600, "/", "", strings.HasPrefix(s.AppURL, "https://"), true)
	} else if ck, err := c.Cookie(langCookie); err == nil {
		choice = ck
	}
	p := i18n.New(i18n.Pick(choice, c.GetHeader("Accept-Language")), zone)
	c.Set(printerKey, p)
	return p
}

// consoleProgramSwitch turns the whole program on or off: off, orders are
// no longer attributed, links land on the store's home page and the popup
// stays hidden (app/referrals, app/popup read Program.Enabled).
func (s *Server) consoleProgramSwitch(c *gin.Context) {
	ctx, shop := c.Request.Context(), shopFrom(c)
	p, err := s.Programs.Program(ctx, shop)
	if err != nil {
		fail(c, err)
		return
	}
	on := c.PostForm("enabled") == "1"
	back := c.PostForm("back")
	if !strings.HasPrefix(back, "/console/shops/"+shop.Domain+"/") || strings.ContainsAny(back, "\\\r\n") {
		back = "/console/shops/" + shop.Domain + "/settings"
	}
	back, _, _ = strings.Cut(back, "?")
	l := s.printer(c, shop.Timezone)
	msg := l.T("done.program_off")
	if on {
		msg = l.T("done.program_on")
	}
	if p.Enabled != on {
		before := p.Enabled
		p.Enabled = on
		if err := s.Programs.SaveProgram(ctx, p); err != nil {
			fail(c, err)
			return
		}
		if err := s.Console.Record(ctx, shop.ID, principalFrom(c).actor, "switch_program", "program",
			map[string]bool{"enabled": before}, map[string]bool{"enabled": on}); err != nil {
			fail(c, err)
			return
		}
	}
	c.Redirect(http.StatusSeeOther, back+"?done="+url.QueryEscape(msg))
}

// confirmation says what an action did, in the viewer's words.
func (s *Server) confirmation(c *gin.Context, action string, id int64) string {
	l := s.printer(c, shopFrom(c).Timezone)
	if action == "approve" {
		if d, err := s.Review.Detail(c.Request.Context(), shopFrom(c), id); err == nil && d.Reward != nil {
			return l.T("done.approve_code", d.Reward.Code)
		}
	}
	if l.Has("done." + action) {
		return l.T("done." + action)
	}
	return l.T("done.generic")
}

// outcomeKey titles the referral's box by what came of it.
func outcomeKey(d *review.Detail) string {
	switch {
	case d.Reward != nil && d.Reward.State == app.RewardRevoked:
		return "outcome.revoked"
	case d.Reward != nil && d.Reward.State == app.RewardFailed:
		return "outcome.reward_failed"
	}
	return "outcome." + d.State
}

// consoleWhyNot answers "why is this order not a referral?": the orders
// matching a number, name or email, each with the evidence Parrain saw and
// what stopped it, in the engine's own words and rules.
func (s *Server) consoleWhyNot(c *gin.Context) {
	q := strings.TrimSpace(c.Query("q"))
	v := view{"Title": "Why not?", "Page": "whynot", "Q": q}
	if q != "" {
		xs, err := s.Review.WhyNot(c.Request.Context(), shopFrom(c), q)
		if err != nil {
			if app.ErrorCode(err) != app.EINVALID {
				fail(c, err)
				return
			}
			v["Error"] = app.ErrorMessage(err)
		}
		v["Results"] = xs
	}
	s.render(c, http.StatusOK, "whynot", v)
}

// consoleCheckAttribution shows what attributing an order by hand would do:
// every rule's outcome, and the form to attribute (with an override when a
// rule refuses).
func (s *Server) consoleCheckAttribution(c *gin.Context) {
	order, code := strings.TrimSpace(c.Query("order_id")), strings.TrimSpace(c.Query("advocate_code"))
	v := view{"Title": "Attribute by hand", "Page": "queue", "Order": order, "Code": code}
	if order != "" && code != "" {
		chk, err := s.Review.CheckAttribution(c.Request.Context(), shopFrom(c), order, code)
		if err != nil {
			switch app.ErrorCode(err) {
			case app.EINVALID, app.ENOTFOUND:
				v["Error"] = app.ErrorMessage(err)
			default:
				fail(c, err)
				return
			}
		} else {
			v["Check"] = chk
		}
	}
	if e := c.Query("error"); e != "" {
		v["Error"] = e
	}
	s.render(c, http.StatusOK, "attribute", v)
}

// apiWhyNot is consoleWhyNot for the embedded admin.
func (s *Server) apiWhyNot(c *gin.Context) {
	xs, err := s.Review.WhyNot(c.Request.Context(), shopFrom(c), c.Query("q"))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, xs)
}

// apiCheckAttribution is consoleCheckAttribution for the embedded admin.
func (s *Server) apiCheckAttribution(c *gin.Context) {
	chk, err := s.Review.CheckAttribution(c.Request.Context(), shopFrom(c), c.Query("order_id"), c.Query("advocate_code"))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"order_id": chk.Order.Facts.PlatformID, "order_name": chk.Order.Facts.Name,
		"advocate_code": chk.Advocate.Code, "passes": chk.Passes(), "decision": chk.Decision})
}
