// Package attribution decides whether an order was referred, by whom, on
// what evidence, and which of the program's rules it passes, each with a
// reason a support agent can read. It is pure domain logic: the caller
// gathers the facts (order, advocate, history) and stores the decision.
package attribution

import (
	"strings"
	"unicode"
)

// gmailLike are domains where dots in the local part are ignored by the
// mailbox, so m.a.r.i.e@gmail.com is marie@gmail.com.
var gmailLike = map[string]string{"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}

// plusAddressing are domains that deliver local+tag@ to local@.
var plusAddressing = map[string]bool{
	"gmail.com": true, "googlemail.com": true, "outlook.com": true, "hotmail.com": true, "live.com": true,
	"icloud.com": true, "me.com": true, "mac.com": true, "proton.me": true, "protonmail.com": true,
	"fastmail.com": true, "yahoo.com": false, // Yahoo uses '-' for disposable addresses, not '+'
}

// NormalizeEmail returns the mailbox an address delivers to, for comparing
// a friend with an advocate: lower case; for Gmail-like domains dots and a
// +tag in the local part removed; for other plus-addressing providers the
// +tag removed. "" for something that is not an address.
func NormalizeEmail(email string) string {
	e := strings.ToLower(strings.TrimSpace(email))
	local, domain, ok := strings.Cut(e, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") {
		return ""
	}
	if canon, ok := gmailLike[domain]; ok {
		domain = canon
		local = strings.ReplaceAll(local, ".", "")
	}
	if plusAddressing[domain] {
		local, _, _ = strings.Cut(local, "+")
	}
	if local == "" {
		return ""
	}
	return local + "@" + domain
}

// NormalizePhone keeps the digits of a phone number, dropping an
// international 00 prefix, so "+33 6 12 34 56 78" and "0033612345678" match.
// Numbers with fewer than 6 digits are treated as absent.
func NormalizePhone(phone string) string {
	var b strings.Builder
	for _, r := range phone {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	// Every leading "00", not just one: stripping once was not idempotent
	// ("00000000" → "000000" → ""), so a number normalised when stored and
	// again when compared could differ (found by FuzzNormalizeIdentity).
	d := b.String()
	for strings.HasPrefix(d, "00") {
		d = d[2:]
	}
	if len(d) < 6 {
		return ""
	}
	return d
}

// Address is a postal address as far as matching needs it.
type Address struct {
	Line1, Line2, City, Zip, Country string
}

// NormalizeAddress reduces an address to a comparable key: letters and
// digits only, lower case, of street lines, zip and country ("12, Rue de la
// Paix" and "12 rue de la paix" match). City is left out: the zip pins it,
// and people spell cities many ways. "" when there is no street line.
func NormalizeAddress(a Address) string {
	clean := func(s string) string {
		var b strings.Builder
		for _, r := range strings.ToLower(s) {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				b.WriteRune(r)
			}
		}
		return b.String()
	}
	line := clean(a.Line1) + clean(a.Line2)
	if line == "" {
		return ""
	}
	return line + "|" + clean(a.Zip) + "|" + clean(a.Country)
}
