package referrals

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/logging"
)

// MilestoneCheck is an advocate whose count of approved referrals may have
// changed since their milestones were last settled.
type MilestoneCheck struct {
	ShopID     int64
	AdvocateID int64
}

// MilestoneSettlement is what settling one advocate did.
type MilestoneSettlement struct {
	// Approved is the advocate's approved referrals that stand.
	Approved int
	// Awarded are the bonus rewards created now (issuing): to queue.
	Awarded []*app.Reward
	// Flagged are paid bonuses whose milestone the advocate no longer
	// reaches, flagged for support now; never revoked.
	Flagged []*app.Reward
}

// MilestoneRepo is the storage of milestones. Checks are queued by the
// database in the transaction of each change that can move an advocate's
// count (approval, reversal, a reward revoked or given back), whoever makes
// it, so nothing is missed by a crash between a change and its settling.
type MilestoneRepo interface {
	// MilestoneChecks lists advocates waiting to be settled, oldest first.
	MilestoneChecks(ctx context.Context, limit int) ([]MilestoneCheck, error)
	// SettleMilestones, in one transaction: counts the advocate's
	// standing approved referrals, inserts bonus(m) for each milestone
	// reached and not paid before (unique by shop, advocate, milestone),
	// flags paid bonuses now above the count, and removes the check. nil
	// when another worker settled the advocate first.
	SettleMilestones(ctx context.Context, c MilestoneCheck, ladder []app.Milestone, bonus func(m app.Milestone) *app.Reward) (*MilestoneSettlement, error)
	// StandingReferrals counts the advocate's approved referrals that
	// stand (for the advocate's progress).
	StandingReferrals(ctx context.Context, shopID, advocateID int64) (int, error)
}

// MilestoneCode derives the bonus code of an advocate's milestone: stable
// across retries (the store lookup by code finds one created before a
// crash), unguessable without the key, and never a referral's code (other
// input, other prefix).
func MilestoneCode(key []byte, shopID, advocateID int64, friends int) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("milestone:" + strconv.FormatInt(shopID, 10) + ":" + strconv.FormatInt(advocateID, 10) + ":" + strconv.Itoa(friends)))
	s := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(m.Sum(nil))
	return "BONUS-" + strings.NewReplacer("0", "Q", "1", "W", "O", "X", "I", "Y").Replace(s[:10])
}

// NewMilestoneReward builds the bonus of milestone m for an advocate under
// program p: a single-use code restricted to the advocate, issued by the
// reward job like a referral's reward.
func (e *Engine) NewMilestoneReward(p app.Program, advocateID int64, m app.Milestone) *app.Reward {
	rw := &app.Reward{
		ShopID: p.ShopID, AdvocateID: advocateID, Code: MilestoneCode(e.CodeKey, p.ShopID, advocateID, m.Friends),
		Kind: m.Kind, Currency: p.Currency, State: app.RewardIssuing, MilestoneFriends: m.Friends,
	}
	if m.Kind == app.OfferPercent {
		rw.Percent = m.Percent
	} else {
		rw.AmountMinor = m.AmountMinor
	}
	if p.RewardExpiryDays > 0 {
		exp := e.Now().Add(time.Duration(p.RewardExpiryDays) * 24 * time.Hour)
		rw.ExpiresAt = &exp
	}
	return rw
}

// SettleMilestones settles up to limit advocates waiting for a milestone
// check: bonuses reached are created and queued, paid bonuses no longer
// reached are flagged for review (not clawed back). It returns how many
// bonuses it created. Safe to run again at any point: a bonus is unique per
// advocate and milestone, and a check leaves only with its settlement's
// commit; a bonus whose job was lost is re-queued by the issuing sweep.
func (e *Engine) SettleMilestones(ctx context.Context, limit int) (int, error) {
	if e.Milestones == nil {
		return 0, nil
	}
	checks, err := e.Milestones.MilestoneChecks(ctx, limit)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range checks {
		shop, err := e.Shops.ShopByID(ctx, c.ShopID)
		if err != nil {
			return n, err
		}
		p, err := e.Repo.Program(ctx, shop)
		if err != nil {
			return n, err
		}
		s, err := e.Milestones.SettleMilestones(ctx, c, p.Milestones, func(m app.Milestone) *app.Reward {
			return e.NewMilestoneReward(p, c.AdvocateID, m)
		})
		if err != nil {
			return n, err
		}
		if s == nil {
			continue
		}
		for _, rw := range s.Awarded {
			n++
			if err := e.Rewards.EnqueueReward(ctx, rw.ID); err != nil {
				// The bonus waits in issuing; the issuing sweep re-queues it.
				return n, fmt.Errorf("queue milestone reward %d: %w", rw.ID, err)
			}
		}
		for _, rw := range s.Flagged {
			logging.From(ctx).Info("paid milestone no longer reached: flagged for review",
				"shop_id", c.ShopID, "advocate_id", c.AdvocateID, "milestone", rw.MilestoneFriends, "approved", s.Approved)
		}
	}
	return n, nil
}

// Progress is where an advocate stands on the shop's ladder; a zero
// progress (no Next) when the program has no milestones.
func (e *Engine) Progress(ctx context.Context, p app.Program, advocateID int64) (app.MilestoneProgress, error) {
	if len(p.Milestones) == 0 || e.Milestones == nil {
		return app.MilestoneProgress{}, nil
	}
	n, err := e.Milestones.StandingReferrals(ctx, p.ShopID, advocateID)
	if err != nil {
		return app.MilestoneProgress{}, err
	}
	return app.ProgressOn(p.Milestones, n), nil
}
