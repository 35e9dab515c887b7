package postgres_test

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/analytics"
	"github.com/parrain/parrain/app/attribution"
	"github.com/parrain/parrain/app/postgres"
	"github.com/parrain/parrain/app/referrals"
	"github.com/parrain/parrain/app/testenv"
)

// dashWorld writes through the repository the engine and the review
// actions use, so the rollup triggers see what production writes.
type dashWorld struct {
	t    *testing.T
	db   *postgres.DB
	sql  *sql.DB
	shop *app.Shop
	repo *postgres.ReferralRepo
	advs map[string]int64
}

const dashKey = "dash-click-key"

var dashShops int

func newDashWorld(t *testing.T, db *postgres.DB, tz string) *dashWorld {
	t.Helper()
	dashShops++
	sh := installShop(t, db, fmt.Sprintf("dash%d-%d.myshopify.com", dashShops, time.Now().UnixNano()%1e6))
	if tz != "" {
		if err := db.Shops().SetDetails(context.Background(), sh.ID, app.ShopDetails{Currency: "EUR", Timezone: tz}); err != nil {
			t.Fatal(err)
		}
	}
	return &dashWorld{t: t, db: db, sql: db.SQL(), shop: sh, repo: db.Referrals(), advs: map[string]int64{}}
}

func (w *dashWorld) exec(q string, args ...any) {
	w.t.Helper()
	if _, err := w.sql.Exec(q, args...); err != nil {
		w.t.Fatalf("%v\n%s", err, q)
	}
}

func (w *dashWorld) advocate(code string) int64 {
	if id, ok := w.advs[code]; ok {
		return id
	}
	var id int64
	err := w.sql.QueryRow(`INSERT INTO advocates (shop_id, customer_id, email, code, friend_code) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		w.shop.ID, "adv-"+code, code+"@example.com", fmt.Sprintf("%s-%d", code, w.shop.ID), fmt.Sprintf("F-%s-%d", code, w.shop.ID)).Scan(&id)
	if err != nil {
		w.t.Fatal(err)
	}
	w.advs[code] = id
	return id
}

// click records a click on the advocate's link from ip at a given time.
func (w *dashWorld) click(adv, channel, ip string, at time.Time) {
	w.exec(`INSERT INTO clicks (shop_id, advocate_id, channel, ip_hash, at) VALUES ($1, $2, $3, $4, $5)`,
		w.shop.ID, w.advocate(adv), channel, app.ClickIPHash(dashKey, ip), at)
}

type dashOrder struct {
	id, customer, email, ip, landing string
	at                               time.Time
	total                            int64
}

func (w *dashWorld) merge(ev referrals.OrderEvent) int64 {
	w.t.Helper()
	rec, err := w.repo.MergeOrder(context.Background(), w.shop.ID, ev)
	if err != nil {
		w.t.Fatal(err)
	}
	return rec.ID
}

func (w *dashWorld) paid(o dashOrder) int64 {
	return w.merge(referrals.OrderEvent{Known: true, Paid: true, Order: attribution.Order{PlatformID: o.id, Name: "#" + o.id,
		CustomerID: o.customer, Email: o.email, BrowserIP: o.ip, LandingSite: o.landing, Total: app.Money{Minor: o.total, Currency: "EUR"}, CreatedAt: o.at}})
}

// code is the advocate's referral code (what a link's ?ref= carries).
func (w *dashWorld) code(adv string) string {
	w.advocate(adv)
	return fmt.Sprintf("%s-%d", adv, w.shop.ID)
}

func (w *dashWorld) refund(orderID, refundID string, minor int64) {
	w.merge(referrals.OrderEvent{Order: attribution.Order{PlatformID: orderID}, RefundID: refundID, RefundMinor: minor})
}

func (w *dashWorld) cancel(o dashOrder) {
	w.merge(referrals.OrderEvent{Known: true, Paid: true, Cancelled: true, Order: attribution.Order{PlatformID: o.id, Name: "#" + o.id,
		CustomerID: o.customer, Email: o.email, BrowserIP: o.ip, Total: app.Money{Minor: o.total, Currency: "EUR"}, CreatedAt: o.at}})
}

// refer attributes the order to the advocate by the given evidence.
func (w *dashWorld) refer(orderRowID int64, adv string, kind attribution.EvidenceKind, state string) int64 {
	w.t.Helper()
	err := w.repo.CreateReferral(context.Background(), &app.Referral{ShopID: w.shop.ID, AdvocateID: w.advocate(adv), OrderID: orderRowID,
		EvidenceKind: string(kind), EvidenceCode: adv, Decision: []byte(`{}`), State: state, HoldUntil: time.Now().Add(time.Hour)})
	if err != nil {
		w.t.Fatal(err)
	}
	var id int64
	if err := w.sql.QueryRow(`SELECT id FROM referrals WHERE order_id = $1`, orderRowID).Scan(&id); err != nil {
		w.t.Fatal(err)
	}
	return id
}

func (w *dashWorld) reward(referralID int64, adv string, amount int64) {
	w.t.Helper()
	w.rewardOf(app.OfferFixed, referralID, adv, amount)
}

func (w *dashWorld) rewardOf(kind string, referralID int64, adv string, amount int64) {
	w.t.Helper()
	rw, err := w.repo.ApproveReferral(context.Background(), referralID, &app.Reward{ShopID: w.shop.ID, ReferralID: referralID,
		AdvocateID: w.advocate(adv), Code: fmt.Sprintf("THANKS-%d", referralID), Kind: kind, AmountMinor: amount, Currency: "EUR"})
	if err != nil || rw == nil {
		w.t.Fatalf("approve %d: %v", referralID, err)
	}
	if err := w.repo.MarkRewardIssued(context.Background(), rw.ID, "gid://x", time.Now()); err != nil {
		w.t.Fatal(err)
	}
}

func (w *dashWorld) reverse(referralID int64) {
	w.t.Helper()
	if _, err := w.repo.ReverseReferral(context.Background(), referralID, "refunded"); err != nil {
		w.t.Fatal(err)
	}
}

// snapshot is every rollup row of the shop that is not all zeros (the
// triggers may leave a day at zero where a rebuild writes nothing).
func (w *dashWorld) snapshot() map[string][]string {
	w.t.Helper()
	out := map[string][]string{}
	for table, q := range map[string]string{
		"days": `SELECT day, clicks, clicks_converted, referred_orders, referred_after_click, referred_revenue_minor, referred_total_minor,
			reward_cost_minor FROM dashboard_days WHERE shop_id = $1 ORDER BY day`,
		"channels":  `SELECT day, channel, clicks FROM dashboard_channel_days WHERE shop_id = $1 ORDER BY day, channel`,
		"advocates": `SELECT day, advocate_id, orders, revenue_minor FROM dashboard_advocate_days WHERE shop_id = $1 ORDER BY day, advocate_id`,
		"customers": `SELECT customer_key, first_order_id, first_at, first_day, referred, orders_30, revenue_30, orders_90, revenue_90,
			orders_365, revenue_365 FROM dashboard_customers WHERE shop_id = $1 ORDER BY customer_key`,
		"cohorts": `SELECT day, referred, customers, orders_30, revenue_30, repeat_30, orders_90, revenue_90, repeat_90, orders_365,
			revenue_365, repeat_365 FROM dashboard_cohort_days WHERE shop_id = $1 ORDER BY day, referred`,
	} {
		rows, err := w.sql.Query(q, w.shop.ID)
		if err != nil {
			w.t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				w.t.Fatal(err)
			}
			var parts []string
			zero := true
			for i, v := range vals {
				if t, ok := v.(time.Time); ok {
					v = t.UTC().Format(time.RFC3339)
				}
				s := fmt.Sprint(v)
				parts = append(parts, cols[i]+"="+s)
				if n, ok := v.(int64); ok && n != 0 && table != "customers" && cols[i] != "advocate_id" {
					zero = false
				}
			}
			if table == "customers" {
				zero = false
			}
			if !zero {
				out[table] = append(out[table], strings.Join(parts, " "))
			}
		}
		if err := rows.Close(); err != nil {
			w.t.Fatal(err)
		}
	}
	return out
}

// fromScratch is the same figures computed from the source rows.
func (w *dashWorld) fromScratch() map[string][]string {
	w.exec(`SELECT dashboard_rebuild($1)`, w.shop.ID)
	return w.snapshot()
}

// daysTotal sums the days' figures: a scenario's rows may fall on two days
// (an order an hour ago, its referral now, across the shop's midnight),
// which the comparison with the from-scratch count covers; the checks
// read the totals.
func daysTotal(days []string) string {
	cols := []string{"clicks", "clicks_converted", "referred_orders", "referred_after_click", "referred_revenue_minor", "referred_total_minor", "reward_cost_minor"}
	sum := map[string]int64{}
	for _, d := range days {
		for _, kv := range strings.Fields(d) {
			k, v, _ := strings.Cut(kv, "=")
			if n, err := strconv.ParseInt(v, 10, 64); err == nil && k != "day" {
				sum[k] += n
			}
		}
	}
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = fmt.Sprintf("%s=%d", c, sum[c])
	}
	return strings.Join(parts, " ")
}

// TestDashboardRollupsEqualAFromScratchCount applies events the way the
// stores send them (twice, out of order, reversed) and compares the
// figures the triggers kept with a count from the source rows.
func TestDashboardRollupsEqualAFromScratchCount(t *testing.T) {
	db, _ := testenv.OpenDB(t)
	db.SetClickIPKey(dashKey)
	now := time.Now().Add(-time.Hour).Truncate(time.Second)
	day := 24 * time.Hour
	a := dashOrder{id: "1001", customer: "c1", email: "c1@example.com", ip: "203.0.113.1", at: now, total: 5000}
	b := dashOrder{id: "1002", customer: "c2", email: "c2@example.com", ip: "203.0.113.2", at: now, total: 7000}
	for _, tc := range []struct {
		name string
		tz   string
		run  func(w *dashWorld)
		// check is a figure the scenario must show, whatever the rebuild says.
		check func(t *testing.T, s map[string][]string)
	}{
		{"order and referral delivered twice", "Europe/Paris", func(w *dashWorld) {
			w.click("ann", "email", a.ip, now.Add(-time.Minute))
			id := w.paid(a)
			w.paid(a)
			w.refer(id, "ann", attribution.EvidenceLandingSite, app.ReferralPending)
			w.refer(id, "ann", attribution.EvidenceLandingSite, app.ReferralPending)
			w.paid(a)
		}, func(t *testing.T, s map[string][]string) {
			if !strings.Contains(daysTotal(s["days"]), "clicks=1 clicks_converted=1 referred_orders=1 referred_after_click=1 referred_revenue_minor=5000") {
				t.Errorf("days: %v", s["days"])
			}
		}},
		{"refund before the order, refund delivered twice", "America/New_York", func(w *dashWorld) {
			w.refund(b.id, "r1", 2000)
			w.refund(b.id, "r1", 2000)
			id := w.paid(b)
			w.refer(id, "bob", attribution.EvidenceDiscountCode, app.ReferralPending)
			w.refund(b.id, "r1", 2000)
			w.refund(b.id, "r2", 1000)
		}, func(t *testing.T, s map[string][]string) {
			if !strings.Contains(daysTotal(s["days"]), "referred_orders=1 referred_after_click=0 referred_revenue_minor=4000 referred_total_minor=7000") {
				t.Errorf("days: %v", s["days"])
			}
		}},
		{"reversal, reversal again, reward revoked", "", func(w *dashWorld) {
			id := w.refer(w.paid(a), "ann", attribution.EvidenceDiscountCode, app.ReferralPending)
			w.reward(w.refer(w.paid(b), "ann", attribution.EvidenceDiscountCode, app.ReferralPending), "ann", 1000)
			w.reverse(id)
			w.reverse(id)
			w.cancel(a)
			w.cancel(a)
		}, func(t *testing.T, s map[string][]string) {
			if !strings.Contains(daysTotal(s["days"]), "referred_orders=1") || !strings.Contains(daysTotal(s["days"]), "reward_cost_minor=1000") {
				t.Errorf("days: %v", s["days"])
			}
		}},
		{"store credit costs its amount, a percent code nothing yet", "", func(w *dashWorld) {
			w.rewardOf(app.OfferStoreCredit, w.refer(w.paid(a), "ann", attribution.EvidenceDiscountCode, app.ReferralPending), "ann", 1500)
			w.rewardOf(app.OfferPercent, w.refer(w.paid(b), "ann", attribution.EvidenceDiscountCode, app.ReferralPending), "ann", 0)
		}, func(t *testing.T, s map[string][]string) {
			if !strings.Contains(daysTotal(s["days"]), "reward_cost_minor=1500") {
				t.Errorf("days: %v", s["days"])
			}
		}},
		{"rewarded then refunded: flagged, code revoked", "", func(w *dashWorld) {
			f := w.refer(w.paid(a), "ann", attribution.EvidenceDiscountCode, app.ReferralPending)
			w.reward(f, "ann", 1000)
			w.refund(a.id, "r1", a.total)
			w.reverse(f)
		}, func(t *testing.T, s map[string][]string) {
			if !strings.Contains(daysTotal(s["days"]), "referred_revenue_minor=0") || !strings.Contains(daysTotal(s["days"]), "reward_cost_minor=0") {
				t.Errorf("days: %v", s["days"])
			}
		}},
		{"one click, two orders: the click converts once", "", func(w *dashWorld) {
			w.click("ann", "whatsapp", a.ip, now.Add(-time.Hour))
			w.click("ann", "", "198.51.100.9", now.Add(-time.Hour))
			second := a
			second.id, second.at = "1003", now.Add(time.Minute)
			f1 := w.refer(w.paid(a), "ann", attribution.EvidenceCartAttribute, app.ReferralPending)
			w.refer(w.paid(second), "ann", attribution.EvidenceCartAttribute, app.ReferralPending)
			w.reverse(f1)
		}, func(t *testing.T, s map[string][]string) {
			if !strings.Contains(daysTotal(s["days"]), "clicks=2 clicks_converted=1 referred_orders=1 referred_after_click=1") {
				t.Errorf("days: %v", s["days"])
			}
		}},
		{"a customer's later order arrives first; a rejected referral", "Asia/Tokyo", func(w *dashWorld) {
			later := dashOrder{id: "2002", customer: "c9", ip: "203.0.113.9", at: now, total: 3000}
			first := dashOrder{id: "2001", customer: "c9", ip: "203.0.113.9", at: now.Add(-40 * day), total: 2000}
			w.paid(later)
			f := w.refer(w.paid(first), "ann", attribution.EvidenceDiscountCode, app.ReferralNeedsReview)
			w.exec(`UPDATE referrals SET state = 'rejected' WHERE id = $1`, f)
			w.exec(`UPDATE referrals SET state = 'needs_review' WHERE id = $1`, f)
		}, func(t *testing.T, s map[string][]string) {
			if len(s["customers"]) != 1 || !strings.Contains(s["customers"][0], "referred=true orders_30=1 revenue_30=2000 orders_90=2 revenue_90=5000") {
				t.Errorf("customers: %v", s["customers"])
			}
		}},
		{"guest redacted: the customer row goes", "", func(w *dashWorld) {
			g := dashOrder{id: "3001", email: "guest@example.com", ip: "203.0.113.7", at: now, total: 4000}
			w.paid(g)
			if _, err := w.db.Compliance().RedactCustomer(context.Background(), w.shop.ID, app.CustomerRef{Email: "guest@example.com"}, now); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T, s map[string][]string) {
			if len(s["customers"]) != 0 || len(s["cohorts"]) != 0 {
				t.Errorf("customers: %v, cohorts %v", s["customers"], s["cohorts"])
			}
		}},
		{"time zone learnt after the data: days redrawn", "", func(w *dashWorld) {
			late := time.Date(2026, 3, 10, 23, 30, 0, 0, time.UTC) // 11 March in Paris
			o := a
			o.at = late
			w.exec(`INSERT INTO clicks (shop_id, advocate_id, channel, ip_hash, at) VALUES ($1, $2, 'sms', '', $3)`, w.shop.ID, w.advocate("ann"), late)
			w.paid(o)
			if err := w.db.Shops().SetDetails(context.Background(), w.shop.ID, app.ShopDetails{Currency: "EUR", Timezone: "Europe/Paris"}); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T, s map[string][]string) {
			if len(s["channels"]) != 1 || !strings.HasPrefix(s["channels"][0], "day=2026-03-11") {
				t.Errorf("channels: %v", s["channels"])
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newDashWorld(t, db, tc.tz)
			w.t = t
			tc.run(w)
			kept := w.snapshot()
			tc.check(t, kept)
			if scratch := w.fromScratch(); !reflect.DeepEqual(kept, scratch) {
				t.Errorf("rollups differ from a count from scratch:\nkept    %v\nscratch %v", kept, scratch)
			}
		})
	}
}

// TestDashboardConversionNeverExceedsAllClicks: orders that came by code
// only used to count as conversions of the clicks (7 orders, 3 clicks:
// 233.3%). Conversion is now the share of clicks followed by an order.
func TestDashboardConversionNeverExceedsAllClicks(t *testing.T) {
	db, _ := testenv.OpenDB(t)
	db.SetClickIPKey(dashKey)
	w := newDashWorld(t, db, "Europe/Paris")
	now := time.Now().Add(-time.Hour).Truncate(time.Second)
	for i, ip := range []string{"203.0.113.1", "203.0.113.2", "203.0.113.3"} {
		w.click("ann", "email", ip, now.Add(-time.Duration(i+1)*time.Minute))
	}
	// A friend who came through the link on another network (the order
	// carries the link's ref) follows a click too.
	w.refer(w.paid(dashOrder{id: "4999", customer: "g", ip: "192.0.2.99", landing: "/?ref=" + w.code("ann"), at: now, total: 1000}),
		"ann", attribution.EvidenceLandingSite, app.ReferralPending)
	// The first clicker orders twice; four friends type the code.
	for i := range 6 {
		ip := fmt.Sprintf("198.51.100.%d", i)
		kind := attribution.EvidenceDiscountCode
		if i < 2 {
			ip, kind = "203.0.113.1", attribution.EvidenceLandingSite
		}
		o := dashOrder{id: fmt.Sprint(5000 + i), customer: fmt.Sprint("f", i), ip: ip, at: now, total: 1000}
		w.refer(w.paid(o), "ann", kind, app.ReferralPending)
	}
	loc, _ := time.LoadLocation("Europe/Paris")
	today := time.Now().In(loc)
	to := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, loc).AddDate(0, 0, 1)
	st, err := db.Console().Stats(context.Background(), w.shop.ID, analytics.Range{From: to.AddDate(0, 0, -30), To: to}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if st.Clicks != 3 || st.ReferredOrders != 7 || st.AfterClickOrders != 3 || st.CodeOnlyOrders != 4 || st.ClicksConverted != 1 {
		t.Fatalf("clicks %d converted %d, orders %d = %d after a click + %d by code", st.Clicks, st.ClicksConverted, st.ReferredOrders, st.AfterClickOrders, st.CodeOnlyOrders)
	}
	if c := st.Conversion(); c > 1 || fmt.Sprintf("%.3f", c) != "0.333" {
		t.Fatalf("conversion %.3f, want 1 of 3 clicks", c)
	}
}

// TestDashboardReferredVsOtherCustomersMatchesAHandCount seeds customers
// whose first orders are 400, 100 and 10 days old and checks the panel
// against the figures worked out by hand below.
func TestDashboardReferredVsOtherCustomersMatchesAHandCount(t *testing.T) {
	db, _ := testenv.OpenDB(t)
	db.SetClickIPKey(dashKey)
	w := newDashWorld(t, db, "Europe/Paris")
	loc, _ := time.LoadLocation("Europe/Paris")
	nowL := time.Now().In(loc)
	today := time.Date(nowL.Year(), nowL.Month(), nowL.Day(), 12, 0, 0, 0, loc)
	ago := func(d int) time.Time { return today.AddDate(0, 0, -d) }
	n := 0
	buy := func(cust string, at time.Time, total int64) int64 {
		n++
		return w.paid(dashOrder{id: fmt.Sprint(7000 + n), customer: cust, ip: "192.0.2.1", at: at, total: total})
	}
	// Referred R1 (first order 400 days ago): 100, +200 at day 20, +300 at
	// day 60, +400 at day 200.
	w.refer(buy("r1", ago(400), 10000), "ann", attribution.EvidenceDiscountCode, app.ReferralRewarded)
	buy("r1", ago(380), 20000)
	buy("r1", ago(340), 30000)
	buy("r1", ago(200), 40000)
	// Referred R2 (100 days ago): 50, then 70 at day 45; its referral was
	// reversed (cancelled, refunded): they still came through a referral.
	f := w.refer(buy("r2", ago(100), 5000), "ann", attribution.EvidenceDiscountCode, app.ReferralPending)
	w.reverse(f)
	buy("r2", ago(55), 7000)
	// R3 was referred but the referral was rejected: counts as other.
	w.refer(buy("r3", ago(100), 9000), "ann", attribution.EvidenceDiscountCode, app.ReferralRejected)
	// Others O1 (400 days ago): 80 only; O2 (100 days ago): 60, +60 at
	// day 10 with 20 refunded, cancelled order at day 12 (not counted).
	buy("o1", ago(400), 8000)
	buy("o2", ago(100), 6000)
	buy("o2", ago(90), 6000)
	w.refund("7009", "rf", 2000)
	w.cancel(dashOrder{id: "7999", customer: "o2", ip: "192.0.2.1", at: ago(88), total: 9999})
	// Test order and a customer 10 days old: too young for any horizon.
	buy("young", ago(10), 1000)
	w.exec(`UPDATE orders SET test = true WHERE platform_order_id = '7999'`)

	from := time.Date(nowL.Year(), nowL.Month(), nowL.Day(), 0, 0, 0, 0, loc).AddDate(0, 0, -500)
	to := time.Date(nowL.Year(), nowL.Month(), nowL.Day(), 0, 0, 0, 0, loc).AddDate(0, 0, 1)
	st, err := db.Console().Stats(context.Background(), w.shop.ID, analytics.Range{From: from, To: to}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	want := map[int][2]analytics.Cohort{
		// 30 days: R1 100+200, R2 50; others R3 90, O1 80, O2 60+40.
		30: {{Customers: 2, Orders: 3, RevenueMinor: 35000, Repeaters: 1}, {Customers: 3, Orders: 4, RevenueMinor: 27000, Repeaters: 1}},
		// 90 days: R1 100+200+300, R2 50+70.
		90: {{Customers: 2, Orders: 5, RevenueMinor: 72000, Repeaters: 2}, {Customers: 3, Orders: 4, RevenueMinor: 27000, Repeaters: 1}},
		// 365 days: only R1 and O1 are 365 days old.
		365: {{Customers: 1, Orders: 4, RevenueMinor: 100000, Repeaters: 1}, {Customers: 1, Orders: 1, RevenueMinor: 8000, Repeaters: 0}},
	}
	if len(st.Customers) != 3 {
		t.Fatalf("horizons: %+v", st.Customers)
	}
	for _, h := range st.Customers {
		if got := [2]analytics.Cohort{h.Referred, h.Others}; got != want[h.Days] {
			t.Errorf("%d days: referred %+v others %+v, want %+v", h.Days, h.Referred, h.Others, want[h.Days])
		}
	}
	r30 := st.Customers[0]
	if r30.Referred.AOVMinor() != 11667 || r30.Referred.RevenuePerCustomerMinor() != 17500 || r30.Others.RepeatRate() != 1.0/3 {
		t.Errorf("30 days: AOV %d, revenue per customer %d, others' repeat rate %.3f", r30.Referred.AOVMinor(), r30.Referred.RevenuePerCustomerMinor(), r30.Others.RepeatRate())
	}
	// The last 30 days hold only the young customer: no horizon is mature.
	st, err = db.Console().Stats(context.Background(), w.shop.ID, analytics.Range{From: to.AddDate(0, 0, -30), To: to}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range st.Customers {
		if h.Mature {
			t.Errorf("%d days: mature for a range starting 30 days ago", h.Days)
		}
	}
	if kept, scratch := w.snapshot(), w.fromScratch(); !reflect.DeepEqual(kept, scratch) {
		t.Errorf("rollups differ from a count from scratch:\nkept    %v\nscratch %v", kept, scratch)
	}
}

// TestDashboardTopAdvocatesByBoundsEqualTheFullSum checks the bounded
// scan of a long range (migration 00021) against the sum of every day
// row, on figures with ties, refunds beyond the total (negative revenue)
// and days outside the range, whatever the scan's step; and that the
// bounds follow inserts, updates and deletes of the day rows.
func TestDashboardTopAdvocatesByBoundsEqualTheFullSum(t *testing.T) {
	db, _ := testenv.OpenDB(t)
	w := newDashWorld(t, db, "")
	ctx := context.Background()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for a := range 40 {
		id := w.advocate(fmt.Sprint("adv", a))
		// Each advocate is busy in their own stretch of days, so the
		// advocates ahead over all days are not those ahead in a range;
		// pairs of advocates tie.
		start := (a * 37) % 800
		for d := start; d < start+40*(1+a%4); d += 1 + a%3 {
			orders, revenue := int64(1+(a/2)%3), int64((a/2%5)*1000+250)
			if (a+d)%29 == 0 {
				revenue = -500 // refunded more than paid
			}
			w.exec(`INSERT INTO dashboard_advocate_days (shop_id, day, advocate_id, orders, revenue_minor) VALUES ($1, $2, $3, $4, $5)`,
				w.shop.ID, base.AddDate(0, 0, d), id, orders, revenue)
		}
	}
	// Statements of many rows, as the rebuild and the engine's upserts write.
	w.exec(`UPDATE dashboard_advocate_days SET orders = orders + 1 WHERE shop_id = $1 AND advocate_id % 3 = 0 AND day < $2`, w.shop.ID, base.AddDate(0, 0, 300))
	w.exec(`UPDATE dashboard_advocate_days SET revenue_minor = -revenue_minor WHERE shop_id = $1 AND advocate_id % 7 = 0`, w.shop.ID)
	w.exec(`DELETE FROM dashboard_advocate_days WHERE shop_id = $1 AND advocate_id % 5 = 0 AND day > $2`, w.shop.ID, base.AddDate(0, 0, 600))
	var wrong int
	if err := w.sql.QueryRow(`SELECT count(*) FROM (
			SELECT advocate_id, sum(GREATEST(orders, 0)) AS o, sum(GREATEST(revenue_minor, 0)) AS r FROM dashboard_advocate_days WHERE shop_id = $1 GROUP BY 1) d
		FULL JOIN (SELECT * FROM dashboard_advocate_totals WHERE shop_id = $1 AND (orders <> 0 OR revenue_minor <> 0)) t USING (advocate_id)
		WHERE d.o IS DISTINCT FROM t.orders OR d.r IS DISTINCT FROM t.revenue_minor`, w.shop.ID).Scan(&wrong); err != nil {
		t.Fatal(err)
	}
	if wrong != 0 {
		t.Fatalf("%d advocates' bounds differ from their days", wrong)
	}
	repo := db.Console()
	for _, rg := range [][2]int{{0, 365}, {300, 665}, {500, 900}, {100, 130}, {850, 1200}, {2000, 2400}} {
		from, to := base.AddDate(0, 0, rg[0]).Format(time.DateOnly), base.AddDate(0, 0, rg[1]).Format(time.DateOnly)
		want, err := repo.TopAdvocates(ctx, w.shop.ID, from, to, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, scan := range [][2]int{{1, 5000}, {3, 5000}, {7, 5000}, {500, 5000}, {2, 6}} {
			restore := postgres.SetTopScan(scan[0], scan[1])
			got, err := repo.TopAdvocates(ctx, w.shop.ID, from, to, true)
			restore()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("days %v, step %d max %d:\n got %+v\nwant %+v", rg, scan[0], scan[1], got, want)
			}
		}
	}
}
