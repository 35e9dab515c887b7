package postgres

import (
	"context"
	"fmt"
	"strconv"

	"gorm.io/gorm"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/referrals"
	"github.com/parrain/parrain/app/review"
)

var _ referrals.MilestoneRepo = (*ReferralRepo)(nil)

func milestonesOrEmpty(m []app.Milestone) []app.Milestone {
	if m == nil {
		return []app.Milestone{} // the column is NOT NULL
	}
	return m
}

func derefInt(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// standingSQL counts an advocate's referrals that stand approved: approved
// or rewarded, and whose reward was not revoked (a rewarded referral
// refunded keeps its state, flagged, and loses its reward). Arguments:
// shop id, advocate id.
const standingSQL = `SELECT count(*) FROM referrals f WHERE f.shop_id = ? AND f.advocate_id = ? AND f.state IN ('approved', 'rewarded')
	AND NOT EXISTS (SELECT 1 FROM rewards w WHERE w.referral_id = f.id AND w.state = 'revoked')`

// StandingReferrals implements referrals.MilestoneRepo.
func (r *ReferralRepo) StandingReferrals(ctx context.Context, shopID, advocateID int64) (int, error) {
	var n int64
	err := r.db.gorm.WithContext(ctx).Raw(standingSQL, shopID, advocateID).Scan(&n).Error
	return int(n), unavailable(err, fmt.Sprintf("count approved referrals of advocate %d", advocateID))
}

// MilestoneChecks implements referrals.MilestoneRepo: oldest first.
func (r *ReferralRepo) MilestoneChecks(ctx context.Context, limit int) ([]referrals.MilestoneCheck, error) {
	var out []referrals.MilestoneCheck
	err := r.db.gorm.WithContext(ctx).Raw(`SELECT shop_id, advocate_id FROM milestone_checks ORDER BY queued_at, advocate_id LIMIT ?`, limit).
		Scan(&out).Error
	return out, unavailable(err, "list milestone checks")
}

// SettleMilestones implements referrals.MilestoneRepo: one transaction,
// the advocate's check row locked first (a concurrent settle of the same
// advocate waits, then finds the row gone and does nothing; a concurrent
// change's trigger waits too, and queues a new check after the commit).
// Each bonus row is unique by (shop, advocate, milestone): inserting it
// again does nothing, so a settle run twice pays nothing twice.
func (r *ReferralRepo) SettleMilestones(ctx context.Context, c referrals.MilestoneCheck, ladder []app.Milestone,
	bonus func(m app.Milestone) *app.Reward) (*referrals.MilestoneSettlement, error) {
	out := &referrals.MilestoneSettlement{}
	err := r.db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var check []struct {
			ReferralID *int64
		}
		if err := tx.Raw(`SELECT referral_id FROM milestone_checks WHERE advocate_id = ? AND shop_id = ? FOR UPDATE`,
			c.AdvocateID, c.ShopID).Scan(&check).Error; err != nil {
			return err
		}
		if len(check) == 0 {
			out = nil // settled meanwhile by another worker
			return nil
		}
		var n int64
		if err := tx.Raw(standingSQL, c.ShopID, c.AdvocateID).Scan(&n).Error; err != nil {
			return err
		}
		out.Approved = int(n)
		subject := fmt.Sprintf("advocate:%d", c.AdvocateID)
		if id := check[0].ReferralID; id != nil {
			subject = fmt.Sprintf("referral:%d", *id)
		}
		for _, m := range ladder {
			if m.Friends > out.Approved {
				break
			}
			rw := bonus(m)
			var row rewardRow
			if err := tx.Raw(`INSERT INTO rewards (shop_id, referral_id, advocate_id, code, kind, percent, amount_minor, currency, expires_at, milestone_friends)
				VALUES (?, NULL, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (shop_id, advocate_id, milestone_friends) WHERE milestone_friends IS NOT NULL DO NOTHING RETURNING *`,
				c.ShopID, c.AdvocateID, rw.Code, rw.Kind, rw.Percent, rw.AmountMinor, rw.Currency, rw.ExpiresAt, m.Friends).Scan(&row).Error; err != nil {
				return err
			}
			if row.ID == 0 {
				continue // paid before: once per advocate and milestone
			}
			out.Awarded = append(out.Awarded, row.toReward())
			if err := audit(tx, c.ShopID, "engine", "milestone_reached", subject, row.Code,
				nil, map[string]any{"milestone_friends": m.Friends, "approved": out.Approved, "reward": row.Code}); err != nil {
				return err
			}
		}
		// Paid bonuses whose milestone the advocate no longer reaches:
		// kept (the advocate may have spent it; taking it back silently
		// would surprise them), flagged once for support with the referral
		// whose reversal did it.
		var under []rewardRow
		if err := tx.Raw(`UPDATE rewards SET review_since = now(), review_referral_id = ?
			WHERE shop_id = ? AND advocate_id = ? AND milestone_friends > ? AND state IN ('issuing', 'issued') AND review_since IS NULL
			RETURNING *`, check[0].ReferralID, c.ShopID, c.AdvocateID, out.Approved).Scan(&under).Error; err != nil {
			return err
		}
		for _, w := range under {
			out.Flagged = append(out.Flagged, w.toReward())
			reason := fmt.Sprintf("the advocate is back to %d approved referrals, under the %d-friend milestone whose bonus %s was paid: kept, not taken back; review it",
				out.Approved, derefInt(w.MilestoneFriends), w.Code)
			if err := audit(tx, c.ShopID, "engine", "milestone_review", subject, reason,
				nil, map[string]any{"milestone_friends": derefInt(w.MilestoneFriends), "approved": out.Approved, "reward": w.Code}); err != nil {
				return err
			}
		}
		if len(under) > 0 && check[0].ReferralID != nil {
			// The queue shows flagged referrals under "needs attention".
			if err := tx.Exec(`UPDATE referrals SET flagged = true, updated_at = now() WHERE id = ? AND shop_id = ?`,
				*check[0].ReferralID, c.ShopID).Error; err != nil {
				return err
			}
		}
		return tx.Exec(`DELETE FROM milestone_checks WHERE advocate_id = ?`, c.AdvocateID).Error
	})
	if err != nil {
		return nil, unavailable(err, fmt.Sprintf("settle milestones of advocate %d", c.AdvocateID))
	}
	return out, nil
}

// MilestoneRewards returns the advocate's milestone bonuses, lowest
// milestone first.
func (r *ReferralRepo) MilestoneRewards(ctx context.Context, shopID, advocateID int64) ([]app.Reward, error) {
	var rows []rewardRow
	err := r.db.gorm.WithContext(ctx).Raw(`SELECT * FROM rewards WHERE shop_id = ? AND advocate_id = ? AND milestone_friends IS NOT NULL
		ORDER BY milestone_friends`, shopID, advocateID).Scan(&rows).Error
	if err != nil {
		return nil, unavailable(err, "load milestone rewards of advocate "+strconv.FormatInt(advocateID, 10))
	}
	out := make([]app.Reward, len(rows))
	for i, w := range rows {
		out[i] = *w.toReward()
	}
	return out, nil
}

// AdvocateMilestones implements httpapi.MilestoneReader.
func (r *ReferralRepo) AdvocateMilestones(ctx context.Context, shopID, advocateID int64) (int, []app.Reward, error) {
	var ids []int64
	if err := r.db.gorm.WithContext(ctx).Raw(`SELECT id FROM advocates WHERE shop_id = ? AND id = ?`, shopID, advocateID).Scan(&ids).Error; err != nil {
		return 0, nil, unavailable(err, "load advocate")
	}
	if len(ids) == 0 {
		return 0, nil, app.Errorf(app.ENOTFOUND, "no advocate %d in this shop", advocateID)
	}
	n, err := r.StandingReferrals(ctx, shopID, advocateID)
	if err != nil {
		return 0, nil, err
	}
	rewards, err := r.MilestoneRewards(ctx, shopID, advocateID)
	return n, rewards, err
}

// milestoneReviews lists the paid milestone bonuses the referral's reversal
// took its advocate back under, with the advocate's count now.
func (r *ConsoleRepo) milestoneReviews(ctx context.Context, shopID, referralID, advocateID int64) ([]review.MilestoneReview, error) {
	var rows []rewardRow
	if err := r.db.gorm.WithContext(ctx).Raw(`SELECT * FROM rewards WHERE shop_id = ? AND review_referral_id = ? ORDER BY milestone_friends`,
		shopID, referralID).Scan(&rows).Error; err != nil {
		return nil, unavailable(err, "load milestone reviews")
	}
	if len(rows) == 0 {
		return nil, nil
	}
	n, err := r.db.Referrals().StandingReferrals(ctx, shopID, advocateID)
	if err != nil {
		return nil, err
	}
	out := make([]review.MilestoneReview, len(rows))
	for i, w := range rows {
		out[i] = review.MilestoneReview{Reward: *w.toReward(), Approved: n}
	}
	return out, nil
}
