package attribution

import (
	"strings"
	"testing"
	"time"

	"github.com/parrain/parrain/app"
)

// Identity normalisation is what the self-referral rule compares, and the
// advocate's side is stored already normalised: normalising twice must
// change nothing, or a friend with the advocate's own email would pass.
func FuzzNormalizeIdentity(f *testing.F) {
	for _, s := range [][4]string{
		{"Marie.Dupont+promo@GMail.com", "+33 6 12 34 56 78", "12, Rue de la Paix", "75002"},
		{" a.b@googlemail.com ", "0033612345678", "Apt 4 — Bâtiment B", "SW1A 1AA"},
		{"x+y@fastmail.com", "(555) 010-0000", "", ""},
		{"@", "00", "İstanbul Cd. 5", "34000"},
		{"a@b@c", "", "ǅ", "K"},
	} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	f.Fuzz(func(t *testing.T, email, phone, line, zip string) {
		if e := NormalizeEmail(email); NormalizeEmail(e) != e {
			t.Fatalf("email %q → %q → %q", email, e, NormalizeEmail(e))
		}
		if p := NormalizePhone(phone); NormalizePhone(p) != p {
			t.Fatalf("phone %q → %q → %q", phone, p, NormalizePhone(p))
		}
		a := Address{Line1: line, Zip: zip, Country: "FR"}
		if n := NormalizeAddress(a); n != "" && NormalizeAddress(Address{Line1: strings.ToUpper(line), Zip: " " + zip, Country: "fr"}) != n {
			t.Fatalf("address %q not case/space-insensitive", line)
		}
	})
}

// Whatever the order says, attribution lists normalised, distinct evidence
// (discount code before cart attribute before landing site) and evaluates
// every rule without panicking; a friend who is the advocate (same email
// in any spelling the normaliser folds) is never pending.
func FuzzAttributionInputs(f *testing.F) {
	f.Add("friend-marie-7k2q", "MARIE-7K2Q", "/products/x?utm_source=y&ref=MARIE-7K2Q", "marie@example.com", "MARIE@example.com", "1.2.3.4", int64(4500))
	f.Add("SALE10", "", "/?ref=%ZZ", "a.b+c@gmail.com", "ab@gmail.com", "", int64(0))
	f.Add("", "  ", "http://[::1/%", "", "x@y", "::1", int64(-1))
	f.Add("x", "x", "?ref=x&ref=y", "not-an-email", "not-an-email", "", int64(1<<62))
	f.Fuzz(func(t *testing.T, code, cartRef, landing, email, advEmail, ip string, total int64) {
		o := Order{PlatformID: "1", Email: email, BrowserIP: ip, DiscountCodes: []string{code, strings.ToLower(code)},
			CartAttributes: map[string]string{CartAttribute: cartRef}, LandingSite: landing,
			Total: app.Money{Minor: total, Currency: "EUR"}, CreatedAt: time.Unix(1_800_000_000, 0)}
		evs := Evidences(o)
		seen := map[Evidence]bool{}
		last := -1
		rank := map[EvidenceKind]int{EvidenceDiscountCode: 0, EvidenceCartAttribute: 1, EvidenceLandingSite: 2}
		for _, e := range evs {
			if e.Code == "" || e.Code != app.NormalizeCode(e.Code) || seen[e] {
				t.Fatalf("evidence %+v in %+v", e, evs)
			}
			if rank[e.Kind] < last {
				t.Fatalf("evidence out of order: %+v", evs)
			}
			seen[e], last = true, rank[e.Kind]
		}
		if len(evs) == 0 {
			return
		}
		r := Rules{NewCustomersOnly: true, MinOrder: app.Money{Minor: 1000, Currency: "EUR"}, ExcludeTest: true,
			CapPerAdvocate: 3, CapWindow: 30 * 24 * time.Hour, VelocityPerIP: 5, VelocityPerCode: 5, VelocityWindow: time.Hour}
		adv := Advocate{ID: 7, Code: "MARIE-7K2Q", CustomerID: "9", Emails: []string{NormalizeEmail(advEmail)}}
		d := Evaluate(o, evs[0], adv, r, History{})
		if d.State != StatePending && d.State != StateNeedsReview && d.State != StateRejected {
			t.Fatalf("state %q", d.State)
		}
		if (d.State == StatePending) != (d.Reason == "") {
			t.Fatalf("state %s with reason %q", d.State, d.Reason)
		}
		if e := NormalizeEmail(email); e != "" && e == NormalizeEmail(advEmail) && d.State == StatePending {
			t.Fatalf("self-referral by email %q / %q passed", email, advEmail)
		}
		_ = d.Explain()
	})
}
