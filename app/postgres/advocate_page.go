package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/advocatepage"
)

var _ advocatepage.Data = (*ReferralRepo)(nil)

// advocatePageReferrals bounds the referrals one page lists: an advocate
// with more sees the latest ones (the counts stay exact).
const advocatePageReferrals = 200

// AdvocatePage implements advocatepage.Data: the advocate, their link
// generation, clicks and referrals with the friend's first name and initial
// and the reward, every query filtered by the shop.
func (r *ReferralRepo) AdvocatePage(ctx context.Context, shopID, advocateID int64) (*advocatepage.Record, error) {
	db := r.db.gorm.WithContext(ctx)
	var adv advocateRow
	err := db.Raw(`SELECT * FROM advocates WHERE shop_id = ? AND id = ?`, shopID, advocateID).Take(&adv).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, app.Errorf(app.ENOTFOUND, "no such advocate")
	}
	if err != nil {
		return nil, unavailable(err, fmt.Sprintf("read advocate %d of shop %d", advocateID, shopID))
	}
	rec := &advocatepage.Record{Advocate: *adv.toAdvocate()}
	if rec.Generation, err = r.PageGeneration(ctx, shopID, advocateID); err != nil {
		return nil, err
	}
	if err := db.Raw(`SELECT count(*) FROM clicks WHERE shop_id = ? AND advocate_id = ?`, shopID, advocateID).Scan(&rec.Clicks).Error; err != nil {
		return nil, unavailable(err, fmt.Sprintf("count clicks of advocate %d", advocateID))
	}
	var rows []struct {
		ID                          int64
		FirstName, LastInitial      string
		PlacedAt                    time.Time
		State, Reason, Decision     string
		HoldUntil                   time.Time
		RewardID                    *int64
		RewardCode, RewardKind      string
		RewardPercent               int
		RewardAmountMinor           int64
		RewardCurrency, RewardState string
		RewardExpiresAt             *time.Time
		RewardCreditMinor           int64
		RewardCreditCurrency        string
	}
	err = db.Raw(`
		SELECT f.id, o.first_name, o.last_initial, o.placed_at, f.state, f.reason, f.decision::text AS decision, f.hold_until,
			w.id AS reward_id, coalesce(w.code, '') AS reward_code, coalesce(w.kind, '') AS reward_kind,
			coalesce(w.percent, 0) AS reward_percent, coalesce(w.amount_minor, 0) AS reward_amount_minor,
			coalesce(w.currency, '') AS reward_currency, coalesce(w.state, '') AS reward_state, w.expires_at AS reward_expires_at,
			coalesce(w.credit_minor, 0) AS reward_credit_minor, coalesce(w.credit_currency, '') AS reward_credit_currency
		FROM referrals f
		JOIN orders o ON o.id = f.order_id AND o.shop_id = f.shop_id
		LEFT JOIN rewards w ON w.referral_id = f.id AND w.shop_id = f.shop_id
		WHERE f.shop_id = ? AND f.advocate_id = ?
		ORDER BY f.created_at DESC, f.id DESC
		LIMIT ?`, shopID, advocateID, advocatePageReferrals).Scan(&rows).Error
	if err != nil {
		return nil, unavailable(err, fmt.Sprintf("read referrals of advocate %d", advocateID))
	}
	for _, x := range rows {
		f := advocatepage.ReferralRecord{ID: x.ID, FriendFirst: x.FirstName, FriendInitial: x.LastInitial, OrderedAt: x.PlacedAt,
			State: x.State, Reason: x.Reason, Decision: []byte(x.Decision), HoldUntil: x.HoldUntil}
		if x.RewardID != nil {
			f.Reward = &app.Reward{ID: *x.RewardID, ShopID: shopID, ReferralID: x.ID, AdvocateID: advocateID, Code: x.RewardCode,
				Kind: x.RewardKind, Percent: x.RewardPercent, AmountMinor: x.RewardAmountMinor, Currency: x.RewardCurrency,
				ExpiresAt: x.RewardExpiresAt, State: x.RewardState, CreditMinor: x.RewardCreditMinor, CreditCurrency: x.RewardCreditCurrency}
		}
		rec.Referrals = append(rec.Referrals, f)
	}
	// The milestone ladder: the count it climbs and the bonuses paid.
	if rec.Approved, err = r.StandingReferrals(ctx, shopID, advocateID); err != nil {
		return nil, err
	}
	if rec.MilestoneRewards, err = r.MilestoneRewards(ctx, shopID, advocateID); err != nil {
		return nil, err
	}
	return rec, nil
}

// PageGeneration implements advocatepage.Data.
func (r *ReferralRepo) PageGeneration(ctx context.Context, shopID, advocateID int64) (int, error) {
	var gen []int
	err := r.db.gorm.WithContext(ctx).Raw(`SELECT page_generation FROM advocates WHERE shop_id = ? AND id = ?`, shopID, advocateID).Scan(&gen).Error
	if err != nil {
		return 0, unavailable(err, fmt.Sprintf("read page generation of advocate %d", advocateID))
	}
	if len(gen) == 0 {
		return 0, app.Errorf(app.ENOTFOUND, "no such advocate")
	}
	return gen[0], nil
}

// RevokePageLinks implements advocatepage.Data: one statement, so two
// revocations at once both count and neither is lost.
func (r *ReferralRepo) RevokePageLinks(ctx context.Context, shopID, advocateID int64) (int, error) {
	var gen []int
	err := r.db.gorm.WithContext(ctx).Raw(`UPDATE advocates SET page_generation = page_generation + 1
		WHERE shop_id = ? AND id = ? RETURNING page_generation`, shopID, advocateID).Scan(&gen).Error
	if err != nil {
		return 0, unavailable(err, fmt.Sprintf("revoke page links of advocate %d", advocateID))
	}
	if len(gen) == 0 {
		return 0, app.Errorf(app.ENOTFOUND, "no such advocate")
	}
	return gen[0], nil
}
