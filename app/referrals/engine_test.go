package referrals

import (
	"regexp"
	"testing"
	"time"

	"github.com/parrain/parrain/app"
)

func TestRewardCodeIsStableAndKeyed(t *testing.T) {
	k1, k2 := []byte("key-one"), []byte("key-two")
	a, b := RewardCode(k1, 1, 42), RewardCode(k1, 1, 42)
	if a != b {
		t.Fatal("same referral, different codes: a retry would create a second reward")
	}
	if !regexp.MustCompile(`^THANKS-[A-Z2-9]{10}$`).MatchString(a) {
		t.Fatalf("code %q", a)
	}
	for _, other := range []string{RewardCode(k1, 1, 43), RewardCode(k1, 2, 42), RewardCode(k2, 1, 42)} {
		if other == a {
			t.Fatalf("%s collides with another referral, shop or key", other)
		}
	}
}

func TestRulesFollowTheProgram(t *testing.T) {
	p := app.DefaultProgram(1, "EUR")
	p.MinOrderMinor = 5000
	r := Rules(p)
	if !r.NewCustomersOnly || r.MinOrder.String() != "50.00 EUR" || r.CapWindow != 30*24*time.Hour || r.VelocityWindow != time.Hour {
		t.Fatalf("rules: %+v", r)
	}
	p.MinOrderMinor = 0
	if Rules(p).MinOrder.Minor != 0 {
		t.Fatal("no minimum must mean no minimum rule")
	}
}

func TestOrderNet(t *testing.T) {
	o := OrderRecord{RefundedMinor: 2500}
	o.Facts.Total = app.Money{Minor: 8000, Currency: "EUR"}
	if o.Net().String() != "55.00 EUR" {
		t.Fatal(o.Net())
	}
}

func TestPercentOf(t *testing.T) {
	for _, tc := range []struct {
		minor   int64
		percent int
		want    int64
	}{{8000, 5, 400}, {1999, 10, 200}, {1994, 10, 199}, {1995, 10, 200}, {0, 10, 0}, {-500, 10, 0}, {12345, 100, 12345}} {
		if got := PercentOf(tc.minor, tc.percent); got != tc.want {
			t.Errorf("%d%% of %d: %d, want %d", tc.percent, tc.minor, got, tc.want)
		}
	}
}
