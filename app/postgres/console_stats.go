package postgres

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/analytics"
	"github.com/parrain/parrain/app/attribution"
	"github.com/parrain/parrain/app/review"
	"github.com/parrain/parrain/app/staff"
	"gorm.io/gorm"
)

// ShopsFor lists the shops a member may see.
func (r *ConsoleRepo) ShopsFor(ctx context.Context, m *staff.Member) ([]staff.ShopSummary, error) {
	var out []staff.ShopSummary
	q := r.db.gorm.WithContext(ctx)
	var err error
	if m.Role == staff.Owner {
		err = q.Raw(`SELECT domain, COALESCE(name, '') AS name FROM shops WHERE status = 'installed' ORDER BY domain`).Scan(&out).Error
	} else {
		err = q.Raw(`SELECT s.domain, COALESCE(s.name, '') AS name FROM shops s JOIN staff_shops x ON x.shop_id = s.id
			WHERE x.staff_id = ? AND s.status = 'installed' ORDER BY s.domain`, m.ID).Scan(&out).Error
	}
	return out, unavailable(err, "list shops")
}

// Record writes one audit line (settings changes).
func (r *ConsoleRepo) Record(ctx context.Context, shopID int64, actor, action, subject string, before, after any) error {
	return unavailable(audit(r.db.gorm.WithContext(ctx), shopID, actor, action, subject, "", before, after), "write audit log")
}

// Stats computes the dashboard for a shop and range: four aggregates run
// at once, each on its own connection. The referral figures (count,
// revenue, average, days, top advocates) come from one pass over the
// range's referrals joined to their orders (covering index referrals_dash).
func (r *ConsoleRepo) Stats(ctx context.Context, shopID int64, rg analytics.Range) (analytics.Stats, error) {
	var s analytics.Stats
	var mu sync.Mutex
	var wg sync.WaitGroup
	var firstErr error
	run := func(what string, f func(q *gorm.DB) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(r.db.gorm.WithContext(ctx)); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = unavailable(err, "dashboard: "+what)
				}
				mu.Unlock()
			}
		}()
	}
	var channels []analytics.Count
	run("clicks", func(q *gorm.DB) error {
		return q.Raw(`SELECT COALESCE(NULLIF(channel, ''), 'direct') AS name, count(*) AS count FROM clicks
			WHERE shop_id = ? AND at >= ? AND at < ? GROUP BY 1 ORDER BY 2 DESC`, shopID, rg.From, rg.To).Scan(&channels).Error
	})
	var rows []struct {
		Kind       string
		AdvocateID *int64
		Day        *time.Time
		N, Revenue int64
		Avg        *int64
	}
	run("referrals", func(q *gorm.DB) error {
		return q.Raw(`WITH r AS MATERIALIZED (
				SELECT f.advocate_id, date_trunc('day', f.created_at) AS day, o.total_minor, o.refunded_minor
				FROM referrals f JOIN orders o ON o.id = f.order_id
				WHERE f.shop_id = ? AND f.created_at >= ? AND f.created_at < ? AND f.state NOT IN ('rejected', 'reversed'))
			SELECT 'total' AS kind, NULL::bigint AS advocate_id, NULL::timestamptz AS day, count(*) AS n,
				COALESCE(sum(total_minor - refunded_minor), 0) AS revenue, COALESCE(avg(total_minor), 0)::bigint AS avg FROM r
			UNION ALL SELECT 'day', NULL, day, count(*), sum(total_minor - refunded_minor), NULL FROM r GROUP BY day
			UNION ALL (SELECT 'advocate', advocate_id, NULL, count(*), sum(total_minor - refunded_minor), NULL FROM r
				GROUP BY advocate_id ORDER BY 4 DESC, 5 DESC LIMIT 10)`, shopID, rg.From, rg.To).Scan(&rows).Error
	})
	var cost, otherAvg int64
	run("reward cost", func(q *gorm.DB) error {
		// Fixed rewards cost their amount; a percent reward's cost is
		// only known when used, so it is not counted here.
		return q.Raw(`SELECT COALESCE(sum(amount_minor), 0) FROM rewards WHERE shop_id = ? AND created_at >= ? AND created_at < ?
			AND state IN ('issuing', 'issued') AND kind = 'fixed'`, shopID, rg.From, rg.To).Scan(&cost).Error
	})
	run("other orders", func(q *gorm.DB) error {
		return q.Raw(`SELECT COALESCE(avg(o.total_minor), 0)::bigint FROM orders o WHERE o.shop_id = ? AND o.placed_at >= ? AND o.placed_at < ?
			AND o.known AND o.paid AND NOT EXISTS (SELECT 1 FROM referrals f WHERE f.order_id = o.id)`, shopID, rg.From, rg.To).Scan(&otherAvg).Error
	})
	wg.Wait()
	if firstErr != nil {
		return s, firstErr
	}
	s.Channels, s.RewardCostMinor, s.OtherAOVMinor = channels, cost, otherAvg
	for _, c := range channels {
		s.Clicks += c.Count
	}
	var top []int64
	revenue := map[int64]analytics.Advocate{}
	for _, row := range rows {
		switch row.Kind {
		case "total":
			s.ReferredOrders, s.RevenueMinor = row.N, row.Revenue
			if row.Avg != nil {
				s.ReferredAOVMinor = *row.Avg
			}
		case "day":
			s.Days = append(s.Days, analytics.Day{Day: *row.Day, Orders: row.N, RevenueMinor: row.Revenue})
		case "advocate":
			top = append(top, *row.AdvocateID)
			revenue[*row.AdvocateID] = analytics.Advocate{Orders: row.N, RevenueMinor: row.Revenue}
		}
	}
	sort.Slice(s.Days, func(i, j int) bool { return s.Days[i].Day.Before(s.Days[j].Day) })
	if len(top) > 0 {
		var codes []struct {
			ID   int64
			Code string
		}
		if err := r.db.gorm.WithContext(ctx).Raw(`SELECT id, code FROM advocates WHERE shop_id = ? AND id IN ?`, shopID, top).Scan(&codes).Error; err != nil {
			return s, unavailable(err, "dashboard: advocates")
		}
		code := map[int64]string{}
		for _, c := range codes {
			code[c.ID] = c.Code
		}
		for _, id := range top {
			a := revenue[id]
			a.Code = code[id]
			s.TopAdvocates = append(s.TopAdvocates, a)
		}
	}
	return s, nil
}

// ExportReferrals writes the shop's referrals in the range as CSV.
func (r *ConsoleRepo) ExportReferrals(ctx context.Context, shopID int64, rg analytics.Range, w io.Writer) error {
	rows, err := r.db.gorm.WithContext(ctx).Raw(`SELECT f.id, f.created_at, f.state, f.reason, o.name, o.platform_order_id, o.total_minor, o.refunded_minor, o.currency,
		a.code, f.evidence_kind, f.evidence_code, COALESCE(w.code, ''), COALESCE(w.state, '')
		FROM referrals f JOIN orders o ON o.id = f.order_id JOIN advocates a ON a.id = f.advocate_id LEFT JOIN rewards w ON w.referral_id = f.id
		WHERE f.shop_id = ? AND f.created_at >= ? AND f.created_at < ? ORDER BY f.created_at, f.id`, shopID, rg.From, rg.To).Rows()
	if err != nil {
		return unavailable(err, "export referrals")
	}
	defer rows.Close()
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"referral_id", "created_at", "state", "reason", "order", "order_id", "total", "refunded", "currency", "advocate_code", "evidence", "evidence_code", "reward_code", "reward_state"})
	for rows.Next() {
		var id, total, refunded int64
		var at time.Time
		var state, reason, name, oid, cur, code, ek, ec, rc, rs string
		if err := rows.Scan(&id, &at, &state, &reason, &name, &oid, &total, &refunded, &cur, &code, &ek, &ec, &rc, &rs); err != nil {
			return fmt.Errorf("export referrals: %w", err)
		}
		_ = cw.Write([]string{strconv.FormatInt(id, 10), at.UTC().Format(time.RFC3339), state, csvSafe(reason), csvSafe(name), oid,
			app.Money{Minor: total, Currency: cur}.Decimal(), app.Money{Minor: refunded, Currency: cur}.Decimal(), cur, code, ek, csvSafe(ec), rc, rs})
	}
	cw.Flush()
	return cw.Error()
}

// ExportRewards writes the shop's rewards in the range as CSV.
func (r *ConsoleRepo) ExportRewards(ctx context.Context, shopID int64, rg analytics.Range, w io.Writer) error {
	rows, err := r.db.gorm.WithContext(ctx).Raw(`SELECT w.id, w.created_at, w.referral_id, a.code, w.code, w.kind, w.percent, w.amount_minor, w.currency, w.state, w.error
		FROM rewards w JOIN advocates a ON a.id = w.advocate_id WHERE w.shop_id = ? AND w.created_at >= ? AND w.created_at < ? ORDER BY w.created_at, w.id`,
		shopID, rg.From, rg.To).Rows()
	if err != nil {
		return unavailable(err, "export rewards")
	}
	defer rows.Close()
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"reward_id", "created_at", "referral_id", "advocate_code", "code", "kind", "percent", "amount", "currency", "state", "error"})
	for rows.Next() {
		var id, ref, amount int64
		var pct int
		var at time.Time
		var adv, code, kind, cur, state, msg string
		if err := rows.Scan(&id, &at, &ref, &adv, &code, &kind, &pct, &amount, &cur, &state, &msg); err != nil {
			return fmt.Errorf("export rewards: %w", err)
		}
		_ = cw.Write([]string{strconv.FormatInt(id, 10), at.UTC().Format(time.RFC3339), strconv.FormatInt(ref, 10), adv, code, kind,
			strconv.Itoa(pct), app.Money{Minor: amount, Currency: cur}.Decimal(), cur, state, csvSafe(msg)})
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe keeps a spreadsheet from reading a cell as a formula: a cell
// starting with =, +, -, @, a tab or a carriage return (spreadsheets skip
// the last two and read what follows; OWASP "CSV Injection") gets a
// leading quote.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// CustomerByEmailOrCode finds a shop's advocate and their referrals.
func (r *ConsoleRepo) CustomerByEmailOrCode(ctx context.Context, shopID int64, q string) (*review.Customer, error) {
	var row struct {
		ID                                       int64
		Email, Code, FriendCode, FriendCodeState string
	}
	code := app.NormalizeCode(q)
	// By email as the engine knows advocates (normalised: a guest who
	// typed Marie.Curie@gmail.com is found by mariecurie@gmail.com), else
	// as written, else by code.
	email := attribution.NormalizeEmail(q)
	err := r.db.gorm.WithContext(ctx).Raw(`SELECT id, email, code, friend_code, friend_code_state FROM advocates
		WHERE shop_id = ? AND ((? <> '' AND email_norm <> '' AND email_norm = ?) OR lower(email) = lower(?) OR code = ? OR friend_code = ?)
		ORDER BY (? <> '' AND email_norm = ?) DESC, id LIMIT 1`, shopID, email, email, q, code, code, email, email).Scan(&row).Error
	if err != nil {
		return nil, unavailable(err, "find customer")
	}
	c := review.Customer{ID: row.ID, Email: row.Email, Code: row.Code, FriendCode: row.FriendCode, FriendCodeState: row.FriendCodeState}
	if c.ID == 0 {
		return nil, app.Errorf(app.ENOTFOUND, "no advocate %s", q)
	}
	db := r.db.gorm.WithContext(ctx)
	if err := db.Raw(`SELECT count(*) FROM clicks WHERE shop_id = ? AND advocate_id = ?`, shopID, c.ID).Scan(&c.Clicks).Error; err != nil {
		return nil, unavailable(err, "count clicks")
	}
	if err := db.Raw(`SELECT f.id, o.name AS order_name, f.state, f.hold_until, COALESCE(w.code, '') AS reward_code, COALESCE(w.state, '') AS reward_state
		FROM referrals f JOIN orders o ON o.id = f.order_id LEFT JOIN rewards w ON w.referral_id = f.id
		WHERE f.shop_id = ? AND f.advocate_id = ? ORDER BY f.created_at DESC LIMIT 100`, shopID, c.ID).Scan(&c.Referrals).Error; err != nil {
		return nil, unavailable(err, "load customer referrals")
	}
	for i := range c.Referrals {
		c.Referrals[i].Answer = review.WhereIsMyReward(c.Referrals[i])
	}
	return &c, nil
}

// Notices are what the system told the shop's merchant (audit rows written
// by jobs, e.g. webhooks re-enabled), newest first.
func (r *ConsoleRepo) Notices(ctx context.Context, shopID int64, limit int) ([]review.AuditEntry, error) {
	var rows []struct {
		Action string
		After  *string
		At     time.Time
	}
	err := r.db.gorm.WithContext(ctx).Raw(`SELECT action, after::text AS after, at FROM audit_log WHERE shop_id = ? AND actor = 'system'
		ORDER BY at DESC LIMIT ?`, shopID, limit).Scan(&rows).Error
	if err != nil {
		return nil, unavailable(err, "load notices")
	}
	out := make([]review.AuditEntry, len(rows))
	for i, row := range rows {
		out[i] = review.AuditEntry{Actor: "system", Action: row.Action, At: row.At}
		if row.After != nil {
			_ = json.Unmarshal([]byte(*row.After), &out[i].After)
		}
	}
	return out, nil
}
