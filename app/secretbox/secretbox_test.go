package secretbox

import (
	"encoding/base64"
	"strings"
	"testing"
)

func key(b byte) string {
	raw := make([]byte, 32)
	for i := range raw {
		raw[i] = b
	}
	return base64.StdEncoding.EncodeToString(raw)
}

func TestParseRejectsBadSpecs(t *testing.T) {
	cases := map[string]string{
		"empty":      "",
		"no kid":     key(1),
		"bad kid":    "a b:" + key(1),
		"short key":  "k1:" + base64.StdEncoding.EncodeToString([]byte("short")),
		"not base64": "k1:!!!",
		"duplicate":  "k1:" + key(1) + ",k1:" + key(2),
		"trailing ,": "k1:" + key(1) + ",",
	}
	for name, spec := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := Parse(spec); err == nil {
				t.Fatalf("Parse(%q) succeeded, want error", spec)
			}
		})
	}
}

func TestSealOpenRoundTripAndRotation(t *testing.T) {
	old, err := Parse("k1:" + key(1))
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := old.Seal("shpat_secret", "shop:1:access")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, "shpat_secret") {
		t.Fatal("sealed value contains the plaintext")
	}
	if KeyID(sealed) != "k1" {
		t.Fatalf("KeyID = %q, want k1", KeyID(sealed))
	}

	// After rotation k2 is active and k1 still opens old values.
	rotated, err := Parse("k2:" + key(2) + ",k1:" + key(1))
	if err != nil {
		t.Fatal(err)
	}
	got, err := rotated.Open(sealed, "shop:1:access")
	if err != nil || got != "shpat_secret" {
		t.Fatalf("Open after rotation = %q, %v", got, err)
	}
	resealed, _ := rotated.Seal(got, "shop:1:access")
	if KeyID(resealed) != "k2" {
		t.Fatalf("new seals use %q, want k2", KeyID(resealed))
	}
	if _, err := old.Open(resealed, "shop:1:access"); err == nil {
		t.Fatal("a keyring without k2 opened a k2 value")
	}
}

func TestOpenRefusesWrongContextAndTampering(t *testing.T) {
	k, _ := Parse("k1:" + key(1))
	sealed, _ := k.Seal("token", "shop:1:access")
	if _, err := k.Open(sealed, "shop:2:access"); err == nil {
		t.Fatal("opened with another shop's context")
	}
	b := []byte(sealed)
	b[len(b)-2] ^= 1
	if _, err := k.Open(string(b), "shop:1:access"); err == nil {
		t.Fatal("opened a tampered value")
	}
	for _, bad := range []string{"", "v1.k1", "v2.k1.abc", "v1.k9." + strings.Split(sealed, ".")[2], "v1.k1.%%%"} {
		if _, err := k.Open(bad, "shop:1:access"); err == nil {
			t.Fatalf("Open(%q) succeeded", bad)
		}
	}
}
