package advocatepage

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/parrain/parrain/app/secretbox"
)

func keyring(t *testing.T, spec string) *secretbox.Keyring {
	t.Helper()
	k, err := secretbox.Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

const (
	k1 = "k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	k2 = "k2:ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="
)

func TestTokenRoundTripAndRefusals(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	keys := keyring(t, k1)
	c := Claims{ShopID: 7, AdvocateID: 123456789, Generation: 3, Expires: now.Add(time.Hour)}
	tok, err := Sign(keys, c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Verify(keys, tok, now)
	if err != nil || got != c {
		t.Fatalf("Verify = %+v, %v; want %+v", got, err, c)
	}
	if len(tok) > 60 {
		t.Errorf("token is %d characters: %s", len(tok), tok)
	}
	kid, rest, _ := strings.Cut(tok, ".")
	payload, sig, _ := strings.Cut(rest, ".")
	flip := func(s string) string {
		b := []byte(s)
		if b[0] == 'A' {
			b[0] = 'B'
		} else {
			b[0] = 'A'
		}
		return string(b)
	}
	other, _ := Sign(keys, Claims{ShopID: 8, AdvocateID: 123456789, Generation: 3, Expires: now.Add(time.Hour)})
	_, otherRest, _ := strings.Cut(other, ".")
	otherPayload, _, _ := strings.Cut(otherRest, ".")
	for _, tc := range []struct {
		name string
		tok  string
		keys Keys
		at   time.Time
		want error
	}{
		{"expired", tok, keys, now.Add(time.Hour), ErrExpiredToken},
		{"payload changed", kid + "." + flip(payload) + "." + sig, keys, now, ErrInvalidToken},
		{"another shop's payload with this signature", kid + "." + otherPayload + "." + sig, keys, now, ErrInvalidToken},
		{"signature changed", kid + "." + payload + "." + flip(sig), keys, now, ErrInvalidToken},
		{"signature cut", kid + "." + payload + "." + sig[:10], keys, now, ErrInvalidToken},
		{"unknown key id", "k9." + payload + "." + sig, keys, now, ErrInvalidToken},
		{"another deployment's key", tok, keyring(t, "k1:ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="), now, ErrInvalidToken},
		{"no dots", "garbage", keys, now, ErrInvalidToken},
		{"empty", "", keys, now, ErrInvalidToken},
		{"too long", strings.Repeat("a", 300), keys, now, ErrInvalidToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Verify(tc.keys, tc.tok, tc.at); !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}

// A key rotation keeps links signed with the previous key working while
// it stays configured.
func TestTokenAfterKeyRotation(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	old, err := Sign(keyring(t, k1), Claims{ShopID: 1, AdvocateID: 2, Expires: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	rotated := keyring(t, k2+","+k1)
	if _, err := Verify(rotated, old, now); err != nil {
		t.Fatalf("old link after rotation: %v", err)
	}
	fresh, _ := Sign(rotated, Claims{ShopID: 1, AdvocateID: 2, Expires: now.Add(time.Hour)})
	if !strings.HasPrefix(fresh, "k2.") {
		t.Fatalf("new links use the active key: %s", fresh)
	}
	if _, err := Verify(keyring(t, k2), old, now); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("old key removed: %v", err)
	}
}

// The page key is bound to its purpose: a token's signature is not what
// another derived key (or the raw key) would make.
func TestDerivedKeysDiffer(t *testing.T) {
	k := keyring(t, k1)
	a, _ := k.DeriveKey("k1", tokenLabel)
	b, _ := k.DeriveKey("k1", "something-else")
	if string(a) == string(b) || len(a) != 32 {
		t.Fatal("derived keys must differ per label and be 32 bytes")
	}
}

func FuzzVerify(f *testing.F) {
	keys, _ := secretbox.Parse(k1)
	now := time.Unix(1_800_000_000, 0)
	tok, _ := Sign(keys, Claims{ShopID: 1, AdvocateID: 2, Expires: now.Add(time.Hour)})
	f.Add(tok)
	f.Add("k1..")
	f.Add("k1.AAAA.AAAA")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Verify(keys, s, now)
		if err == nil && (c.ShopID <= 0 || c.AdvocateID <= 0) {
			t.Fatalf("accepted %q as %+v", s, c)
		}
	})
}
