package postgres_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/referrals"
	"github.com/parrain/parrain/app/testenv"
)

// BenchmarkReplay replays a minimum-order change over 100,000 stored
// orders of one shop (BENCH_SMALL=1: 2,000): 5% are advocates' own
// orders, 40% of the others carry an advocate's friend code and have a
// stored referral, some refunded, some buyers ordering twice. The orders
// are made in bulk by Postgres itself (INSERT … SELECT over
// generate_series, rollup triggers off as for any bulk load), not through
// the engine. Reported: orders and the seconds of one replay (target:
// under 10 s for 100,000).
func BenchmarkReplay(b *testing.B) {
	n := 100_000
	if os.Getenv("BENCH_SMALL") != "" {
		n = 2_000
	}
	db, _ := testenv.OpenDB(b)
	ctx := context.Background()
	sh, err := db.Shops().Install(ctx, app.PlatformShopify, "replay-bench.myshopify.com", app.Credentials{AccessToken: "a"}, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	sh.Currency = "EUR"
	p, err := db.Referrals().Program(ctx, sh)
	if err != nil {
		b.Fatal(err)
	}
	advs := n / 20
	seed := []string{
		`SET LOCAL parrain.dashboard = 'off'`,
		// Advocates and their own orders, 60 to 31 days ago.
		`INSERT INTO advocates (shop_id, customer_id, first_name, email, email_norm, code, friend_code, friend_code_state)
		 SELECT $1, 'adv-' || i, 'Ann', 'adv' || i || '@example.com', 'adv' || i || '@example.com', 'ADV-' || i, 'FRIEND-ADV-' || i, 'created'
		 FROM generate_series(1, $2::int) i`,
		`INSERT INTO orders (shop_id, platform_order_id, name, customer_id, email_norm, currency, total_minor, known, paid, browser_ip, facts, placed_at)
		 SELECT $1, 'a' || i, '#A' || i, 'adv-' || i, 'adv' || i || '@example.com', 'EUR', 5000, true, true, '198.51.' || (i % 250) || '.' || (i % 200),
		   jsonb_build_object('PlatformID', 'a' || i, 'Name', '#A' || i, 'CustomerID', 'adv-' || i, 'Email', 'adv' || i || '@example.com',
		     'BrowserIP', '198.51.' || (i % 250) || '.' || (i % 200), 'Total', jsonb_build_object('Minor', 5000, 'Currency', 'EUR'),
		     'ShippingAddress', jsonb_build_object('Line1', i || ' rue des Avocats', 'Zip', '75002', 'Country', 'FR'),
		     'CreatedAt', to_char((now() - interval '31 days' - (i % 29) * interval '1 day') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')),
		   now() - interval '31 days' - (i % 29) * interval '1 day'
		 FROM generate_series(1, $2::int) i`,
		// Friends' orders over the last 30 days (and the advocates' own
		// orders are in the window's count too: n in all).
		`INSERT INTO orders (shop_id, platform_order_id, name, customer_id, email_norm, currency, total_minor, refunded_minor, known, paid, browser_ip, facts, placed_at)
		 SELECT $1, 'f' || i, '#F' || i, 'cust-' || (i % ($3::int * 9 / 10)), 'c' || (i % ($3::int * 9 / 10)) || '@example.com', 'EUR',
		   1000 + (i * 37) % 9000, CASE WHEN i % 23 = 0 THEN 1500 ELSE 0 END, true, true, '203.0.' || (i % 250) || '.' || (i % 199),
		   jsonb_build_object('PlatformID', 'f' || i, 'Name', '#F' || i, 'CustomerID', 'cust-' || (i % ($3::int * 9 / 10)),
		     'Email', 'c' || (i % ($3::int * 9 / 10)) || '@example.com', 'BrowserIP', '203.0.' || (i % 250) || '.' || (i % 199),
		     'Total', jsonb_build_object('Minor', 1000 + (i * 37) % 9000, 'Currency', 'EUR'),
		     'ShippingAddress', jsonb_build_object('Line1', i || ' rue des Amis', 'Zip', '75002', 'Country', 'FR'),
		     'DiscountCodes', CASE WHEN i % 5 < 2 THEN jsonb_build_array('FRIEND-ADV-' || (1 + i % $2::int)) ELSE '[]'::jsonb END,
		     'CreatedAt', to_char((now() - (i::float8 / $3::int) * interval '30 days') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')),
		   now() - (i::float8 / $3::int) * interval '30 days'
		 FROM generate_series(1, $3::int) i`,
		// Their stored referrals, as live attribution left them.
		`INSERT INTO referrals (shop_id, advocate_id, order_id, evidence_kind, evidence_code, decision, state, reason, hold_until, created_at)
		 SELECT o.shop_id, a.id, o.id, 'discount_code', a.friend_code,
		   jsonb_build_object('evidence', jsonb_build_object('Kind', 'discount_code', 'Code', a.friend_code), 'state',
		     CASE WHEN o.total_minor < 2000 THEN 'rejected' ELSE 'pending' END, 'reason', '',
		     'outcomes', jsonb_build_array(jsonb_build_object('rule', 'new customer', 'passed', true, 'effect', 'reject', 'reason', ''))),
		   CASE WHEN o.total_minor < 2000 THEN 'rejected' ELSE 'pending' END, '', o.placed_at + interval '14 days', o.placed_at
		 FROM orders o JOIN advocates a ON a.shop_id = o.shop_id AND a.friend_code = o.facts->'DiscountCodes'->>0
		 WHERE o.shop_id = $1 AND o.platform_order_id LIKE 'f%'`,
		`ANALYZE orders`, `ANALYZE referrals`, `ANALYZE advocates`,
	}
	tx, err := db.SQL().BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	for i, q := range seed {
		var args []any
		switch i {
		case 1, 2:
			args = []any{sh.ID, advs}
		case 3:
			args = []any{sh.ID, advs, n - advs}
		case 4:
			args = []any{sh.ID}
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			b.Fatalf("seed %d: %v", i, err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	r := &referrals.Replayer{Store: db.Replays(), Programs: db.Referrals(), Now: time.Now}
	proposed := p
	proposed.MinOrderMinor = 4000
	b.ResetTimer()
	var rep *referrals.ReplayReport
	for range b.N {
		if rep, _, err = r.Replay(ctx, sh, proposed, 61); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if rep.Orders != n || rep.ChangesTotal == 0 {
		b.Fatalf("replayed %d orders (want %d), %d changes", rep.Orders, n, rep.ChangesTotal)
	}
	b.ReportMetric(float64(rep.Orders), "orders")
	b.ReportMetric(float64(rep.Referred), "referred")
	b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N), "s/replay")
	b.Logf("replay of a minimum-order change over %d orders (%d referred, %d changed): %.2f s", rep.Orders, rep.Referred, rep.ChangesTotal, b.Elapsed().Seconds()/float64(b.N))
}
