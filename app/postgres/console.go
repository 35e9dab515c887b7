package postgres

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/attribution"
	"github.com/parrain/parrain/app/events"
	"github.com/parrain/parrain/app/referrals"
	"github.com/parrain/parrain/app/review"
	"github.com/parrain/parrain/app/staff"
)

// ConsoleRepo stores staff accounts and sessions and answers the review
// queue. Every review query is scoped by shop_id: a referral of another
// shop is simply not found.
type ConsoleRepo struct{ db *DB }

var (
	_ staff.Store  = (*ConsoleRepo)(nil)
	_ review.Store = (*ConsoleRepo)(nil)
)

// Console returns the console's storage.
func (db *DB) Console() *ConsoleRepo { return &ConsoleRepo{db: db} }

// CreateMember implements staff.Store.
func (r *ConsoleRepo) CreateMember(ctx context.Context, m *staff.Member, hash string, shopDomains []string) (*staff.Member, error) {
	err := r.db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Raw(`INSERT INTO staff (email, name, password_hash, role) VALUES (?, ?, ?, ?) RETURNING id`,
			m.Email, m.Name, hash, string(m.Role)).Scan(&m.ID).Error; err != nil {
			return err
		}
		for _, d := range shopDomains {
			var id int64
			if err := tx.Raw(`SELECT id FROM shops WHERE domain = ?`, strings.ToLower(d)).Scan(&id).Error; err != nil {
				return err
			}
			if id == 0 {
				return app.Errorf(app.EINVALID, "shops: no shop %s", d)
			}
			if err := tx.Exec(`INSERT INTO staff_shops (staff_id, shop_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, m.ID, id).Error; err != nil {
				return err
			}
			m.ShopIDs = append(m.ShopIDs, id)
		}
		return nil
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return nil, app.Errorf(app.ECONFLICT, "email: a member with this email exists")
	}
	if app.ErrorCode(err) == app.EINVALID {
		return nil, err
	}
	if err != nil {
		return nil, unavailable(err, "create staff member")
	}
	return m, nil
}

type memberRow struct {
	ID           int64
	Email        string
	Name         string
	PasswordHash string
	Role         string
	Disabled     bool
	ShopIDs      string
}

func (m memberRow) toMember() *staff.Member {
	out := &staff.Member{ID: m.ID, Email: m.Email, Name: m.Name, Role: staff.Role(m.Role), Disabled: m.Disabled}
	_ = json.Unmarshal([]byte(m.ShopIDs), &out.ShopIDs)
	return out
}

const memberSelect = `SELECT s.id, s.email, s.name, s.password_hash, s.role, s.disabled,
	COALESCE((SELECT json_agg(shop_id) FROM staff_shops WHERE staff_id = s.id), '[]')::text AS shop_ids FROM staff s `

// MemberByEmail implements staff.Store.
func (r *ConsoleRepo) MemberByEmail(ctx context.Context, email string) (*staff.Member, string, error) {
	var row memberRow
	err := r.db.gorm.WithContext(ctx).Raw(memberSelect+`WHERE lower(s.email) = lower(?)`, email).Scan(&row).Error
	if err != nil {
		return nil, "", unavailable(err, "load staff member")
	}
	if row.ID == 0 {
		return nil, "", app.Errorf(app.ENOTFOUND, "no staff member")
	}
	return row.toMember(), row.PasswordHash, nil
}

// CreateSession implements staff.Store.
func (r *ConsoleRepo) CreateSession(ctx context.Context, tokenHash []byte, staffID int64, csrf string, expires time.Time) error {
	err := r.db.gorm.WithContext(ctx).Exec(`INSERT INTO staff_sessions (token_hash, staff_id, csrf, expires_at) VALUES (?, ?, ?, ?)`,
		hex.EncodeToString(tokenHash), staffID, csrf, expires).Error
	return unavailable(err, "create staff session")
}

// SessionByHash implements staff.Store.
func (r *ConsoleRepo) SessionByHash(ctx context.Context, tokenHash []byte, now time.Time) (*staff.Session, *staff.Member, error) {
	var sess struct {
		StaffID   int64
		CSRF      string `gorm:"column:csrf"`
		ExpiresAt time.Time
	}
	q := r.db.gorm.WithContext(ctx)
	if err := q.Raw(`SELECT staff_id, csrf, expires_at FROM staff_sessions WHERE token_hash = ? AND expires_at > ?`,
		hex.EncodeToString(tokenHash), now).Scan(&sess).Error; err != nil {
		return nil, nil, unavailable(err, "load staff session")
	}
	if sess.StaffID == 0 {
		return nil, nil, app.Errorf(app.ENOTFOUND, "no session")
	}
	var row memberRow
	if err := q.Raw(memberSelect+`WHERE s.id = ?`, sess.StaffID).Scan(&row).Error; err != nil {
		return nil, nil, unavailable(err, "load staff member")
	}
	if row.ID == 0 {
		return nil, nil, app.Errorf(app.ENOTFOUND, "no session")
	}
	return &staff.Session{CSRF: sess.CSRF, StaffID: row.ID, ExpiresAt: sess.ExpiresAt}, row.toMember(), nil
}

// DeleteSession implements staff.Store.
func (r *ConsoleRepo) DeleteSession(ctx context.Context, tokenHash []byte) error {
	return unavailable(r.db.gorm.WithContext(ctx).Exec(`DELETE FROM staff_sessions WHERE token_hash = ?`, hex.EncodeToString(tokenHash)).Error, "delete staff session")
}

// queueSelect is one queue row: the referral with its order, advocate and
// reward. Every query adds "f.shop_id = ?".
const queueSelect = `SELECT f.id, f.state, f.flagged, f.reason, f.created_at, f.hold_until, f.evidence_kind, f.evidence_code,
	o.platform_order_id AS order_id, o.name AS order_name, o.total_minor, o.refunded_minor, o.currency, o.email_norm AS friend_email,
	a.id AS advocate_id, a.code AS advocate_code, a.email AS advocate_email, COALESCE(w.state, '') AS reward_state,
	o.placed_at AS ordered_at, o.browser_ip, o.customer_id, a.customer_id AS advocate_cust_id
	FROM referrals f JOIN orders o ON o.id = f.order_id JOIN advocates a ON a.id = f.advocate_id
	LEFT JOIN rewards w ON w.referral_id = f.id `

// Queue implements review.Store: newest first, keyset-paginated, each
// filter an indexed or cheap condition.
func (r *ConsoleRepo) Queue(ctx context.Context, shopID int64, f review.Filter) ([]review.Item, error) {
	where := []string{"f.shop_id = ?"}
	args := []any{shopID}
	add := func(cond string, a ...any) { where = append(where, cond); args = append(args, a...) }
	if f.State != "" {
		add("f.state = ?", f.State)
	}
	if !f.From.IsZero() {
		add("f.created_at >= ?", f.From)
	}
	if !f.To.IsZero() {
		add("f.created_at < ?", f.To)
	}
	if f.Advocate != "" {
		add("a.code = ?", app.NormalizeCode(f.Advocate))
	}
	if f.Flagged {
		add("(f.flagged OR f.state = 'needs_review')")
	}
	if f.Attention {
		add("(f.flagged OR f.state = 'needs_review' OR w.state = 'failed')")
	}
	if f.Rule != "" {
		rule, _ := json.Marshal([]map[string]any{{"rule": f.Rule, "passed": false}})
		add("f.decision -> 'outcomes' @> ?::jsonb", string(rule))
	}
	if f.MinMinor > 0 {
		add("o.total_minor >= ?", f.MinMinor)
	}
	if f.MaxMinor > 0 {
		add("o.total_minor <= ?", f.MaxMinor)
	}
	if s := f.Search; s != "" {
		// One indexed lookup per kind of key, gathered by id: an OR across
		// tables would scan every referral of the shop. Exact keys (order
		// number, normalised email, code) always; a part of a name, email
		// or code from 3 characters on, through the trigram indexes of
		// migration 00014 (shorter parts would match nearly everything).
		email := attribution.NormalizeEmail(s)
		code := app.NormalizeCode(s)
		like := ""
		if utf8.RuneCountInString(s) >= 3 {
			like = "%" + likeEscaper.Replace(strings.ToLower(s)) + "%"
		}
		add(`f.id IN (
			SELECT r.id FROM referrals r JOIN orders o ON o.id = r.order_id
				WHERE o.shop_id = ? AND (o.name = ? OR o.name = ? OR o.platform_order_id = ?)
			UNION SELECT r.id FROM referrals r JOIN orders o ON o.id = r.order_id WHERE ? <> '' AND o.shop_id = ? AND o.email_norm = ?
			UNION SELECT r.id FROM referrals r JOIN advocates x ON x.id = r.advocate_id
				WHERE x.shop_id = ? AND (x.code = ? OR x.friend_code = ? OR lower(x.email) = lower(?) OR (? <> '' AND x.email_norm <> '' AND x.email_norm = ?))
			UNION SELECT r.id FROM referrals r JOIN orders o ON o.id = r.order_id
				WHERE ? <> '' AND o.shop_id = ? AND lower(o.name || ' ' || o.email_norm || ' ' || o.first_name) LIKE ?
			UNION SELECT r.id FROM referrals r JOIN advocates x ON x.id = r.advocate_id
				WHERE ? <> '' AND x.shop_id = ? AND lower(x.code || ' ' || x.friend_code || ' ' || x.email || ' ' || x.first_name) LIKE ?)`,
			shopID, s, "#"+strings.TrimPrefix(s, "#"), s, email, shopID, email, shopID, code, code, s, email, email,
			like, shopID, like, like, shopID, like)
	}
	if f.Before != nil {
		add("(f.created_at, f.id) < (?, ?)", f.Before.CreatedAt, f.Before.ID)
	}
	var items []review.Item
	err := r.db.gorm.WithContext(ctx).Raw(queueSelect+"WHERE "+strings.Join(where, " AND ")+
		" ORDER BY f.created_at DESC, f.id DESC LIMIT ?", append(args, f.Limit)...).Scan(&items).Error
	if err != nil {
		return nil, unavailable(err, "load review queue")
	}
	return items, nil
}

// Detail implements review.Store.
func (r *ConsoleRepo) Detail(ctx context.Context, shopID, referralID int64) (*review.Detail, error) {
	q := r.db.gorm.WithContext(ctx)
	var row struct {
		review.Item
		Decision string
		Offer    *string
		OrderRow int64
	}
	err := q.Raw(strings.Replace(queueSelect, "SELECT f.id,", "SELECT f.decision::text AS decision, f.offer::text AS offer, f.order_id AS order_row, f.id,", 1)+
		"WHERE f.shop_id = ? AND f.id = ?", shopID, referralID).Scan(&row).Error
	if err != nil {
		return nil, unavailable(err, "load referral")
	}
	if row.ID == 0 {
		return nil, app.Errorf(app.ENOTFOUND, "no referral %d in this shop", referralID)
	}
	d := &review.Detail{Item: row.Item, Notes: []review.Note{}, Audit: []review.AuditEntry{}}
	if err := json.Unmarshal([]byte(row.Decision), &d.Decision); err == nil {
		d.Explain = d.Decision.Explain()
	}
	if row.Offer != nil {
		var t app.OfferTerms
		if json.Unmarshal([]byte(*row.Offer), &t) == nil {
			d.Offer = &t
		}
	}
	var rw rewardRow
	if err := q.Raw(`SELECT * FROM rewards WHERE shop_id = ? AND referral_id = ?`, shopID, referralID).Scan(&rw).Error; err != nil {
		return nil, unavailable(err, "load reward")
	}
	if rw.ID != 0 {
		d.Reward = rw.toReward()
		var at struct{ CreatedAt, IssuedAt *time.Time }
		if err := q.Raw(`SELECT created_at, issued_at FROM rewards WHERE id = ?`, rw.ID).Scan(&at).Error; err != nil {
			return nil, unavailable(err, "load reward times")
		}
		d.RewardCreatedAt, d.RewardIssuedAt = at.CreatedAt, at.IssuedAt
	}
	if d.MilestoneReviews, err = r.milestoneReviews(ctx, shopID, referralID, row.AdvocateID); err != nil {
		return nil, err
	}
	if err := q.Raw(`SELECT author, body, created_at AS at FROM referral_notes WHERE shop_id = ? AND referral_id = ? ORDER BY created_at`,
		shopID, referralID).Scan(&d.Notes).Error; err != nil {
		return nil, unavailable(err, "load notes")
	}
	var audit []struct {
		Actor, Action, Subject, Reason string
		Before, After                  *string
		At                             time.Time
	}
	if err := q.Raw(`SELECT actor, action, subject, reason, before::text, after::text, at FROM audit_log
		WHERE shop_id = ? AND subject = ? ORDER BY at, id`, shopID, fmt.Sprintf("referral:%d", referralID)).Scan(&audit).Error; err != nil {
		return nil, unavailable(err, "load audit")
	}
	for _, a := range audit {
		e := review.AuditEntry{Actor: a.Actor, Action: a.Action, Subject: a.Subject, Reason: a.Reason, At: a.At}
		if a.Before != nil {
			_ = json.Unmarshal([]byte(*a.Before), &e.Before)
		}
		if a.After != nil {
			_ = json.Unmarshal([]byte(*a.After), &e.After)
		}
		d.Audit = append(d.Audit, e)
	}
	return d, nil
}

func audit(tx *gorm.DB, shopID int64, actor, action, subject, reason string, before, after any) error {
	b, _ := json.Marshal(before)
	a, _ := json.Marshal(after)
	var shop any = shopID
	if shopID == 0 {
		shop = nil // not about one shop (staff changes)
	}
	return tx.Exec(`INSERT INTO audit_log (shop_id, actor, action, subject, before, after, reason) VALUES (?, ?, ?, ?, ?::jsonb, ?::jsonb, ?)`,
		shop, actor, action, subject, string(b), string(a), reason).Error
}

// Apply implements review.Store: lock, check, change, audit, one
// transaction.
func (r *ConsoleRepo) Apply(ctx context.Context, c review.Change) (bool, *app.Reward, error) {
	changed := false
	var reward *app.Reward
	err := r.db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var f referralRow
		if err := tx.Raw(`SELECT * FROM referrals WHERE id = ? AND shop_id = ? FOR UPDATE`, c.ReferralID, c.ShopID).Scan(&f).Error; err != nil {
			return err
		}
		if f.ID == 0 {
			return app.Errorf(app.ENOTFOUND, "no referral %d in this shop", c.ReferralID)
		}
		subject := fmt.Sprintf("referral:%d", f.ID)
		if c.To != "" {
			if f.State == c.To || slices.Contains(c.Done, f.State) {
				return nil // done before: idempotent
			}
			if !slices.Contains(c.From, f.State) {
				return app.Errorf(app.ECONFLICT, "cannot %s a referral that is %s", c.Action, f.State)
			}
			if err := tx.Exec(`UPDATE referrals SET state = ?, reason = CASE WHEN ? <> '' THEN ? ELSE reason END, updated_at = now() WHERE id = ?`,
				c.To, c.Reason, c.Reason, f.ID).Error; err != nil {
				return err
			}
			if rw := c.NewReward; rw != nil {
				if err := tx.Exec(`INSERT INTO rewards (shop_id, referral_id, advocate_id, code, kind, percent, amount_minor, currency, expires_at,
					credit_minor, credit_currency)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (referral_id) DO NOTHING`,
					rw.ShopID, f.ID, f.AdvocateID, rw.Code, rw.Kind, rw.Percent, rw.AmountMinor, rw.Currency, rw.ExpiresAt,
					rw.CreditMinor, rw.CreditCurrency).Error; err != nil {
					return err
				}
				var row rewardRow
				if err := tx.Raw(`SELECT * FROM rewards WHERE referral_id = ?`, f.ID).Scan(&row).Error; err != nil {
					return err
				}
				reward = row.toReward()
			}
			if c.To == app.ReferralApproved {
				if err := emitReferral(tx, events.ReferralApproved, f.ID); err != nil {
					return err
				}
			}
			changed = true
			return audit(tx, c.ShopID, c.Actor, c.Action, subject, c.Reason, map[string]string{"state": f.State}, map[string]string{"state": c.To})
		}
		var rw rewardRow
		if err := tx.Raw(`SELECT * FROM rewards WHERE referral_id = ? AND shop_id = ? FOR UPDATE`, f.ID, c.ShopID).Scan(&rw).Error; err != nil {
			return err
		}
		if rw.ID == 0 {
			return app.Errorf(app.ECONFLICT, "referral %d has no reward", f.ID)
		}
		if rw.State == c.RewardTo {
			return nil
		}
		if !slices.Contains(c.RewardFrom, rw.State) {
			return app.Errorf(app.ECONFLICT, "cannot %s a reward that is %s", strings.ReplaceAll(c.Action, "_", " "), rw.State)
		}
		if err := tx.Exec(`UPDATE rewards SET state = ?, error = '' WHERE id = ?`, c.RewardTo, rw.ID).Error; err != nil {
			return err
		}
		if c.RewardTo == app.RewardRevoked {
			if err := emitReward(tx, events.RewardRevoked, rw.ID); err != nil {
				return err
			}
		}
		rw.State = c.RewardTo
		reward, changed = rw.toReward(), true
		return audit(tx, c.ShopID, c.Actor, c.Action, subject, c.Reason,
			map[string]any{"reward": rw.Code, "state": rw.State}, map[string]any{"reward": rw.Code, "state": c.RewardTo})
	})
	if code := app.ErrorCode(err); code == app.ENOTFOUND || code == app.ECONFLICT {
		return false, nil, err
	}
	if err != nil {
		return false, nil, unavailable(err, fmt.Sprintf("%s referral %d", c.Action, c.ReferralID))
	}
	return changed, reward, nil
}

// AddNote implements review.Store.
func (r *ConsoleRepo) AddNote(ctx context.Context, shopID, referralID int64, author, body string) error {
	err := r.db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Exec(`INSERT INTO referral_notes (shop_id, referral_id, author, body)
			SELECT shop_id, id, ?, ? FROM referrals WHERE id = ? AND shop_id = ?`, author, body, referralID, shopID)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return app.Errorf(app.ENOTFOUND, "no referral %d in this shop", referralID)
		}
		return audit(tx, shopID, author, "note", fmt.Sprintf("referral:%d", referralID), "", nil, map[string]string{"note": body})
	})
	if app.ErrorCode(err) == app.ENOTFOUND {
		return err
	}
	return unavailable(err, "add note")
}

// Attribute implements review.Store: the referral waits for a review
// (needs_review) whatever its rules said, with the decision the rules took
// and, when overridden, who overrode which rule and why.
func (r *ConsoleRepo) Attribute(ctx context.Context, m review.Manual) (int64, error) {
	var id int64
	d := m.Decision
	d.Evidence = attribution.Evidence{Kind: attribution.EvidenceManual, Code: m.Advocate.Code}
	d.Outcomes = append([]attribution.Outcome{{Rule: "manual attribution", Passed: true, Reason: "by " + m.Actor + ": " + m.Reason}}, d.Outcomes...)
	reason := "attributed by hand: waiting for a review"
	if m.Override {
		reason = "attributed by hand overriding a rule (" + d.Reason + "): " + m.Reason
	}
	d.State, d.Reason = attribution.StateNeedsReview, reason
	dj, _ := json.Marshal(d)
	err := r.db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var o orderRow
		if err := tx.Raw(`SELECT * FROM orders WHERE shop_id = ? AND id = ? FOR UPDATE`, m.ShopID, m.OrderID).Scan(&o).Error; err != nil {
			return err
		}
		if o.ID == 0 || !o.Known {
			return app.Errorf(app.ENOTFOUND, "order_id: no such order in this shop")
		}
		res := tx.Raw(`INSERT INTO referrals (shop_id, advocate_id, order_id, evidence_kind, evidence_code, decision, state, reason, hold_until, flagged)
			SELECT ?, a.id, ?, ?, a.code, ?::jsonb, 'needs_review', ?, ?, ? FROM advocates a WHERE a.id = ? AND a.shop_id = ?
			ON CONFLICT (order_id) DO NOTHING RETURNING id`,
			m.ShopID, o.ID, string(attribution.EvidenceManual), string(dj), reason, m.HoldUntil, m.Override, m.Advocate.ID, m.ShopID).Scan(&id)
		if res.Error != nil {
			return res.Error
		}
		if id == 0 {
			return app.Errorf(app.ECONFLICT, "order_id: the order is already attributed")
		}
		if err := emitReferral(tx, events.ReferralCreated, id); err != nil {
			return err
		}
		return audit(tx, m.ShopID, m.Actor, "attribute", fmt.Sprintf("referral:%d", id), m.Reason, nil,
			map[string]any{"order": o.PlatformOrderID, "advocate": m.Advocate.Code, "state": "needs_review", "override": m.Override, "rules": d.Outcomes})
	})
	switch app.ErrorCode(err) {
	case app.ENOTFOUND, app.ECONFLICT, app.EINVALID:
		return 0, err
	}
	return id, unavailable(err, "attribute order")
}

// ReferralClick implements review.Store: the click recorded with the
// referral when it was attributed (see CreateReferral).
func (r *ConsoleRepo) ReferralClick(ctx context.Context, shopID, referralID int64) (*review.Click, error) {
	var click review.Click
	if err := r.db.gorm.WithContext(ctx).Raw(`SELECT c.channel, c.user_agent, c.at FROM referrals f JOIN clicks c ON c.id = f.click_id
		WHERE f.id = ? AND f.shop_id = ? AND c.shop_id = ?`, referralID, shopID, shopID).Scan(&click).Error; err != nil {
		return nil, unavailable(err, "load click")
	}
	if click.At.IsZero() {
		return nil, nil
	}
	return &click, nil
}

// FindOrders implements review.Store: by number or name (exact), buyer
// email (normalised), newest first.
func (r *ConsoleRepo) FindOrders(ctx context.Context, shopID int64, q string, limit int) ([]*referrals.OrderRecord, error) {
	q = strings.TrimSpace(q)
	email := attribution.NormalizeEmail(q)
	var rows []orderRow
	if err := r.db.gorm.WithContext(ctx).Raw(`SELECT * FROM orders WHERE shop_id = ? AND (platform_order_id = ? OR name = ? OR name = ?)
		UNION SELECT * FROM orders WHERE ? <> '' AND shop_id = ? AND email_norm = ?
		ORDER BY placed_at DESC LIMIT ?`, shopID, q, q, "#"+strings.TrimPrefix(q, "#"), email, shopID, email, limit).Scan(&rows).Error; err != nil {
		return nil, unavailable(err, "find orders")
	}
	out := make([]*referrals.OrderRecord, 0, len(rows))
	for _, row := range rows {
		rec, err := row.toRecord()
		if err != nil {
			return nil, err
		}
		if rec.Facts.PlatformID == "" {
			rec.Facts.PlatformID, rec.Facts.Name = row.PlatformOrderID, row.Name
		}
		if rec.Facts.CreatedAt.IsZero() {
			rec.Facts.CreatedAt = row.PlacedAt
		}
		out = append(out, rec)
	}
	return out, nil
}

// Advocate implements review.Store.
func (r *ConsoleRepo) Advocate(ctx context.Context, shopID int64, code string) (*app.Advocate, error) {
	return r.db.Referrals().AdvocateByCode(ctx, shopID, code)
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`)

// Members lists every staff member (owners manage staff).
func (r *ConsoleRepo) Members(ctx context.Context) ([]*staff.Member, error) {
	var rows []memberRow
	if err := r.db.gorm.WithContext(ctx).Raw(memberSelect + `ORDER BY s.email`).Scan(&rows).Error; err != nil {
		return nil, unavailable(err, "list staff")
	}
	out := make([]*staff.Member, len(rows))
	for i, row := range rows {
		out[i] = row.toMember()
	}
	return out, nil
}

// SetDisabled disables or re-enables a member and ends their sessions,
// with an audit line.
func (r *ConsoleRepo) SetDisabled(ctx context.Context, id int64, disabled bool, actor string) error {
	err := r.db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var email string
		if err := tx.Raw(`UPDATE staff SET disabled = ?, updated_at = now() WHERE id = ? RETURNING email`, disabled, id).Scan(&email).Error; err != nil {
			return err
		}
		if email == "" {
			return app.Errorf(app.ENOTFOUND, "no staff member %d", id)
		}
		if err := tx.Exec(`DELETE FROM staff_sessions WHERE staff_id = ?`, id).Error; err != nil {
			return err
		}
		action := "enable_staff"
		if disabled {
			action = "disable_staff"
		}
		return tx.Exec(`INSERT INTO audit_log (actor, action, subject) VALUES (?, ?, ?)`, actor, action, "staff:"+email).Error
	})
	if app.ErrorCode(err) == app.ENOTFOUND {
		return err
	}
	return unavailable(err, "disable staff member")
}
