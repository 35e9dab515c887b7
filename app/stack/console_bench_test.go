package stack_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parrain/parrain/app/staff"
)

// BenchmarkConsoleAtScale seeds one shop with 1M referrals over a year (50k
// advocates, 1M friend orders, 1M more orders without referral, 2M clicks,
// 600k rewards) and measures, over HTTP with a logged-in support member, the
// review queue's first page (unfiltered, by state, by failed rule, by
// search) and the dashboard of the last 30 and 365 days. `make bench-console`.
func BenchmarkConsoleAtScale(b *testing.B) {
	h := newHarness(b, withSimulator(), withoutWorker())
	stop := h.runWorker()
	sh := h.installAndSync("scale.myshopify.com", "EUR")
	stop()
	if _, err := h.stack.DB.Referrals().Program(context.Background(), sh); err != nil {
		b.Fatal(err)
	}
	// 1M referrals for `make bench-console`; 1% of it under BENCH_SMALL.
	scale := strings.NewReplacer("{ADV}", strconv.Itoa(benchSize(50_000, 500)),
		"{ORDERS}", strconv.Itoa(benchSize(2_000_000, 20_000)), "{REFERRED}", strconv.Itoa(benchSize(1_000_000, 10_000)))
	start := time.Now()
	// Loaded in bulk with the dashboard's triggers off, then its figures
	// computed from scratch as migration 00013 does for existing data.
	tx, err := h.direct.Begin()
	if err != nil {
		b.Fatal(err)
	}
	if _, err := tx.Exec(`SET LOCAL parrain.dashboard = 'off'`); err != nil {
		b.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO advocates (shop_id, customer_id, email, code, friend_code, friend_code_state)
			SELECT $1, 'a' || g, 'adv' || g || '@example.com', 'ADV-' || g, 'FRIEND-ADV-' || g, 'created' FROM generate_series(1, {ADV}) g`,
		`INSERT INTO orders (shop_id, platform_order_id, name, customer_id, email_norm, currency, total_minor, known, paid, placed_at)
			SELECT $1, g::text, '#' || g, 'c' || g, 'friend' || g || '@example.com', 'EUR', 2000 + (g % 200) * 100, true, true,
			       now() - (g % 365) * interval '1 day' - (g % 1440) * interval '1 minute'
			FROM generate_series(1, {ORDERS}) g`,
		`INSERT INTO clicks (shop_id, advocate_id, channel, at)
			SELECT $1, (SELECT min(id) FROM advocates) + g % {ADV}, (ARRAY['email','whatsapp','facebook','x','sms','messenger',''])[g % 7 + 1],
			       now() - (g % 365) * interval '1 day' - (g % 1440) * interval '1 minute'
			FROM generate_series(1, {ORDERS}) g`,
		// A third of the referrals followed a click (one click each).
		`INSERT INTO referrals (shop_id, advocate_id, order_id, evidence_kind, evidence_code, decision, state, reason, hold_until, flagged, created_at, click_id)
			SELECT $1, a.id, o.id, 'discount_code', 'FRIEND-ADV-' || (o.id % {ADV} + 1),
			       CASE WHEN o.id % 97 = 0 THEN '{"outcomes":[{"rule":"velocity (IP)","passed":false,"effect":"review","reason":"6 from one address"}]}'::jsonb
			            ELSE '{"outcomes":[{"rule":"new customer","passed":true}]}'::jsonb END,
			       (ARRAY['pending','approved','rewarded','rewarded','rewarded','rejected','reversed','needs_review'])[o.id % 8 + 1],
			       '', o.placed_at + interval '14 days', o.id % 97 = 0, o.placed_at,
			       CASE WHEN o.id % 3 = 0 THEN (SELECT min(id) FROM clicks WHERE shop_id = $1) + o.platform_order_id::bigint END
			FROM orders o JOIN advocates a ON a.shop_id = o.shop_id AND a.code = 'ADV-' || (o.id % {ADV} + 1)
			WHERE o.shop_id = $1 AND o.platform_order_id::bigint <= {REFERRED}`,
		`INSERT INTO rewards (shop_id, referral_id, advocate_id, code, kind, amount_minor, currency, state, created_at)
			SELECT shop_id, id, advocate_id, 'THANKS-' || id, 'fixed', 1000, 'EUR', 'issued', created_at + interval '14 days'
			FROM referrals WHERE shop_id = $1 AND state IN ('rewarded', 'approved')`,
	} {
		q = scale.Replace(q)
		if _, err := tx.Exec(q, sh.ID); err != nil {
			b.Fatalf("seed: %v\n%s", err, q)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	seeded := time.Since(start)
	if _, err := h.direct.Exec(`SELECT dashboard_rebuild($1)`, sh.ID); err != nil {
		b.Fatal(err)
	}
	rebuilt := time.Since(start) - seeded
	if _, err := h.direct.Exec(`ANALYZE`); err != nil {
		b.Fatal(err)
	}
	var n int
	h.direct.QueryRow(`SELECT count(*) FROM referrals WHERE shop_id = $1`, sh.ID).Scan(&n)
	fmt.Printf("seeded %d referrals in %s; dashboard figures from scratch (backfill) in %s\n", n, seeded.Round(time.Second), rebuilt.Round(time.Millisecond))

	if _, err := h.stack.Staff().Add(context.Background(), "bench@parrain.test", "", staff.Support, staffPassword, []string{sh.Domain}); err != nil {
		b.Fatal(err)
	}
	w := &consoleWorld{h: h}
	sc := w.login(b, "bench@parrain.test")
	base := "/api/admin/shops/" + sh.Domain
	pages := []struct{ name, path string }{
		{"queue", base + "/referrals"},
		{"queue-state", base + "/referrals?state=needs_review"},
		{"queue-rule", base + "/referrals?rule=" + url.QueryEscape("velocity (IP)")},
		{"queue-search", base + "/referrals?q=friend777@example.com"},
		{"queue-page-5", ""}, // filled below with a cursor
		{"dashboard-30d", "/console/shops/" + sh.Domain + "/dashboard"},
		{"dashboard-365d", "/console/shops/" + sh.Domain + "/dashboard?from=" + time.Now().AddDate(0, 0, -364).Format(time.DateOnly) +
			"&to=" + time.Now().Format(time.DateOnly)},
	}
	// A deep page: follow the cursor four times.
	next := base + "/referrals"
	for range 4 {
		status, body := sc.get(next)
		if status != 200 {
			b.Fatalf("%s: %d", next, status)
		}
		var out struct{ Next string }
		if err := jsonUnmarshal(body, &out); err != nil || out.Next == "" {
			b.Fatalf("no next cursor: %v", err)
		}
		next = base + "/referrals?before=" + out.Next
	}
	pages[4].path = next
	b.ResetTimer()
	for _, p := range pages {
		lat := make([]time.Duration, 0, b.N)
		for range b.N {
			t0 := time.Now()
			status, _ := sc.get(p.path)
			if status != http.StatusOK {
				b.Fatalf("%s: %d", p.path, status)
			}
			lat = append(lat, time.Since(t0))
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		b.ReportMetric(ms(lat[len(lat)/2]), p.name+"-p50-ms")
		b.ReportMetric(ms(lat[len(lat)*99/100]), p.name+"-p99-ms")
		fmt.Printf("%-14s p50 %7.2f ms   p99 %7.2f ms   (n=%d)\n", p.name, ms(lat[len(lat)/2]), ms(lat[len(lat)*99/100]), len(lat))
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
