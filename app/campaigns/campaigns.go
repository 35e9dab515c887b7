// Package campaigns is the merchant's time-boxed offers (issue 15): their
// storage rules (validated against the program, never overlapping), the
// campaign in force at an instant for the engine (Policy, the reward a
// referral earns) and for what shoppers read (Current: the popup, the
// advocate's page, emails), and the sync that changes the store's friend
// discounts while a campaign runs (Sync). It knows nothing of HTTP or SQL.
package campaigns

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/parrain/parrain/app"
)

// Repo is the campaigns' storage (app/postgres). Every method is scoped
// to the shop.
type Repo interface {
	// Campaigns lists the shop's campaigns ending after the instant,
	// earliest start first (a zero instant: all of them).
	Campaigns(ctx context.Context, shopID int64, endingAfter time.Time) ([]app.Campaign, error)
	// CampaignAt is the campaign in force at t (start included, end
	// excluded), nil when none.
	CampaignAt(ctx context.Context, shopID int64, t time.Time) (*app.Campaign, error)
	// SaveCampaign inserts (ID 0) or updates the campaign. check runs
	// with the shop's other campaigns under a lock held until the write
	// commits, so two saves cannot both pass the overlap check.
	SaveCampaign(ctx context.Context, c *app.Campaign, check func(others []app.Campaign) error) error
	// DeleteCampaign removes one; ENOTFOUND when it is not the shop's.
	DeleteCampaign(ctx context.Context, shopID, id int64) (*app.Campaign, error)
}

// Programs reads the shop's standing program.
type Programs interface {
	Program(ctx context.Context, shop *app.Shop) (app.Program, error)
}

// Changes is told about a saved or deleted campaign, so the store's friend
// discounts follow it at its edges (jobs.CampaignQueue).
type Changes interface {
	CampaignChanged(ctx context.Context, shopID int64, c app.Campaign) error
}

// Service is the merchant's side of campaigns.
type Service struct {
	Repo     Repo
	Programs Programs
	Changes  Changes
	Now      func() time.Time
	// TTL is how long Current may answer from memory (default 10 s): the
	// popup asks on every thank-you page. The engine never uses it.
	TTL time.Duration

	mu    sync.Mutex
	cache map[int64]cached
}

type cached struct {
	at   time.Time
	list []app.Campaign
}

func (s *Service) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// List is the shop's campaigns, all of them, earliest first.
func (s *Service) List(ctx context.Context, shop *app.Shop) ([]app.Campaign, error) {
	return s.Repo.Campaigns(ctx, shop.ID, time.Time{})
}

// Save validates the campaign against the shop's program and stores it
// unless it overlaps another (ECONFLICT naming that campaign).
func (s *Service) Save(ctx context.Context, shop *app.Shop, c *app.Campaign) error {
	c.ShopID = shop.ID
	p, err := s.Programs.Program(ctx, shop)
	if err != nil {
		return err
	}
	if err := c.Validate(p); err != nil {
		return err
	}
	if err := s.Repo.SaveCampaign(ctx, c, func(others []app.Campaign) error { return app.CheckOverlap(*c, others) }); err != nil {
		return err
	}
	s.changed(ctx, shop.ID, *c)
	return nil
}

// Delete removes a campaign. Referrals made while it ran keep the offer
// they earned (stored with them).
func (s *Service) Delete(ctx context.Context, shop *app.Shop, id int64) error {
	c, err := s.Repo.DeleteCampaign(ctx, shop.ID, id)
	if err != nil {
		return err
	}
	s.changed(ctx, shop.ID, *c)
	return nil
}

func (s *Service) changed(ctx context.Context, shopID int64, c app.Campaign) {
	s.mu.Lock()
	delete(s.cache, shopID)
	s.mu.Unlock()
	if s.Changes != nil {
		if err := s.Changes.CampaignChanged(ctx, shopID, c); err != nil {
			// The periodic sync comes within a minute anyway.
			_ = err
		}
	}
}

// Current is the campaign in force now, for what shoppers read. It answers
// from a list kept TTL per shop, but judges the instant exactly: a
// campaign starts and ends on the second, cached or not.
func (s *Service) Current(ctx context.Context, shopID int64) (*app.Campaign, error) {
	now := s.now()
	ttl := s.TTL
	if ttl <= 0 {
		ttl = 10 * time.Second
	}
	s.mu.Lock()
	e, ok := s.cache[shopID]
	s.mu.Unlock()
	if !ok || now.Sub(e.at) > ttl || now.Before(e.at) {
		list, err := s.Repo.Campaigns(ctx, shopID, now)
		if err != nil {
			return nil, err
		}
		e = cached{at: now, list: list}
		s.mu.Lock()
		if s.cache == nil {
			s.cache = map[int64]cached{}
		}
		s.cache[shopID] = e
		s.mu.Unlock()
	}
	for i := range e.list {
		if e.list[i].InForce(now) {
			c := e.list[i]
			return &c, nil
		}
	}
	return nil, nil
}

// Policy applies the campaign in force when the friend ordered to the
// reward a referral earns (referrals.OfferPolicy). It asks storage at the
// order's exact instant, uncached: the reward must follow the window to
// the second, and one indexed query per order is cheap next to the rest
// of attribution.
//
// Only the reward side is shaped here. The friend side is not the
// engine's to give: the friend got whatever the store's discount gave at
// checkout, and friend codes stay keyed by the standing offer (a code made
// during a campaign must not keep its discount forever); Sync changes
// those discounts in the store while the campaign runs.
type Policy struct{ Repo Repo }

// Shape implements referrals.OfferPolicy.
func (p Policy) Shape(ctx context.Context, shop *app.Shop, prog app.Program, _ *app.Advocate, at time.Time) (app.Program, app.OfferSource, error) {
	c, err := p.Repo.CampaignAt(ctx, shop.ID, at)
	if err != nil {
		return prog, app.OfferSource{}, fmt.Errorf("campaign in force at %s: %w", at.UTC().Format(time.RFC3339), err)
	}
	if c == nil {
		return prog, app.OfferSource{}, nil
	}
	reward := *c
	reward.Friend = nil
	return reward.Apply(prog), app.OfferSource{CampaignID: c.ID}, nil
}

// ForShoppers is the program as shoppers should read it now: the campaign
// in force changes both sides (the store's friend discounts follow it, see
// Sync). nil campaign: the program as it stands.
func ForShoppers(p app.Program, c *app.Campaign) app.Program {
	if c == nil {
		return p
	}
	return c.Apply(p)
}
