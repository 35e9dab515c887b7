package httpapi

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/i18n"
	"github.com/parrain/parrain/app/popup"
	"github.com/parrain/parrain/app/referrals"
)

// The replay of a rule change (app/referrals/replay.go): the admin API's
// POST …/program/replay (the report) and …/program/replay/apply (save and
// apply), and the settings page's "Preview the effect" and "Save and
// apply", which run the same Replayer for both doors of the console.

// defaultReplayDays is the window when the caller does not say.
const defaultReplayDays = 30

func (s *Server) replayRoutes(admin, shopAPI *gin.RouterGroup) {
	admin.POST("/program/replay", s.apiReplay)
	admin.POST("/program/replay/apply", s.apiReplay)
	shopAPI.POST("/program/replay", s.apiReplay)
	shopAPI.POST("/program/replay/apply", requireAct, s.apiReplay)
}

// replayJSON is the body of both calls: the window and the program as it
// would be (the fields of PUT /program; absent fields keep their value).
type replayJSON struct {
	Days    *int        `json:"days"`
	Program programJSON `json:"program"`
}

// apiReplay answers the report, or with /apply saves the program and
// applies the change.
func (s *Server) apiReplay(c *gin.Context) {
	ctx, shop := c.Request.Context(), shopFrom(c)
	if s.Replays == nil {
		fail(c, app.Errorf(app.ENOTFOUND, "replay is not served here"))
		return
	}
	var in replayJSON
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		fail(c, app.Wrap(app.EINVALID, err, "invalid replay JSON: "+err.Error()))
		return
	}
	days := defaultReplayDays
	if in.Days != nil {
		days = *in.Days
	}
	p, err := s.Programs.Program(ctx, shop)
	if err != nil {
		fail(c, err)
		return
	}
	if in.Program.Currency != "" && in.Program.Currency != p.Currency {
		fail(c, app.Errorf(app.EINVALID, "currency is the shop's (%s) and cannot be changed", p.Currency))
		return
	}
	before := toJSON(p)
	in.Program.apply(&p)
	if !strings.HasSuffix(c.FullPath(), "/apply") {
		rep, _, err := s.Replays.Replay(ctx, shop, p, days)
		if err != nil {
			fail(c, err)
			return
		}
		c.JSON(http.StatusOK, rep)
		return
	}
	if pr, ok := c.Get(principalKey); ok && !pr.(*principal).canAct {
		fail(c, app.Errorf(app.EFORBIDDEN, "your role cannot change the program"))
		return
	}
	rep, done, err := s.Replays.Apply(ctx, shop, p, days, s.actorOf(c), before, toJSON(p))
	if err != nil {
		fail(c, err)
		return
	}
	saved, err := s.Programs.Program(ctx, shop)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"report": rep, "applied": len(done), "program": toJSON(saved)})
}

// actorOf is who the audit log names: the console's principal, else the
// merchant of the session token's shop.
func (s *Server) actorOf(c *gin.Context) string {
	if pr, ok := c.Get(principalKey); ok {
		return pr.(*principal).actor
	}
	return "shopify:" + shopFrom(c).Domain
}

// replayDays reads the settings form's window (days), 30 when empty.
func replayDays(v string) (int, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return defaultReplayDays, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, app.Errorf(app.EINVALID, "days must be a whole number between %d and %d", referrals.ReplayMinDays, referrals.ReplayMaxDays)
	}
	return n, referrals.CheckDays(n)
}

// consoleReplay is the settings form sent with intent preview (the report,
// nothing saved: the form keeps the proposed values) or apply (saved and
// applied, back to the settings with what changed).
func (s *Server) consoleReplay(c *gin.Context, intent string, before programJSON, p app.Program) {
	ctx, shop := c.Request.Context(), shopFrom(c)
	L := s.printer(c, shop.Timezone)
	days, err := replayDays(c.PostForm("replay_days"))
	if err != nil {
		s.renderSettingsReplay(c, http.StatusBadRequest, p, map[string]string{"replay_days": L.T("replay.bad_days", referrals.ReplayMinDays, referrals.ReplayMaxDays)}, nil, c.PostForm("replay_days"))
		return
	}
	if intent == "preview" {
		rep, _, err := s.Replays.Replay(ctx, shop, p, days)
		if err != nil {
			if app.ErrorCode(err) == app.EINVALID {
				s.renderSettingsReplay(c, http.StatusBadRequest, p, fieldsOr(err), nil, strconv.Itoa(days))
				return
			}
			fail(c, err)
			return
		}
		s.renderSettingsReplay(c, http.StatusOK, p, nil, replayViewOf(rep, L), strconv.Itoa(days))
		return
	}
	_, done, err := s.Replays.Apply(ctx, shop, p, days, principalFrom(c).actor, before, toJSON(p))
	if err != nil {
		if app.ErrorCode(err) == app.EINVALID {
			s.renderSettingsReplay(c, http.StatusBadRequest, p, fieldsOr(err), nil, strconv.Itoa(days))
			return
		}
		fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/shops/"+shop.Domain+"/settings?done="+url.QueryEscape(L.T("replay.applied", len(done))))
}

func fieldsOr(err error) map[string]string {
	fields := map[string]string(app.FieldsOf(err))
	if len(fields) == 0 {
		fields = map[string]string{"program": app.ErrorMessage(err)}
	}
	return fields
}

func (s *Server) renderSettingsReplay(c *gin.Context, status int, p app.Program, fields map[string]string, rv *replayView, days string) {
	c.Set(replayViewKey, replayPage{View: rv, Days: days})
	s.renderSettings(c, status, p, fields)
}

const replayViewKey = "parrain.replay"

// replayPage is what the settings page's replay block shows.
type replayPage struct {
	View *replayView
	Days string
}

// replayFor is the replay block of the settings page being rendered.
func replayFor(c *gin.Context) replayPage {
	if v, ok := c.Get(replayViewKey); ok {
		return v.(replayPage)
	}
	return replayPage{Days: strconv.Itoa(defaultReplayDays)}
}

// replayView is a report in the viewer's words: outcomes from the
// catalogue, money in their language, dates in the shop's zone.
type replayView struct {
	R                           *referrals.ReplayReport
	From, To                    string
	CostNow, CostThen, CostDiff string
	Rows                        []replayRow
	More                        int
}

type replayRow struct {
	Order, Placed, Total, Advocate, Current, Proposed, Reason, Apply string
	ReferralID                                                       int64
}

// replayRowsShown bounds the table; the figures count every change.
const replayRowsShown = 50

func replayViewOf(rep *referrals.ReplayReport, L *i18n.Printer) *replayView {
	money := func(minor int64) string {
		m := popup.FormatMoney(app.Money{Minor: abs(minor), Currency: rep.Currency}, L.Lang)
		if minor < 0 {
			return "−" + m
		}
		if minor > 0 {
			return "+" + m
		}
		return m
	}
	v := &replayView{R: rep, From: L.Date(rep.From), To: L.Date(rep.To),
		CostNow:  popup.FormatMoney(app.Money{Minor: rep.Current.RewardCostMinor, Currency: rep.Currency}, L.Lang),
		CostThen: popup.FormatMoney(app.Money{Minor: rep.Proposed.RewardCostMinor, Currency: rep.Currency}, L.Lang),
		CostDiff: money(rep.RewardCostDiffMinor)}
	for i, ch := range rep.Changes {
		if i == replayRowsShown {
			v.More = rep.ChangesTotal - replayRowsShown
			break
		}
		v.Rows = append(v.Rows, replayRow{Order: ch.OrderName, Placed: L.Date(ch.PlacedAt),
			Total:    popup.FormatMoney(app.Money{Minor: ch.TotalMinor, Currency: rep.Currency}, L.Lang),
			Advocate: ch.AdvocateCode, Current: L.T("replay.outcome." + ch.Current.Outcome), Proposed: L.T("replay.outcome." + ch.Proposed.Outcome),
			Reason: ch.Proposed.Reason, Apply: L.T("replay.apply." + ch.Apply), ReferralID: ch.ReferralID})
	}
	return v
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}
