package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/testenv"
)

// customers/data_request includes the emails sent to the customer;
// customers/redact erases their content and address, and the address's
// suppressions.
func TestComplianceCoversEmails(t *testing.T) {
	db, _ := testenv.OpenDB(t)
	ctx := context.Background()
	sh := installShop(t, db, "gdpr-mail.myshopify.com")
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.SQL().Exec(q, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`INSERT INTO advocates (shop_id, customer_id, first_name, email, email_norm, code, friend_code) VALUES
		($1, '191167', 'John', 'john@example.com', 'john@example.com', 'JOHN-1', 'FRIEND-JOHN-1'),
		($1, '7', 'Else', 'else@example.com', 'else@example.com', 'ELSE-1', 'FRIEND-ELSE-1')`, sh.ID)
	exec(`INSERT INTO email_outbox (shop_id, kind, subject_key, advocate_id, state, to_addr, subject, body, message_id, sent_at)
		SELECT $1, 'reward_earned', a.id::text, a.id, 'sent', a.email, 'Your reward: THANKS-' || a.code, 'Hello ' || a.first_name, 'm' || a.id, now()
		FROM advocates a WHERE a.shop_id = $1`, sh.ID)
	exec(`INSERT INTO email_suppressions (shop_id, email_norm, reason) VALUES ($1, 'john@example.com', 'unsubscribed')`, sh.ID)

	comp := db.Compliance()
	john := app.CustomerRef{ID: 191167, Email: "john@example.com"}
	id, err := comp.ExportCustomer(ctx, sh.ID, 1, john, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var export string
	db.SQL().QueryRow("SELECT export::text FROM data_exports WHERE id = $1", id).Scan(&export)
	if !strings.Contains(export, "THANKS-JOHN-1") || !strings.Contains(export, `"kind": "reward_earned"`) || strings.Contains(export, "ELSE-1") {
		t.Fatalf("export: %s", export)
	}
	if _, err := comp.RedactCustomer(ctx, sh.ID, john, time.Now()); err != nil {
		t.Fatal(err)
	}
	var left, others, supp int
	db.SQL().QueryRow(`SELECT count(*) FROM email_outbox WHERE shop_id = $1 AND (to_addr ILIKE '%john%' OR subject LIKE '%JOHN%' OR body LIKE '%John%')`, sh.ID).Scan(&left)
	db.SQL().QueryRow(`SELECT count(*) FROM email_outbox WHERE shop_id = $1 AND to_addr = 'else@example.com' AND body = 'Hello Else'`, sh.ID).Scan(&others)
	db.SQL().QueryRow(`SELECT count(*) FROM email_suppressions WHERE email_norm = 'john@example.com'`).Scan(&supp)
	if left != 0 || others != 1 || supp != 0 {
		t.Fatalf("after redact: %d of John's messages keep content, %d of Else's kept (want 1), %d suppressions", left, others, supp)
	}
	var redacted int
	db.SQL().QueryRow(`SELECT count(*) FROM email_outbox WHERE shop_id = $1 AND redacted_at IS NOT NULL AND state = 'sent'`, sh.ID).Scan(&redacted)
	if redacted != 1 {
		t.Fatalf("%d redacted rows, want John's one kept as a record", redacted)
	}
}
