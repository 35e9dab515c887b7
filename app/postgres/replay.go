package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/lib/pq"
	"gorm.io/gorm"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/attribution"
	"github.com/parrain/parrain/app/events"
	"github.com/parrain/parrain/app/referrals"
)

// ReplayRepo implements referrals.ReplayStore: a few set-based reads per
// replay (never one per order), and the apply transaction.
type ReplayRepo struct{ db *DB }

var _ referrals.ReplayStore = (*ReplayRepo)(nil)

// Replays returns the replay's storage.
func (db *DB) Replays() *ReplayRepo { return &ReplayRepo{db: db} }

// ReplayOrders implements referrals.ReplayStore (database/sql: 100,000
// rows and their facts are read here; orders_placed serves the range).
func (r *ReplayRepo) ReplayOrders(ctx context.Context, shopID int64, from time.Time) ([]referrals.ReplayOrder, error) {
	rows, err := r.db.sql.QueryContext(ctx, `SELECT o.id, o.first_name, o.known, o.paid, o.cancelled, o.refunded_minor, o.facts::text, o.placed_at,
			f.id, f.advocate_id, f.evidence_kind, f.evidence_code, f.decision::text, f.state, f.reason, f.hold_until, f.flagged, f.created_at
		FROM orders o LEFT JOIN referrals f ON f.order_id = o.id
		WHERE o.shop_id = $1 AND o.known AND o.paid AND o.placed_at >= $2 ORDER BY o.placed_at, o.id`, shopID, from)
	if err != nil {
		return nil, unavailable(err, "load the orders to replay")
	}
	defer rows.Close()
	var out []referrals.ReplayOrder
	var facts string
	for rows.Next() {
		var o referrals.ReplayOrder
		var fid, fadv sql.NullInt64
		var kind, code, decision, state, reason sql.NullString
		var hold, created sql.NullTime
		var flagged sql.NullBool
		if err := rows.Scan(&o.Order.ID, &o.Order.FirstName, &o.Order.Known, &o.Order.Paid, &o.Order.Cancelled, &o.Order.RefundedMinor, &facts, &o.PlacedAt,
			&fid, &fadv, &kind, &code, &decision, &state, &reason, &hold, &flagged, &created); err != nil {
			return nil, unavailable(err, "read the orders to replay")
		}
		o.Order.ShopID = shopID
		if err := factsJSON.UnmarshalFromString(facts, &o.Order.Facts); err != nil {
			return nil, fmt.Errorf("decode order %d: %w", o.Order.ID, err)
		}
		if fid.Valid {
			o.Referral = &app.Referral{ID: fid.Int64, ShopID: shopID, AdvocateID: fadv.Int64, OrderID: o.Order.ID, EvidenceKind: kind.String,
				EvidenceCode: code.String, Decision: []byte(decision.String), State: state.String, Reason: reason.String, HoldUntil: hold.Time,
				Flagged: flagged.Bool, CreatedAt: created.Time}
		}
		out = append(out, o)
	}
	return out, unavailable(rows.Err(), "read the orders to replay")
}

// AdvocatesByCodes implements referrals.ReplayStore.
func (r *ReplayRepo) AdvocatesByCodes(ctx context.Context, shopID int64, codes []string) (map[string]*app.Advocate, error) {
	out := map[string]*app.Advocate{}
	if len(codes) == 0 {
		return out, nil
	}
	var rows []advocateRow
	if err := r.db.gorm.WithContext(ctx).Raw(`SELECT * FROM advocates WHERE shop_id = ? AND (code = ANY(?) OR friend_code = ANY(?))`,
		shopID, pq.Array(codes), pq.Array(codes)).Scan(&rows).Error; err != nil {
		return nil, unavailable(err, "load the replay's advocates")
	}
	for _, row := range rows {
		a := row.toAdvocate()
		out[a.Code], out[a.FriendCode] = a, a
	}
	return out, nil
}

// AdvocateOrders implements referrals.ReplayStore: the advocates' orders as
// AdvocateFacts finds them (known, by customer id or normalised email).
func (r *ReplayRepo) AdvocateOrders(ctx context.Context, shopID int64, advs []*app.Advocate) (map[int64][]referrals.DatedOrder, error) {
	out := map[int64][]referrals.DatedOrder{}
	byCustomer, byEmail := map[string][]int64{}, map[string][]int64{}
	var customers, emails []string
	for _, a := range advs {
		if a.CustomerID != "" {
			if byCustomer[a.CustomerID] == nil {
				customers = append(customers, a.CustomerID)
			}
			byCustomer[a.CustomerID] = append(byCustomer[a.CustomerID], a.ID)
		}
		if e := attribution.NormalizeEmail(a.Email); e != "" {
			if byEmail[e] == nil {
				emails = append(emails, e)
			}
			byEmail[e] = append(byEmail[e], a.ID)
		}
	}
	if len(customers) == 0 && len(emails) == 0 {
		return out, nil
	}
	rows, err := r.db.sql.QueryContext(ctx, `SELECT customer_id, email_norm, placed_at, facts::text FROM orders
		WHERE shop_id = $1 AND known AND ((customer_id <> '' AND customer_id = ANY($2)) OR (email_norm <> '' AND email_norm = ANY($3)))
		ORDER BY placed_at DESC, id DESC`, shopID, pq.Array(customers), pq.Array(emails))
	if err != nil {
		return nil, unavailable(err, "load the advocates' orders")
	}
	defer rows.Close()
	for rows.Next() {
		var cust, email, facts string
		var o referrals.DatedOrder
		if err := rows.Scan(&cust, &email, &o.PlacedAt, &facts); err != nil {
			return nil, unavailable(err, "read the advocates' orders")
		}
		if err := factsJSON.UnmarshalFromString(facts, &o.Facts); err != nil {
			return nil, fmt.Errorf("decode an advocate's order: %w", err)
		}
		seen := map[int64]bool{}
		for _, id := range append(byCustomer[cust], byEmail[email]...) {
			if !seen[id] {
				seen[id] = true
				out[id] = append(out[id], o)
			}
		}
	}
	return out, unavailable(rows.Err(), "read the advocates' orders")
}

// PriorOrders implements referrals.ReplayStore: History's count of the
// buyer's earlier known orders, for every order at once.
func (r *ReplayRepo) PriorOrders(ctx context.Context, shopID int64, orderIDs []int64) (map[int64]int, error) {
	out := make(map[int64]int, len(orderIDs))
	if len(orderIDs) == 0 {
		return out, nil
	}
	rows, err := r.db.sql.QueryContext(ctx, `SELECT o.id, (SELECT count(*) FROM orders p WHERE p.shop_id = o.shop_id AND p.id <> o.id AND p.known
			AND p.placed_at < o.placed_at AND ((p.customer_id <> '' AND p.customer_id = o.customer_id) OR (p.email_norm <> '' AND p.email_norm = o.email_norm)))
		FROM orders o WHERE o.shop_id = $1 AND o.id = ANY($2)`, shopID, pq.Array(orderIDs))
	if err != nil {
		return nil, unavailable(err, "count the buyers' earlier orders")
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, unavailable(err, "read the buyers' earlier orders")
		}
		out[id] = n
	}
	return out, unavailable(rows.Err(), "read the buyers' earlier orders")
}

// EarlierReferrals implements referrals.ReplayStore.
func (r *ReplayRepo) EarlierReferrals(ctx context.Context, shopID int64, since, from time.Time) ([]referrals.PastReferral, error) {
	rows, err := r.db.sql.QueryContext(ctx, `SELECT f.advocate_id, o.browser_ip, f.created_at, f.state NOT IN ('rejected', 'reversed')
		FROM referrals f JOIN orders o ON o.id = f.order_id
		WHERE f.shop_id = $1 AND f.created_at >= $2 AND o.placed_at < $3 ORDER BY f.created_at`, shopID, since, from)
	if err != nil {
		return nil, unavailable(err, "load earlier referrals")
	}
	defer rows.Close()
	var out []referrals.PastReferral
	for rows.Next() {
		var p referrals.PastReferral
		if err := rows.Scan(&p.AdvocateID, &p.BrowserIP, &p.At, &p.Counts); err != nil {
			return nil, unavailable(err, "read earlier referrals")
		}
		out = append(out, p)
	}
	return out, unavailable(rows.Err(), "read earlier referrals")
}

// ReferredBuyers implements referrals.ReplayStore: the circle rule's
// view of every referral that is not rejected (History's query, for all
// orders at once).
func (r *ReplayRepo) ReferredBuyers(ctx context.Context, shopID int64) ([]referrals.ReferredBuyer, error) {
	rows, err := r.db.sql.QueryContext(ctx, `SELECT ao.id, ao.placed_at, ao.customer_id, ao.email_norm, fa.customer_id, fa.email_norm
		FROM referrals f JOIN orders ao ON ao.id = f.order_id JOIN advocates fa ON fa.id = f.advocate_id
		WHERE f.shop_id = $1 AND ao.shop_id = $1 AND ao.known AND f.state <> 'rejected'`, shopID)
	if err != nil {
		return nil, unavailable(err, "load referred buyers")
	}
	defer rows.Close()
	var out []referrals.ReferredBuyer
	for rows.Next() {
		var b referrals.ReferredBuyer
		if err := rows.Scan(&b.OrderID, &b.PlacedAt, &b.BuyerCustomerID, &b.BuyerEmail, &b.ReferrerCustomerID, &b.ReferrerEmail); err != nil {
			return nil, unavailable(err, "read referred buyers")
		}
		out = append(out, b)
	}
	return out, unavailable(rows.Err(), "read referred buyers")
}

// ApplyReplay implements referrals.ReplayStore: the program and every
// referral update in one transaction, so a crash leaves the old rules and
// states or the new ones, never half; run again, it finds nothing left to
// change (each update checks the state it was read in, under the row
// lock). Each referral changed gets an audit row (action rule_change: the
// referral's timeline shows it), the program one (update_program).
func (r *ReplayRepo) ApplyReplay(ctx context.Context, p app.Program, actor string, before, after any, updates []referrals.ReplayUpdate) ([]referrals.ReplayUpdate, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	var done []referrals.ReplayUpdate
	err := r.db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		done = done[:0]
		row := fromProgram(p)
		res := tx.Model(&programRow{}).Where("shop_id = ?", p.ShopID).Select("*").Omit("id", "shop_id").Updates(&row)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return app.Errorf(app.ENOTFOUND, "no program for shop %d", p.ShopID)
		}
		if err := audit(tx, p.ShopID, actor, "update_program", "program", "", before, after); err != nil {
			return err
		}
		for _, u := range updates {
			var cur struct {
				State     string
				HoldUntil time.Time
				Reason    string
			}
			if err := tx.Raw("SELECT state, hold_until, reason FROM referrals WHERE id = ? AND shop_id = ? FOR UPDATE", u.ReferralID, p.ShopID).Scan(&cur).Error; err != nil {
				return err
			}
			if cur.State != u.FromState {
				continue // moved since the replay read it (approved by the run, a staff action): left alone
			}
			hold := cur.HoldUntil
			if !u.HoldUntil.IsZero() {
				hold = u.HoldUntil
			}
			if u.ToState == cur.State && hold.Equal(cur.HoldUntil) {
				continue
			}
			if err := tx.Exec("UPDATE referrals SET state = ?, reason = ?, decision = ?::jsonb, hold_until = ?, updated_at = now() WHERE id = ?",
				u.ToState, u.Reason, string(u.Decision), hold, u.ReferralID).Error; err != nil {
				return err
			}
			why := "program change"
			if u.Reason != "" && u.ToState != cur.State {
				why += ": " + u.Reason
			}
			if err := audit(tx, p.ShopID, actor, "rule_change", fmt.Sprintf("referral:%d", u.ReferralID), why,
				map[string]any{"state": cur.State, "reason": cur.Reason, "hold_until": cur.HoldUntil},
				map[string]any{"state": u.ToState, "reason": u.Reason, "hold_until": hold}); err != nil {
				return err
			}
			if u.ToState == app.ReferralReversed {
				if err := emitReferral(tx, events.ReferralReversed, u.ReferralID); err != nil {
					return err
				}
			}
			done = append(done, u)
		}
		return nil
	})
	if err != nil {
		if app.ErrorCode(err) == app.ENOTFOUND {
			return nil, err
		}
		return nil, unavailable(err, fmt.Sprintf("apply the program change of shop %d", p.ShopID))
	}
	return done, nil
}
