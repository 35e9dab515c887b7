package httpapi

import (
	"encoding/json"
	"testing"
)

func TestStorableJSON(t *testing.T) {
	cases := []struct {
		name, in, want string
		changed        bool
	}{
		{"plain", `{"a":"b"}`, `{"a":"b"}`, false},
		{"NUL escape", `{"note":"a\u0000b"}`, `{"note":"a\ufffdb"}`, true},
		{"escaped backslash then u0000 text", `{"note":"a\\u0000b"}`, `{"note":"a\\u0000b"}`, false},
		{"escaped backslash then NUL escape", `{"note":"a\\\u0000b"}`, `{"note":"a\\\ufffdb"}`, true},
		{"invalid UTF-8", "{\"note\":\"a\xffb\"}", "{\"note\":\"a\uFFFDb\"}", true},
		{"valid pair", `{"e":"\ud83d\ude00"}`, `{"e":"\ud83d\ude00"}`, false},
		{"lone high surrogate", `{"e":"\ud83dx"}`, `{"e":"\ufffdx"}`, true},
		{"lone low surrogate", `{"e":"\ude00"}`, `{"e":"\ufffd"}`, true},
		{"other escapes kept", `{"e":"\u00e9\n\""}`, `{"e":"\u00e9\n\""}`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, changed := storableJSON([]byte(tc.in))
			if string(got) != tc.want || changed != tc.changed {
				t.Fatalf("got %s (changed %v), want %s (%v)", got, changed, tc.want, tc.changed)
			}
			if !json.Valid(got) {
				t.Fatalf("result is not JSON: %s", got)
			}
		})
	}
}
