package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/referrals"
	"github.com/parrain/parrain/app/review"
)

// Review is the support staff's queue and actions.
type Review interface {
	Queue(ctx context.Context, shop *app.Shop, f review.Filter) ([]review.Item, error)
	Detail(ctx context.Context, shop *app.Shop, id int64) (*review.Detail, error)
	Approve(ctx context.Context, shop *app.Shop, a review.Actor, id int64) error
	Reject(ctx context.Context, shop *app.Shop, a review.Actor, id int64, reason string) error
	Reissue(ctx context.Context, shop *app.Shop, a review.Actor, id int64) error
	Revoke(ctx context.Context, shop *app.Shop, a review.Actor, id int64, reason string) error
	AddNote(ctx context.Context, shop *app.Shop, a review.Actor, id int64, body string) error
	Attribute(ctx context.Context, shop *app.Shop, a review.Actor, orderID, advocateCode, reason string, override bool) (int64, error)
	CheckAttribution(ctx context.Context, shop *app.Shop, orderRef, advocateCode string) (*review.Check, error)
	WhyNot(ctx context.Context, shop *app.Shop, q string) ([]*referrals.Explanation, error)
}

// fieldErrors answers 400 with one message per bad field.
func fieldErrors(c *gin.Context, fields map[string]string) {
	c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": "invalid input", "code": app.EINVALID, "fields": fields})
}

var referralStates = map[string]bool{app.ReferralPending: true, app.ReferralNeedsReview: true, app.ReferralRejected: true,
	app.ReferralApproved: true, app.ReferralRewarded: true, app.ReferralReversed: true}

// parseFilter reads the queue's filters from the query string.
func parseFilter(q func(string) string, currency string) (review.Filter, map[string]string) {
	f := review.Filter{State: q("state"), Advocate: q("advocate"), Rule: q("rule"), Search: q("q"), Flagged: q("flagged") == "1" || q("flagged") == "true",
		Attention: q("attention") == "1"}
	bad := map[string]string{}
	if f.State != "" && !referralStates[f.State] {
		bad["state"] = "one of pending, needs_review, rejected, approved, rewarded, reversed"
	}
	day := func(name string) time.Time {
		v := q(name)
		if v == "" {
			return time.Time{}
		}
		t, err := time.Parse("2006-01-02", v)
		if err != nil {
			bad[name] = "a date, YYYY-MM-DD"
		}
		return t
	}
	f.From = day("from")
	if f.To = day("to"); !f.To.IsZero() {
		f.To = f.To.Add(24 * time.Hour) // the whole "to" day
	}
	money := func(name string) int64 {
		v := q(name)
		if v == "" {
			return 0
		}
		m, err := app.ParseMoney(v, currency)
		if err != nil || m.Minor < 0 {
			bad[name] = "an amount in " + currency + ", e.g. 50 or 49.90"
		} else if err := app.CheckAmount(name, m.Minor, app.MaxThresholdMajor, currency); err != nil {
			bad[name] = app.ErrorMessage(err)
		}
		return m.Minor
	}
	f.MinMinor, f.MaxMinor = money("min"), money("max")
	if v := q("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			bad["limit"] = "1 to 200"
		}
		f.Limit = n
	}
	if v := q("before"); v != "" {
		ts, id, ok := strings.Cut(v, "_")
		nanos, err1 := strconv.ParseInt(ts, 10, 64)
		n, err2 := strconv.ParseInt(id, 10, 64)
		if !ok || err1 != nil || err2 != nil {
			bad["before"] = "the next cursor of the previous page"
		} else {
			f.Before = &review.Cursor{CreatedAt: time.Unix(0, nanos), ID: n}
		}
	}
	return f, bad
}

func cursorOf(it review.Item) string {
	return strconv.FormatInt(it.CreatedAt.UnixNano(), 10) + "_" + strconv.FormatInt(it.ID, 10)
}

func (s *Server) apiQueue(c *gin.Context) {
	shop := shopFrom(c)
	f, bad := parseFilter(c.Query, shop.Currency)
	if len(bad) > 0 {
		fieldErrors(c, bad)
		return
	}
	items, err := s.Review.Queue(c.Request.Context(), shop, f)
	if err != nil {
		fail(c, err)
		return
	}
	out := gin.H{"referrals": items}
	if len(items) > 0 && (f.Limit == 0 && len(items) == 50 || len(items) == f.Limit) {
		out["next"] = cursorOf(items[len(items)-1])
	}
	c.JSON(http.StatusOK, out)
}

func idParam(c *gin.Context) (int64, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		fieldErrors(c, map[string]string{"id": "a referral id"})
		return 0, false
	}
	return id, true
}

func (s *Server) apiReferral(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	d, err := s.Review.Detail(c.Request.Context(), shopFrom(c), id)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, d)
}

// actionInput is the body of an action: JSON from the API, a form from
// the console's pages.
type actionInput struct {
	Reason       string `json:"reason" form:"reason"`
	Body         string `json:"body" form:"body"`
	OrderID      string `json:"order_id" form:"order_id"`
	AdvocateCode string `json:"advocate_code" form:"advocate_code"`
	// Override attributes by hand although a rule refuses (with Reason).
	Override bool `json:"override" form:"override"`
}

func readAction(c *gin.Context) (actionInput, bool) {
	var in actionInput
	if strings.HasPrefix(c.ContentType(), "application/json") {
		dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, 16<<10))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil && err.Error() != "EOF" {
			fieldErrors(c, map[string]string{"body": "a JSON object: " + err.Error()})
			return in, false
		}
		return in, true
	}
	in.Reason, in.Body, in.OrderID, in.AdvocateCode = c.PostForm("reason"), c.PostForm("body"), c.PostForm("order_id"), c.PostForm("advocate_code")
	in.Override = c.PostForm("override") == "1"
	return in, true
}

// runAction applies one action; it is shared by the API (JSON answer) and
// the pages (redirect back).
func (s *Server) runAction(c *gin.Context, action string, id int64, in actionInput) (int64, error) {
	ctx, shop, a := c.Request.Context(), shopFrom(c), principalFrom(c).reviewActor()
	switch action {
	case "approve":
		return id, s.Review.Approve(ctx, shop, a, id)
	case "reject":
		return id, s.Review.Reject(ctx, shop, a, id, in.Reason)
	case "reissue":
		return id, s.Review.Reissue(ctx, shop, a, id)
	case "revoke":
		return id, s.Review.Revoke(ctx, shop, a, id, in.Reason)
	case "notes":
		return id, s.Review.AddNote(ctx, shop, a, id, in.Body)
	case "attribute":
		return s.Review.Attribute(ctx, shop, a, in.OrderID, in.AdvocateCode, in.Reason, in.Override)
	}
	return 0, app.Errorf(app.ENOTFOUND, "no action %s", action)
}

func (s *Server) apiAction(c *gin.Context) {
	var id int64
	if c.Param("id") != "" {
		var ok bool
		if id, ok = idParam(c); !ok {
			return
		}
	}
	in, ok := readAction(c)
	if !ok {
		return
	}
	action := c.Param("action")
	if action == "" {
		action = "attribute"
	}
	id, err := s.runAction(c, action, id, in)
	if err != nil {
		fail(c, err)
		return
	}
	d, err := s.Review.Detail(c.Request.Context(), shopFrom(c), id)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, d)
}
