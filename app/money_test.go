package app

import "testing"

func TestParseMoney(t *testing.T) {
	cases := []struct {
		in, cur string
		minor   int64
		out     string
		bad     bool
	}{
		{"598.94", "USD", 59894, "598.94 USD", false},
		{"10", "usd", 1000, "10.00 USD", false},
		{"-10.0", "EUR", -1000, "-10.00 EUR", false},
		{"0.5", "EUR", 50, "0.50 EUR", false},
		{"0.05", "EUR", 5, "0.05 EUR", false},
		{"1200", "JPY", 1200, "1200 JPY", false},
		{"1200.00", "JPY", 1200, "1200 JPY", false},
		{"1.234", "KWD", 1234, "1.234 KWD", false},
		{"12.340", "USD", 1234, "12.34 USD", false},
		{"12.345", "USD", 0, "", true},
		{"12.5", "JPY", 0, "", true},
		{"", "USD", 0, "", true},
		{"abc", "USD", 0, "", true},
		{"1e3", "USD", 0, "", true},
		{"1.2.3", "USD", 0, "", true},
		{"10", "US", 0, "", true},
		{"99999999999999999", "USD", 0, "", true},
	}
	for _, tc := range cases {
		t.Run(tc.in+" "+tc.cur, func(t *testing.T) {
			m, err := ParseMoney(tc.in, tc.cur)
			if tc.bad {
				if err == nil || ErrorCode(err) != EINVALID {
					t.Fatalf("ParseMoney(%q) = %v, %v; want invalid", tc.in, m, err)
				}
				return
			}
			if err != nil || m.Minor != tc.minor || m.String() != tc.out {
				t.Fatalf("ParseMoney(%q) = %+v (%s), %v; want %d %s", tc.in, m, m, err, tc.minor, tc.out)
			}
		})
	}
}

func TestMoneyArithmeticRefusesMixedCurrencies(t *testing.T) {
	a, _ := ParseMoney("10.00", "USD")
	b, _ := ParseMoney("2.50", "USD")
	c, _ := ParseMoney("1", "EUR")
	if s, err := a.Add(b); err != nil || s.Decimal() != "12.50" {
		t.Fatalf("add: %v %v", s, err)
	}
	if less, err := b.Less(a); err != nil || !less {
		t.Fatal("2.50 < 10.00")
	}
	if _, err := a.Add(c); err == nil {
		t.Fatal("added USD and EUR")
	}
	if _, err := a.Less(c); err == nil {
		t.Fatal("compared USD and EUR")
	}
}

// Convert turns a shop-money amount into the buyer's money at an order's
// own rate (its total in both), half up to the target's minor unit.
func TestMoneyConvert(t *testing.T) {
	eur := func(m int64) Money { return Money{Minor: m, Currency: "EUR"} }
	for _, tc := range []struct {
		name     string
		m        Money
		to, from Money
		want     Money
		err      bool
	}{
		{"15.00 EUR at 129.60 USD / 120.00 EUR", eur(1500), Money{12960, "USD"}, eur(12000), Money{1620, "USD"}, false},
		{"to yen: whole yen", eur(1500), Money{19440, "JPY"}, eur(12000), Money{2430, "JPY"}, false},
		{"to yen, a half rounds up", eur(1), Money{3, "JPY"}, eur(2), Money{2, "JPY"}, false},
		{"just under a half rounds down", eur(1), Money{499, "USD"}, eur(1000), Money{0, "USD"}, false},
		{"exactly a half rounds up", eur(1), Money{500, "USD"}, eur(1000), Money{1, "USD"}, false},
		{"to three decimals", eur(1000), Money{3100, "KWD"}, eur(1000), Money{3100, "KWD"}, false},
		{"from yen to cents", Money{1000, "JPY"}, Money{610, "EUR"}, Money{1000, "JPY"}, Money{610, "EUR"}, false},
		{"negative rounds away symmetrically", eur(-1), Money{500, "USD"}, eur(1000), Money{-1, "USD"}, false},
		{"large amounts do not overflow", eur(1_000_000_000_000_000), Money{3, "USD"}, eur(3), Money{1_000_000_000_000_000, "USD"}, false},
		{"out of range", eur(1_000_000_000_000_000), Money{1_000_000, "USD"}, eur(1), Money{}, true},
		{"rate from another currency", eur(1500), Money{12960, "USD"}, Money{12000, "GBP"}, Money{}, true},
		{"zero rate", eur(1500), Money{0, "USD"}, eur(12000), Money{}, true},
		{"zero base", eur(1500), Money{12960, "USD"}, eur(0), Money{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.m.Convert(tc.to, tc.from)
			if (err != nil) != tc.err || got != tc.want {
				t.Fatalf("got %v, %v; want %v (error %v)", got, err, tc.want, tc.err)
			}
		})
	}
}
