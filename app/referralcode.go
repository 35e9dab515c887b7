package app

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"math/big"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// codeAlphabet leaves out characters people misread or mistype when a code
// is read aloud or copied from a screenshot: 0/O, 1/I/L, 2/Z, 5/S, 8/B, U/V.
const codeAlphabet = "34679ACDEFGHJKMNPQRTWXY"

// CodeSuffixLen is the length of the random part. 23^5 ≈ 6.4 million codes
// per name, so guessing a valid code for a common first name takes millions
// of tries, which the rate limit on /r/{code} makes impractical.
const CodeSuffixLen = 5

// NewReferralCode returns a readable, non-guessable code like MARIE-7K2QX:
// the advocate's first name (ASCII letters only, at most 10) and a random
// suffix. A name with no usable letters gives a FRIEND- prefix. Callers must
// still insert it under a unique key and retry on conflict.
func NewReferralCode(firstName string) (string, error) {
	prefix := codePrefix(firstName)
	var b strings.Builder
	b.WriteString(prefix)
	b.WriteByte('-')
	max := big.NewInt(int64(len(codeAlphabet)))
	for range CodeSuffixLen {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", err
		}
		b.WriteByte(codeAlphabet[n.Int64()])
	}
	return b.String(), nil
}

// codePrefix folds accents ("Élodie" → "ELODIE") and keeps ASCII letters.
func codePrefix(name string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.TrimSpace(name)) {
		if b.Len() >= 10 {
			break
		}
		if r < unicode.MaxASCII && unicode.IsLetter(r) {
			b.WriteRune(unicode.ToUpper(r))
		} else if r == ' ' || r == '-' {
			break // first word only
		}
	}
	if b.Len() < 2 {
		return "FRIEND"
	}
	return b.String()
}

// NormalizeCode makes a code typed or pasted by a person comparable to the
// stored one: trimmed, upper case (WooCommerce lower-cases coupon codes).
func NormalizeCode(code string) string { return strings.ToUpper(strings.TrimSpace(code)) }

// HashClickIP is how a click keeps its browser address: a keyed hash, so
// clicks can be counted per visitor and matched with an order's browser IP
// (the click that led to it) without storing addresses.
func HashClickIP(key []byte, ip string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("click-ip:" + ip))
	return hex.EncodeToString(m.Sum(nil))[:16]
}
