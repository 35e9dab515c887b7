package attribution

import (
	"strings"
	"testing"
	"time"

	"github.com/parrain/parrain/app"
)

func money(t *testing.T, s, cur string) app.Money {
	t.Helper()
	m, err := app.ParseMoney(s, cur)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestEvidencesStrongestFirst(t *testing.T) {
	o := Order{
		DiscountCodes:  []string{"sale10", "friend-marie-7k2qx"},
		CartAttributes: map[string]string{"parrain_ref": "MARIE-7K2QX", "gift": "yes"},
		LandingSite:    "/products/mug?utm_source=wa&ref=marie-7k2qx",
	}
	got := Evidences(o)
	want := []Evidence{
		{EvidenceDiscountCode, "SALE10"}, {EvidenceDiscountCode, "FRIEND-MARIE-7K2QX"},
		{EvidenceCartAttribute, "MARIE-7K2QX"}, {EvidenceLandingSite, "MARIE-7K2QX"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("evidence %d = %v, want %v", i, got[i], want[i])
		}
	}
	if ev := Evidences(Order{LandingSite: "http://www.example.com?source=abc"}); len(ev) != 0 {
		t.Fatalf("no ref, no evidence: %v", ev)
	}
	if ev := Evidences(Order{LandingSite: "%%%"}); len(ev) != 0 {
		t.Fatalf("unparseable landing site: %v", ev)
	}
}

func TestEvaluateRules(t *testing.T) {
	ev := Evidence{EvidenceDiscountCode, "FRIEND-MARIE-7K2QX"}
	adv := Advocate{
		ID: 1, Code: "MARIE-7K2QX", CustomerID: "100", Emails: []string{"marie.curie@gmail.com"}, Phones: []string{"+33 6 12 34 56 78"},
		Addresses: []Address{{Line1: "12 rue de la Paix", Zip: "75002", Country: "FR"}}, IPs: []string{"203.0.113.7"},
	}
	friend := func(mut func(*Order)) Order {
		o := Order{CustomerID: "200", Email: "bob@example.com", Phone: "+1 555 625 1199", BrowserIP: "198.51.100.9",
			ShippingAddress: Address{Line1: "1 Main St", Zip: "10001", Country: "US"}, Total: money(t, "80.00", "EUR"), SourceName: "web"}
		if mut != nil {
			mut(&o)
		}
		return o
	}
	all := Rules{NewCustomersOnly: true, MinOrder: money(t, "50", "EUR"), ExcludeTest: true, ExcludedSources: []string{"pos"},
		CapPerAdvocate: 10, CapWindow: 30 * 24 * time.Hour, VelocityPerIP: 3, VelocityPerCode: 20, VelocityWindow: time.Hour}
	cases := []struct {
		name   string
		order  Order
		rules  Rules
		hist   History
		state  State
		reason string
	}{
		{"all pass", friend(nil), all, History{}, StatePending, ""},
		{"same customer", friend(func(o *Order) { o.CustomerID = "100" }), all, History{}, StateRejected, "same customer"},
		{"same gmail with dots and tag", friend(func(o *Order) { o.Email = "MarieCurie+deal@googlemail.com" }), all, History{}, StateRejected, "same email"},
		{"same phone", friend(func(o *Order) { o.Phone = "0033612345678" }), all, History{}, StateRejected, "same phone"},
		{"same address", friend(func(o *Order) { o.ShippingAddress = Address{Line1: "12, Rue de la Paix", Zip: "75002", Country: "fr"} }), all, History{}, StateRejected, "same shipping address"},
		{"same ip", friend(func(o *Order) { o.BrowserIP = "203.0.113.7" }), all, History{}, StateRejected, "same browser IP"},
		{"returning customer", friend(nil), all, History{FriendPriorOrders: 2}, StateRejected, "already had 2 order"},
		{"returning customer allowed", friend(nil), Rules{}, History{FriendPriorOrders: 2}, StatePending, ""},
		{"under minimum", friend(func(o *Order) { o.Total = money(t, "49.99", "EUR") }), all, History{}, StateRejected, "under the minimum 50.00 EUR"},
		{"exactly minimum", friend(func(o *Order) { o.Total = money(t, "50.00", "EUR") }), all, History{}, StatePending, ""},
		{"other currency goes to review", friend(func(o *Order) { o.Total = money(t, "80", "USD") }), all, History{}, StateNeedsReview, "not in the program currency"},
		{"test order", friend(func(o *Order) { o.Test = true }), all, History{}, StateRejected, "test order"},
		{"test order allowed", friend(func(o *Order) { o.Test = true }), Rules{}, History{}, StatePending, ""},
		{"pos excluded", friend(func(o *Order) { o.SourceName = "POS" }), all, History{}, StateRejected, `"POS" are excluded`},
		{"cap reached", friend(nil), all, History{AdvocateReferrals: 10}, StateRejected, "cap 10"},
		{"under cap", friend(nil), all, History{AdvocateReferrals: 9}, StatePending, ""},
		{"ip velocity", friend(nil), all, History{IPReferrals: 3}, StateNeedsReview, "from this IP"},
		{"advocate velocity", friend(nil), all, History{CodeReferrals: 20}, StateNeedsReview, "on this advocate"},
		{"reject beats review", friend(func(o *Order) { o.Test = true }), all, History{IPReferrals: 5}, StateRejected, "test order"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := Evaluate(tc.order, ev, adv, tc.rules, tc.hist)
			if d.State != tc.state || !strings.Contains(d.Reason, tc.reason) {
				t.Fatalf("state %s reason %q; want %s containing %q\n%s", d.State, d.Reason, tc.state, tc.reason, d.Explain())
			}
			for _, o := range d.Outcomes {
				if o.Passed && o.Reason != "" {
					t.Fatalf("a passed rule carries a failure reason: %+v", o)
				}
			}
		})
	}
}

func TestEvaluateRecordsEveryRuleAndExplainsItself(t *testing.T) {
	ev := Evidence{EvidenceDiscountCode, "FRIEND-MARIE-7K2QX"}
	adv := Advocate{CustomerID: "1", Addresses: []Address{{Line1: "12 rue de la Paix", Zip: "75002", Country: "FR"}}}
	o := Order{CustomerID: "2", Total: money(t, "80", "EUR"), ShippingAddress: Address{Line1: "12 rue de la paix", Zip: "75002", Country: "FR"}}
	d := Evaluate(o, ev, adv, Rules{NewCustomersOnly: true, ExcludeTest: true}, History{})
	if len(d.Outcomes) != 4 {
		t.Fatalf("every configured rule must be recorded even after a failure: %+v", d.Outcomes)
	}
	want := "attributed by discount code FRIEND-MARIE-7K2QX; self-referral ✗ (same shipping address as the advocate); not the advocate's own referrer ✓; new customer ✓; not a test order ✓"
	if got := d.Explain(); got != want {
		t.Fatalf("Explain:\n got %s\nwant %s", got, want)
	}
}

func TestEvaluateManualAttributionRules(t *testing.T) {
	joined := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	adv := Advocate{CustomerID: "1", Emails: []string{"ada@example.com"}, CreatedAt: joined}
	manual := Evidence{Kind: EvidenceManual, Code: "ADA-7K2QX"}
	cases := []struct {
		name  string
		o     Order
		ev    Evidence
		h     History
		rule  string
		state State
	}{
		{"the advocate's own earlier order", Order{CustomerID: "1", CreatedAt: joined.Add(-time.Hour)}, manual, History{}, "self-referral", StateRejected},
		{"a stranger's order before the advocate joined", Order{CustomerID: "2", CreatedAt: joined.Add(-time.Hour)}, manual, History{}, "placed after the advocate joined", StateRejected},
		{"a friend who referred the advocate", Order{CustomerID: "3", CreatedAt: joined.Add(time.Hour)}, manual, History{FriendReferredAdvocate: true}, "not the advocate's own referrer", StateRejected},
		{"a friend after the advocate joined", Order{CustomerID: "4", CreatedAt: joined.Add(time.Hour)}, manual, History{}, "", StatePending},
		// A code on the order proves the advocate existed: the date rule
		// is for orders attributed by hand only.
		{"a code on an order timed before the join", Order{CustomerID: "5", CreatedAt: joined.Add(-time.Second)}, Evidence{Kind: EvidenceDiscountCode, Code: "FRIEND-ADA"}, History{}, "", StatePending},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := Evaluate(tc.o, tc.ev, adv, Rules{}, tc.h)
			if d.State != tc.state {
				t.Fatalf("state %s, want %s: %s", d.State, tc.state, d.Explain())
			}
			for _, out := range d.Outcomes {
				if out.Rule == tc.rule && out.Passed {
					t.Fatalf("rule %s passed: %s", tc.rule, d.Explain())
				}
			}
		})
	}
}
