package stack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/experiment"
	"github.com/parrain/parrain/app/referrals"
	"github.com/parrain/parrain/integrations/shopify/shopifysim"
)

// An A/B test through the admin API and the running engine: bad input is a
// 400 naming the field, a viewer cannot start one, a second is refused;
// each new buyer becomes an advocate in an arm with their arm's friend code
// offer (its own bulk offer key); friends' orders earn the arm's reward,
// stored with the referral; an advocate from before the test keeps the
// standing offer; results count both arms; ending with B writes B's offer
// into the program; another shop sees none of it.
func TestABTestThroughTheAPIAndTheEngine(t *testing.T) {
	w := newConsoleWorld(t)
	h := w.h
	ctx := context.Background()
	support, viewer, owner := w.login(t, "support@parrain.test"), w.login(t, "viewer@parrain.test"), w.login(t, "owner@parrain.test")
	base := "/api/admin/shops/" + w.shopA + "/abtests"

	for body, field := range map[string]string{
		`{"split_b":0,"friend_b":{"kind":"percent","percent":20}}`:     "split_b",
		`{"goal":"clicks","friend_b":{"kind":"percent","percent":20}}`: "goal",
		`{}`: "arm_b",
		`{"friend_b":{"kind":"percent","percent":10}}`:            "arm_b", // the standing offer
		`{"friend_b":{"kind":"percent","percent":101}}`:           "friend_b",
		`{"reward_b":{"kind":"fixed","amount_minor":-5}}`:         "reward_b",
		`{"reward_b":{"kind":"free_shipping"}}`:                   "reward_b",
		`{"split":50,"friend_b":{"kind":"percent","percent":20}}`: "body",
		`not json`: "body",
	} {
		status, out := support.send("POST", base, body, support.csrf)
		var e struct {
			Code   string
			Fields map[string]string
		}
		json.Unmarshal([]byte(out), &e)
		if status != 400 || e.Code != app.EINVALID || e.Fields[field] == "" {
			t.Errorf("start %s: %d %s, want 400 naming %s", body, status, out, field)
		}
	}
	if status, out := viewer.send("POST", base, `{"friend_b":{"kind":"percent","percent":25}}`, viewer.csrf); status != 403 {
		t.Errorf("a viewer started a test: %d %s", status, out)
	}
	if n := h.count("SELECT count(*) FROM experiments"); n != 0 {
		t.Fatalf("%d tests after refusals", n)
	}

	status, out := support.send("POST", base, `{"name":"Friends 25%","split_b":50,"goal":"conversion","friend_b":{"kind":"percent","percent":25},"reward_b":{"kind":"fixed","amount_minor":1500}}`, support.csrf)
	if status != 201 {
		t.Fatalf("start: %d %s", status, out)
	}
	var started struct {
		ID      int64
		Running bool
		SplitB  int `json:"split_b"`
	}
	json.Unmarshal([]byte(out), &started)
	if !started.Running || started.SplitB != 50 {
		t.Fatalf("started: %s", out)
	}
	if status, out := support.send("POST", base, `{"reward_b":{"kind":"fixed","amount_minor":500}}`, support.csrf); status != 409 || !strings.Contains(out, "already running") {
		t.Errorf("second test: %d %s", status, out)
	}
	id := strconv.FormatInt(started.ID, 10)
	if status, _ := owner.get("/api/admin/shops/" + w.shopB + "/abtests/" + id); status != 404 {
		t.Errorf("shop B reads shop A's test: %d", status)
	}
	if status, _ := support.get(base + "/abc"); status != 400 {
		t.Errorf("bad id: %d", status)
	}

	// New buyers, until both arms have one.
	sh, _ := h.stack.DB.Shops().ShopByDomain(ctx, app.PlatformShopify, w.shopA)
	test, err := h.stack.DB.Experiments().Test(ctx, sh.ID, started.ID)
	if err != nil {
		t.Fatal(err)
	}
	program, _ := h.stack.DB.Referrals().Program(ctx, sh)
	byArm := map[string]*advocateView{}
	buyerOrder := map[string]int64{}
	for i := 0; i < 20 && len(byArm) < 2; i++ {
		email := fmt.Sprintf("ab-buyer-%d@example.com", i)
		oid := h.order(w.shopA, shopifysim.OrderInput{Email: email, FirstName: "Abby"})
		var a *advocateView
		eventually(t, 15*time.Second, "advocate "+email, func() bool { a = h.advocate(email); return a != nil && a.FriendState == "created" })
		var arm, key string
		h.direct.QueryRow(`SELECT arm FROM advocate_arms WHERE advocate_id = $1 AND experiment_id = $2`, a.ID, started.ID).Scan(&arm)
		h.direct.QueryRow(`SELECT friend_offer_key FROM advocates WHERE id = $1`, a.ID).Scan(&key)
		if arm != "A" && arm != "B" {
			t.Fatalf("new advocate %d has no arm", a.ID)
		}
		if want := referrals.FriendOffer(test.Apply(program, experiment.Arm(arm)), time.Now()).Key; key != want {
			t.Errorf("advocate in %s: friend code under offer %q, want %q", arm, key, want)
		}
		if again := experiment.Assign(test.Key(), a.ID, 0.5); string(again) != arm {
			t.Errorf("stored arm %s, the hash says %s", arm, again)
		}
		byArm[arm], buyerOrder[arm] = a, oid
	}
	if len(byArm) < 2 {
		t.Fatalf("20 new advocates, all in one arm: %v", byArm)
	}
	// The popup after checkout states the offer of the buyer's arm.
	for arm, want := range map[string]string{"A": "10%", "B": "25%"} {
		var email string
		h.direct.QueryRow(`SELECT email FROM advocates WHERE id = $1`, byArm[arm].ID).Scan(&email)
		status, got, raw := h.widgetSession(map[string]any{"shop": w.shopA, "order_id": strconv.FormatInt(buyerOrder[arm], 10), "email": email}, "")
		if status != 200 || !strings.Contains(got.Texts["offer"], want) {
			t.Errorf("popup of a buyer in %s: %d %s, want the offer to say %s", arm, status, raw, want)
		}
	}
	// So does the advocate's own page, which states the arm's offer
	// once (the engine's policies, not the standing offer).
	for arm, want := range map[string]string{"A": "friends 10% off", "B": "friends 25% off"} {
		other := map[string]string{"A": "friends 25% off", "B": "friends 10% off"}[arm]
		link, err := h.stack.AdvocatePages().AdvocateURL(ctx, sh.ID, byArm[arm].ID)
		if err != nil {
			t.Fatal(err)
		}
		page := getPage(t, link)
		if !strings.Contains(page, want) || strings.Contains(page, other) {
			t.Errorf("advocate page of a buyer in %s: want the offer to say %s, not %s:\n%s", arm, want, other, page)
		}
	}

	// Friends order: each referral earns its advocate's arm's reward.
	referred := func(a *advocateView, email string) (arm string, reward int64) {
		o := h.order(w.shopA, shopifysim.OrderInput{Email: email, Total: "80.00", DiscountCodes: []string{a.FriendCode}})
		eventually(t, 15*time.Second, "referral of "+email, func() bool { s, _, _ := h.referral(o); return s != "" })
		h.direct.QueryRow(`SELECT coalesce(f.offer->>'arm', ''), (f.offer->'reward'->>'AmountMinor')::bigint FROM referrals f JOIN orders o ON o.id = f.order_id
			WHERE o.platform_order_id = $1`, strconv.FormatInt(o, 10)).Scan(&arm, &reward)
		return arm, reward
	}
	if arm, reward := referred(byArm["B"], "friend-of-b@example.com"); arm != "B" || reward != 1500 {
		t.Errorf("B's friend: arm %q reward %d, want B 1500", arm, reward)
	}
	if arm, reward := referred(byArm["A"], "friend-of-a@example.com"); arm != "A" || reward != program.RewardAmountMinor {
		t.Errorf("A's friend: arm %q reward %d, want A %d", arm, reward, program.RewardAmountMinor)
	}
	// The advocate from before the test: the standing offer, no arm.
	if arm, reward := referred(&advocateView{FriendCode: w.advocateA.FriendCode}, "friend-of-old@example.com"); arm != "" || reward != program.RewardAmountMinor {
		t.Errorf("old advocate's friend: arm %q reward %d", arm, reward)
	}
	if n := h.count("SELECT count(*) FROM advocate_arms WHERE advocate_id = $1", w.advocateA.ID); n != 0 {
		t.Errorf("the advocate from before the test got an arm")
	}

	status, out = viewer.get(base + "/" + id)
	var res struct {
		Arms map[string]struct {
			Advocates    int64 `json:"advocates"`
			FriendOrders int64 `json:"friend_orders"`
		}
		Verdict string
	}
	json.Unmarshal([]byte(out), &res)
	arms := map[string]int64{}
	for arm := range byArm {
		arms[arm] = int64(h.count("SELECT count(*) FROM advocate_arms WHERE experiment_id = $1 AND arm = $2", started.ID, arm))
	}
	if status != 200 || res.Arms["A"].Advocates != arms["A"] || res.Arms["B"].Advocates != arms["B"] ||
		res.Arms["A"].FriendOrders != 1 || res.Arms["B"].FriendOrders != 1 || !strings.HasPrefix(res.Verdict, "not enough data yet") {
		t.Errorf("results: %d %s (arms %v)", status, out, arms)
	}

	// End, keeping B: the program now gives B's offer.
	for body, field := range map[string]string{`{"keep":"C"}`: "keep", `{}`: "keep", `{"kept":"B"}`: "body"} {
		if status, out := support.send("POST", base+"/"+id+"/end", body, support.csrf); status != 400 || !strings.Contains(out, `"`+field+`"`) {
			t.Errorf("end %s: %d %s", body, status, out)
		}
	}
	if status, _ := viewer.send("POST", base+"/"+id+"/end", `{"keep":"B"}`, viewer.csrf); status != 403 {
		t.Errorf("a viewer ended the test: %d", status)
	}
	if status, out := support.send("POST", base+"/"+id+"/end", `{"keep":"B"}`, support.csrf); status != 200 || !strings.Contains(out, `"kept":"B"`) {
		t.Fatalf("end: %d %s", status, out)
	}
	if status, out := support.send("POST", base+"/"+id+"/end", `{"keep":"A"}`, support.csrf); status != 409 {
		t.Errorf("ended twice: %d %s", status, out)
	}
	after, _ := h.stack.DB.Referrals().Program(ctx, sh)
	if after.FriendPercent != 25 || after.RewardKind != app.OfferFixed || after.RewardAmountMinor != 1500 {
		t.Errorf("kept B, program: friend %+v reward %+v", after.FriendOffer(), after.RewardOffer())
	}
	if n := h.count("SELECT count(*) FROM audit_log WHERE shop_id = $1 AND action IN ('start_abtest', 'end_abtest')", sh.ID); n != 2 {
		t.Errorf("%d audit rows for the test, want 2", n)
	}
	// A new advocate after the end: the kept offer, no arm.
	h.order(w.shopA, shopifysim.OrderInput{Email: "ab-after@example.com", FirstName: "Abe"})
	var late *advocateView
	eventually(t, 15*time.Second, "late advocate", func() bool {
		late = h.advocate("ab-after@example.com")
		return late != nil && late.FriendState == "created"
	})
	if n := h.count("SELECT count(*) FROM advocate_arms WHERE advocate_id = $1", late.ID); n != 0 {
		t.Errorf("an advocate after the end got an arm")
	}
	var key string
	h.direct.QueryRow(`SELECT friend_offer_key FROM advocates WHERE id = $1`, late.ID).Scan(&key)
	if want := referrals.FriendOffer(after, time.Now()).Key; key != want || key != referrals.FriendOffer(test.Apply(program, experiment.ArmB), time.Now()).Key {
		t.Errorf("after the end, friend code under %q, want B's %q", key, want)
	}
}

// TestABTestInBrowser runs widget/test/abtest.test.mjs: support staff start
// an A/B test in the console, read its results (in English and French) and
// end it keeping B; the program then gives B's offer.
func TestABTestInBrowser(t *testing.T) {
	root, testDir, chromium := browserTests(t)
	w := newConsoleWorld(t)
	runNodeTests(t, testDir, "abtest.test.mjs", "APP_URL="+w.h.app.URL, "SHOP="+w.shopA, "PASSWORD="+staffPassword,
		"OUT_DIR="+filepath.Join(root, "test-output", "abtest"), "CHROMIUM="+chromium)
	if n := w.h.count("SELECT count(*) FROM experiments WHERE kept = 'B' AND friend_b->>'Percent' = '25'"); n != 1 {
		t.Errorf("%d tests ended with B kept", n)
	}
}
