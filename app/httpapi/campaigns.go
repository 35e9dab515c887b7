package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/popup"
)

// Campaigns is the merchant's campaigns (app/campaigns.Service).
type Campaigns interface {
	List(ctx context.Context, shop *app.Shop) ([]app.Campaign, error)
	Save(ctx context.Context, shop *app.Shop, c *app.Campaign) error
	Delete(ctx context.Context, shop *app.Shop, id int64) error
	Current(ctx context.Context, shopID int64) (*app.Campaign, error)
}

// campaignJSON is a campaign as the API shows and takes it: instants in
// RFC 3339 (start included, end excluded).
type campaignJSON struct {
	ID     int64      `json:"id,omitempty"`
	Name   string     `json:"name"`
	Start  time.Time  `json:"start"`
	End    time.Time  `json:"end"`
	Mode   string     `json:"mode"`
	Friend *offerJSON `json:"friend,omitempty"`
	Reward *offerJSON `json:"reward,omitempty"`
}

func toCampaignJSON(c app.Campaign) campaignJSON {
	side := func(o *app.Offer) *offerJSON {
		if o == nil {
			return nil
		}
		return &offerJSON{Kind: o.Kind, Percent: o.Percent, AmountMinor: o.AmountMinor}
	}
	return campaignJSON{ID: c.ID, Name: c.Name, Start: c.Start, End: c.End, Mode: c.Mode, Friend: side(c.Friend), Reward: side(c.Reward)}
}

func (j campaignJSON) campaign() app.Campaign {
	side := func(o *offerJSON) *app.Offer {
		if o == nil {
			return nil
		}
		return &app.Offer{Kind: o.Kind, Percent: o.Percent, AmountMinor: o.AmountMinor}
	}
	return app.Campaign{ID: j.ID, Name: strings.TrimSpace(j.Name), Start: j.Start, End: j.End, Mode: j.Mode, Friend: side(j.Friend), Reward: side(j.Reward)}
}

func (s *Server) campaignRoutes(shopAPI, shop *gin.RouterGroup) {
	if s.Campaigns == nil {
		return
	}
	shopAPI.GET("/campaigns", s.apiCampaigns)
	shopAPI.POST("/campaigns", requireAct, s.apiSaveCampaign)
	shopAPI.PUT("/campaigns/:id", requireAct, s.apiSaveCampaign)
	shopAPI.DELETE("/campaigns/:id", requireAct, s.apiDeleteCampaign)
	shop.GET("/campaigns", s.consoleCampaigns)
	shop.POST("/campaigns", requireAct, s.consoleSaveCampaign)
	shop.POST("/campaigns/:id/delete", requireAct, s.consoleDeleteCampaign)
}

func (s *Server) apiCampaigns(c *gin.Context) {
	list, err := s.Campaigns.List(c.Request.Context(), shopFrom(c))
	if err != nil {
		fail(c, err)
		return
	}
	out := make([]campaignJSON, 0, len(list))
	for _, cp := range list {
		out = append(out, toCampaignJSON(cp))
	}
	c.JSON(http.StatusOK, gin.H{"campaigns": out})
}

func pathID(c *gin.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, app.Errorf(app.EINVALID, "campaign id must be a positive number")
	}
	return id, nil
}

func (s *Server) apiSaveCampaign(c *gin.Context) {
	var in campaignJSON
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, 16<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		fail(c, app.Wrap(app.EINVALID, err, "invalid campaign JSON: "+err.Error()))
		return
	}
	in.ID = 0
	status := http.StatusCreated
	if c.Param("id") != "" {
		id, err := pathID(c)
		if err != nil {
			fail(c, err)
			return
		}
		in.ID, status = id, http.StatusOK
	}
	cp := in.campaign()
	if err := s.saveCampaign(c, &cp); err != nil {
		fail(c, err)
		return
	}
	c.JSON(status, toCampaignJSON(cp))
}

// saveCampaign saves and audits.
func (s *Server) saveCampaign(c *gin.Context, cp *app.Campaign) error {
	shop := shopFrom(c)
	action := "create_campaign"
	if cp.ID != 0 {
		action = "update_campaign"
	}
	if err := s.Campaigns.Save(c.Request.Context(), shop, cp); err != nil {
		return err
	}
	if s.Console != nil {
		return s.Console.Record(c.Request.Context(), shop.ID, principalFrom(c).actor, action, "campaign:"+strconv.FormatInt(cp.ID, 10), nil, toCampaignJSON(*cp))
	}
	return nil
}

func (s *Server) deleteCampaign(c *gin.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	shop := shopFrom(c)
	if err := s.Campaigns.Delete(c.Request.Context(), shop, id); err != nil {
		return err
	}
	if s.Console != nil {
		return s.Console.Record(c.Request.Context(), shop.ID, principalFrom(c).actor, "delete_campaign", "campaign:"+strconv.FormatInt(id, 10), nil, nil)
	}
	return nil
}

func (s *Server) apiDeleteCampaign(c *gin.Context) {
	if err := s.deleteCampaign(c); err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// campaignRow is a campaign as the console lists it, dates in the shop's
// zone.
type campaignRow struct {
	app.Campaign
	Friend, Reward, State string
}

func (s *Server) consoleCampaigns(c *gin.Context) { s.renderCampaigns(c, http.StatusOK, nil, "") }

func (s *Server) renderCampaigns(c *gin.Context, status int, form url.Values, errMsg string) {
	shop := shopFrom(c)
	l := s.printer(c, shop.Timezone)
	list, err := s.Campaigns.List(c.Request.Context(), shop)
	if err != nil {
		fail(c, err)
		return
	}
	now := s.Now()
	rows := make([]campaignRow, 0, len(list))
	for _, cp := range list {
		r := campaignRow{Campaign: cp, State: "campaigns.upcoming"}
		switch {
		case cp.InForce(now):
			r.State = "campaigns.running"
		case !cp.End.After(now):
			r.State = "campaigns.ended"
		}
		r.Friend, r.Reward = campaignOfferWords(cp.Friend, cp.Mode, shop.Currency, l.Lang), campaignOfferWords(cp.Reward, cp.Mode, shop.Currency, l.Lang)
		rows = append(rows, r)
	}
	if form == nil {
		form = url.Values{"mode": {app.CampaignReplace}}
	}
	v := view{"Title": l.T("campaigns.title"), "Page": "campaigns", "Campaigns": rows, "Form": form, "Zone": l.Zone.String(),
		"Currency": shop.Currency, "Preview": c.Query("preview"), "Sides": []string{"friend", "reward"}}
	if errMsg != "" {
		v["FormError"] = errMsg
	}
	s.render(c, status, "campaigns", v)
}

// campaignOfferWords is one side of a campaign for the list, in the
// viewer's language: "+ $10", "+ 10 €", "25 %".
func campaignOfferWords(o *app.Offer, mode, currency, lang string) string {
	if o == nil {
		return "—"
	}
	var w string
	switch o.Kind {
	case app.OfferPercent:
		w = popup.Percent(o.Percent, lang)
	case app.OfferFixed:
		w = popup.FormatMoney(app.Money{Minor: o.AmountMinor, Currency: currency}, lang)
	default:
		w = o.Kind
	}
	if mode == app.CampaignAdd {
		w = "+ " + w
	}
	return w
}

// campaignFromForm reads the console's form: dates are the shop's local
// time (datetime-local), amounts decimal in the shop's currency.
func campaignFromForm(f url.Values, loc *time.Location, currency string) (app.Campaign, error) {
	cp := app.Campaign{Name: strings.TrimSpace(f.Get("name")), Mode: f.Get("mode")}
	var err error
	if cp.Start, err = localTime(f.Get("start"), loc); err != nil {
		return cp, app.Errorf(app.EINVALID, "start: %s", err.Error())
	}
	if cp.End, err = localTime(f.Get("end"), loc); err != nil {
		return cp, app.Errorf(app.EINVALID, "end: %s", err.Error())
	}
	side := func(prefix string) (*app.Offer, error) {
		kind := f.Get(prefix + "_kind")
		if kind == "" {
			return nil, nil
		}
		o := &app.Offer{Kind: kind}
		val := strings.TrimSpace(f.Get(prefix + "_value"))
		switch kind {
		case app.OfferPercent:
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(val), "%"))
			if err != nil {
				return nil, app.Errorf(app.EINVALID, "%s: the percent must be a whole number", prefix)
			}
			o.Percent = n
		case app.OfferFixed:
			m, err := app.ParseMoney(val, currency)
			if err != nil {
				return nil, app.Errorf(app.EINVALID, "%s: the amount must be like 10.00", prefix)
			}
			o.AmountMinor = m.Minor
		}
		return o, nil
	}
	if cp.Friend, err = side("friend"); err != nil {
		return cp, err
	}
	cp.Reward, err = side("reward")
	return cp, err
}

// localTime reads a datetime-local value in the shop's zone.
func localTime(v string, loc *time.Location) (time.Time, error) {
	v = strings.TrimSpace(v)
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, app.Errorf(app.EINVALID, "a date and time is needed, like 2026-12-01T00:00")
}

func (s *Server) consoleSaveCampaign(c *gin.Context) {
	shop := shopFrom(c)
	l := s.printer(c, shop.Timezone)
	if err := c.Request.ParseForm(); err != nil {
		fail(c, app.Errorf(app.EINVALID, "bad form"))
		return
	}
	cp, err := campaignFromForm(c.Request.PostForm, l.Zone, shop.Currency)
	if err == nil {
		if id := c.PostForm("id"); id != "" {
			cp.ID, _ = strconv.ParseInt(id, 10, 64)
		}
		err = s.saveCampaign(c, &cp)
	}
	if err != nil {
		switch app.ErrorCode(err) {
		case app.EINVALID:
			s.renderCampaigns(c, http.StatusBadRequest, c.Request.PostForm, app.ErrorMessage(err))
		case app.ECONFLICT:
			s.renderCampaigns(c, http.StatusConflict, c.Request.PostForm, app.ErrorMessage(err))
		default:
			fail(c, err)
		}
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/shops/"+shop.Domain+"/campaigns?preview="+strconv.FormatInt(cp.ID, 10)+
		"&done="+url.QueryEscape(l.T("campaigns.saved", cp.Name)))
}

func (s *Server) consoleDeleteCampaign(c *gin.Context) {
	shop := shopFrom(c)
	if err := s.deleteCampaign(c); err != nil {
		fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/shops/"+shop.Domain+"/campaigns?done="+url.QueryEscape(s.printer(c, shop.Timezone).T("campaigns.deleted")))
}

// previewCampaign is the campaign the popup preview shows: the one named
// (?campaign=ID, to see one before it starts), else the one running.
func (s *Server) previewCampaign(c *gin.Context, shop *app.Shop) *app.Campaign {
	if s.Campaigns == nil {
		return nil
	}
	if id, err := strconv.ParseInt(c.Query("campaign"), 10, 64); err == nil && id > 0 {
		list, err := s.Campaigns.List(c.Request.Context(), shop)
		if err == nil {
			for i := range list {
				if list[i].ID == id {
					return &list[i]
				}
			}
		}
		return nil
	}
	cp, _ := s.Campaigns.Current(c.Request.Context(), shop.ID)
	return cp
}
