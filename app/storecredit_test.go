package app

import (
	"testing"
	"time"
)

func TestStoreCreditExpiry(t *testing.T) {
	from := time.Date(2026, 12, 6, 18, 45, 0, 0, time.FixedZone("Paris", 3600))
	for _, tc := range []struct {
		days int
		ref  int64
		want time.Time
	}{
		{90, 1, time.Date(2027, 3, 6, 0, 0, 1, 0, time.UTC)},
		{90, 86401, time.Date(2027, 3, 6, 0, 0, 1, 0, time.UTC)}, // a day of ids apart: the same second
		{90, 4711, time.Date(2027, 3, 6, 1, 18, 31, 0, time.UTC)},
		{1, 0, time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)},
	} {
		if got := StoreCreditExpiry(from, tc.days, tc.ref); !got.Equal(tc.want) {
			t.Errorf("%d days, referral %d: %s, want %s", tc.days, tc.ref, got, tc.want)
		}
	}
	// Referrals approved together get different markers.
	a, b := StoreCreditExpiry(from, 90, 100), StoreCreditExpiry(from, 90, 101)
	if a.Equal(b) {
		t.Fatal("two referrals share a marker")
	}
}
