package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parrain/parrain/app"
)

// MilestoneReader reads an advocate's standing on the milestone ladder.
type MilestoneReader interface {
	// AdvocateMilestones returns the advocate's approved referrals that
	// stand and their milestone bonuses; ENOTFOUND when the advocate is
	// not the shop's.
	AdvocateMilestones(ctx context.Context, shopID, advocateID int64) (int, []app.Reward, error)
}

func (s *Server) milestoneRoutes(shopAPI *gin.RouterGroup) {
	if s.Milestones == nil {
		return
	}
	shopAPI.GET("/advocates/:id/milestones", s.apiAdvocateMilestones)
}

// milestoneRewardJSON is a milestone bonus as the API shows it.
type milestoneRewardJSON struct {
	ID               int64      `json:"id"`
	Code             string     `json:"code"`
	MilestoneFriends int        `json:"milestone_friends"`
	Kind             string     `json:"kind"`
	Percent          int        `json:"percent,omitempty"`
	AmountMinor      int64      `json:"amount_minor,omitempty"`
	Currency         string     `json:"currency"`
	State            string     `json:"state"`
	ExpiresAt        *time.Time `json:"expires_at"`
	ReviewSince      *time.Time `json:"review_since"`
}

func toMilestoneRewardJSON(w app.Reward) milestoneRewardJSON {
	return milestoneRewardJSON{ID: w.ID, Code: w.Code, MilestoneFriends: w.MilestoneFriends, Kind: w.Kind, Percent: w.Percent,
		AmountMinor: w.AmountMinor, Currency: w.Currency, State: w.State, ExpiresAt: w.ExpiresAt, ReviewSince: w.ReviewSince}
}

func (s *Server) apiAdvocateMilestones(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	ctx, shop := c.Request.Context(), shopFrom(c)
	approved, rewards, err := s.Milestones.AdvocateMilestones(ctx, shop.ID, id)
	if err != nil {
		fail(c, err)
		return
	}
	p, err := s.Programs.Program(ctx, shop)
	if err != nil {
		fail(c, err)
		return
	}
	prog := app.ProgressOn(p.Milestones, approved)
	out := struct {
		Approved int                   `json:"approved"`
		Reached  int                   `json:"reached"`
		Next     *app.Milestone        `json:"next"`
		Rewards  []milestoneRewardJSON `json:"rewards"`
	}{Approved: approved, Reached: prog.Reached, Next: prog.Next, Rewards: []milestoneRewardJSON{}}
	for _, w := range rewards {
		out.Rewards = append(out.Rewards, toMilestoneRewardJSON(w))
	}
	c.JSON(http.StatusOK, out)
}

// milestoneRow is one line of the settings form's ladder.
type milestoneRow struct {
	Index   int
	Step    int // Index + 1, as the form labels it
	Friends string
	Kind    string
	Value   string
}

// milestoneFormRows are the ladder's lines on the settings form: every
// step, then empty lines up to two more (within MaxMilestones) to add
// steps without JavaScript.
func milestoneFormRows(p app.Program) []milestoneRow {
	var rows []milestoneRow
	for i, m := range p.Milestones {
		r := milestoneRow{Index: i, Step: i + 1, Friends: strconv.Itoa(m.Friends), Kind: m.Kind}
		switch m.Kind {
		case app.OfferPercent:
			r.Value = strconv.Itoa(m.Percent)
		case app.OfferFixed:
			r.Value = app.Money{Minor: m.AmountMinor, Currency: p.Currency}.Decimal()
		}
		rows = append(rows, r)
	}
	for len(rows) < min(len(p.Milestones)+2, app.MaxMilestones) {
		rows = append(rows, milestoneRow{Index: len(rows), Step: len(rows) + 1, Kind: app.OfferFixed})
	}
	return rows
}

// milestonesFromForm reads the ladder from the settings form, when the form
// has it (milestone_rows: how many lines it showed). A line without a
// number of friends is no step: clearing it removes the step. Bad values
// are named by field; the ladder's rules are checked by Program.Problems.
func milestonesFromForm(get func(string) string, has func(string) bool, p *app.Program, bad map[string]string) {
	if !has("milestone_rows") {
		return
	}
	n, err := strconv.Atoi(get("milestone_rows"))
	if err != nil || n < 0 || n > app.MaxMilestones+2 {
		bad["milestones"] = "the form's milestone lines are missing"
		return
	}
	ladder := []app.Milestone{}
	for i := range n {
		friends := strings.TrimSpace(get(app.MilestoneField("friends", i)))
		if friends == "" {
			continue
		}
		// Problems are keyed by the step's place in the ladder, which is
		// its line on the form only when no line above was left empty:
		// the form's own problems use the line, so they show beside it.
		line := len(ladder)
		m := app.Milestone{Kind: strings.TrimSpace(get(app.MilestoneField("kind", i)))}
		if m.Friends, err = strconv.Atoi(friends); err != nil {
			bad[app.MilestoneField("friends", line)] = "a whole number"
		}
		v := strings.TrimSpace(get(app.MilestoneField("value", i)))
		switch m.Kind {
		case app.OfferPercent:
			if m.Percent, err = strconv.Atoi(v); err != nil {
				bad[app.MilestoneField("value", line)] = "a whole number of percent"
			}
		case app.OfferFixed:
			if mon, err := app.ParseMoney(v, p.Currency); err != nil {
				bad[app.MilestoneField("value", line)] = "an amount in " + p.Currency
			} else {
				m.AmountMinor = mon.Minor
			}
		}
		ladder = append(ladder, m)
	}
	p.Milestones = ladder
}
