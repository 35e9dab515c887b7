package stack_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/staff"
	"github.com/parrain/parrain/integrations/shopify/shopifysim"
	"github.com/parrain/parrain/jobs"
)

// milestoneWorld is a shop whose advocate Marie has friends' orders.
type milestoneWorld struct {
	h       *harness
	shop    string
	sh      *app.Shop
	marie   *advocateView
	friends []int64 // the friends' order ids, in the order placed
	// stopWorker stops the in-process worker (withoutWorker worlds).
	stopWorker func()
}

func newMilestoneWorld(t *testing.T, shop string, ladder []app.Milestone, friends int, opts ...option) *milestoneWorld {
	h := newHarness(t, append([]option{withSimulator(), withUnlimitedAPI(), withoutWorker()}, opts...)...)
	w := &milestoneWorld{h: h, shop: shop, stopWorker: h.runWorker()}
	w.sh = h.installAndSync(shop, "EUR")
	ctx := context.Background()
	repo := h.stack.DB.Referrals()
	p, err := repo.Program(ctx, w.sh)
	if err != nil {
		t.Fatal(err)
	}
	p.Milestones = ladder
	if err := repo.SaveProgram(ctx, p); err != nil {
		t.Fatal(err)
	}
	h.order(shop, shopifysim.OrderInput{Email: "marie@example.com", FirstName: "Marie", Total: "120.00"})
	eventually(t, 15*time.Second, "Marie an advocate", func() bool {
		w.marie = h.advocate("marie@example.com")
		return w.marie != nil && w.marie.FriendState == "created"
	})
	for i := range friends {
		o := h.order(shop, shopifysim.OrderInput{Email: fmt.Sprintf("friend%d@example.com", i), FirstName: fmt.Sprintf("Friend%d", i),
			Total: "80.00", DiscountCodes: []string{w.marie.FriendCode}})
		w.friends = append(w.friends, o)
	}
	for _, o := range w.friends {
		eventually(t, 15*time.Second, "a pending referral", func() bool { s, _, _ := h.referral(o); return s == "pending" })
	}
	return w
}

// replayOrders sends every friend's order events again, newest order
// first and orders/paid before orders/create: new event ids, so the
// engine sees them (duplicates in content, in the wrong order).
func (w *milestoneWorld) replayOrders(t *testing.T) {
	t.Helper()
	bodies := w.h.sim.Orders(w.shop)
	for i := len(bodies) - 1; i >= 0; i-- {
		for _, topic := range []string{"orders/paid", "orders/create", "orders/paid"} {
			if _, err := w.h.sim.SendWebhook(context.Background(), w.shop, topic, bodies[i]); err != nil {
				t.Fatal(err)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := w.h.sim.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
}

func (w *milestoneWorld) approveRun(t *testing.T) {
	t.Helper()
	if err := w.h.stack.Mux().ProcessTask(context.Background(), jobs.NewApproveReferralsTask()); err != nil {
		t.Fatal(err)
	}
}

func (w *milestoneWorld) storeCodes(prefix string) []shopifysim.Discount {
	var out []shopifysim.Discount
	for _, d := range w.h.sim.Discounts(w.shop) {
		if strings.HasPrefix(d.Code, prefix) {
			out = append(out, d)
		}
	}
	return out
}

var errCrash = errors.New("the worker died here")

// A milestone is paid exactly once through duplicated and reordered order
// events, approval runs repeated, and a worker dying between the store's
// answer and the commit (Engine.AfterStoreCall): the retry finds the code
// the store already has.
func TestMilestonePaidOnceThroughDuplicatesReorderAndCrash(t *testing.T) {
	ladder := []app.Milestone{{Friends: 3, Kind: app.OfferFixed, AmountMinor: 2000}, {Friends: 10, Kind: app.OfferPercent, Percent: 25}}
	w := newMilestoneWorld(t, "milestones.myshopify.com", ladder, 4, withDuplicateRate(0.5))
	h := w.h
	w.replayOrders(t)
	if n := h.count("SELECT count(*) FROM referrals"); n != 4 {
		t.Fatalf("%d referrals after the replay, want 4", n)
	}

	// Only the harness's own calls from here: the approval's reward jobs
	// are run by hand, with the worker dying after each store call.
	w.stopWorker()
	h.advance(15 * 24 * time.Hour)
	w.approveRun(t)
	w.approveRun(t) // a second run (a duplicate schedule) changes nothing
	if n := h.count("SELECT count(*) FROM rewards WHERE milestone_friends = 3"); n != 1 {
		t.Fatalf("%d bonus rows for the 3-friend milestone, want 1", n)
	}
	if n := h.count("SELECT count(*) FROM rewards WHERE milestone_friends IS NOT NULL"); n != 1 {
		t.Fatalf("%d bonus rows, want 1 (10 friends not reached)", n)
	}
	if n := h.count("SELECT count(*) FROM milestone_checks"); n != 0 {
		t.Fatalf("%d milestone checks left after the run", n)
	}
	var ids []int64
	rows, err := h.direct.Query("SELECT id FROM rewards WHERE state = 'issuing' ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	if len(ids) != 5 { // 4 referral rewards and the bonus
		t.Fatalf("%d rewards issuing, want 5", len(ids))
	}
	ctx := context.Background()
	engine := h.stack.Engine()
	engine.AfterStoreCall = func() { panic(errCrash) }
	for _, id := range ids {
		func() {
			defer func() {
				if r := recover(); r != errCrash {
					t.Fatalf("reward %d: the worker did not die at the fault point: %v", id, r)
				}
			}()
			engine.IssueReward(ctx, id)
		}()
	}
	if n := len(w.storeCodes("BONUS-")); n != 1 {
		t.Fatalf("%d bonus codes in the store after the crash, want 1", n)
	}
	if n := h.count("SELECT count(*) FROM rewards WHERE state = 'issuing'"); n != 5 {
		t.Fatalf("the crash recorded something: %d rewards still issuing, want 5", n)
	}

	// The restarted worker retries every job, some twice; more events and
	// runs arrive meanwhile.
	engine.AfterStoreCall = nil
	for range 2 {
		for _, id := range ids {
			if err := engine.IssueReward(ctx, id); err != nil {
				t.Fatalf("retry of reward %d: %v", id, err)
			}
		}
	}
	// A worker again: it runs the queued jobs (retries of done work) and
	// the replayed events.
	h.runWorker()
	w.replayOrders(t)
	w.approveRun(t)
	eventually(t, 15*time.Second, "the reward jobs drained", func() bool {
		return h.count("SELECT count(*) FROM rewards WHERE state = 'issued'") == 5
	})
	bonus := w.storeCodes("BONUS-")
	if len(bonus) != 1 {
		t.Fatalf("%d bonus codes in the store, want exactly 1", len(bonus))
	}
	if n := len(w.storeCodes("THANKS-")); n != 4 {
		t.Fatalf("%d reward codes in the store, want 4", n)
	}
	var code, state string
	var amount int64
	h.direct.QueryRow("SELECT code, state, amount_minor FROM rewards WHERE milestone_friends = 3").Scan(&code, &state, &amount)
	if code != bonus[0].Code || state != "issued" || amount != 2000 {
		t.Fatalf("bonus row %s %s %d, store %s", code, state, amount, bonus[0].Code)
	}
	in, _ := json.Marshal(bonus[0].Input)
	var customerID string
	h.direct.QueryRow("SELECT customer_id FROM advocates WHERE id = $1", w.marie.ID).Scan(&customerID)
	if !strings.Contains(string(in), `"gid://shopify/Customer/`+customerID+`"`) || !strings.Contains(string(in), `"usageLimit":1`) {
		t.Fatalf("bonus not restricted to Marie and single use: %s", in)
	}
	// One reward.issued event and one "reward earned" email for it.
	if n := h.count("SELECT count(*) FROM events WHERE type = 'reward.issued' AND subject = (SELECT 'reward:' || id FROM rewards WHERE milestone_friends = 3)"); n != 1 {
		t.Fatalf("%d reward.issued events for the bonus", n)
	}
	if n := h.count("SELECT count(*) FROM email_outbox WHERE kind = 'reward_earned' AND subject_key = (SELECT id::text FROM rewards WHERE milestone_friends = 3)"); n != 1 {
		t.Fatalf("%d reward_earned emails for the bonus", n)
	}

	// The advocate sees her progress toward the next milestone, and the
	// bonus among her rewards; the admin API says the same.
	link, err := h.stack.AdvocatePages().AdvocateURL(ctx, w.sh.ID, w.marie.ID)
	if err != nil {
		t.Fatal(err)
	}
	page := getPage(t, link)
	if !strings.Contains(page, "4 of 10 friends toward your 25% bonus") || !strings.Contains(page, code) || !strings.Contains(page, "bonus for 3 friends") {
		t.Fatalf("advocate page:\n%s", page)
	}
	if fr := getPage(t, link+"?lang=fr"); !strings.Contains(fr, "4 sur 10 amis pour votre bonus de 25") {
		t.Fatalf("advocate page in French:\n%s", fr)
	}
	owner := (&consoleWorld{h: h}).loginOwner(t)
	status, body := owner.get(fmt.Sprintf("/api/admin/shops/%s/advocates/%d/milestones", w.shop, w.marie.ID))
	var prog struct {
		Approved, Reached int
		Next              *app.Milestone
		Rewards           []struct{ Code string }
	}
	json.Unmarshal([]byte(body), &prog)
	if status != 200 || prog.Approved != 4 || prog.Reached != 1 || prog.Next == nil || prog.Next.Friends != 10 || len(prog.Rewards) != 1 || prog.Rewards[0].Code != code {
		t.Fatalf("milestones API: %d %s", status, body)
	}
}

// A refund that takes the advocate back under a milestone already paid
// keeps the bonus (the code stays live in the store) and flags it for
// support, who sees it in the queue and on the referral, in English and
// French.
func TestMilestoneReversalFlagsForReview(t *testing.T) {
	ladder := []app.Milestone{{Friends: 2, Kind: app.OfferFixed, AmountMinor: 2000}}
	w := newMilestoneWorld(t, "milestone-refund.myshopify.com", ladder, 2)
	h := w.h
	h.advance(15 * 24 * time.Hour)
	w.approveRun(t)
	eventually(t, 20*time.Second, "the bonus issued", func() bool {
		return h.count("SELECT count(*) FROM rewards WHERE milestone_friends = 2 AND state = 'issued'") == 1
	})
	eventually(t, 20*time.Second, "both referrals rewarded", func() bool {
		return h.count("SELECT count(*) FROM referrals WHERE state = 'rewarded'") == 2
	})

	// The first friend's order is refunded in full: its referral's reward
	// is revoked, Marie is back to 1 approved friend.
	if _, err := h.sim.Refund(w.shop, w.friends[0], "80.00"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "the reward of the refunded order revoked", func() bool {
		return h.count("SELECT count(*) FROM rewards WHERE referral_id IS NOT NULL AND state = 'revoked'") == 1
	})
	w.approveRun(t)
	w.approveRun(t)
	var state string
	var review *time.Time
	var reviewRef, refundedRef int64
	h.direct.QueryRow("SELECT state, review_since, coalesce(review_referral_id, 0) FROM rewards WHERE milestone_friends = 2").Scan(&state, &review, &reviewRef)
	h.direct.QueryRow(`SELECT f.id FROM referrals f JOIN orders o ON o.id = f.order_id WHERE o.platform_order_id = $1`, fmt.Sprint(w.friends[0])).Scan(&refundedRef)
	if state != "issued" || review == nil || reviewRef != refundedRef {
		t.Fatalf("bonus after the refund: %s, review since %v, referral %d (want issued, flagged, %d)", state, review, reviewRef, refundedRef)
	}
	bonus := w.storeCodes("BONUS-")
	if len(bonus) != 1 || bonus[0].Status != "ACTIVE" {
		t.Fatalf("the bonus code in the store: %+v (want one, still active: not clawed back)", bonus)
	}
	if n := h.count("SELECT count(*) FROM audit_log WHERE action = 'milestone_review' AND subject = $1", fmt.Sprintf("referral:%d", refundedRef)); n != 1 {
		t.Fatalf("%d milestone_review audit rows, want 1", n)
	}

	owner := (&consoleWorld{h: h}).loginOwner(t)
	base := "/console/shops/" + w.shop
	_, queue := owner.get(base + "/queue")
	if !strings.Contains(queue, fmt.Sprintf("/referrals/%d", refundedRef)) {
		t.Fatalf("the flagged referral is not in the queue's needs-attention view:\n%s", queue)
	}
	_, detail := owner.get(fmt.Sprintf("%s/referrals/%d", base, refundedRef))
	want := fmt.Sprintf("This reversal takes the advocate back to 1 approved friends, under the 2-friend milestone whose bonus %s was paid. The bonus is kept, not taken back", bonus[0].Code)
	if !strings.Contains(detail, want) || !strings.Contains(detail, "Milestone bonus to review") {
		t.Fatalf("referral page lacks the milestone review:\n%s", detail)
	}
	_, fr := owner.get(fmt.Sprintf("%s/referrals/%d?lang=fr", base, refundedRef))
	if !strings.Contains(fr, "Bonus de palier à vérifier") || !strings.Contains(fr, "Le bonus est conservé, pas repris") {
		t.Fatalf("French referral page lacks the milestone review:\n%s", fr)
	}
	status, body := owner.get(fmt.Sprintf("/api/admin/shops/%s/referrals/%d", w.shop, refundedRef))
	if status != 200 || !strings.Contains(body, `"milestone_reviews"`) || !strings.Contains(body, bonus[0].Code) {
		t.Fatalf("referral API: %d %s", status, body)
	}
}

// The ladder is validated with every bad field named, by the API and the
// console's settings form; a good ladder is saved and shown again.
func TestMilestoneSettings(t *testing.T) {
	h := newHarness(t, withSimulator())
	const shop = "milestone-settings.myshopify.com"
	h.installAndSync(shop, "EUR")
	owner := (&consoleWorld{h: h}).loginOwner(t)
	api := "/api/admin/shops/" + shop + "/program"
	status, body := owner.send("PUT", api, `{"milestones":[{"friends":3,"kind":"fixed","amount_minor":2000},{"friends":3,"kind":"percent","percent":150}]}`, owner.csrf)
	var bad struct {
		Error  string
		Fields map[string]string
	}
	json.Unmarshal([]byte(body), &bad)
	if status != 400 || !strings.Contains(bad.Fields["milestone_friends_1"], "more than the milestone before (3)") ||
		!strings.Contains(bad.Fields["milestone_value_1"], "between 1 and 100") {
		t.Fatalf("bad ladder: %d %s", status, body)
	}
	if status, body := owner.send("PUT", api, `{"milestones":[{"friends":3,"kind":"fixed","amount_minor":2000,"bonus":1}]}`, owner.csrf); status != 400 {
		t.Fatalf("unknown step field: %d %s", status, body)
	}
	status, body = owner.send("PUT", api, `{"milestones":[{"friends":3,"kind":"fixed","amount_minor":2000},{"friends":10,"kind":"percent","percent":25}]}`, owner.csrf)
	if status != 200 || !strings.Contains(body, `"milestones":[{"friends":3,"kind":"fixed","amount_minor":2000},{"friends":10,"kind":"percent","percent":25}]`) {
		t.Fatalf("good ladder: %d %s", status, body)
	}

	// The settings page shows the ladder, and two empty lines to add one.
	settings := "/console/shops/" + shop + "/settings"
	_, page := owner.get(settings)
	for _, want := range []string{`name="milestone_rows" value="4"`, `id="milestone_friends_1" name="milestone_friends_1" type="number" min="1" value="10"`,
		`id="milestone_value_0" name="milestone_value_0" value="20.00"`, `<label for="milestone_value_1">Milestone 2: amount (EUR) or percent</label>`} {
		if !strings.Contains(page, want) {
			t.Fatalf("settings page lacks %s:\n%s", want, page)
		}
	}
	if _, fr := owner.get(settings + "?lang=fr"); !strings.Contains(fr, "Palier 1 : amis approuvés") {
		t.Fatal("French settings page lacks the ladder's labels")
	}
	form := func(extra url.Values) url.Values {
		v := url.Values{"csrf": {owner.csrf}, "milestone_rows": {"3"}}
		for k, vs := range extra {
			v[k] = vs
		}
		return v
	}
	// A decreasing ladder and an amount that is not one: both named, nothing saved.
	status, page = owner.postFormPage(settings, form(url.Values{
		"milestone_friends_0": {"5"}, "milestone_kind_0": {"fixed"}, "milestone_value_0": {"abc"},
		"milestone_friends_1": {"4"}, "milestone_kind_1": {"percent"}, "milestone_value_1": {"10"},
	}))
	if status != 400 || !strings.Contains(page, "an amount in EUR") || !strings.Contains(page, "Milestone 2: the number of friends must be more than the milestone before (5)") {
		t.Fatalf("bad form: %d\n%s", status, page)
	}
	// A line left empty removes its step; the rest is saved in order.
	status, _ = owner.postFormPage(settings, form(url.Values{
		"milestone_friends_0": {""}, "milestone_kind_0": {"fixed"}, "milestone_value_0": {"20.00"},
		"milestone_friends_1": {"5"}, "milestone_kind_1": {"fixed"}, "milestone_value_1": {"12.50"},
	}))
	if status != 303 {
		t.Fatalf("good form: %d", status)
	}
	_, body = owner.get(api)
	if !strings.Contains(body, `"milestones":[{"friends":5,"kind":"fixed","amount_minor":1250}]`) {
		t.Fatalf("saved ladder: %s", body)
	}
}

// loginOwner adds an owner (every shop) and logs them in.
func (w *consoleWorld) loginOwner(t *testing.T) *staffClient {
	t.Helper()
	if _, err := w.h.stack.Staff().Add(context.Background(), "owner@parrain.test", "", staff.Owner, staffPassword, nil); err != nil {
		t.Fatal(err)
	}
	return w.login(t, "owner@parrain.test")
}

// postFormPage posts a console form and returns the status and the page.
func (sc *staffClient) postFormPage(path string, v url.Values) (int, string) {
	sc.t.Helper()
	v.Set("csrf", sc.csrf)
	resp, err := sc.c.PostForm(sc.base+path, v)
	if err != nil {
		sc.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func getPage(t *testing.T, link string) string {
	t.Helper()
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d\n%s", link, resp.StatusCode, b)
	}
	return string(b)
}
