package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/events"
	"github.com/parrain/parrain/app/staff"
)

// The merchant's event endpoints, in the admin API and the console. Adding,
// deleting or enabling an endpoint and seeing its secret send the shop's
// data somewhere: the shop's owner only (the merchant in the embedded
// admin, an owner in the console). Support staff may send a delivery again.

func isOwner(p *principal) bool {
	if p.member != nil {
		return p.member.Role == staff.Owner
	}
	return p.onlyFor != 0 // the merchant, through a session token
}

func requireShopOwner(c *gin.Context) {
	if !isOwner(principalFrom(c)) {
		fail(c, app.Errorf(app.EFORBIDDEN, "only the shop's owner manages event endpoints"))
		return
	}
	c.Next()
}

func (s *Server) eventRoutes(api, console *gin.RouterGroup) {
	api.GET("/endpoints", s.apiEndpoints)
	api.POST("/endpoints", requireShopOwner, s.apiCreateEndpoint)
	api.GET("/endpoints/:id", s.apiEndpoint)
	api.DELETE("/endpoints/:id", requireShopOwner, s.apiDeleteEndpoint)
	api.POST("/endpoints/:id/enable", requireShopOwner, s.apiEnableEndpoint)
	api.GET("/endpoints/:id/secret", requireShopOwner, s.apiEndpointSecret)
	api.GET("/endpoints/:id/deliveries", s.apiDeliveries)
	api.POST("/deliveries/:id/resend", requireAct, s.apiResend)

	console.GET("/endpoints", s.consoleEndpoints)
	console.POST("/endpoints", requireShopOwner, s.consoleCreateEndpoint)
	console.GET("/endpoints/:id", s.consoleEndpoint)
	console.POST("/endpoints/:id/secret", requireShopOwner, s.consoleEndpointSecret)
	console.POST("/endpoints/:id/enable", requireShopOwner, s.consoleEndpointAction)
	console.POST("/endpoints/:id/delete", requireShopOwner, s.consoleEndpointAction)
	console.POST("/deliveries/:id/resend", requireAct, s.consoleResend)
}

func numParam(c *gin.Context, what string) (int64, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		fieldErrors(c, map[string]string{"id": "an " + what + " id"})
		return 0, false
	}
	return id, true
}

func (s *Server) apiEndpoints(c *gin.Context) {
	list, err := s.Events.List(c.Request.Context(), shopFrom(c).ID)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"endpoints": list, "event_types": events.Types})
}

func (s *Server) apiCreateEndpoint(c *gin.Context) {
	var in events.EndpointInput
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, 16<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		fieldErrors(c, map[string]string{"body": "a JSON object with url, description and events: " + err.Error()})
		return
	}
	e, err := s.Events.Create(c.Request.Context(), shopFrom(c).ID, in)
	if err != nil {
		fail(c, err)
		return
	}
	s.auditEndpoint(c, "event_endpoint_added", e)
	c.JSON(http.StatusCreated, e)
}

func (s *Server) auditEndpoint(c *gin.Context, action string, e *events.Endpoint) {
	if s.Console == nil {
		return
	}
	_ = s.Console.Record(c.Request.Context(), shopFrom(c).ID, principalFrom(c).actor, action, fmt.Sprintf("event_endpoint:%d", e.ID), nil,
		map[string]any{"url": e.URL, "events": e.Types})
}

func (s *Server) apiEndpoint(c *gin.Context) {
	id, ok := numParam(c, "endpoint")
	if !ok {
		return
	}
	e, err := s.Events.Get(c.Request.Context(), shopFrom(c).ID, id)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, e)
}

func (s *Server) apiDeleteEndpoint(c *gin.Context) {
	id, ok := numParam(c, "endpoint")
	if !ok {
		return
	}
	if err := s.Events.Delete(c.Request.Context(), shopFrom(c).ID, id); err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) apiEnableEndpoint(c *gin.Context) {
	id, ok := numParam(c, "endpoint")
	if !ok {
		return
	}
	ctx, shop := c.Request.Context(), shopFrom(c)
	if err := s.Events.Enable(ctx, shop.ID, id); err != nil {
		fail(c, err)
		return
	}
	e, err := s.Events.Get(ctx, shop.ID, id)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, e)
}

func (s *Server) apiEndpointSecret(c *gin.Context) {
	id, ok := numParam(c, "endpoint")
	if !ok {
		return
	}
	secret, err := s.Events.Secret(c.Request.Context(), shopFrom(c).ID, id)
	if err != nil {
		fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"secret": secret})
}

func (s *Server) apiDeliveries(c *gin.Context) {
	id, ok := numParam(c, "endpoint")
	if !ok {
		return
	}
	list, err := s.Events.Deliveries(c.Request.Context(), shopFrom(c).ID, id, 100)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"deliveries": list})
}

func (s *Server) apiResend(c *gin.Context) {
	id, ok := numParam(c, "delivery")
	if !ok {
		return
	}
	if err := s.Events.Resend(c.Request.Context(), shopFrom(c).ID, id); err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"status": "queued"})
}

// The console's pages.

func (s *Server) renderEndpoints(c *gin.Context, status int, v view) {
	list, err := s.Events.List(c.Request.Context(), shopFrom(c).ID)
	if err != nil {
		fail(c, err)
		return
	}
	v["Title"], v["Page"], v["Endpoints"], v["Types"] = s.printer(c, shopFrom(c).Timezone).T("events.title"), "events", list, events.Types
	v["Owner"] = isOwner(principalFrom(c))
	s.render(c, status, "endpoints", v)
}

func (s *Server) consoleEndpoints(c *gin.Context) { s.renderEndpoints(c, http.StatusOK, view{}) }

// consoleCreateEndpoint shows the new secret on the answer page itself (not
// in a redirect's URL, which browsers and proxies keep).
func (s *Server) consoleCreateEndpoint(c *gin.Context) {
	in := events.EndpointInput{URL: c.PostForm("url"), Description: c.PostForm("description"), Types: c.PostFormArray("events")}
	e, err := s.Events.Create(c.Request.Context(), shopFrom(c).ID, in)
	if err != nil {
		if app.ErrorCode(err) != app.EINVALID {
			fail(c, err)
			return
		}
		s.renderEndpoints(c, http.StatusBadRequest, view{"FormError": app.ErrorMessage(err), "In": in})
		return
	}
	s.auditEndpoint(c, "event_endpoint_added", e)
	s.renderEndpoints(c, http.StatusOK, view{"Created": e})
}

func (s *Server) renderEndpoint(c *gin.Context, v view) {
	id, ok := numParam(c, "endpoint")
	if !ok {
		return
	}
	ctx, shop := c.Request.Context(), shopFrom(c)
	e, err := s.Events.Get(ctx, shop.ID, id)
	if err != nil {
		fail(c, err)
		return
	}
	ds, err := s.Events.Deliveries(ctx, shop.ID, id, 100)
	if err != nil {
		fail(c, err)
		return
	}
	v["Title"], v["Page"], v["E"], v["Deliveries"], v["Owner"] = s.printer(c, shop.Timezone).T("events.endpoint"), "events", e, ds, isOwner(principalFrom(c))
	s.render(c, http.StatusOK, "endpoint", v)
}

func (s *Server) consoleEndpoint(c *gin.Context) { s.renderEndpoint(c, view{}) }

func (s *Server) consoleEndpointSecret(c *gin.Context) {
	id, ok := numParam(c, "endpoint")
	if !ok {
		return
	}
	secret, err := s.Events.Secret(c.Request.Context(), shopFrom(c).ID, id)
	if err != nil {
		fail(c, err)
		return
	}
	s.renderEndpoint(c, view{"Secret": secret})
}

func (s *Server) consoleEndpointAction(c *gin.Context) {
	id, ok := numParam(c, "endpoint")
	if !ok {
		return
	}
	ctx, shop := c.Request.Context(), shopFrom(c)
	base := "/console/shops/" + shop.Domain + "/endpoints"
	var err error
	done, back := "", fmt.Sprintf("%s/%d", base, id)
	switch {
	case strings.HasSuffix(c.FullPath(), "/enable"):
		err, done = s.Events.Enable(ctx, shop.ID, id), "Endpoint enabled."
	default:
		err, done, back = s.Events.Delete(ctx, shop.ID, id), "Endpoint deleted.", base
	}
	if err != nil {
		c.Redirect(http.StatusSeeOther, back+"?error="+url.QueryEscape(app.ErrorMessage(err)))
		return
	}
	c.Redirect(http.StatusSeeOther, back+"?done="+url.QueryEscape(done))
}

func (s *Server) consoleResend(c *gin.Context) {
	id, ok := numParam(c, "delivery")
	if !ok {
		return
	}
	shop := shopFrom(c)
	back := "/console/shops/" + shop.Domain + "/endpoints"
	if e, err := strconv.ParseInt(c.PostForm("endpoint"), 10, 64); err == nil && e > 0 {
		back += "/" + strconv.FormatInt(e, 10)
	}
	if err := s.Events.Resend(c.Request.Context(), shop.ID, id); err != nil {
		c.Redirect(http.StatusSeeOther, back+"?error="+url.QueryEscape(app.ErrorMessage(err)))
		return
	}
	c.Redirect(http.StatusSeeOther, back+"?done="+url.QueryEscape("Queued: it is sent again within seconds."))
}
