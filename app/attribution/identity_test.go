package attribution

import "testing"

func TestNormalizeEmail(t *testing.T) {
	for in, want := range map[string]string{
		"Marie@Example.com":          "marie@example.com",
		"m.a.r.i.e+promo@gmail.com":  "marie@gmail.com",
		"Marie.Curie@GoogleMail.com": "mariecurie@gmail.com",
		"marie+x@outlook.com":        "marie@outlook.com",
		"marie.curie+x@example.com":  "marie.curie+x@example.com", // unknown provider: only case
		"marie.c@outlook.com":        "marie.c@outlook.com",       // dots matter outside Gmail
		"marie-x@yahoo.com":          "marie-x@yahoo.com",
		" marie@gmail.com ":          "marie@gmail.com",
		"not-an-email":               "",
		"@gmail.com":                 "",
		"+tag@gmail.com":             "",
		"a@b@c":                      "",
		"":                           "",
	} {
		if got := NormalizeEmail(in); got != want {
			t.Errorf("NormalizeEmail(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNormalizePhone(t *testing.T) {
	for in, want := range map[string]string{
		"+33 6 12 34 56 78": "33612345678",
		"0033612345678":     "33612345678",
		"(555) 625-1199":    "5556251199",
		"555-625-1199":      "5556251199",
		"12":                "",
		"":                  "",
	} {
		if got := NormalizePhone(in); got != want {
			t.Errorf("NormalizePhone(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNormalizeAddress(t *testing.T) {
	a := NormalizeAddress(Address{Line1: "12, Rue de la Paix", City: "Paris", Zip: "75002", Country: "FR"})
	b := NormalizeAddress(Address{Line1: "12 rue de la paix", City: "PARIS 2e", Zip: "75 002", Country: "fr"})
	c := NormalizeAddress(Address{Line1: "14 rue de la paix", Zip: "75002", Country: "FR"})
	if a == "" || a != b {
		t.Fatalf("same address normalised differently: %q vs %q", a, b)
	}
	if a == c {
		t.Fatal("different street numbers matched")
	}
	if NormalizeAddress(Address{Zip: "75002", Country: "FR"}) != "" {
		t.Fatal("an address without street line must not match anything")
	}
}
