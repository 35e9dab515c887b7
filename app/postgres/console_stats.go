package postgres

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/analytics"
	"github.com/parrain/parrain/app/attribution"
	"github.com/parrain/parrain/app/review"
	"github.com/parrain/parrain/app/staff"
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

// Stats reads the dashboard for a shop and range from the per-day figures
// the triggers of migration 00013 keep (dashboard_days and its siblings):
// a few hundred rows per year, whatever the number of referrals. The range
// is the shop's calendar days [From, To); the horizons' cohorts end `now`
// minus the horizon, in the shop's days too.
func (r *ConsoleRepo) Stats(ctx context.Context, shopID int64, rg analytics.Range, now time.Time) (analytics.Stats, error) {
	var s analytics.Stats
	loc := rg.From.Location()
	from, to := rg.From.Format(time.DateOnly), rg.To.Format(time.DateOnly)
	db := r.db.gorm.WithContext(ctx)
	var days []struct {
		Day                                                         time.Time
		Clicks, ClicksConverted, ReferredOrders, ReferredAfterClick int64
		ReferredRevenueMinor, ReferredTotalMinor, RewardCostMinor   int64
	}
	if err := db.Raw(`SELECT day, clicks, clicks_converted, referred_orders, referred_after_click, referred_revenue_minor,
			referred_total_minor, reward_cost_minor FROM dashboard_days WHERE shop_id = ? AND day >= ?::date AND day < ?::date ORDER BY day`,
		shopID, from, to).Scan(&days).Error; err != nil {
		return s, unavailable(err, "dashboard: days")
	}
	var total int64
	for _, d := range days {
		s.Clicks += d.Clicks
		s.ClicksConverted += d.ClicksConverted
		s.ReferredOrders += d.ReferredOrders
		s.AfterClickOrders += d.ReferredAfterClick
		s.RevenueMinor += d.ReferredRevenueMinor
		s.RewardCostMinor += d.RewardCostMinor
		total += d.ReferredTotalMinor
		if d.ReferredOrders != 0 || d.ReferredRevenueMinor != 0 {
			s.Days = append(s.Days, analytics.Day{Day: time.Date(d.Day.Year(), d.Day.Month(), d.Day.Day(), 0, 0, 0, 0, loc),
				Orders: d.ReferredOrders, RevenueMinor: d.ReferredRevenueMinor})
		}
	}
	s.CodeOnlyOrders = s.ReferredOrders - s.AfterClickOrders
	if s.ReferredOrders > 0 {
		s.ReferredAOVMinor = analytics.Cohort{Orders: s.ReferredOrders, RevenueMinor: total}.AOVMinor()
	}
	if err := db.Raw(`SELECT channel AS name, sum(clicks) AS count FROM dashboard_channel_days
			WHERE shop_id = ? AND day >= ?::date AND day < ?::date GROUP BY 1 HAVING sum(clicks) <> 0 ORDER BY 2 DESC, 1`,
		shopID, from, to).Scan(&s.Channels).Error; err != nil {
		return s, unavailable(err, "dashboard: channels")
	}
	top, err := r.topAdvocates(ctx, shopID, from, to, rg.To.Sub(rg.From) > shortRange)
	if err != nil {
		return s, err
	}
	s.TopAdvocates = top
	today := now.In(loc)
	today = time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, loc)
	for _, h := range analytics.Horizons {
		// First orders at least h days old: on or before today - h.
		last := today.AddDate(0, 0, -h)
		if !last.Before(rg.To) {
			last = rg.To.AddDate(0, 0, -1)
		}
		hz := analytics.Horizon{Days: h, CohortTo: last, Latest: today.AddDate(0, 0, -h), Mature: !rg.From.After(today.AddDate(0, 0, -h))}
		if !hz.Mature {
			s.Customers = append(s.Customers, hz)
			continue
		}
		var rows []struct {
			Referred                              bool
			Customers, Orders, Revenue, Repeaters int64
		}
		cols := fmt.Sprintf("sum(orders_%d) AS orders, sum(revenue_%d) AS revenue, sum(repeat_%d) AS repeaters", h, h, h)
		if err := db.Raw(`SELECT referred, sum(customers) AS customers, `+cols+` FROM dashboard_cohort_days
				WHERE shop_id = ? AND day >= ?::date AND day <= ?::date GROUP BY referred`,
			shopID, from, last.Format(time.DateOnly)).Scan(&rows).Error; err != nil {
			return s, unavailable(err, "dashboard: customers")
		}
		for _, row := range rows {
			c := analytics.Cohort{Customers: row.Customers, Orders: row.Orders, RevenueMinor: row.Revenue, Repeaters: row.Repeaters}
			if row.Referred {
				hz.Referred = c
			} else {
				hz.Others = c
			}
		}
		s.Customers = append(s.Customers, hz)
	}
	return s, nil
}

// shortRange: up to this long, the top advocates are summed from every
// day row of the range (a month: tens of thousands of rows at 1M
// referrals); beyond, advocates are read by their all-time bound.
const shortRange = 92 * 24 * time.Hour

// topScanBatch and topScanMax: the advocates read per step of the bounded
// scan, and the most read before summing every day row instead.
var topScanBatch, topScanMax = 500, 5000

// topAdvocates returns the ten advocates with the most referred orders
// (then revenue, then oldest) in the shop's days [from, to).
//
// Long ranges: an advocate's figures in any range are at most their
// figures over all days (dashboard_advocate_totals, migration 00021), so
// advocates are read in the order of that bound and only theirs summed,
// until the next bound cannot reach the tenth: exact, and a year reads a
// few hundred advocates instead of every day row of the year. When the
// bounds are loose (the range is far from where the orders are), after
// topScanMax advocates the day rows are summed as for a short range.
func (r *ConsoleRepo) topAdvocates(ctx context.Context, shopID int64, from, to string, long bool) ([]analytics.Advocate, error) {
	type row struct {
		AdvocateID, Orders, RevenueMinor int64
	}
	var top []row
	db := r.db.gorm.WithContext(ctx)
	direct := func() error {
		return db.Raw(`SELECT advocate_id, sum(orders) AS orders, sum(revenue_minor) AS revenue_minor FROM dashboard_advocate_days
			WHERE shop_id = ? AND day >= ?::date AND day < ?::date GROUP BY 1 HAVING sum(orders) > 0 ORDER BY 2 DESC, 3 DESC, 1 LIMIT 10`,
			shopID, from, to).Scan(&top).Error
	}
	better := func(a, b row) bool {
		if a.Orders != b.Orders {
			return a.Orders > b.Orders
		}
		if a.RevenueMinor != b.RevenueMinor {
			return a.RevenueMinor > b.RevenueMinor
		}
		return a.AdvocateID < b.AdvocateID
	}
	if !long {
		if err := direct(); err != nil {
			return nil, unavailable(err, "dashboard: top advocates")
		}
	} else {
		after := row{Orders: math.MaxInt64}
		done := false
		for read := 0; !done; {
			if read >= topScanMax {
				top = nil
				if err := direct(); err != nil {
					return nil, unavailable(err, "dashboard: top advocates")
				}
				break
			}
			var bounds []row
			if err := db.Raw(`SELECT advocate_id, orders, revenue_minor FROM dashboard_advocate_totals
				WHERE shop_id = ? AND orders > 0 AND (orders, revenue_minor, advocate_id) < (?, ?, ?)
				ORDER BY orders DESC, revenue_minor DESC, advocate_id DESC LIMIT ?`,
				shopID, after.Orders, after.RevenueMinor, after.AdvocateID, topScanBatch).Scan(&bounds).Error; err != nil {
				return nil, unavailable(err, "dashboard: advocate bounds")
			}
			read += len(bounds)
			if len(bounds) < topScanBatch {
				done = true
			}
			if len(bounds) == 0 {
				break
			}
			after = bounds[len(bounds)-1]
			ids := make([]int64, len(bounds))
			for i, b := range bounds {
				ids[i] = b.AdvocateID
			}
			var exact []row
			if err := db.Raw(`SELECT advocate_id, sum(orders) AS orders, sum(revenue_minor) AS revenue_minor FROM dashboard_advocate_days
				WHERE shop_id = ? AND advocate_id IN ? AND day >= ?::date AND day < ?::date GROUP BY 1 HAVING sum(orders) > 0`,
				shopID, ids, from, to).Scan(&exact).Error; err != nil {
				return nil, unavailable(err, "dashboard: top advocates")
			}
			top = append(top, exact...)
			sort.Slice(top, func(i, j int) bool { return better(top[i], top[j]) })
			top = top[:min(len(top), 10)]
			// Every advocate not read yet is bounded by the last one read:
			// when that bound is below the tenth, none can enter.
			if len(top) == 10 && (after.Orders < top[9].Orders || (after.Orders == top[9].Orders && after.RevenueMinor < top[9].RevenueMinor)) {
				done = true
			}
		}
	}
	if len(top) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(top))
	for i, t := range top {
		ids[i] = t.AdvocateID
	}
	var codes []struct {
		ID   int64
		Code string
	}
	if err := db.Raw(`SELECT id, code FROM advocates WHERE shop_id = ? AND id IN ?`, shopID, ids).Scan(&codes).Error; err != nil {
		return nil, unavailable(err, "dashboard: top advocates' codes")
	}
	code := map[int64]string{}
	for _, c := range codes {
		code[c.ID] = c.Code
	}
	out := make([]analytics.Advocate, 0, len(top))
	for _, t := range top {
		if c, ok := code[t.AdvocateID]; ok {
			out = append(out, analytics.Advocate{Code: c, Orders: t.Orders, RevenueMinor: t.RevenueMinor})
		}
	}
	return out, nil
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
