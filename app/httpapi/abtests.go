package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/experiment"
	"github.com/parrain/parrain/app/i18n"
	"github.com/parrain/parrain/app/popup"
)

// Experiments are the merchant's A/B tests of the offer (app/experiment).
type Experiments interface {
	Start(ctx context.Context, shop *app.Shop, t experiment.Test) (*experiment.Test, error)
	List(ctx context.Context, shop *app.Shop, limit int) ([]experiment.Test, error)
	Results(ctx context.Context, shop *app.Shop, id int64) (*experiment.Results, error)
	End(ctx context.Context, shop *app.Shop, id int64, keep experiment.Arm) (*experiment.Results, error)
}

// abtestRoutes serves A/B tests in the admin API and the console (the
// console's pages serve the embedded admin too). Starting and ending a
// test change the offer: staff who can act, like the program.
func (s *Server) abtestRoutes(api, console *gin.RouterGroup) {
	api.GET("/abtests", s.needExperiments, s.apiABTests)
	api.POST("/abtests", s.needExperiments, requireAct, s.apiStartABTest)
	api.GET("/abtests/:id", s.needExperiments, s.apiABTest)
	api.POST("/abtests/:id/end", s.needExperiments, requireAct, s.apiEndABTest)

	console.GET("/abtest", s.needExperiments, s.consoleABTest)
	console.POST("/abtest", s.needExperiments, requireAct, s.consoleStartABTest)
	console.GET("/abtest/:id", s.needExperiments, s.consoleABTest)
	console.POST("/abtest/:id/end", s.needExperiments, requireAct, s.consoleEndABTest)
}

func (s *Server) needExperiments(c *gin.Context) {
	if s.Experiments == nil {
		fail(c, app.Errorf(app.ENOTFOUND, "A/B tests are not available on this server"))
		return
	}
	c.Next()
}

// offerJSON is one side of an offer in the API (a campaign's, an A/B
// arm's); only the kind's own figure is shown.
type offerJSON struct {
	Kind        string `json:"kind"`
	Percent     int    `json:"percent,omitempty"`
	AmountMinor int64  `json:"amount_minor,omitempty"`
}

func offerOut(o *app.Offer) *offerJSON {
	if o == nil {
		return nil
	}
	return &offerJSON{Kind: o.Kind, Percent: o.Percent, AmountMinor: o.AmountMinor}
}

func (o *offerJSON) offer() *app.Offer {
	if o == nil {
		return nil
	}
	return &app.Offer{Kind: o.Kind, Percent: o.Percent, AmountMinor: o.AmountMinor}
}

// abtestInput is the body of POST /abtests.
type abtestInput struct {
	Name    string     `json:"name"`
	SplitB  *int       `json:"split_b"`
	Goal    string     `json:"goal"`
	FriendB *offerJSON `json:"friend_b"`
	RewardB *offerJSON `json:"reward_b"`
}

type abtestJSON struct {
	ID      int64      `json:"id"`
	Name    string     `json:"name"`
	SplitB  int        `json:"split_b"`
	Goal    string     `json:"goal"`
	Running bool       `json:"running"`
	ArmA    offerPair  `json:"arm_a"`
	FriendB *offerJSON `json:"friend_b"`
	RewardB *offerJSON `json:"reward_b"`
	Started time.Time  `json:"started_at"`
	Ended   *time.Time `json:"ended_at"`
	Winner  string     `json:"winner"`
	Kept    string     `json:"kept"`
}

type offerPair struct {
	Friend offerJSON `json:"friend"`
	Reward offerJSON `json:"reward"`
}

func abtestOut(t experiment.Test) abtestJSON {
	return abtestJSON{ID: t.ID, Name: t.Name, SplitB: t.SplitB, Goal: t.Goal, Running: t.Running(),
		ArmA:    offerPair{Friend: *offerOut(&t.OfferA.Friend), Reward: *offerOut(&t.OfferA.Reward)},
		FriendB: offerOut(t.FriendB), RewardB: offerOut(t.RewardB), Started: t.StartedAt, Ended: t.EndedAt,
		Winner: string(t.Winner), Kept: string(t.Kept)}
}

type armJSON struct {
	Advocates        int64   `json:"advocates"`
	Clicks           int64   `json:"clicks"`
	FriendOrders     int64   `json:"friend_orders"`
	OrdersAfterClick int64   `json:"orders_after_click"`
	Conversion       float64 `json:"conversion"`
	ConversionLow    float64 `json:"conversion_low"`
	ConversionHigh   float64 `json:"conversion_high"`
	RevenueMinor     int64   `json:"revenue_minor"`
	RewardCostMinor  int64   `json:"reward_cost_minor"`
	NetPerAdvocate   float64 `json:"net_per_advocate_minor"`
}

func armOut(c experiment.Counts) armJSON {
	lo, hi := c.ConversionInterval()
	return armJSON{Advocates: c.Advocates, Clicks: c.Clicks, FriendOrders: c.Orders, OrdersAfterClick: c.ClickOrders,
		Conversion: c.Conversion(), ConversionLow: lo, ConversionHigh: hi, RevenueMinor: c.RevenueMinor,
		RewardCostMinor: c.RewardCostMinor, NetPerAdvocate: c.NetPerAdvocate()}
}

type intervalJSON struct {
	Estimate float64 `json:"estimate"`
	Low      float64 `json:"low"`
	High     float64 `json:"high"`
}

type abResultsJSON struct {
	Test     abtestJSON         `json:"test"`
	Currency string             `json:"currency"`
	Arms     map[string]armJSON `json:"arms"`
	// Difference is B − A on the goal with its 95% interval: a proportion
	// for conversion, minor units for net revenue per advocate; null
	// until both arms have data.
	Difference     *intervalJSON `json:"difference"`
	Winner         string        `json:"winner"`
	MoreNeeded     int64         `json:"more_needed"`
	MoreNeededUnit string        `json:"more_needed_unit"`
	Verdict        string        `json:"verdict"`
}

func judged(r experiment.Result) bool { return r.Delta.Low != 0 || r.Delta.High != 0 }

func abResultsOut(res *experiment.Results, currency string) abResultsJSON {
	r := res.Result
	out := abResultsJSON{Test: abtestOut(res.Test), Currency: currency,
		Arms:   map[string]armJSON{"A": armOut(r.A), "B": armOut(r.B)},
		Winner: string(r.Winner), MoreNeeded: r.MoreNeeded, Verdict: r.Verdict(), MoreNeededUnit: "orders"}
	if r.Goal == experiment.GoalNetPerAdvocate {
		out.MoreNeededUnit = "advocates"
	}
	if judged(r) {
		out.Difference = &intervalJSON{Estimate: r.Delta.Diff, Low: r.Delta.Low, High: r.Delta.High}
	}
	return out
}

func abtestID(c *gin.Context) (int64, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		fieldErrors(c, map[string]string{"id": "an A/B test id"})
		return 0, false
	}
	return id, true
}

// invalid answers 400 with the error's fields (or its message as "test").
func invalid(c *gin.Context, err error) bool {
	if app.ErrorCode(err) != app.EINVALID {
		return false
	}
	fields := map[string]string(app.FieldsOf(err))
	if len(fields) == 0 {
		fields = map[string]string{"test": app.ErrorMessage(err)}
	}
	c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": app.ErrorMessage(err), "code": app.EINVALID, "fields": fields})
	return true
}

func (s *Server) apiABTests(c *gin.Context) {
	list, err := s.Experiments.List(c.Request.Context(), shopFrom(c), 50)
	if err != nil {
		fail(c, err)
		return
	}
	out := make([]abtestJSON, 0, len(list))
	for _, t := range list {
		out = append(out, abtestOut(t))
	}
	c.JSON(http.StatusOK, gin.H{"tests": out})
}

func (s *Server) apiStartABTest(c *gin.Context) {
	var in abtestInput
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, 16<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		fieldErrors(c, map[string]string{"body": "a JSON object with split_b, goal, friend_b and/or reward_b: " + err.Error()})
		return
	}
	t := experiment.Test{Name: strings.TrimSpace(in.Name), SplitB: 50, Goal: in.Goal, FriendB: in.FriendB.offer(), RewardB: in.RewardB.offer()}
	if in.SplitB != nil {
		t.SplitB = *in.SplitB
	}
	if t.Goal == "" {
		t.Goal = experiment.GoalConversion
	}
	started, err := s.startABTest(c, t)
	if err != nil {
		if !invalid(c, err) {
			fail(c, err)
		}
		return
	}
	c.JSON(http.StatusCreated, abtestOut(*started))
}

func (s *Server) startABTest(c *gin.Context, t experiment.Test) (*experiment.Test, error) {
	started, err := s.Experiments.Start(c.Request.Context(), shopFrom(c), t)
	if err != nil {
		return nil, err
	}
	if s.Console != nil {
		if err := s.Console.Record(c.Request.Context(), started.ShopID, principalFrom(c).actor, "start_abtest",
			fmt.Sprintf("abtest:%d", started.ID), nil, abtestOut(*started)); err != nil {
			return nil, err
		}
	}
	return started, nil
}

func (s *Server) apiABTest(c *gin.Context) {
	id, ok := abtestID(c)
	if !ok {
		return
	}
	res, err := s.Experiments.Results(c.Request.Context(), shopFrom(c), id)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, abResultsOut(res, shopFrom(c).Currency))
}

func (s *Server) apiEndABTest(c *gin.Context) {
	id, ok := abtestID(c)
	if !ok {
		return
	}
	var in struct {
		Keep string `json:"keep"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, 4<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		fieldErrors(c, map[string]string{"body": `a JSON object {"keep": "A" or "B"}: ` + err.Error()})
		return
	}
	res, err := s.endABTest(c, id, in.Keep)
	if err != nil {
		if !invalid(c, err) {
			fail(c, err)
		}
		return
	}
	c.JSON(http.StatusOK, abResultsOut(res, shopFrom(c).Currency))
}

func (s *Server) endABTest(c *gin.Context, id int64, keep string) (*experiment.Results, error) {
	if keep != "A" && keep != "B" {
		return nil, app.FieldErrors{"keep": `Keep "A" (the standing offer) or "B" (its offer becomes the program's).`}.Err()
	}
	res, err := s.Experiments.End(c.Request.Context(), shopFrom(c), id, experiment.Arm(keep))
	if err != nil {
		return nil, err
	}
	if s.Console != nil {
		if err := s.Console.Record(c.Request.Context(), res.Test.ShopID, principalFrom(c).actor, "end_abtest",
			fmt.Sprintf("abtest:%d", id), nil, gin.H{"kept": keep, "winner": string(res.Result.Winner), "verdict": res.Result.Verdict()}); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// The console's page.

// abRow is one figure of the results table.
type abRow struct{ Label, A, B string }

func pctIn(lang string, f float64) string {
	s := strconv.FormatFloat(f*100, 'f', 1, 64)
	if lang == "fr" {
		return strings.Replace(s, ".", ",", 1) + " %"
	}
	return s + "%"
}

func offerWords(l *i18n.Printer, o app.Offer, currency string) string {
	switch o.Kind {
	case app.OfferPercent:
		return l.T("ab.offer.percent", o.Percent)
	case app.OfferFixed:
		return l.T("ab.offer.fixed", popup.FormatMoney(app.Money{Minor: o.AmountMinor, Currency: currency}, l.Lang))
	}
	return l.T("ab.offer.free_shipping")
}

// abVerdict is the verdict in the viewer's language (Result.Verdict's
// English, from the same fields).
func abVerdict(l *i18n.Printer, r experiment.Result) string {
	switch {
	case r.Winner != "":
		return l.T("ab.verdict."+r.Goal, string(r.Winner))
	case r.MoreNeeded > 0:
		return l.T("ab.more."+r.Goal, r.MoreNeeded)
	}
	return l.T("ab.wait")
}

func (s *Server) renderABTest(c *gin.Context, status int, v view) {
	ctx, shop := c.Request.Context(), shopFrom(c)
	l := s.printer(c, shop.Timezone)
	list, err := s.Experiments.List(ctx, shop, 20)
	if err != nil {
		fail(c, err)
		return
	}
	var id int64
	if c.Param("id") != "" {
		var err error
		if id, err = strconv.ParseInt(c.Param("id"), 10, 64); err != nil || id <= 0 {
			fail(c, app.Errorf(app.ENOTFOUND, "no such A/B test"))
			return
		}
	} else if len(list) > 0 && list[0].Running() {
		id = list[0].ID
	}
	money := func(minor int64) string {
		return popup.FormatMoney(app.Money{Minor: minor, Currency: shop.Currency}, l.Lang)
	}
	if id != 0 {
		res, err := s.Experiments.Results(ctx, shop, id)
		if err != nil {
			fail(c, err)
			return
		}
		t, r := res.Test, res.Result
		armB := func(o *app.Offer, a app.Offer) string {
			if o == nil {
				return offerWords(l, a, shop.Currency) + " (" + l.T("ab.same_as_a") + ")"
			}
			return offerWords(l, *o, shop.Currency)
		}
		conv := func(x experiment.Counts) string {
			if x.Clicks == 0 {
				return "—"
			}
			lo, hi := x.ConversionInterval()
			return fmt.Sprintf("%s (%s – %s)", pctIn(l.Lang, x.Conversion()), pctIn(l.Lang, lo), pctIn(l.Lang, hi))
		}
		count := func(n int64) string { return strconv.FormatInt(n, 10) }
		v["T"], v["R"] = t, r
		v["Offers"] = []abRow{
			{l.T("ab.friend"), offerWords(l, t.OfferA.Friend, shop.Currency), armB(t.FriendB, t.OfferA.Friend)},
			{l.T("ab.reward"), offerWords(l, t.OfferA.Reward, shop.Currency), armB(t.RewardB, t.OfferA.Reward)},
		}
		v["Rows"] = []abRow{
			{l.T("ab.advocates"), count(r.A.Advocates), count(r.B.Advocates)},
			{l.T("ab.clicks"), count(r.A.Clicks), count(r.B.Clicks)},
			{l.T("ab.orders"), count(r.A.Orders), count(r.B.Orders)},
			{l.T("ab.conversion"), conv(r.A), conv(r.B)},
			{l.T("ab.revenue"), money(r.A.RevenueMinor), money(r.B.RevenueMinor)},
			{l.T("ab.cost"), money(r.A.RewardCostMinor), money(r.B.RewardCostMinor)},
			{l.T("ab.net"), money(int64(math.Round(r.A.NetPerAdvocate()))), money(int64(math.Round(r.B.NetPerAdvocate())))},
		}
		v["Verdict"] = abVerdict(l, r)
		if judged(r) {
			f := func(x float64) string { return pctIn(l.Lang, x) }
			if r.Goal == experiment.GoalNetPerAdvocate {
				f = func(x float64) string { return money(int64(math.Round(x))) }
			}
			v["Difference"] = l.T("ab.difference", f(r.Delta.Diff), f(r.Delta.Low), f(r.Delta.High))
		}
		if t.Running() {
			v["Window"] = l.T("ab.running", l.DateTime(t.StartedAt))
			keep := "A"
			if r.Winner == experiment.ArmB {
				keep = "B"
			}
			v["Recommend"] = keep
		} else {
			v["Window"] = l.T("ab.ended", l.DateTime(t.StartedAt), l.DateTime(*t.EndedAt))
		}
	}
	if _, ok := v["In"]; !ok {
		v["In"] = map[string]string{"split_b": "50", "goal": experiment.GoalConversion}
	}
	if _, ok := v["Fields"]; !ok {
		v["Fields"] = map[string]string{}
	}
	v["Title"], v["Page"], v["Tests"] = l.T("ab.title"), "abtest", list
	v["Running"] = len(list) > 0 && list[0].Running()
	v["Kinds"] = []string{app.OfferPercent, app.OfferFixed, app.OfferFreeShipping}
	v["Goals"] = []string{experiment.GoalConversion, experiment.GoalNetPerAdvocate}
	s.render(c, status, "abtest", v)
}

func (s *Server) consoleABTest(c *gin.Context) { s.renderABTest(c, http.StatusOK, view{}) }

// abtestFromForm reads the start form; amounts are in the shop's currency.
func abtestFromForm(get func(string) string, currency string) (experiment.Test, map[string]string) {
	bad := map[string]string{}
	t := experiment.Test{Name: strings.TrimSpace(get("name")), Goal: get("goal")}
	n, err := strconv.Atoi(strings.TrimSpace(get("split_b")))
	if err != nil {
		bad["split_b"] = "The share of new advocates in B must be a whole percentage from 1 to 99."
	}
	t.SplitB = n
	side := func(prefix string) *app.Offer {
		kind := get(prefix + "_kind")
		if kind == "" {
			return nil
		}
		o := &app.Offer{Kind: kind}
		switch kind {
		case app.OfferPercent:
			p, err := strconv.Atoi(strings.TrimSpace(get(prefix + "_percent")))
			if err != nil {
				bad[prefix] = "Arm B: the percent off must be a whole number."
			}
			o.Percent = p
		case app.OfferFixed:
			m, err := app.ParseMoney(strings.TrimSpace(get(prefix+"_amount")), currency)
			if err != nil {
				bad[prefix] = "Arm B: the amount must be an amount in " + currency + ", e.g. 15 or 12.50."
			}
			o.AmountMinor = m.Minor
		}
		return o
	}
	t.FriendB, t.RewardB = side("friend_b"), side("reward_b")
	return t, bad
}

func (s *Server) consoleStartABTest(c *gin.Context) {
	shop := shopFrom(c)
	_ = c.Request.ParseForm()
	t, bad := abtestFromForm(c.PostForm, shop.Currency)
	in := map[string]string{}
	for k := range c.Request.PostForm {
		in[k] = c.PostForm(k)
	}
	if len(bad) == 0 {
		_, err := s.startABTest(c, t)
		if err == nil {
			c.Redirect(http.StatusSeeOther, "/console/shops/"+shop.Domain+"/abtest?done="+url.QueryEscape(s.printer(c, shop.Timezone).T("done.ab_started")))
			return
		}
		switch app.ErrorCode(err) {
		case app.EINVALID:
			if bad = map[string]string(app.FieldsOf(err)); len(bad) == 0 {
				bad = map[string]string{"arm_b": app.ErrorMessage(err)}
			}
		case app.ECONFLICT:
			s.renderABTest(c, http.StatusConflict, view{"Error": app.ErrorMessage(err), "In": in})
			return
		default:
			fail(c, err)
			return
		}
	}
	s.renderABTest(c, http.StatusBadRequest, view{"Fields": bad, "In": in, "FormError": true})
}

func (s *Server) consoleEndABTest(c *gin.Context) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		fail(c, app.Errorf(app.ENOTFOUND, "no such A/B test"))
		return
	}
	shop := shopFrom(c)
	back := fmt.Sprintf("/console/shops/%s/abtest/%d", shop.Domain, id)
	if _, err := s.endABTest(c, id, c.PostForm("keep")); err != nil {
		if code := app.ErrorCode(err); code == app.EINVALID || code == app.ECONFLICT {
			c.Redirect(http.StatusSeeOther, back+"?error="+url.QueryEscape(app.ErrorMessage(err)))
			return
		}
		fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, back+"?done="+url.QueryEscape(s.printer(c, shop.Timezone).T("done.ab_ended")))
}
