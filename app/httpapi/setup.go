package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/logging"
	"github.com/parrain/parrain/app/review"
)

// sawSignal records a setup signal once per process and shop; a failure
// is logged and forgotten (the next popup records it).
func (s *Server) sawSignal(ctx context.Context, shopID int64, signal string) {
	if s.Signals == nil {
		return
	}
	key := strconv.FormatInt(shopID, 10) + ":" + signal
	if _, done := s.signalled.Load(key); done {
		return
	}
	if err := s.Signals.Seen(ctx, shopID, signal, s.Now()); err != nil {
		logging.From(ctx).Warn("setup signal not recorded", "signal", signal, "error", err.Error())
		return
	}
	s.signalled.Store(key, true)
}

// setupItem is one line of the setup checklist.
type setupItem struct {
	Key    string
	State  string // app.SetupDone, SetupTodo, SetupUnknown
	Detail string
	// FixURL is where the merchant does the step: a page of the store's
	// admin (External) or of the console.
	FixURL   string
	External bool
	At       time.Time // when Parrain first saw it done, if it did
}

// consoleSetup is the merchant's first page: each step that makes Parrain
// work, what is known of it and a link to the place that does it. The
// store's checks go through its platform's adapter (app.StoreSetup).
func (s *Server) consoleSetup(c *gin.Context) {
	ctx, shop := c.Request.Context(), shopFrom(c)
	base := "/console/shops/" + shop.Domain
	var items []setupItem
	signals := map[string]time.Time{}
	if s.Signals != nil {
		var err error
		if signals, err = s.Signals.Signals(ctx, shop.ID); err != nil {
			fail(c, err)
			return
		}
	}
	var checks []app.SetupCheck
	if s.Setup != nil {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		var err error
		checks, err = s.Setup.SetupChecks(sctx, shop)
		cancel()
		if err != nil {
			logging.From(ctx).Warn("setup checks failed", "error", err.Error())
			checks = []app.SetupCheck{{Key: app.SetupAppEmbed, State: app.SetupUnknown, Detail: "Parrain could not reach your store: " + app.ErrorMessage(err)}}
		}
	}
	for _, ch := range checks {
		it := setupItem{Key: ch.Key, State: ch.State, Detail: ch.Detail, FixURL: ch.FixURL, External: ch.FixURL != ""}
		// What the store cannot tell, Parrain may have seen itself.
		switch {
		case ch.Key == app.SetupThankYouBlock && ch.State != app.SetupDone && !signals[app.SignalThankYou].IsZero():
			it.State, it.At, it.Detail = app.SetupDone, signals[app.SignalThankYou], ""
		case ch.Key == app.SetupAppEmbed && ch.State == app.SetupUnknown && !signals[app.SignalStorefront].IsZero():
			it.State, it.At = app.SetupDone, signals[app.SignalStorefront]
		}
		items = append(items, it)
	}
	p, err := s.Programs.Program(ctx, shop)
	if err != nil {
		fail(c, err)
		return
	}
	prog := setupItem{Key: "program", State: app.SetupTodo, FixURL: base + "/settings"}
	if p.Enabled {
		prog.State = app.SetupDone
	}
	first, err := s.Review.Queue(ctx, shop, review.Filter{Limit: 1})
	if err != nil {
		fail(c, err)
		return
	}
	ref := setupItem{Key: "first_referral", State: app.SetupTodo, FixURL: base + "/queue"}
	if len(first) > 0 {
		ref.State = app.SetupDone
	}
	items = append(items, prog, ref)
	done := 0
	for _, it := range items {
		if it.State == app.SetupDone {
			done++
		}
	}
	s.render(c, http.StatusOK, "setup", view{"Title": "Setup", "Page": "setup", "Items": items, "Done": done, "Total": len(items)})
}
