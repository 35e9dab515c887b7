package app

import (
	"regexp"
	"strings"
	"testing"
)

func TestNewReferralCode(t *testing.T) {
	cases := map[string]string{
		"Marie":           "MARIE",
		"élodie":          "ELODIE",
		"Jean-Pierre":     "JEAN",
		"  anne marie ":   "ANNE",
		"Bartholomew-Xer": "BARTHOLOME",
		"李":               "FRIEND",
		"":                "FRIEND",
		"J":               "FRIEND",
		"O'Brien":         "OBRIEN",
	}
	for name, prefix := range cases {
		code, err := NewReferralCode(name)
		if err != nil {
			t.Fatal(err)
		}
		re := regexp.MustCompile("^" + prefix + "-[" + codeAlphabet + "]{5}$")
		if !re.MatchString(code) {
			t.Errorf("NewReferralCode(%q) = %q, want %s-XXXXX", name, code, prefix)
		}
	}
	// The suffix is random: 200 codes for one name are (almost surely) all
	// different, and never use an ambiguous character.
	seen := map[string]bool{}
	for range 200 {
		c, _ := NewReferralCode("Marie")
		if seen[c] {
			t.Fatalf("duplicate code %s in 200 draws", c)
		}
		seen[c] = true
		if strings.ContainsAny(strings.TrimPrefix(c, "MARIE-"), "0O1IL2Z5S8BUV") {
			t.Fatalf("ambiguous character in %s", c)
		}
	}
	if NormalizeCode(" marie-7k2qx ") != "MARIE-7K2QX" {
		t.Fatal(NormalizeCode(" marie-7k2qx "))
	}
}
