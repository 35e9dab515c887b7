package stack_test

import (
	"strconv"
	"testing"
	"time"
)

// BenchmarkRewardEmails measures the outbox end to end: 10,000 "reward
// earned" messages (300 with BENCH_SMALL) decided at once, relayed to the
// send job, rendered (text + HTML), handed to the SMTP server on loopback
// over a real SMTP conversation and marked sent, by an in-process worker.
// It prints emails/s from the first row to the last one sent.
func BenchmarkRewardEmails(b *testing.B) {
	n := benchSize(10_000, 300)
	h := newHarness(b, withoutWorker(), withEnv("EMAIL_PER_SHOP_PER_MINUTE", "10000000"), withEnv("WORKER_CONCURRENCY", "32"))
	sh := h.installShop("bench-mail.myshopify.com")
	if _, err := h.direct.Exec(`UPDATE shops SET name = 'Bench Shop', currency = 'EUR' WHERE id = $1`, sh.ID); err != nil {
		b.Fatal(err)
	}
	if _, err := h.direct.Exec(`INSERT INTO programs (shop_id, currency) VALUES ($1, 'EUR')`, sh.ID); err != nil {
		b.Fatal(err)
	}
	seedAdvocates(b, h, sh.ID, n)
	// An order, a rewarded referral and an issued reward per advocate.
	for _, q := range []string{
		`INSERT INTO orders (shop_id, platform_order_id, known, paid, email_norm, first_name, locale)
			SELECT $1, 'o' || a.id, true, true, 'friend' || a.id || '@example.com', 'Friend', CASE WHEN a.id % 2 = 0 THEN 'fr' ELSE 'en' END
			FROM advocates a WHERE a.shop_id = $1`,
		`INSERT INTO referrals (shop_id, advocate_id, order_id, evidence_kind, evidence_code, decision, state, hold_until)
			SELECT $1, a.id, o.id, 'discount_code', a.friend_code, '{}', 'rewarded', now()
			FROM advocates a JOIN orders o ON o.platform_order_id = 'o' || a.id AND o.shop_id = $1 WHERE a.shop_id = $1`,
		`INSERT INTO rewards (shop_id, referral_id, advocate_id, code, kind, amount_minor, currency, expires_at, state, issued_at)
			SELECT $1, f.id, f.advocate_id, 'THANKS-B' || f.id, 'fixed', 1000, 'EUR', now() + interval '90 days', 'issued', now()
			FROM referrals f WHERE f.shop_id = $1`,
	} {
		if _, err := h.direct.Exec(q, sh.ID); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		h.mail.Clear()
		if _, err := h.direct.Exec(`DELETE FROM email_outbox WHERE shop_id = $1`, sh.ID); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if _, err := h.direct.Exec(`INSERT INTO email_outbox (shop_id, kind, subject_key, advocate_id, message_id)
			SELECT shop_id, 'reward_earned', id::text, advocate_id, 'bench.' || id || '.' || $2::text FROM rewards WHERE shop_id = $1`,
			sh.ID, strconv.FormatInt(start.UnixNano(), 36)); err != nil {
			b.Fatal(err)
		}
		stop := h.runWorker()
		eventually(b, 10*time.Minute, "every email sent", func() bool {
			return h.count(`SELECT count(*) FROM email_outbox WHERE shop_id = $1 AND state = 'sent'`, sh.ID) == n
		})
		elapsed := time.Since(start)
		stop()
		if got := h.mail.Count(); got != n {
			b.Fatalf("the SMTP server received %d messages, want %d", got, n)
		}
		b.ReportMetric(float64(n)/elapsed.Seconds(), "emails/s")
		b.Logf("%d reward emails sent in %s: %.0f emails/s", n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds())
	}
}
