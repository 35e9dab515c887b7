package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/bytedance/sonic"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/lib/pq"
	"gorm.io/gorm"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/attribution"
	"github.com/parrain/parrain/app/events"
	"github.com/parrain/parrain/app/popup"
	"github.com/parrain/parrain/app/referrals"
)

// ReferralRepo implements referrals.Repo. Every query is scoped by shop id
// or by a row id that belongs to one shop.
type ReferralRepo struct{ db *DB }

var _ referrals.Repo = (*ReferralRepo)(nil)

// Referrals returns the referral engine's storage.
func (db *DB) Referrals() *ReferralRepo { return &ReferralRepo{db: db} }

type programRow struct {
	ID                    int64 `gorm:"primaryKey"`
	ShopID                int64
	Enabled               bool
	Currency              string
	FriendKind            string
	FriendPercent         int
	FriendAmountMinor     int64
	FriendMinOrderMinor   int64
	RewardKind            string
	RewardPercent         int
	RewardAmountMinor     int64
	RewardExpiryDays      int
	HoldingDays           int
	NewCustomersOnly      bool
	MinOrderMinor         int64
	ExcludeTestOrders     bool
	ExcludedSources       pq.StringArray `gorm:"type:text[]"`
	CapPerAdvocate        int
	CapWindowDays         int
	VelocityPerIP         int `gorm:"column:velocity_per_ip"`
	VelocityPerAdvocate   int
	VelocityWindowMinutes int
	WidgetEnabled         bool
	WidgetLanguage        string
	WidgetTexts           map[string]map[string]string `gorm:"serializer:json;type:jsonb"`
	WidgetAccent          string
	WidgetBackground      string
	WidgetTextColor       string
	WidgetPosition        string
	WidgetCapDays         int
	WidgetLauncher        bool
	Milestones            []app.Milestone `gorm:"serializer:json;type:jsonb"`
}

func (programRow) TableName() string { return "programs" }

func (r programRow) toProgram() app.Program {
	return app.Program{
		ID: r.ID, ShopID: r.ShopID, Enabled: r.Enabled, Currency: r.Currency, FriendKind: r.FriendKind, FriendPercent: r.FriendPercent,
		FriendAmountMinor: r.FriendAmountMinor, FriendMinOrderMinor: r.FriendMinOrderMinor, RewardKind: r.RewardKind,
		RewardPercent: r.RewardPercent, RewardAmountMinor: r.RewardAmountMinor, RewardExpiryDays: r.RewardExpiryDays,
		HoldingDays: r.HoldingDays, NewCustomersOnly: r.NewCustomersOnly, MinOrderMinor: r.MinOrderMinor,
		ExcludeTestOrders: r.ExcludeTestOrders, ExcludedSources: r.ExcludedSources, CapPerAdvocate: r.CapPerAdvocate,
		CapWindowDays: r.CapWindowDays, VelocityPerIP: r.VelocityPerIP, VelocityPerAdvocate: r.VelocityPerAdvocate,
		VelocityWindowMinutes: r.VelocityWindowMinutes,
		Widget: app.WidgetSettings{
			Enabled: r.WidgetEnabled, Language: r.WidgetLanguage, Texts: r.WidgetTexts, AccentColor: r.WidgetAccent,
			BackgroundColor: r.WidgetBackground, TextColor: r.WidgetTextColor, Position: r.WidgetPosition,
			CapDays: r.WidgetCapDays, Launcher: r.WidgetLauncher,
		},
		Milestones: r.Milestones,
	}
}

func fromProgram(p app.Program) programRow {
	if p.ExcludedSources == nil {
		p.ExcludedSources = []string{} // the column is NOT NULL
	}
	w := p.Widget
	if w.Texts == nil {
		w.Texts = map[string]map[string]string{}
	}
	return programRow{
		ID: p.ID, ShopID: p.ShopID, Enabled: p.Enabled, Currency: p.Currency, FriendKind: p.FriendKind, FriendPercent: p.FriendPercent,
		FriendAmountMinor: p.FriendAmountMinor, FriendMinOrderMinor: p.FriendMinOrderMinor, RewardKind: p.RewardKind,
		RewardPercent: p.RewardPercent, RewardAmountMinor: p.RewardAmountMinor, RewardExpiryDays: p.RewardExpiryDays,
		HoldingDays: p.HoldingDays, NewCustomersOnly: p.NewCustomersOnly, MinOrderMinor: p.MinOrderMinor,
		ExcludeTestOrders: p.ExcludeTestOrders, ExcludedSources: pq.StringArray(p.ExcludedSources), CapPerAdvocate: p.CapPerAdvocate,
		CapWindowDays: p.CapWindowDays, VelocityPerIP: p.VelocityPerIP, VelocityPerAdvocate: p.VelocityPerAdvocate,
		VelocityWindowMinutes: p.VelocityWindowMinutes,
		WidgetEnabled:         w.Enabled, WidgetLanguage: w.Language, WidgetTexts: w.Texts, WidgetAccent: w.AccentColor,
		WidgetBackground: w.BackgroundColor, WidgetTextColor: w.TextColor, WidgetPosition: w.Position,
		WidgetCapDays: w.CapDays, WidgetLauncher: w.Launcher,
		Milestones: milestonesOrEmpty(p.Milestones),
	}
}

// Program returns the shop's program, creating the default one the first
// time (in the shop's currency).
func (r *ReferralRepo) Program(ctx context.Context, shop *app.Shop) (app.Program, error) {
	var row programRow
	err := r.db.gorm.WithContext(ctx).Where("shop_id = ?", shop.ID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		if shop.Currency == "" {
			// The post-install sync has not recorded the shop currency
			// yet; a program in the wrong currency would misjudge every
			// minimum. The caller retries.
			return app.Program{}, app.Errorf(app.EUNAVAILABLE, "shop %d details not synced yet", shop.ID)
		}
		def := fromProgram(app.DefaultProgram(shop.ID, shop.Currency))
		if err := r.db.gorm.WithContext(ctx).Exec(`INSERT INTO programs (shop_id, currency, reward_amount_minor) VALUES (?, ?, ?)
			ON CONFLICT (shop_id) DO NOTHING`, def.ShopID, def.Currency, def.RewardAmountMinor).Error; err != nil {
			return app.Program{}, unavailable(err, fmt.Sprintf("create program of shop %d", shop.ID))
		}
		err = r.db.gorm.WithContext(ctx).Where("shop_id = ?", shop.ID).Take(&row).Error
	}
	if err != nil {
		return app.Program{}, unavailable(err, fmt.Sprintf("load program of shop %d", shop.ID))
	}
	return row.toProgram(), nil
}

// SaveProgram validates and stores a program.
func (r *ReferralRepo) SaveProgram(ctx context.Context, p app.Program) error {
	if err := p.Validate(); err != nil {
		return err
	}
	row := fromProgram(p)
	res := r.db.gorm.WithContext(ctx).Model(&programRow{}).Where("shop_id = ?", p.ShopID).
		Select("*").Omit("id", "shop_id").Updates(&row)
	if res.Error != nil {
		return unavailable(res.Error, fmt.Sprintf("save program of shop %d", p.ShopID))
	}
	if res.RowsAffected == 0 {
		return app.Errorf(app.ENOTFOUND, "no program for shop %d", p.ShopID)
	}
	return nil
}

type orderRow struct {
	ID              int64 `gorm:"primaryKey"`
	ShopID          int64
	PlatformOrderID string
	Name            string
	CustomerID      string
	EmailNorm       string
	Currency        string
	TotalMinor      int64
	RefundedMinor   int64
	RefundIDs       pq.StringArray `gorm:"column:refund_ids;type:text[]"`
	Known           bool
	Paid            bool
	Cancelled       bool
	Test            bool
	BrowserIP       string
	Facts           string `gorm:"type:jsonb"`
	FirstName       string
	PlacedAt        time.Time
}

func (orderRow) TableName() string { return "orders" }

// factsJSON encodes and decodes an order's facts (the orders.facts jsonb)
// like encoding/json, at a fraction of its cost: every order event writes
// and reads them.
var factsJSON = sonic.ConfigStd

func (o orderRow) toRecord() (*referrals.OrderRecord, error) {
	rec := &referrals.OrderRecord{ID: o.ID, ShopID: o.ShopID, FirstName: o.FirstName, Known: o.Known, Paid: o.Paid, Cancelled: o.Cancelled, RefundedMinor: o.RefundedMinor}
	if o.Known {
		if err := factsJSON.UnmarshalFromString(o.Facts, &rec.Facts); err != nil {
			return nil, fmt.Errorf("decode order %d: %w", o.ID, err)
		}
	}
	return rec, nil
}

// MergeOrder implements referrals.Repo: one upsert whose merge rules make
// the result independent of the order of events: facts from the order
// events, paid and cancelled only ever become true, each refund id counted
// once.
func (r *ReferralRepo) MergeOrder(ctx context.Context, shopID int64, ev referrals.OrderEvent) (*referrals.OrderRecord, error) {
	o := ev.Order
	factsIn, _ := factsJSON.Marshal(o)
	refundIDs := pq.StringArray{}
	if ev.RefundID != "" {
		refundIDs = append(refundIDs, ev.RefundID)
	}
	placed := o.CreatedAt
	if placed.IsZero() {
		placed = r.db.now()
	}
	// database/sql directly, not GORM: every order event runs it, and
	// GORM's statement building and scanning were most of its CPU.
	var row orderRow
	var facts string
	var noReferral bool
	err := r.db.sql.QueryRowContext(ctx, `
		INSERT INTO orders AS o (shop_id, platform_order_id, name, customer_id, email_norm, currency, total_minor, refunded_minor,
			refund_ids, known, paid, cancelled, test, browser_ip, facts, first_name, last_initial, placed_at, locale, marketing_consent,
			presentment_currency, presentment_minor)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15::jsonb, $16, $17, $18, $19, $20, $21, $22)
		ON CONFLICT (shop_id, platform_order_id) DO UPDATE SET
			name        = CASE WHEN EXCLUDED.known THEN EXCLUDED.name ELSE o.name END,
			customer_id = CASE WHEN EXCLUDED.known THEN EXCLUDED.customer_id ELSE o.customer_id END,
			email_norm  = CASE WHEN EXCLUDED.known THEN EXCLUDED.email_norm ELSE o.email_norm END,
			currency    = CASE WHEN EXCLUDED.known THEN EXCLUDED.currency ELSE o.currency END,
			total_minor = CASE WHEN EXCLUDED.known THEN EXCLUDED.total_minor ELSE o.total_minor END,
			presentment_currency = CASE WHEN EXCLUDED.known THEN EXCLUDED.presentment_currency ELSE o.presentment_currency END,
			presentment_minor = CASE WHEN EXCLUDED.known THEN EXCLUDED.presentment_minor ELSE o.presentment_minor END,
			test        = CASE WHEN EXCLUDED.known THEN EXCLUDED.test ELSE o.test END,
			browser_ip  = CASE WHEN EXCLUDED.known THEN EXCLUDED.browser_ip ELSE o.browser_ip END,
			-- Facts come from the latest order event, keeping a confirmation
			-- number an earlier event had and this one lacks.
			facts       = CASE WHEN EXCLUDED.known
				THEN jsonb_strip_nulls(jsonb_build_object('ConfirmationNumber', o.facts -> 'ConfirmationNumber')) || EXCLUDED.facts
				ELSE o.facts END,
			first_name  = CASE WHEN EXCLUDED.known THEN EXCLUDED.first_name ELSE o.first_name END,
			last_initial = CASE WHEN EXCLUDED.known THEN EXCLUDED.last_initial ELSE o.last_initial END,
			placed_at   = CASE WHEN EXCLUDED.known THEN EXCLUDED.placed_at ELSE o.placed_at END,
			-- What the buyer's emails follow; an event that does not say
			-- keeps what an earlier one said.
			locale      = CASE WHEN EXCLUDED.known AND EXCLUDED.locale <> '' THEN EXCLUDED.locale ELSE o.locale END,
			marketing_consent = CASE WHEN EXCLUDED.known AND EXCLUDED.marketing_consent IS NOT NULL
				THEN EXCLUDED.marketing_consent ELSE o.marketing_consent END,
			known       = o.known OR EXCLUDED.known,
			paid        = o.paid OR EXCLUDED.paid,
			cancelled   = o.cancelled OR EXCLUDED.cancelled,
			refunded_minor = o.refunded_minor + CASE WHEN cardinality(EXCLUDED.refund_ids) > 0 AND NOT (EXCLUDED.refund_ids <@ o.refund_ids)
				THEN EXCLUDED.refunded_minor ELSE 0 END,
			refund_ids  = ARRAY(SELECT DISTINCT unnest(o.refund_ids || EXCLUDED.refund_ids)),
			updated_at  = now()
		RETURNING id, shop_id, first_name, known, paid, cancelled, refunded_minor, facts,
			NOT EXISTS (SELECT 1 FROM referrals f WHERE f.order_id = o.id)`,
		shopID, o.PlatformID, o.Name, o.CustomerID, attribution.NormalizeEmail(o.Email), o.Total.Currency, o.Total.Minor, ev.RefundMinor,
		refundIDs, ev.Known, ev.Paid, ev.Cancelled, o.Test, o.BrowserIP, string(factsIn), ev.FirstName, ev.LastInitial, placed,
		ev.Locale, ev.MarketingConsent, ev.Presentment.Currency, ev.Presentment.Minor,
	).Scan(&row.ID, &row.ShopID, &row.FirstName, &row.Known, &row.Paid, &row.Cancelled, &row.RefundedMinor, &facts, &noReferral)
	row.Facts = facts
	if err != nil {
		return nil, unavailable(err, fmt.Sprintf("merge order %s of shop %d", o.PlatformID, shopID))
	}
	rec, err := row.toRecord()
	if err == nil {
		rec.NoReferral = noReferral
	}
	return rec, err
}

type advocateRow struct {
	ID              int64 `gorm:"primaryKey"`
	ShopID          int64
	CustomerID      string
	FirstName       string
	Email           string
	EmailNorm       string
	Code            string
	FriendCode      string
	FriendCodeState string
	FriendCodeRef   string
	FriendCodeError string
	CreatedAt       time.Time
}

func (advocateRow) TableName() string { return "advocates" }

func (a advocateRow) toAdvocate() *app.Advocate {
	return &app.Advocate{ID: a.ID, ShopID: a.ShopID, CustomerID: a.CustomerID, FirstName: a.FirstName, Email: a.Email,
		Code: a.Code, FriendCode: a.FriendCode, FriendCodeState: a.FriendCodeState, FriendCodeRef: a.FriendCodeRef, CreatedAt: a.CreatedAt}
}

// identityLocks takes the advisory locks under which a buyer's advocate is
// created or given a customer id: one per identity the buyer has (store
// customer, normalised email), always the customer's first, so two
// transactions wanting the same identity queue and none waits in a cycle.
// A lock per shop made a burst of new buyers queue one by one (held through
// the insert, its event, its email and the commit: bench-store spent most
// of its time waiting there); two buyers share nothing here unless they
// share an identity, which is exactly when they must wait.
func identityLocks(tx *gorm.DB, shopID int64, customerID, emailNorm string) error {
	shop := strconv.FormatInt(shopID, 10)
	keys := []any{}
	if customerID != "" {
		keys = append(keys, "parrain advocate "+shop+" customer "+customerID)
	}
	if emailNorm != "" {
		keys = append(keys, "parrain advocate "+shop+" email "+emailNorm)
	}
	switch len(keys) {
	case 1:
		return tx.Exec("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", keys...).Error
	case 2:
		// Left to right: the customer's lock, then the email's.
		return tx.Exec("SELECT pg_advisory_xact_lock(hashtextextended(?, 0)), pg_advisory_xact_lock(hashtextextended(?, 0))", keys...).Error
	}
	return nil
}

// identityRows loads the shop's advocates matching the customer id or the
// normalised email: at most one of each (unique indexes).
func identityRows(db *gorm.DB, shopID int64, customerID, emailNorm string) (byCustomer, byEmail *advocateRow, err error) {
	// One branch per identity, each an equality on every column of its
	// partial unique index (the literal <> '' implies the index's
	// predicate), so even a plan made while the table was empty reads one
	// row. An OR of both let Postgres, before its first ANALYZE, read all
	// the shop's advocates through advocates_email on shop_id alone:
	// quadratic in a new shop's first burst (bench-store).
	const byCust = `SELECT * FROM advocates WHERE shop_id = ? AND customer_id = ? AND customer_id <> ''`
	const byMail = `SELECT * FROM advocates WHERE shop_id = ? AND email_norm = ? AND email_norm <> ''`
	var rows []advocateRow
	switch {
	case customerID != "" && emailNorm != "":
		err = db.Raw(byCust+" UNION ALL "+byMail, shopID, customerID, shopID, emailNorm).Scan(&rows).Error
	case customerID != "":
		err = db.Raw(byCust, shopID, customerID).Scan(&rows).Error
	case emailNorm != "":
		err = db.Raw(byMail, shopID, emailNorm).Scan(&rows).Error
	}
	for i := range rows {
		if customerID != "" && rows[i].CustomerID == customerID {
			byCustomer = &rows[i]
		}
		if emailNorm != "" && rows[i].EmailNorm == emailNorm {
			byEmail = &rows[i]
		}
	}
	return byCustomer, byEmail, err
}

// sameAdvocate picks the existing advocate of a buyer, if the buyer is one
// already: by customer id first; else by email, unless that email's
// advocate is another store customer (the buyer is a customer with an email
// someone else registered first: a new advocate without the email key).
// attach is true when the email's advocate is a guest and the buyer has a
// customer id: the same person, who registered since.
func sameAdvocate(customerID string, byCustomer, byEmail *advocateRow) (found *advocateRow, attach bool) {
	switch {
	case byCustomer != nil:
		return byCustomer, false
	case byEmail == nil:
		return nil, false
	case byEmail.CustomerID == "":
		return byEmail, customerID != ""
	case customerID == "":
		return byEmail, false // a registered advocate checking out as a guest
	}
	return nil, false
}

// EnsureAdvocate implements referrals.Repo: the buyer's existing advocate,
// or a new one. A buyer is a store customer, an email, or both: a guest is
// found again by their normalised email, and a guest who later orders with
// a customer id (an account made since) is the same advocate, the customer
// id attached, code and history kept. A code already taken by someone else
// is an ECONFLICT so the caller draws another.
//
// Every paid order asks, so the common case (already an advocate) is one
// read. Creating or attaching runs under the buyer's identity locks: two
// concurrent orders of one guest (no customer id to conflict on, maybe
// differently written emails) cannot make two advocates; the unique indexes
// on (shop, customer_id) and (shop, email_norm) back it up.
func (r *ReferralRepo) EnsureAdvocate(ctx context.Context, a *app.Advocate) (*app.Advocate, error) {
	emailNorm := attribution.NormalizeEmail(a.Email)
	if a.CustomerID == "" && emailNorm == "" {
		return nil, app.Errorf(app.EINVALID, "an advocate needs a store customer or an email address")
	}
	byCustomer, byEmail, err := identityRows(r.db.gorm.WithContext(ctx), a.ShopID, a.CustomerID, emailNorm)
	if err != nil {
		return nil, unavailable(err, "load advocate")
	}
	if found, attach := sameAdvocate(a.CustomerID, byCustomer, byEmail); found != nil && !attach {
		return found.toAdvocate(), nil
	}
	var row advocateRow
	err = r.db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := identityLocks(tx, a.ShopID, a.CustomerID, emailNorm); err != nil {
			return err
		}
		// Again under the lock: another order may have done it meanwhile.
		byCustomer, byEmail, err := identityRows(tx, a.ShopID, a.CustomerID, emailNorm)
		if err != nil {
			return err
		}
		found, attach := sameAdvocate(a.CustomerID, byCustomer, byEmail)
		if found != nil && attach {
			return tx.Raw("UPDATE advocates SET customer_id = ? WHERE id = ? RETURNING *", a.CustomerID, found.ID).Scan(&row).Error
		}
		if found != nil {
			row = *found
			return nil
		}
		key := emailNorm
		if byEmail != nil {
			key = "" // the email is another customer's advocate's key
		}
		if err := tx.Raw(`INSERT INTO advocates (shop_id, customer_id, first_name, email, email_norm, code, friend_code)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *`,
			a.ShopID, a.CustomerID, a.FirstName, a.Email, key, a.Code, a.FriendCode).Scan(&row).Error; err != nil {
			return err
		}
		if err := emitAdvocate(tx, row); err != nil {
			return err
		}
		// The welcome message (when the merchant turned it on) is decided
		// with the advocate.
		return queueEmailIf(tx, "EXISTS (SELECT 1 FROM email_settings WHERE shop_id = ? AND welcome)", []any{row.ShopID},
			row.ShopID, "welcome", strconv.FormatInt(row.ID, 10), row.ID)
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && (pgErr.ConstraintName == "advocates_code_key" || pgErr.ConstraintName == "advocates_shop_id_friend_code_key") {
		return nil, app.Errorf(app.ECONFLICT, "referral code %s taken", a.Code)
	}
	if err != nil {
		return nil, unavailable(err, "create advocate")
	}
	return row.toAdvocate(), nil
}

// SetFriendCode implements referrals.Repo.
func (r *ReferralRepo) SetFriendCode(ctx context.Context, advocateID int64, state, ref, errMsg string) error {
	err := r.db.gorm.WithContext(ctx).Exec("UPDATE advocates SET friend_code_state = ?, friend_code_ref = ?, friend_code_error = ? WHERE id = ?",
		state, ref, errMsg, advocateID).Error
	return unavailable(err, fmt.Sprintf("record friend code of advocate %d", advocateID))
}

// advocateWhere loads the one advocate matching the condition.
func (r *ReferralRepo) advocateWhere(ctx context.Context, what string, cond string, args ...any) (*app.Advocate, error) {
	var row advocateRow
	err := r.db.gorm.WithContext(ctx).Where(cond, args...).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, app.Errorf(app.ENOTFOUND, "no advocate with %s", what)
	}
	if err != nil {
		return nil, unavailable(err, "find advocate by "+what)
	}
	return row.toAdvocate(), nil
}

type txKey struct{}

// conn is the transaction WithAdvocateLock runs in, or the pool.
func (r *ReferralRepo) conn(ctx context.Context) *gorm.DB {
	if tx, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return tx.WithContext(ctx)
	}
	return r.db.gorm.WithContext(ctx)
}

// WithAdvocateLock implements referrals.Repo: fn runs in one transaction
// holding a lock on the advocate (pg_advisory_xact_lock on its id), so two
// orders referred by the same advocate are counted and inserted one after
// the other and the cap cannot be overrun by a race.
func (r *ReferralRepo) WithAdvocateLock(ctx context.Context, advocateID int64, fn func(ctx context.Context) error) error {
	err := r.db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", advocateID).Error; err != nil {
			return unavailable(err, fmt.Sprintf("lock advocate %d", advocateID))
		}
		return fn(context.WithValue(ctx, txKey{}, tx))
	})
	return err
}

// AdvocateByCode implements referrals.Repo: by referral code or friend code,
// case-insensitively.
func (r *ReferralRepo) AdvocateByCode(ctx context.Context, shopID int64, code string) (*app.Advocate, error) {
	code = app.NormalizeCode(code)
	return r.advocateWhere(ctx, "code "+code, "shop_id = ? AND (code = ? OR friend_code = ?)", shopID, code, code)
}

// AdvocateByLinkCode finds an advocate by the code in a /r/ link, across
// shops (codes are globally unique).
func (r *ReferralRepo) AdvocateByLinkCode(ctx context.Context, code string) (*app.Advocate, error) {
	code = app.NormalizeCode(code)
	return r.advocateWhere(ctx, "link code "+code, "code = ?", code)
}

// AdvocateByID implements referrals.Repo.
func (r *ReferralRepo) AdvocateByID(ctx context.Context, id int64) (*app.Advocate, error) {
	return r.advocateWhere(ctx, fmt.Sprintf("id %d", id), "id = ?", id)
}

// AdvocateByCustomer is the shop's advocate for a store customer ("" is
// no customer: never a guest advocate).
func (r *ReferralRepo) AdvocateByCustomer(ctx context.Context, shopID int64, customerID string) (*app.Advocate, error) {
	return r.advocateWhere(ctx, "customer "+customerID, "shop_id = ? AND customer_id <> '' AND customer_id = ?", shopID, customerID)
}

// BuyerAdvocate implements popup.Data: the advocate an order's buyer is,
// found as EnsureAdvocate finds them (customer id first, then the
// normalised email).
func (r *ReferralRepo) BuyerAdvocate(ctx context.Context, shopID int64, customerID, emailNorm string) (*app.Advocate, error) {
	byCustomer, byEmail, err := identityRows(r.db.gorm.WithContext(ctx), shopID, customerID, emailNorm)
	if err != nil {
		return nil, unavailable(err, "find the buyer's advocate")
	}
	if found, _ := sameAdvocate(customerID, byCustomer, byEmail); found != nil {
		return found.toAdvocate(), nil
	}
	return nil, app.Errorf(app.ENOTFOUND, "the buyer is not an advocate")
}

// PopupOrder implements popup.Data: what the popup needs of an order.
func (r *ReferralRepo) PopupOrder(ctx context.Context, shopID int64, platformOrderID string) (*popup.Order, error) {
	var row struct {
		Found, Known, Paid, Cancelled                 bool
		CustomerID, EmailNorm, OrderKey, Confirmation string
	}
	err := r.db.gorm.WithContext(ctx).Raw(`SELECT true AS found, known, paid, cancelled, customer_id, email_norm,
		COALESCE(facts->>'Key', '') AS order_key, COALESCE(facts->>'ConfirmationNumber', '') AS confirmation FROM orders WHERE shop_id = ? AND platform_order_id = ?`, shopID, platformOrderID).Scan(&row).Error
	if err != nil {
		return nil, unavailable(err, "load order for the popup")
	}
	if !row.Found {
		return nil, app.Errorf(app.ENOTFOUND, "no order %s", platformOrderID)
	}
	return &popup.Order{Known: row.Known, Paid: row.Paid, Cancelled: row.Cancelled, CustomerID: row.CustomerID, EmailNorm: row.EmailNorm, Key: row.OrderKey,
		ConfirmationNumber: row.Confirmation}, nil
}

// AdvocateFacts implements referrals.Repo: the advocate's identity as their
// own orders show it.
func (r *ReferralRepo) AdvocateFacts(ctx context.Context, shopID int64, adv *app.Advocate) (attribution.Advocate, error) {
	// Their orders as a customer and as a guest: by customer id or by
	// email ('' matches nothing: a guest advocate has no customer id).
	email := attribution.NormalizeEmail(adv.Email)
	var rows []orderRow
	if err := r.db.gorm.WithContext(ctx).Where("shop_id = ? AND known AND ((? <> '' AND customer_id <> '' AND customer_id = ?) OR (? <> '' AND email_norm <> '' AND email_norm = ?))",
		shopID, adv.CustomerID, adv.CustomerID, email, email).
		Order("placed_at DESC").Limit(referrals.IdentityOrders).Find(&rows).Error; err != nil {
		return attribution.Advocate{}, unavailable(err, "load advocate orders")
	}
	facts := make([]attribution.Order, 0, len(rows))
	for _, row := range rows {
		rec, err := row.toRecord()
		if err != nil {
			return attribution.Advocate{}, err
		}
		facts = append(facts, rec.Facts)
	}
	return referrals.IdentityFacts(adv, facts), nil
}

// History implements referrals.Repo.
func (r *ReferralRepo) History(ctx context.Context, o *referrals.OrderRecord, adv *app.Advocate, p app.Program) (attribution.History, error) {
	var h attribution.History
	placed := o.Facts.CreatedAt
	q := r.conn(ctx)
	var prior int64
	if err := q.Raw(`SELECT count(*) FROM orders WHERE shop_id = ? AND id <> ? AND known AND placed_at < ?
		AND ((customer_id <> '' AND customer_id = ?) OR (email_norm <> '' AND email_norm = ?))`,
		o.ShopID, o.ID, placed, o.Facts.CustomerID, attribution.NormalizeEmail(o.Facts.Email)).Scan(&prior).Error; err != nil {
		return h, unavailable(err, "count prior orders")
	}
	h.FriendPriorOrders = int(prior)
	var capCount, codeCount, ipCount int64
	window := time.Duration(p.CapWindowDays) * 24 * time.Hour
	vel := time.Duration(p.VelocityWindowMinutes) * time.Minute
	if err := q.Raw(`SELECT count(*) FROM referrals WHERE advocate_id = ? AND order_id <> ? AND created_at > ?
		AND state NOT IN ('rejected', 'reversed')`, adv.ID, o.ID, placed.Add(-window)).Scan(&capCount).Error; err != nil {
		return h, unavailable(err, "count advocate referrals")
	}
	if err := q.Raw(`SELECT count(*) FROM referrals WHERE advocate_id = ? AND order_id <> ? AND created_at > ?`,
		adv.ID, o.ID, r.db.now().Add(-vel)).Scan(&codeCount).Error; err != nil {
		return h, unavailable(err, "count advocate velocity")
	}
	if o.Facts.BrowserIP != "" {
		if err := q.Raw(`SELECT count(*) FROM orders o JOIN referrals f ON f.order_id = o.id
			WHERE o.shop_id = ? AND o.browser_ip = ? AND o.id <> ? AND f.created_at > ?`,
			o.ShopID, o.Facts.BrowserIP, o.ID, r.db.now().Add(-vel)).Scan(&ipCount).Error; err != nil {
			return h, unavailable(err, "count IP velocity")
		}
	}
	h.AdvocateReferrals, h.CodeReferrals, h.IPReferrals = int(capCount), int(codeCount), int(ipCount)
	// A circle: one of the advocate's own orders was referred by an
	// advocate who is this order's buyer (same customer id or email).
	friendEmail := attribution.NormalizeEmail(o.Facts.Email)
	if o.Facts.CustomerID != "" || friendEmail != "" {
		advEmail := attribution.NormalizeEmail(adv.Email)
		if err := q.Raw(`SELECT EXISTS (SELECT 1 FROM orders ao JOIN referrals f ON f.order_id = ao.id JOIN advocates fa ON fa.id = f.advocate_id
			WHERE ao.shop_id = ? AND ao.known AND f.state <> 'rejected'
			AND ((? <> '' AND ao.customer_id = ?) OR (? <> '' AND ao.email_norm = ?))
			AND ((? <> '' AND fa.customer_id = ?) OR (? <> '' AND fa.email_norm = ?)))`,
			o.ShopID, adv.CustomerID, adv.CustomerID, advEmail, advEmail,
			o.Facts.CustomerID, o.Facts.CustomerID, friendEmail, friendEmail).Scan(&h.FriendReferredAdvocate).Error; err != nil {
			return h, unavailable(err, "look for a circular referral")
		}
	}
	return h, nil
}

type referralRow struct {
	ID           int64 `gorm:"primaryKey"`
	ShopID       int64
	AdvocateID   int64
	OrderID      int64
	EvidenceKind string
	EvidenceCode string
	Decision     string `gorm:"type:jsonb"`
	State        string
	Reason       string
	HoldUntil    time.Time
	Flagged      bool
	Offer        *string `gorm:"type:jsonb"`
	CreatedAt    time.Time
}

func (referralRow) TableName() string { return "referrals" }

func (f referralRow) toReferral() *app.Referral {
	r := &app.Referral{ID: f.ID, ShopID: f.ShopID, AdvocateID: f.AdvocateID, OrderID: f.OrderID, EvidenceKind: f.EvidenceKind,
		EvidenceCode: f.EvidenceCode, Decision: []byte(f.Decision), State: f.State, Reason: f.Reason, HoldUntil: f.HoldUntil,
		Flagged: f.Flagged, CreatedAt: f.CreatedAt}
	if f.Offer != nil {
		var t app.OfferTerms
		if factsJSON.Unmarshal([]byte(*f.Offer), &t) == nil {
			r.Offer = &t
		}
	}
	return r
}

// CreateReferral implements referrals.Repo: one referral per order, with
// its referral.created event in the same transaction (the advocate lock's,
// or its own). It records the click that led to the order, if any: the
// advocate's latest click before the order from the order's browser IP,
// else, when the order carries the advocate's link ref (landing page or
// cart attribute: the friend's own session came through the link), the
// advocate's latest click before the order. Without one the order came by
// code only.
func (r *ReferralRepo) CreateReferral(ctx context.Context, f *app.Referral) error {
	create := func(tx *gorm.DB) error {
		var src struct {
			BrowserIP, Facts, Code string
		}
		if err := tx.Raw(`SELECT o.browser_ip, o.facts::text AS facts, a.code FROM orders o, advocates a WHERE o.id = ? AND a.id = ?`,
			f.OrderID, f.AdvocateID).Scan(&src).Error; err != nil {
			return err
		}
		ipHash := ""
		if src.BrowserIP != "" {
			ipHash = app.ClickIPHash(r.db.clickKey, src.BrowserIP)
		}
		link := false
		var facts attribution.Order
		if factsJSON.Unmarshal([]byte(src.Facts), &facts) == nil {
			for _, e := range attribution.Evidences(facts) {
				if (e.Kind == attribution.EvidenceLandingSite || e.Kind == attribution.EvidenceCartAttribute) && e.Code == app.NormalizeCode(src.Code) {
					link = true
				}
			}
		}
		var offer *string
		if f.Offer != nil {
			b, err := factsJSON.Marshal(f.Offer)
			if err != nil {
				return fmt.Errorf("encode the referral's offer: %w", err)
			}
			s := string(b)
			offer = &s
		}
		var id int64
		if err := tx.Raw(`INSERT INTO referrals (shop_id, advocate_id, order_id, evidence_kind, evidence_code, decision, state, reason, hold_until, offer, click_id)
			SELECT ?, ?, ?, ?, ?, ?::jsonb, ?, ?, ?, ?::jsonb, (SELECT c.id FROM clicks c WHERE c.advocate_id = ? AND c.shop_id = ? AND c.at <= o.placed_at
				AND (? OR (? <> '' AND c.ip_hash = ?)) ORDER BY (? <> '' AND c.ip_hash = ?) DESC, c.at DESC, c.id DESC LIMIT 1)
			FROM orders o WHERE o.id = ? ON CONFLICT (order_id) DO NOTHING RETURNING id`,
			f.ShopID, f.AdvocateID, f.OrderID, f.EvidenceKind, f.EvidenceCode, string(f.Decision), f.State, f.Reason, f.HoldUntil, offer,
			f.AdvocateID, f.ShopID, link, ipHash, ipHash, ipHash, ipHash, f.OrderID).Scan(&id).Error; err != nil {
			return err
		}
		if id == 0 {
			return nil // the order's referral exists: nothing new to tell
		}
		if err := emitReferral(tx, events.ReferralCreated, id); err != nil {
			return err
		}
		// The "friend ordered" message is decided in the same transaction:
		// one per referral, only for a referral that counts (pending).
		if f.State != app.ReferralPending {
			return nil
		}
		return queueEmailIf(tx, "", nil, f.ShopID, "friend_ordered", strconv.FormatInt(id, 10), f.AdvocateID)
	}
	var err error
	if tx, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		err = create(tx.WithContext(ctx))
	} else {
		err = r.db.gorm.WithContext(ctx).Transaction(create)
	}
	return unavailable(err, fmt.Sprintf("create referral for order %d", f.OrderID))
}

// ReferralByOrder implements referrals.Repo.
func (r *ReferralRepo) ReferralByOrder(ctx context.Context, orderID int64) (*app.Referral, error) {
	var row referralRow
	err := r.db.gorm.WithContext(ctx).Where("order_id = ?", orderID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, app.Errorf(app.ENOTFOUND, "no referral for order %d", orderID)
	}
	if err != nil {
		return nil, unavailable(err, "load referral")
	}
	return row.toReferral(), nil
}

// ReverseReferral implements referrals.Repo: a referral not yet rewarded is
// reversed and its reward (if approved, not issued) revoked; a rewarded one
// is flagged for support and its reward returned so the code can be
// deactivated.
func (r *ReferralRepo) ReverseReferral(ctx context.Context, referralID int64, reason string) (*app.Reward, error) {
	var reward *app.Reward
	err := r.db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var f referralRow
		if err := tx.Raw("SELECT * FROM referrals WHERE id = ? FOR UPDATE", referralID).Scan(&f).Error; err != nil {
			return err
		}
		switch f.State {
		case app.ReferralReversed, app.ReferralRejected:
			return nil
		}
		action := "reverse"
		if f.State == app.ReferralRewarded {
			action = "flag"
		}
		if !f.Flagged || action == "reverse" {
			if err := audit(tx, f.ShopID, "engine", action, fmt.Sprintf("referral:%d", f.ID), reason,
				map[string]string{"state": f.State}, map[string]any{"state": map[bool]string{true: f.State, false: app.ReferralReversed}[action == "flag"]}); err != nil {
				return err
			}
		}
		switch f.State {
		case app.ReferralRewarded:
			if err := tx.Exec("UPDATE referrals SET flagged = true, reason = ?, updated_at = now() WHERE id = ?", reason+" after the reward was issued", referralID).Error; err != nil {
				return err
			}
		default:
			if err := tx.Exec("UPDATE referrals SET state = 'reversed', reason = ?, updated_at = now() WHERE id = ?", reason, referralID).Error; err != nil {
				return err
			}
			if err := emitReferral(tx, events.ReferralReversed, referralID); err != nil {
				return err
			}
		}
		var rw rewardRow
		if err := tx.Raw("UPDATE rewards SET state = 'revoked' WHERE referral_id = ? RETURNING *", referralID).Scan(&rw).Error; err != nil {
			return err
		}
		if rw.ID != 0 {
			reward = rw.toReward()
			// Once per reward (the event's key): a second refund revoking
			// it again tells nothing new.
			return emitReward(tx, events.RewardRevoked, rw.ID)
		}
		return nil
	})
	return reward, unavailable(err, fmt.Sprintf("reverse referral %d", referralID))
}

// DueReferrals implements referrals.Repo.
func (r *ReferralRepo) DueReferrals(ctx context.Context, now time.Time, limit int) ([]app.Referral, error) {
	var rows []referralRow
	err := r.db.gorm.WithContext(ctx).Where("state = ? AND hold_until <= ?", app.ReferralPending, now).Order("hold_until").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, unavailable(err, "list due referrals")
	}
	out := make([]app.Referral, len(rows))
	for i, row := range rows {
		out[i] = *row.toReferral()
	}
	return out, nil
}

type rewardRow struct {
	ID          int64 `gorm:"primaryKey"`
	ShopID      int64
	ReferralID  int64
	AdvocateID  int64
	Code        string
	Kind        string
	Percent     int
	AmountMinor int64
	Currency    string
	ExpiresAt   *time.Time
	State       string
	StoreRef    string
	Error       string
	// A milestone's bonus has no referral (ReferralID 0 from NULL).
	MilestoneFriends *int
	ReviewSince      *time.Time
	CreditMinor      int64
	CreditCurrency   string
}

func (rewardRow) TableName() string { return "rewards" }

func (w rewardRow) toReward() *app.Reward {
	return &app.Reward{ID: w.ID, ShopID: w.ShopID, ReferralID: w.ReferralID, AdvocateID: w.AdvocateID, Code: w.Code, Kind: w.Kind,
		Percent: w.Percent, AmountMinor: w.AmountMinor, Currency: w.Currency, ExpiresAt: w.ExpiresAt, State: w.State, StoreRef: w.StoreRef, Error: w.Error,
		MilestoneFriends: derefInt(w.MilestoneFriends), ReviewSince: w.ReviewSince, CreditMinor: w.CreditMinor, CreditCurrency: w.CreditCurrency}
}

// ApproveReferral implements referrals.Repo: approval and the reward row in
// one transaction; approving twice returns the existing reward. A referral
// that left pending meanwhile (reversed by a refund) gets no reward: nil.
func (r *ReferralRepo) ApproveReferral(ctx context.Context, referralID int64, rw *app.Reward) (*app.Reward, error) {
	var out rewardRow
	skip := false
	err := r.db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var state string
		if err := tx.Raw("SELECT state FROM referrals WHERE id = ? FOR UPDATE", referralID).Scan(&state).Error; err != nil {
			return err
		}
		if state != app.ReferralPending && state != app.ReferralApproved {
			skip = true
			return nil
		}
		res := tx.Exec("UPDATE referrals SET state = 'approved', updated_at = now() WHERE id = ? AND state = 'pending'", referralID)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 1 {
			// The referral's timeline shows who approved it: the run.
			if err := audit(tx, rw.ShopID, "engine", "approve_due", fmt.Sprintf("referral:%d", referralID), "the holding period ended",
				map[string]string{"state": app.ReferralPending}, map[string]string{"state": app.ReferralApproved}); err != nil {
				return err
			}
		}
		// A second approval (a retry) keeps the row the first wrote: its
		// amount, credit currency and expiry are what the store is asked
		// for, and looked up by, on every attempt.
		if err := tx.Exec(`INSERT INTO rewards (shop_id, referral_id, advocate_id, code, kind, percent, amount_minor, currency, expires_at,
			credit_minor, credit_currency)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (referral_id) DO NOTHING`,
			rw.ShopID, rw.ReferralID, rw.AdvocateID, rw.Code, rw.Kind, rw.Percent, rw.AmountMinor, rw.Currency, rw.ExpiresAt,
			rw.CreditMinor, rw.CreditCurrency).Error; err != nil {
			return err
		}
		if res.RowsAffected == 1 {
			if err := emitReferral(tx, events.ReferralApproved, referralID); err != nil {
				return err
			}
		}
		return tx.Raw("SELECT * FROM rewards WHERE referral_id = ?", referralID).Scan(&out).Error
	})
	if err != nil {
		return nil, unavailable(err, fmt.Sprintf("approve referral %d", referralID))
	}
	if skip {
		return nil, nil
	}
	return out.toReward(), nil
}

// Reward implements referrals.Repo.
func (r *ReferralRepo) Reward(ctx context.Context, id int64) (*app.Reward, error) {
	var row rewardRow
	err := r.db.gorm.WithContext(ctx).Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, app.Errorf(app.ENOTFOUND, "no reward %d", id)
	}
	if err != nil {
		return nil, unavailable(err, "load reward")
	}
	return row.toReward(), nil
}

// MarkRewardIssued implements referrals.Repo.
func (r *ReferralRepo) MarkRewardIssued(ctx context.Context, id int64, ref string, at time.Time) error {
	err := r.db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var rw rewardRow
		if err := tx.Raw("UPDATE rewards SET state = 'issued', store_ref = ?, issued_at = ?, error = '' WHERE id = ? AND state = 'issuing' RETURNING *", ref, at, id).Scan(&rw).Error; err != nil {
			return err
		}
		if rw.ID == 0 {
			return nil
		}
		if err := tx.Exec("UPDATE referrals SET state = 'rewarded', updated_at = now() WHERE id = ? AND state = 'approved'", rw.ReferralID).Error; err != nil {
			return err
		}
		if err := emitReward(tx, events.RewardIssued, rw.ID); err != nil {
			return err
		}
		// The code exists in the store now: "reward earned" is decided in
		// this transaction, once per reward ever.
		return queueEmailIf(tx, "", nil, rw.ShopID, "reward_earned", strconv.FormatInt(rw.ID, 10), rw.AdvocateID)
	})
	return unavailable(err, fmt.Sprintf("mark reward %d issued", id))
}

// ReferralOrderNet implements referrals.Repo: the referral's order total
// less refunds, in the currency it was judged in (the shop's).
func (r *ReferralRepo) ReferralOrderNet(ctx context.Context, referralID int64) (app.Money, error) {
	var row struct {
		Net      int64
		Currency string
		Found    bool
	}
	err := r.conn(ctx).Raw(`SELECT o.total_minor - o.refunded_minor AS net, o.currency, true AS found
		FROM referrals f JOIN orders o ON o.id = f.order_id AND o.shop_id = f.shop_id WHERE f.id = ?`, referralID).Scan(&row).Error
	if err != nil {
		return app.Money{}, unavailable(err, fmt.Sprintf("read the order of referral %d", referralID))
	}
	if !row.Found {
		return app.Money{}, app.Errorf(app.ENOTFOUND, "referral %d has no order", referralID)
	}
	return app.Money{Minor: row.Net, Currency: row.Currency}, nil
}

// AdvocatePaidIn implements referrals.Repo: the advocate's most recent
// paid order, as a customer or as a guest (by customer id or email, like
// AdvocateFacts), test orders aside.
func (r *ReferralRepo) AdvocatePaidIn(ctx context.Context, shopID int64, adv *app.Advocate) (app.Money, app.Money, error) {
	var row struct {
		Currency            string
		TotalMinor          int64
		PresentmentCurrency string
		PresentmentMinor    int64
	}
	email := attribution.NormalizeEmail(adv.Email)
	err := r.conn(ctx).Raw(`SELECT currency, total_minor, presentment_currency, presentment_minor FROM orders
		WHERE shop_id = ? AND known AND paid AND NOT test
		AND ((? <> '' AND customer_id <> '' AND customer_id = ?) OR (? <> '' AND email_norm <> '' AND email_norm = ?))
		ORDER BY placed_at DESC, id DESC LIMIT 1`, shopID, adv.CustomerID, adv.CustomerID, email, email).Scan(&row).Error
	if err != nil {
		return app.Money{}, app.Money{}, unavailable(err, fmt.Sprintf("read the latest order of advocate %d", adv.ID))
	}
	return app.Money{Minor: row.TotalMinor, Currency: row.Currency}, app.Money{Minor: row.PresentmentMinor, Currency: row.PresentmentCurrency}, nil
}

// MarkRewardFailed implements referrals.Repo.
func (r *ReferralRepo) MarkRewardFailed(ctx context.Context, id int64, msg string) error {
	if len(msg) > 1000 {
		msg = msg[:1000]
	}
	err := r.db.gorm.WithContext(ctx).Exec("UPDATE rewards SET state = 'failed', error = ? WHERE id = ? AND state = 'issuing'", msg, id).Error
	return unavailable(err, fmt.Sprintf("mark reward %d failed", id))
}

// SetRevokedRewardError implements referrals.Repo.
func (r *ReferralRepo) SetRevokedRewardError(ctx context.Context, id int64, msg string) error {
	if len(msg) > 1000 {
		msg = msg[:1000]
	}
	err := r.db.gorm.WithContext(ctx).Exec("UPDATE rewards SET error = ? WHERE id = ? AND state = 'revoked'", msg, id).Error
	return unavailable(err, fmt.Sprintf("record deactivation error of reward %d", id))
}

// IssuingRewards lists rewards still issuing since before the cutoff, for
// the sweep that re-queues them.
func (r *ReferralRepo) IssuingRewards(ctx context.Context, before time.Time, limit int) ([]int64, error) {
	var ids []int64
	err := r.db.gorm.WithContext(ctx).Raw("SELECT id FROM rewards WHERE state = 'issuing' AND created_at < ? ORDER BY id LIMIT ?", before, limit).Scan(&ids).Error
	return ids, unavailable(err, "list issuing rewards")
}

// RecordClick stores a click on a referral link.
func (r *ReferralRepo) RecordClick(ctx context.Context, shopID, advocateID int64, channel, ipHash, userAgent string) error {
	err := r.db.gorm.WithContext(ctx).Exec("INSERT INTO clicks (shop_id, advocate_id, channel, ip_hash, user_agent) VALUES (?, ?, ?, ?, ?)",
		shopID, advocateID, channel, ipHash, userAgent).Error
	return unavailable(err, "record click")
}
