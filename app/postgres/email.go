package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/attribution"
	"github.com/parrain/parrain/app/email"
)

// EmailStore is the outbox's storage (email.Store) and the email settings.
type EmailStore struct{ db *DB }

var _ email.Store = (*EmailStore)(nil)

// Emails returns the email store.
func (db *DB) Emails() *EmailStore { return &EmailStore{db: db} }

// messageIDSQL is the left part of a message's Message-ID, fixed when the
// message is decided: kind, shop and subject, so the same message always
// carries the same id (the sender adds "@" and the sender's domain).
func messageIDSQL(kind, shop, subject string) string {
	return "(" + kind + " || '.' || " + shop + " || '.' || " + subject + " || '.parrain')"
}

// queueEmailIf writes an outbox row in tx (when cond, an SQL condition
// with condArgs, holds); a row for the same kind and subject already there
// is left as it is: one message per subject, ever.
func queueEmailIf(tx *gorm.DB, cond string, condArgs []any, shopID int64, kind, subject string, advocateID int64) error {
	where := ""
	if cond != "" {
		where = " WHERE " + cond
	}
	args := append([]any{shopID, kind, subject, advocateID, kind, strconv.FormatInt(shopID, 10), subject}, condArgs...)
	return tx.Exec(`INSERT INTO email_outbox (shop_id, kind, subject_key, advocate_id, message_id)
		SELECT ?::bigint, ?, ?, ?::bigint, `+messageIDSQL("?::text", "?::text", "?::text")+where+`
		ON CONFLICT (shop_id, kind, subject_key) DO NOTHING`, args...).Error
}

type outboxRow struct {
	ID         int64
	ShopID     int64
	Kind       string
	SubjectKey string
	AdvocateID *int64
	State      string
	Reason     string
	ToAddr     string
	Lang       string
	Subject    string
	MessageID  string
	Attempts   int
	LastError  string
	CreatedAt  time.Time
	SentAt     *time.Time
}

func (r outboxRow) toItem() *email.Item {
	it := &email.Item{ID: r.ID, ShopID: r.ShopID, Kind: email.Kind(r.Kind), SubjectKey: r.SubjectKey, State: r.State, Reason: r.Reason,
		To: r.ToAddr, Lang: r.Lang, Subject: r.Subject, MessageID: r.MessageID, Attempts: r.Attempts, LastError: r.LastError,
		CreatedAt: r.CreatedAt, SentAt: r.SentAt}
	if r.AdvocateID != nil {
		it.AdvocateID = *r.AdvocateID
	}
	return it
}

const outboxColumns = "id, shop_id, kind, subject_key, advocate_id, state, reason, to_addr, lang, subject, message_id, attempts, last_error, created_at, sent_at"

// Item implements email.Store.
func (s *EmailStore) Item(ctx context.Context, id int64) (*email.Item, error) {
	var rows []outboxRow
	if err := s.db.gorm.WithContext(ctx).Raw("SELECT "+outboxColumns+" FROM email_outbox WHERE id = ?", id).Scan(&rows).Error; err != nil {
		return nil, unavailable(err, fmt.Sprintf("load email %d", id))
	}
	if len(rows) == 0 {
		return nil, app.Errorf(app.ENOTFOUND, "no email %d", id)
	}
	return rows[0].toItem(), nil
}

// Facts implements email.Store.
func (s *EmailStore) Facts(ctx context.Context, it *email.Item) (*email.Facts, error) {
	shop, err := s.db.Shops().ShopByID(ctx, it.ShopID)
	if err != nil {
		return nil, err
	}
	p, err := s.db.Referrals().Program(ctx, shop)
	if err != nil {
		return nil, err
	}
	if it.Kind == email.Test {
		return email.Sample(*shop, p, s.db.now()), nil
	}
	adv, err := s.db.Referrals().AdvocateByID(ctx, it.AdvocateID)
	if err != nil {
		return nil, err
	}
	f := &email.Facts{Shop: *shop, Program: p, Advocate: *adv}
	g := s.db.gorm.WithContext(ctx)
	emailNorm := attribution.NormalizeEmail(adv.Email)
	// The buyer's latest order that says: their language and consent.
	var who struct {
		Locale  string
		Consent *bool
	}
	mine := `shop_id = ? AND known AND ((? <> '' AND customer_id = ?) OR (? <> '' AND email_norm = ?))`
	args := []any{it.ShopID, adv.CustomerID, adv.CustomerID, emailNorm, emailNorm}
	err = g.Raw(`SELECT
		(SELECT locale FROM orders WHERE `+mine+` AND locale <> '' ORDER BY placed_at DESC, id DESC LIMIT 1) AS locale,
		(SELECT marketing_consent FROM orders WHERE `+mine+` AND marketing_consent IS NOT NULL ORDER BY placed_at DESC, id DESC LIMIT 1) AS consent`,
		append(args, args...)...).Scan(&who).Error
	if err != nil {
		return nil, unavailable(err, "load the advocate's language and consent")
	}
	f.Locale = who.Locale
	f.Consent = who.Consent != nil && *who.Consent
	var reasons []string
	if emailNorm != "" {
		if err := g.Raw("SELECT reason FROM email_suppressions WHERE shop_id = ? AND email_norm = ?", it.ShopID, emailNorm).Scan(&reasons).Error; err != nil {
			return nil, unavailable(err, "load suppressions")
		}
	}
	for _, r := range reasons {
		f.Unsubscribed = f.Unsubscribed || r == "unsubscribed"
		f.Bounced = f.Bounced || r == "bounced"
	}
	subject, _ := strconv.ParseInt(it.SubjectKey, 10, 64)
	switch it.Kind {
	case email.RewardEarned, email.RewardExpiring:
		rw, err := s.db.Referrals().Reward(ctx, subject)
		if err != nil {
			return nil, err
		}
		f.Reward = rw
		if it.Kind != email.RewardExpiring {
			break
		}
		var used int64
		if err := g.Raw(`SELECT count(*) FROM orders o, jsonb_array_elements_text(CASE WHEN jsonb_typeof(o.facts -> 'DiscountCodes') = 'array'
				THEN o.facts -> 'DiscountCodes' ELSE '[]' END) c
			WHERE o.shop_id = ? AND upper(c) = upper(?)`, it.ShopID, rw.Code).Scan(&used).Error; err != nil {
			return nil, unavailable(err, "is the reward used")
		}
		f.RewardUsed = used > 0
	case email.FriendOrdered:
		var ref struct {
			State     string
			HoldUntil time.Time
			FirstName string
			// LastInitial is all the page and the emails keep of a
			// friend's last name (migration 00011).
			LastInitial string
			Offer       []byte
		}
		if err := g.Raw(`SELECT f.state, f.hold_until, o.first_name, o.last_initial, f.offer FROM referrals f JOIN orders o ON o.id = f.order_id
			WHERE f.id = ? AND f.shop_id = ?`, subject, it.ShopID).Scan(&ref).Error; err != nil {
			return nil, unavailable(err, "load the referral")
		}
		f.ReferralState, f.HoldUntil = ref.State, ref.HoldUntil
		if len(ref.Offer) > 0 && string(ref.Offer) != "null" {
			var t app.OfferTerms
			if err := json.Unmarshal(ref.Offer, &t); err != nil {
				return nil, fmt.Errorf("referral %d: stored offer: %w", subject, err)
			}
			f.Offer = &t
		}
		f.Friend = email.FriendName(ref.FirstName, ref.LastInitial, popupLang(f))
	}
	return f, nil
}

func popupLang(f *email.Facts) string {
	if len(f.Locale) >= 2 && f.Locale[:2] == "fr" {
		return "fr"
	}
	return "en"
}

// Settings implements email.Store: the defaults when the merchant saved
// none.
func (s *EmailStore) Settings(ctx context.Context, shopID int64) (email.Settings, error) {
	var rows []struct {
		ReplyTo            string
		ReminderAfterDays  int
		ExpiringBeforeDays int
		Welcome            bool
		Templates          string
	}
	st := email.Settings{ShopID: shopID, Templates: map[email.Kind]map[string]email.Template{}}
	if err := s.db.gorm.WithContext(ctx).Raw(`SELECT reply_to, reminder_after_days, expiring_before_days, welcome, templates::text AS templates
		FROM email_settings WHERE shop_id = ?`, shopID).Scan(&rows).Error; err != nil {
		return st, unavailable(err, "load email settings")
	}
	if len(rows) == 0 {
		return st, nil
	}
	r := rows[0]
	st.ReplyTo, st.ReminderAfterDays, st.ExpiringBeforeDays, st.Welcome = r.ReplyTo, r.ReminderAfterDays, r.ExpiringBeforeDays, r.Welcome
	if err := json.Unmarshal([]byte(r.Templates), &st.Templates); err != nil {
		return st, fmt.Errorf("email templates of shop %d: %w", shopID, err)
	}
	return st, nil
}

// SaveSettings stores a shop's (validated) email settings.
func (s *EmailStore) SaveSettings(ctx context.Context, st email.Settings) error {
	if err := st.Validate(); err != nil {
		return err
	}
	tpl, _ := json.Marshal(st.Templates)
	err := s.db.gorm.WithContext(ctx).Exec(`INSERT INTO email_settings (shop_id, reply_to, reminder_after_days, expiring_before_days, welcome, templates, updated_at)
		VALUES (?, ?, ?, ?, ?, ?::jsonb, now())
		ON CONFLICT (shop_id) DO UPDATE SET reply_to = EXCLUDED.reply_to, reminder_after_days = EXCLUDED.reminder_after_days,
			expiring_before_days = EXCLUDED.expiring_before_days, welcome = EXCLUDED.welcome, templates = EXCLUDED.templates, updated_at = now()`,
		st.ShopID, st.ReplyTo, st.ReminderAfterDays, st.ExpiringBeforeDays, st.Welcome, string(tpl)).Error
	return unavailable(err, "save email settings")
}

// MarkSent implements email.Store.
func (s *EmailStore) MarkSent(ctx context.Context, id int64, to string, r email.Rendered, at time.Time) error {
	err := s.db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var rows []outboxRow
		if err := tx.Raw(`UPDATE email_outbox SET state = 'sent', reason = '', to_addr = ?, lang = ?, subject = ?, body = ?, sent_at = ?,
				attempts = attempts + 1, last_error = '' WHERE id = ? AND state = 'queued' RETURNING `+outboxColumns,
			to, r.Lang, r.Subject, r.Text, at, id).Scan(&rows).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		it := rows[0].toItem()
		return emitEmailSent(tx, it, at)
	})
	return unavailable(err, fmt.Sprintf("mark email %d sent", id))
}

// MarkSkipped implements email.Store.
func (s *EmailStore) MarkSkipped(ctx context.Context, id int64, to, lang, reason string) error {
	err := s.db.gorm.WithContext(ctx).Exec(`UPDATE email_outbox SET state = 'skipped', reason = ?, to_addr = ?, lang = ?
		WHERE id = ? AND state = 'queued'`, reason, to, lang, id).Error
	return unavailable(err, fmt.Sprintf("mark email %d skipped", id))
}

// MarkFailed implements email.Store.
func (s *EmailStore) MarkFailed(ctx context.Context, id int64, to, lang, reason string, suppress bool) error {
	err := s.db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var shopID []int64
		if err := tx.Raw(`UPDATE email_outbox SET state = 'failed', reason = ?, to_addr = ?, lang = ?, attempts = attempts + 1, last_error = ?
			WHERE id = ? AND state = 'queued' RETURNING shop_id`, reason, to, lang, reason, id).Scan(&shopID).Error; err != nil {
			return err
		}
		if len(shopID) == 0 || !suppress {
			return nil
		}
		return tx.Exec(`INSERT INTO email_suppressions (shop_id, email_norm, reason, detail) VALUES (?, ?, 'bounced', ?)
			ON CONFLICT (shop_id, email_norm, reason) DO UPDATE SET detail = EXCLUDED.detail, created_at = now()`,
			shopID[0], attribution.NormalizeEmail(to), reason).Error
	})
	return unavailable(err, fmt.Sprintf("mark email %d failed", id))
}

// RecordAttempt implements email.Store.
func (s *EmailStore) RecordAttempt(ctx context.Context, id int64, lastErr string) error {
	err := s.db.gorm.WithContext(ctx).Exec(`UPDATE email_outbox SET attempts = attempts + 1, last_error = ? WHERE id = ? AND state = 'queued'`,
		lastErr, id).Error
	return unavailable(err, fmt.Sprintf("record attempt of email %d", id))
}

// OfferQueued returns queued messages not offered to the queue since
// revisit, and stamps them: the relay's work list.
func (s *EmailStore) OfferQueued(ctx context.Context, revisit time.Duration, limit int) ([]int64, error) {
	var ids []int64
	err := s.db.gorm.WithContext(ctx).Raw(`UPDATE email_outbox SET offered_at = now() WHERE id IN (
			SELECT id FROM email_outbox WHERE state = 'queued' AND (offered_at IS NULL OR offered_at < now() - ?::interval)
			ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED)
		RETURNING id`, fmt.Sprintf("%d milliseconds", revisit.Milliseconds()), limit).Scan(&ids).Error
	return ids, unavailable(err, "list queued emails")
}

// QueueTest queues a merchant's test send of kind in lang to the address.
func (s *EmailStore) QueueTest(ctx context.Context, shopID int64, kind email.Kind, lang, to string, at time.Time) (int64, error) {
	var id int64
	subject := string(kind) + ":" + lang + ":" + strconv.FormatInt(at.UnixNano(), 36)
	err := s.db.gorm.WithContext(ctx).Raw(`INSERT INTO email_outbox (shop_id, kind, subject_key, to_addr, lang, message_id)
		VALUES (?, 'test', ?, ?, ?, ?) RETURNING id`, shopID, string(kind), to, lang, "test."+strconv.FormatInt(shopID, 10)+"."+subject+".parrain").
		Scan(&id).Error
	return id, unavailable(err, "queue test email")
}

// Unsubscribe records that the address of an outbox row wants no more
// marketing messages from the row's shop. It returns the shop's name.
func (s *EmailStore) Unsubscribe(ctx context.Context, outboxID int64) (string, error) {
	var rows []struct {
		ShopID int64
		Email  string
		Name   string
	}
	g := s.db.gorm.WithContext(ctx)
	if err := g.Raw(`SELECT m.shop_id, a.email, coalesce(nullif(s.name, ''), s.domain) AS name FROM email_outbox m
		JOIN advocates a ON a.id = m.advocate_id JOIN shops s ON s.id = m.shop_id WHERE m.id = ?`, outboxID).Scan(&rows).Error; err != nil {
		return "", unavailable(err, "load the message to unsubscribe from")
	}
	if len(rows) == 0 {
		return "", app.Errorf(app.ENOTFOUND, "this link is no longer valid")
	}
	r := rows[0]
	if norm := attribution.NormalizeEmail(r.Email); norm != "" {
		if err := g.Exec(`INSERT INTO email_suppressions (shop_id, email_norm, reason, detail) VALUES (?, ?, 'unsubscribed', 'one-click link')
			ON CONFLICT DO NOTHING`, r.ShopID, norm).Error; err != nil {
			return "", unavailable(err, "unsubscribe")
		}
	}
	return r.Name, nil
}

// ScheduleReminders decides the share reminders due now: advocates of
// shops with the reminder on, created at least that many days ago (and at
// most a week before that, so turning it on does not write to every
// advocate ever), whose link nobody clicked. One per advocate, ever.
func (s *EmailStore) ScheduleReminders(ctx context.Context, now time.Time) (int64, error) {
	res := s.db.gorm.WithContext(ctx).Exec(`INSERT INTO email_outbox (shop_id, kind, subject_key, advocate_id, message_id)
		SELECT a.shop_id, 'share_reminder', a.id::text, a.id, `+messageIDSQL("'share_reminder'", "a.shop_id", "a.id")+`
		FROM advocates a JOIN email_settings e ON e.shop_id = a.shop_id AND e.reminder_after_days > 0
		WHERE a.created_at <= ?::timestamptz - make_interval(days => e.reminder_after_days)
		  AND a.created_at > ?::timestamptz - make_interval(days => e.reminder_after_days + 7)
		  AND a.email <> ''
		  AND NOT EXISTS (SELECT 1 FROM clicks c WHERE c.advocate_id = a.id)
		  AND NOT EXISTS (SELECT 1 FROM referrals f WHERE f.advocate_id = a.id)
		ON CONFLICT (shop_id, kind, subject_key) DO NOTHING`, now, now)
	return res.RowsAffected, unavailable(res.Error, "schedule share reminders")
}

// ScheduleExpiring decides the reward-expiring messages due now: issued
// rewards expiring within the shop's notice. Whether the reward was used
// is checked when it is sent.
func (s *EmailStore) ScheduleExpiring(ctx context.Context, now time.Time) (int64, error) {
	res := s.db.gorm.WithContext(ctx).Exec(`INSERT INTO email_outbox (shop_id, kind, subject_key, advocate_id, message_id)
		SELECT w.shop_id, 'reward_expiring', w.id::text, w.advocate_id, `+messageIDSQL("'reward_expiring'", "w.shop_id", "w.id")+`
		FROM rewards w JOIN email_settings e ON e.shop_id = w.shop_id AND e.expiring_before_days > 0
		WHERE w.state = 'issued' AND w.expires_at > ?::timestamptz
		  AND w.expires_at <= ?::timestamptz + make_interval(days => e.expiring_before_days)
		ON CONFLICT (shop_id, kind, subject_key) DO NOTHING`, now, now)
	return res.RowsAffected, unavailable(res.Error, "schedule reward-expiring emails")
}

// Messages lists an advocate's messages (advocateID > 0) or the shop's
// latest, newest first.
func (s *EmailStore) Messages(ctx context.Context, shopID, advocateID int64, limit int) ([]email.Item, error) {
	q := s.db.gorm.WithContext(ctx).Table("email_outbox").Select(outboxColumns).Where("shop_id = ?", shopID)
	if advocateID > 0 {
		q = q.Where("advocate_id = ?", advocateID)
	}
	var rows []outboxRow
	if err := q.Order("id DESC").Limit(limit).Scan(&rows).Error; err != nil {
		return nil, unavailable(err, "list emails")
	}
	out := make([]email.Item, len(rows))
	for i, r := range rows {
		out[i] = *r.toItem()
	}
	return out, nil
}

// Suppressed lists the reasons an address is suppressed for a shop.
func (s *EmailStore) Suppressed(ctx context.Context, shopID int64, addr string) ([]string, error) {
	var reasons []string
	err := s.db.gorm.WithContext(ctx).Raw("SELECT reason FROM email_suppressions WHERE shop_id = ? AND email_norm = ? ORDER BY reason",
		shopID, attribution.NormalizeEmail(addr)).Scan(&reasons).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	return reasons, unavailable(err, "load suppressions")
}
