package popup

import (
	"fmt"
	"strings"

	"github.com/parrain/parrain/app"
)

var sprintf = fmt.Sprintf

// symbols are the currency signs shoppers read; other currencies show their
// ISO code.
var symbols = map[string]string{"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "CA$", "AUD": "A$", "NZD": "NZ$", "CHF": "CHF", "INR": "₹", "BRL": "R$"}

// FormatMoney writes an amount the way the language does: "$10", "$10.50"
// in English, "10 €", "10,50 €" in French. Whole amounts drop the decimals,
// as offers are usually written.
func FormatMoney(m app.Money, lang string) string {
	num := m.Decimal()
	if i := strings.IndexByte(num, '.'); i >= 0 && strings.Trim(num[i+1:], "0") == "" {
		num = num[:i]
	}
	sym, ok := symbols[m.Currency]
	if !ok {
		sym = m.Currency
	}
	if lang == "fr" {
		if m.Currency == "USD" {
			sym = "$ US"
		}
		return strings.Replace(num, ".", ",", 1) + "\u00a0" + sym
	}
	if len(sym) == 3 && sym == m.Currency { // ISO code: "10 SEK"
		return num + " " + sym
	}
	return sym + num
}

// Percent writes a percentage: "10%" in English, "10 %" in French.
func Percent(n int, lang string) string {
	if lang == "fr" {
		return fmt.Sprintf("%d\u00a0%%", n)
	}
	return fmt.Sprintf("%d%%", n)
}
