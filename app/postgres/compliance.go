package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/attribution"
)

// ComplianceService implements app.ComplianceService over everything Parrain
// stores about a shop's customers: the stored webhook payloads, the engine's
// orders (facts carry names, emails, phones, addresses, IPs) and advocates
// (name, email). Each table that gains customer data must be added here, and
// the compliance tests check it.
type ComplianceService struct{ db *DB }

var _ app.ComplianceService = (*ComplianceService)(nil)

// Compliance returns the compliance service.
func (db *DB) Compliance() *ComplianceService { return &ComplianceService{db: db} }

// customerEvents selects the shop's events about the customer: by customer id
// in the payload, by the order ids the request names, or by email (guest
// checkouts have no customer id).
func customerEvents(tx *gorm.DB, shopID int64, c app.CustomerRef) *gorm.DB {
	conds := []string{}
	args := []any{}
	if c.ID != 0 {
		conds = append(conds, "customer_id = ?")
		args = append(args, c.ID)
	}
	if len(c.OrderIDs) > 0 {
		ids := make([]string, len(c.OrderIDs))
		for i, id := range c.OrderIDs {
			ids[i] = strconv.FormatInt(id, 10)
		}
		conds = append(conds, "(topic LIKE 'orders/%' AND payload ->> 'id' IN ?)", "(topic LIKE 'refunds/%' AND payload ->> 'order_id' IN ?)")
		args = append(args, ids, ids)
	}
	if email := strings.TrimSpace(c.Email); email != "" {
		conds = append(conds, "lower(payload ->> 'email') = lower(?)", "lower(payload ->> 'contact_email') = lower(?)")
		args = append(args, email, email)
	}
	if len(conds) == 0 {
		conds = append(conds, "false")
	}
	return tx.Table("webhook_events").
		Where("shop_id = ? AND redacted_at IS NULL AND topic NOT LIKE 'customers/%' AND topic NOT LIKE 'shop/%'", shopID).
		Where("("+strings.Join(conds, " OR ")+")", args...)
}

// ExportCustomer implements app.ComplianceService.
func (s *ComplianceService) ExportCustomer(ctx context.Context, shopID, requestID int64, c app.CustomerRef, at time.Time) (int64, error) {
	type item struct {
		Topic      string          `json:"topic"`
		ReceivedAt time.Time       `json:"received_at"`
		Payload    json.RawMessage `json:"payload"`
	}
	var rows []struct {
		Topic      string
		ReceivedAt time.Time
		Payload    string
	}
	if err := customerEvents(s.db.gorm.WithContext(ctx), shopID, c).Select("topic, received_at, payload").Order("id").Scan(&rows).Error; err != nil {
		return 0, unavailable(err, fmt.Sprintf("gather data of customer %d for shop %d", c.ID, shopID))
	}
	items := make([]item, len(rows))
	for i, r := range rows {
		items[i] = item{Topic: r.Topic, ReceivedAt: r.ReceivedAt.UTC(), Payload: json.RawMessage(r.Payload)}
	}
	var advocate []map[string]any
	cid, email := customerKeys(c)
	if err := s.db.gorm.WithContext(ctx).Raw(`SELECT code, friend_code, first_name, email, created_at FROM advocates
		WHERE shop_id = ? AND `+advocateOfCustomer, shopID, cid, cid, email, email).Scan(&advocate).Error; err != nil {
		return 0, unavailable(err, "gather advocate data")
	}
	// The emails Parrain sent (or decided not to send) them, with their
	// content.
	var emails []map[string]any
	if err := s.db.gorm.WithContext(ctx).Raw(`SELECT m.kind, m.state, m.reason, m.to_addr, m.subject, m.body, m.created_at, m.sent_at
		FROM email_outbox m JOIN advocates a ON a.id = m.advocate_id
		WHERE m.shop_id = ? AND a.shop_id = ? AND `+advocateOfCustomerIn("a"), shopID, shopID, cid, cid, email, email).Scan(&emails).Error; err != nil {
		return 0, unavailable(err, "gather email data")
	}
	doc, err := json.Marshal(map[string]any{
		"generated_at": at.UTC(), "customer": map[string]any{"id": c.ID, "email": c.Email, "phone": c.Phone},
		"orders_requested": c.OrderIDs, "webhook_events": items, "advocate": advocate, "emails": emails,
	})
	if err != nil {
		return 0, fmt.Errorf("encode export: %w", err)
	}
	var id int64
	// A redelivered request replaces the earlier export rather than adding one.
	err = s.db.gorm.WithContext(ctx).Raw(`INSERT INTO data_exports (shop_id, request_id, customer_id, export, created_at)
		VALUES (?, ?, ?, ?::jsonb, ?)
		ON CONFLICT (shop_id, request_id) DO UPDATE SET export = EXCLUDED.export, created_at = EXCLUDED.created_at
		RETURNING id`, shopID, requestID, c.ID, string(doc), at).Scan(&id).Error
	if err != nil {
		return 0, unavailable(err, fmt.Sprintf("store export for shop %d request %d", shopID, requestID))
	}
	return id, nil
}

// advocateOfCustomer matches the advocates a compliance request is about:
// the store customer's, and the one known by the request's email (a guest
// advocate has no customer id; Shopify sends {id, email} for a guest too).
// Arguments: customer id twice, normalised email twice.
const advocateOfCustomer = `((? <> '' AND customer_id <> '' AND customer_id = ?) OR (? <> '' AND email_norm <> '' AND email_norm = ?))`

// advocateOfCustomerIn is advocateOfCustomer on the advocates aliased a.
func advocateOfCustomerIn(a string) string {
	return `((? <> '' AND ` + a + `.customer_id <> '' AND ` + a + `.customer_id = ?) OR (? <> '' AND ` + a + `.email_norm <> '' AND ` + a + `.email_norm = ?))`
}

// customerKeys is how the engine keys a compliance request's customer:
// the customer id as text ("" for none) and the email normalised as
// attribution does.
func customerKeys(c app.CustomerRef) (customerID, emailNorm string) {
	if c.ID != 0 {
		customerID = strconv.FormatInt(c.ID, 10)
	}
	return customerID, attribution.NormalizeEmail(c.Email)
}

// redactedPayload keeps what the books need (ids, totals, currency, dates,
// discount codes) and nothing that identifies a person.
const redactedPayload = `jsonb_strip_nulls(jsonb_build_object(
	'id', payload -> 'id', 'order_id', payload -> 'order_id', 'name', payload -> 'name',
	'created_at', payload -> 'created_at', 'currency', payload -> 'currency',
	'total_price', payload -> 'total_price', 'financial_status', payload -> 'financial_status',
	'discount_codes', payload -> 'discount_codes', 'redacted', true))`

// RedactCustomer implements app.ComplianceService.
func (s *ComplianceService) RedactCustomer(ctx context.Context, shopID int64, c app.CustomerRef, at time.Time) (int64, error) {
	var n int64
	err := s.db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := customerEvents(tx, shopID, c).Updates(map[string]any{
			"payload": gorm.Expr(redactedPayload), "redacted_at": at,
		})
		if res.Error != nil {
			return res.Error
		}
		n = res.RowsAffected
		q := tx.Exec("DELETE FROM data_exports WHERE shop_id = ? AND customer_id = ?", shopID, c.ID)
		n += q.RowsAffected
		if q.Error != nil {
			return q.Error
		}
		// Orders keep what the books need (ids, totals, states); the
		// person goes.
		cid, emailNorm := customerKeys(c)
		orderIDs := make([]string, len(c.OrderIDs))
		for i, id := range c.OrderIDs {
			orderIDs[i] = strconv.FormatInt(id, 10)
		}
		email := strings.ToLower(strings.TrimSpace(c.Email))
		q = tx.Exec(`UPDATE orders SET email_norm = '', first_name = '', last_initial = '', browser_ip = '',
			facts = jsonb_build_object('PlatformID', facts -> 'PlatformID', 'Total', facts -> 'Total', 'CreatedAt', facts -> 'CreatedAt', 'redacted', true)
			WHERE shop_id = ? AND ((? <> '' AND customer_id = ?) OR platform_order_id IN (?) OR (? <> '' AND lower(facts ->> 'Email') = ?)
				OR (? <> '' AND email_norm = ?))`,
			shopID, cid, cid, append(orderIDs, ""), email, email, emailNorm, emailNorm)
		n += q.RowsAffected
		if q.Error != nil {
			return q.Error
		}
		// Events already written name the advocate: their email and first
		// name go too (a delivery still pending sends the redacted body).
		q = tx.Exec(`UPDATE events SET payload = jsonb_set(jsonb_set(payload, '{data,advocate,email}', 'null'), '{data,advocate,first_name}', 'null')
			WHERE shop_id = ? AND payload #> '{data,advocate}' IS NOT NULL AND advocate_id IN (SELECT id FROM advocates WHERE shop_id = ? AND `+advocateOfCustomer+`)`,
			shopID, shopID, cid, cid, emailNorm, emailNorm)
		if q.Error != nil {
			return q.Error
		}
		// Messages lose their content and address (the outbox keeps that
		// something was sent, and when); the address's suppressions go.
		q = tx.Exec(`UPDATE email_outbox m SET to_addr = '', subject = '', body = '', last_error = '', redacted_at = ?
			FROM advocates a WHERE a.id = m.advocate_id AND m.shop_id = ? AND a.shop_id = ? AND `+advocateOfCustomerIn("a"),
			at, shopID, shopID, cid, cid, emailNorm, emailNorm)
		n += q.RowsAffected
		if q.Error != nil {
			return q.Error
		}
		if emailNorm != "" {
			if q = tx.Exec("DELETE FROM email_suppressions WHERE shop_id = ? AND email_norm = ?", shopID, emailNorm); q.Error != nil {
				return q.Error
			}
			n += q.RowsAffected
		}
		// The advocate keeps its codes and history (the books); without
		// its email key a later order from that address makes a new one.
		// Links to their page, sent to the person, stop working.
		q = tx.Exec("UPDATE advocates SET email = '', email_norm = '', first_name = '', page_generation = page_generation + 1 WHERE shop_id = ? AND "+advocateOfCustomer,
			shopID, cid, cid, emailNorm, emailNorm)
		n += q.RowsAffected
		return q.Error
	})
	if err != nil {
		return 0, unavailable(err, fmt.Sprintf("redact customer %d of shop %d", c.ID, shopID))
	}
	return n, nil
}

// RedactShop implements app.ComplianceService.
func (s *ComplianceService) RedactShop(ctx context.Context, shopID int64, at time.Time) error {
	err := s.db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// The dashboard's figures go wholesale: no trigger work per row.
		if err := tx.Exec("SET LOCAL parrain.dashboard = 'off'").Error; err != nil {
			return err
		}
		for _, q := range []string{
			"DELETE FROM dashboard_days WHERE shop_id = ?",
			"DELETE FROM dashboard_channel_days WHERE shop_id = ?",
			"DELETE FROM dashboard_advocate_days WHERE shop_id = ?",
			"DELETE FROM dashboard_advocate_totals WHERE shop_id = ?",
			"DELETE FROM dashboard_customers WHERE shop_id = ?",
			"DELETE FROM dashboard_cohort_days WHERE shop_id = ?",
			"DELETE FROM data_exports WHERE shop_id = ?",
			"DELETE FROM event_endpoints WHERE shop_id = ?", // deliveries and their log cascade
			"DELETE FROM events WHERE shop_id = ?",
			"DELETE FROM webhook_events WHERE shop_id = ?",
			"DELETE FROM rewards WHERE shop_id = ?",
			"DELETE FROM referrals WHERE shop_id = ?",
			"DELETE FROM clicks WHERE shop_id = ?",
			"DELETE FROM advocates WHERE shop_id = ?",
			"DELETE FROM orders WHERE shop_id = ?",
			"DELETE FROM programs WHERE shop_id = ?",
			"DELETE FROM setup_signals WHERE shop_id = ?",
		} {
			if err := tx.Exec(q, shopID).Error; err != nil {
				return err
			}
		}
		return tx.Exec(`UPDATE shops SET status = 'redacted', name = '', email = '', currency = '', timezone = '', plan = '',
			platform_shop_id = NULL, access_token = NULL, access_token_expires_at = NULL, refresh_token = NULL,
			refresh_token_expires_at = NULL, scopes = '', redacted_at = ?, updated_at = ? WHERE id = ?`, at, at, shopID).Error
	})
	return unavailable(err, fmt.Sprintf("redact shop %d", shopID))
}
