package app

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// Money is an exact amount in a currency's minor units (cents for USD, yen
// for JPY, fils for KWD). Money is never a float anywhere in Parrain.
type Money struct {
	Minor    int64
	Currency string // ISO 4217, upper case
}

// minorDigits lists currencies whose minor unit is not two digits (ISO 4217).
var minorDigits = map[string]int{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
	"RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}

// MinorDigits returns how many decimal digits the currency's minor unit has.
func MinorDigits(currency string) int {
	if d, ok := minorDigits[strings.ToUpper(currency)]; ok {
		return d
	}
	return 2
}

// ParseMoney reads a decimal string as platforms send it ("598.94", "10",
// "-10.0", "1200.000") into exact minor units. More decimals than the
// currency has are accepted only when they are zeros: rounding money
// silently is how totals drift.
func ParseMoney(s, currency string) (Money, error) {
	currency = strings.ToUpper(strings.TrimSpace(currency))
	if len(currency) != 3 {
		return Money{}, Errorf(EINVALID, "invalid currency %q", currency)
	}
	s = strings.TrimSpace(s)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || strings.IndexFunc(whole+frac, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return Money{}, Errorf(EINVALID, "invalid amount %q", s)
	}
	digits := MinorDigits(currency)
	if len(frac) > digits {
		if strings.Trim(frac[digits:], "0") != "" {
			return Money{}, Errorf(EINVALID, "amount %q has more decimals than %s allows", s, currency)
		}
		frac = frac[:digits]
	}
	frac += strings.Repeat("0", digits-len(frac))
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil || len(whole) > 15 {
		return Money{}, Errorf(EINVALID, "amount %q out of range", s)
	}
	if neg {
		n = -n
	}
	return Money{Minor: n, Currency: currency}, nil
}

// String formats the amount with the currency's decimals: "598.94 USD".
func (m Money) String() string { return m.Decimal() + " " + m.Currency }

// Decimal formats the amount without currency, as platform APIs expect it.
func (m Money) Decimal() string {
	d := MinorDigits(m.Currency)
	n := m.Minor
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	s := strconv.FormatInt(n, 10)
	if d == 0 {
		return sign + s
	}
	if len(s) <= d {
		s = strings.Repeat("0", d-len(s)+1) + s
	}
	return sign + s[:len(s)-d] + "." + s[len(s)-d:]
}

// Add returns m+o; both must be in the same currency.
func (m Money) Add(o Money) (Money, error) {
	if m.Currency != o.Currency {
		return Money{}, fmt.Errorf("add %s to %s: currencies differ", o, m)
	}
	return Money{Minor: m.Minor + o.Minor, Currency: m.Currency}, nil
}

// Less reports m < o; both must be in the same currency.
func (m Money) Less(o Money) (bool, error) {
	if m.Currency != o.Currency {
		return false, fmt.Errorf("compare %s with %s: currencies differ", m, o)
	}
	return m.Minor < o.Minor, nil
}

// Convert is m in another currency at the rate to/from, both amounts in
// their currencies' minor units (an order's total in the buyer's money and
// in the shop's: 12960 USD cents for 12000 EUR cents), rounded to the
// nearest minor unit of the currency, half up. Zero-decimal currencies
// need nothing special: their minor unit is the unit.
func (m Money) Convert(to Money, from Money) (Money, error) {
	if from.Currency != m.Currency {
		return Money{}, fmt.Errorf("convert %s at a rate from %s: currencies differ", m, from.Currency)
	}
	if from.Minor <= 0 || to.Minor <= 0 || len(to.Currency) != 3 {
		return Money{}, fmt.Errorf("convert %s at %s for %s: not a rate", m, to, from)
	}
	// floor((2·m·to + from) / (2·from)) is m·to/from rounded half up, for
	// m ≥ 0; in big integers, as m·to overflows int64 for large amounts.
	neg := m.Minor < 0
	v := new(big.Int).Mul(big.NewInt(m.Minor), big.NewInt(to.Minor))
	if neg {
		v.Neg(v)
	}
	v.Mul(v, big.NewInt(2)).Add(v, big.NewInt(from.Minor))
	v.Quo(v, new(big.Int).Mul(big.NewInt(from.Minor), big.NewInt(2)))
	if neg {
		v.Neg(v)
	}
	if !v.IsInt64() {
		return Money{}, fmt.Errorf("convert %s at %s for %s: out of range", m, to, from)
	}
	return Money{Minor: v.Int64(), Currency: to.Currency}, nil
}
