package woocommerce

import (
	"encoding/json"
	"testing"
)

// WordPress keeps a city (timezone_string) or a manual offset in hours
// (gmt_offset, timezone_string ""); the dashboard's days need an IANA name.
func TestSiteTimezone(t *testing.T) {
	for _, tc := range []struct {
		tz, offset, want string
	}{
		{"Europe/Paris", `"1"`, "Europe/Paris"},
		{"", `"2"`, "Etc/GMT-2"},
		{"", `-5`, "Etc/GMT+5"},
		{"", `"0"`, "UTC"},
		{"", `0`, "UTC"},
		{"", `"5.5"`, ""}, // half-hour offsets have no Etc zone
		{"Not/AZone", `"3"`, "Etc/GMT-3"},
		{"", `"banana"`, ""},
		{"", `"15"`, ""},
		{"", ``, ""},
	} {
		if got := siteTimezone(tc.tz, json.RawMessage(tc.offset)); got != tc.want {
			t.Errorf("timezone_string %q gmt_offset %s: %q, want %q", tc.tz, tc.offset, got, tc.want)
		}
	}
}
