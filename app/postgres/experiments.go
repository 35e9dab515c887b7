package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/experiment"
)

// ExperimentRepo stores A/B tests of the offer and the advocates' arms
// (migration 00022). Every query names the shop.
type ExperimentRepo struct{ db *DB }

// Experiments returns the A/B test repository.
func (db *DB) Experiments() *ExperimentRepo { return &ExperimentRepo{db: db} }

var _ experiment.Store = (*ExperimentRepo)(nil)

type experimentRow struct {
	ID        int64
	ShopID    int64
	Name      string
	SplitB    int
	Goal      string
	FriendB   *string
	RewardB   *string
	OfferA    string
	StartedAt time.Time
	EndedAt   *time.Time
	Winner    string
	Kept      string
	// HoldsAt and HoldsJoined are TestsAt's answers.
	HoldsAt, HoldsJoined bool
}

const experimentCols = `id, shop_id, name, split_b, goal, friend_b::text, reward_b::text, offer_a::text, started_at, ended_at, winner, kept`

func (r experimentRow) toTest() (*experiment.Test, error) {
	t := &experiment.Test{ID: r.ID, ShopID: r.ShopID, Name: r.Name, SplitB: r.SplitB, Goal: r.Goal, StartedAt: r.StartedAt,
		EndedAt: r.EndedAt, Winner: experiment.Arm(r.Winner), Kept: experiment.Arm(r.Kept)}
	for _, side := range []struct {
		raw *string
		dst **app.Offer
	}{{r.FriendB, &t.FriendB}, {r.RewardB, &t.RewardB}} {
		if side.raw != nil {
			var o app.Offer
			if err := json.Unmarshal([]byte(*side.raw), &o); err != nil {
				return nil, fmt.Errorf("decode arm B of test %d: %w", r.ID, err)
			}
			*side.dst = &o
		}
	}
	if err := json.Unmarshal([]byte(r.OfferA), &t.OfferA); err != nil {
		return nil, fmt.Errorf("decode arm A of test %d: %w", r.ID, err)
	}
	return t, nil
}

func jsonOrNil(v *app.Offer) (*string, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	s := string(b)
	return &s, err
}

// Start implements experiment.Store. The partial unique index on running
// tests refuses a second one, also when two starts race.
func (r *ExperimentRepo) Start(ctx context.Context, t *experiment.Test) error {
	friend, err := jsonOrNil(t.FriendB)
	if err != nil {
		return err
	}
	reward, err := jsonOrNil(t.RewardB)
	if err != nil {
		return err
	}
	offerA, err := json.Marshal(t.OfferA)
	if err != nil {
		return err
	}
	var row experimentRow
	err = r.db.gorm.WithContext(ctx).Raw(`INSERT INTO experiments (shop_id, name, split_b, goal, friend_b, reward_b, offer_a)
		VALUES (?, ?, ?, ?, ?::jsonb, ?::jsonb, ?::jsonb) RETURNING `+experimentCols,
		t.ShopID, t.Name, t.SplitB, t.Goal, friend, reward, string(offerA)).Scan(&row).Error
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "experiments_one_running" {
		return app.Errorf(app.ECONFLICT, "an A/B test is already running in this shop: end it before starting another")
	}
	if err != nil {
		return unavailable(err, "start A/B test")
	}
	t.ID, t.StartedAt = row.ID, row.StartedAt
	return nil
}

func (r *ExperimentRepo) one(ctx context.Context, where string, args ...any) (*experiment.Test, error) {
	var rows []experimentRow
	if err := r.db.gorm.WithContext(ctx).Raw(`SELECT `+experimentCols+` FROM experiments WHERE `+where, args...).Scan(&rows).Error; err != nil {
		return nil, unavailable(err, "load A/B test")
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return rows[0].toTest()
}

// Test implements experiment.Store.
func (r *ExperimentRepo) Test(ctx context.Context, shopID, id int64) (*experiment.Test, error) {
	t, err := r.one(ctx, `shop_id = ? AND id = ?`, shopID, id)
	if err == nil && t == nil {
		return nil, app.Errorf(app.ENOTFOUND, "no A/B test %d in this shop", id)
	}
	return t, err
}

// Tests implements experiment.Store.
func (r *ExperimentRepo) Tests(ctx context.Context, shopID int64, limit int) ([]experiment.Test, error) {
	var rows []experimentRow
	if err := r.db.gorm.WithContext(ctx).Raw(`SELECT `+experimentCols+` FROM experiments WHERE shop_id = ?
		ORDER BY (ended_at IS NULL) DESC, started_at DESC, id DESC LIMIT ?`, shopID, limit).Scan(&rows).Error; err != nil {
		return nil, unavailable(err, "list A/B tests")
	}
	out := make([]experiment.Test, 0, len(rows))
	for _, row := range rows {
		t, err := row.toTest()
		if err != nil {
			return nil, err
		}
		out = append(out, *t)
	}
	return out, nil
}

// TestsAt implements experiment.Arms in one query: tests never overlap
// (one running at a time, each ended before the next starts), so at most
// one holds each instant.
func (r *ExperimentRepo) TestsAt(ctx context.Context, shopID int64, at, joined time.Time) (inForce, whenJoined *experiment.Test, err error) {
	var rows []experimentRow
	const holds = `(started_at <= ? AND (ended_at IS NULL OR ended_at > ?))`
	if err := r.db.gorm.WithContext(ctx).Raw(`SELECT `+experimentCols+`, `+holds+` AS holds_at, `+holds+` AS holds_joined
		FROM experiments WHERE shop_id = ? AND (`+holds+` OR `+holds+`) ORDER BY started_at DESC LIMIT 2`,
		at, at, joined, joined, shopID, at, at, joined, joined).Scan(&rows).Error; err != nil {
		return nil, nil, unavailable(err, "load A/B tests in force")
	}
	for _, row := range rows {
		t, err := row.toTest()
		if err != nil {
			return nil, nil, err
		}
		if row.HoldsAt && inForce == nil {
			inForce = t
		}
		if row.HoldsJoined && whenJoined == nil {
			whenJoined = t
		}
	}
	return inForce, whenJoined, nil
}

// Arm implements experiment.Arms.
func (r *ExperimentRepo) Arm(ctx context.Context, testID, advocateID int64) (experiment.Arm, error) {
	var arms []string
	if err := r.db.gorm.WithContext(ctx).Raw(`SELECT arm FROM advocate_arms WHERE experiment_id = ? AND advocate_id = ?`,
		testID, advocateID).Scan(&arms).Error; err != nil {
		return "", unavailable(err, "load advocate's arm")
	}
	if len(arms) == 0 {
		return "", nil
	}
	return experiment.Arm(arms[0]), nil
}

// SetArm implements experiment.Arms: the first arm stored stays.
func (r *ExperimentRepo) SetArm(ctx context.Context, t *experiment.Test, advocateID int64, arm experiment.Arm) (experiment.Arm, error) {
	var stored string
	err := r.db.gorm.WithContext(ctx).Raw(`WITH ins AS (
			INSERT INTO advocate_arms (experiment_id, advocate_id, shop_id, arm)
			SELECT ?, a.id, a.shop_id, ? FROM advocates a WHERE a.id = ? AND a.shop_id = ?
			ON CONFLICT (experiment_id, advocate_id) DO NOTHING RETURNING arm)
		SELECT arm FROM ins UNION ALL SELECT arm FROM advocate_arms WHERE experiment_id = ? AND advocate_id = ? LIMIT 1`,
		t.ID, string(arm), advocateID, t.ShopID, t.ID, advocateID).Scan(&stored).Error
	if err != nil {
		return "", unavailable(err, "store advocate's arm")
	}
	if stored == "" {
		return "", fmt.Errorf("advocate %d is not in shop %d", advocateID, t.ShopID)
	}
	return experiment.Arm(stored), nil
}

type armCounts struct {
	Arm                                    string
	Advocates, Clicks, Orders, ClickOrders int64
	RevenueMinor, RewardCostMinor          int64
	NetSquaresMinor                        float64
}

// Counts implements experiment.Store: each arm's advocates, the clicks on
// their links, their friends' orders (referrals neither rejected nor
// reversed, as on the dashboard), the clicks those orders followed (each
// click once), the orders' totals less refunds, and fixed rewards created
// for them (issuing or issued: a percent reward's cost is only known when
// it is used), all within the test's window. Per advocate first, for the
// sum of squared net revenue that the interval needs. Every table is
// filtered by the shop; the arms' primary key, clicks_advocate and
// referrals_advocate make it a few index scans per advocate.
func (r *ExperimentRepo) Counts(ctx context.Context, t *experiment.Test) (a, b experiment.Counts, err error) {
	end := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	if t.EndedAt != nil {
		end = *t.EndedAt
	}
	var rows []armCounts
	err = r.db.gorm.WithContext(ctx).Raw(`WITH arms AS (
			SELECT advocate_id, arm FROM advocate_arms WHERE experiment_id = @test AND shop_id = @shop),
		clk AS (
			SELECT c.advocate_id, count(*) AS n FROM arms JOIN clicks c ON c.advocate_id = arms.advocate_id
			WHERE c.shop_id = @shop AND c.at >= @start AND c.at < @end GROUP BY c.advocate_id),
		ref AS (
			SELECT f.advocate_id, count(*) AS orders, count(DISTINCT f.click_id) AS click_orders,
				sum(o.total_minor - o.refunded_minor) AS revenue,
				coalesce(sum(w.amount_minor) FILTER (WHERE w.kind IN ('fixed', 'store_credit') AND w.state IN ('issuing', 'issued')), 0) AS cost
			FROM arms JOIN referrals f ON f.advocate_id = arms.advocate_id
			JOIN orders o ON o.id = f.order_id AND o.shop_id = @shop
			LEFT JOIN rewards w ON w.referral_id = f.id AND w.shop_id = @shop
			WHERE f.shop_id = @shop AND f.state NOT IN ('rejected', 'reversed') AND o.placed_at >= @start AND o.placed_at < @end
			GROUP BY f.advocate_id)
		SELECT arms.arm, count(*) AS advocates, coalesce(sum(clk.n), 0) AS clicks, coalesce(sum(ref.orders), 0) AS orders,
			coalesce(sum(ref.click_orders), 0) AS click_orders, coalesce(sum(ref.revenue), 0) AS revenue_minor,
			coalesce(sum(ref.cost), 0) AS reward_cost_minor,
			coalesce(sum(((coalesce(ref.revenue, 0) - coalesce(ref.cost, 0))::float8) ^ 2), 0) AS net_squares_minor
		FROM arms LEFT JOIN clk ON clk.advocate_id = arms.advocate_id LEFT JOIN ref ON ref.advocate_id = arms.advocate_id
		GROUP BY arms.arm`,
		map[string]any{"test": t.ID, "shop": t.ShopID, "start": t.StartedAt, "end": end}).Scan(&rows).Error
	if err != nil {
		return a, b, unavailable(err, fmt.Sprintf("count arms of A/B test %d", t.ID))
	}
	for _, row := range rows {
		c := experiment.Counts{Advocates: row.Advocates, Clicks: row.Clicks, Orders: row.Orders,
			ClickOrders: min(row.ClickOrders, row.Clicks), RevenueMinor: row.RevenueMinor, RewardCostMinor: row.RewardCostMinor,
			NetSquaresMinor: row.NetSquaresMinor}
		switch experiment.Arm(row.Arm) {
		case experiment.ArmA:
			a = c
		case experiment.ArmB:
			b = c
		}
	}
	return a, b, nil
}

// End implements experiment.Store: the test ends and, when B is kept, its
// offer becomes the program's, in one transaction (never a test ended with
// B kept and the program unchanged).
func (r *ExperimentRepo) End(ctx context.Context, t *experiment.Test, kept, winner experiment.Arm, final experiment.Result, p *app.Program) error {
	res, err := json.Marshal(final)
	if err != nil {
		return err
	}
	err = r.db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		up := tx.Exec(`UPDATE experiments SET ended_at = now(), kept = ?, winner = ?, final_results = ?::jsonb
			WHERE id = ? AND shop_id = ? AND ended_at IS NULL`, string(kept), string(winner), string(res), t.ID, t.ShopID)
		if up.Error != nil {
			return up.Error
		}
		if up.RowsAffected == 0 {
			return app.Errorf(app.ECONFLICT, "this A/B test has already ended")
		}
		if p == nil {
			return nil
		}
		prog := tx.Exec(`UPDATE programs SET friend_kind = ?, friend_percent = ?, friend_amount_minor = ?,
			reward_kind = ?, reward_percent = ?, reward_amount_minor = ?, updated_at = now() WHERE shop_id = ?`,
			p.FriendKind, p.FriendPercent, p.FriendAmountMinor, p.RewardKind, p.RewardPercent, p.RewardAmountMinor, t.ShopID)
		if prog.Error != nil {
			return prog.Error
		}
		if prog.RowsAffected == 0 {
			return app.Errorf(app.ENOTFOUND, "no program for shop %d", t.ShopID)
		}
		return nil
	})
	if app.ErrorCode(err) == app.ECONFLICT || app.ErrorCode(err) == app.ENOTFOUND {
		return err
	}
	return unavailable(err, fmt.Sprintf("end A/B test %d", t.ID))
}
