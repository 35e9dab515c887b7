package referrals

import "testing"

func TestInitial(t *testing.T) {
	for in, want := range map[string]string{"Martin": "M", " lefèvre": "L", "élodie": "É", "": "", "  ": "", "'O'Brien": "O", "42": ""} {
		if got := Initial(in); got != want {
			t.Errorf("Initial(%q) = %q, want %q", in, got, want)
		}
	}
}
