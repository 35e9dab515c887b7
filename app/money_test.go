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
