package advocatepage

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"time"
)

// Token errors. The page tells the advocate which one it is (an expired link
// can be replaced by a newer email; a broken one cannot) and shows no data
// for either.
var (
	// ErrInvalidToken is a token that is malformed, signed with another
	// key, or altered.
	ErrInvalidToken = errors.New("advocate page link is not valid")
	// ErrExpiredToken is a genuine token past its expiry.
	ErrExpiredToken = errors.New("advocate page link has expired")
	// ErrRevokedToken is a genuine token from before the advocate's links
	// were revoked.
	ErrRevokedToken = errors.New("advocate page link was revoked")
)

// Claims are what a page link says: whose page, until when, and of which
// generation of the advocate's links (revoking adds one).
type Claims struct {
	ShopID     int64
	AdvocateID int64
	Generation int
	Expires    time.Time
}

// Keys gives signing keys: the active key's id, and a purpose-bound key for
// an id (secretbox.Keyring implements it). Tokens name their key, so links
// sent before a key rotation work as long as the old key stays configured.
type Keys interface {
	ActiveKeyID() string
	DeriveKey(kid, label string) ([]byte, bool)
}

const (
	tokenLabel = "advocate-page-link/v1"
	// macLen is the HMAC-SHA256 tag truncated to 128 bits: a forger has
	// one chance in 2^128 per try and the route is rate-limited per IP,
	// while the link stays short enough for an email client not to wrap.
	macLen = 16
)

var b64 = base64.RawURLEncoding

// Sign returns the token for c: "kid.payload.tag", URL-safe.
func Sign(keys Keys, c Claims) (string, error) {
	if c.ShopID <= 0 || c.AdvocateID <= 0 || c.Generation < 0 {
		return "", errors.New("sign advocate page link: shop, advocate and generation must be set")
	}
	kid := keys.ActiveKeyID()
	key, ok := keys.DeriveKey(kid, tokenLabel)
	if !ok {
		return "", errors.New("sign advocate page link: no active key")
	}
	buf := make([]byte, 0, 4*binary.MaxVarintLen64)
	buf = binary.AppendUvarint(buf, uint64(c.ShopID))
	buf = binary.AppendUvarint(buf, uint64(c.AdvocateID))
	buf = binary.AppendUvarint(buf, uint64(c.Generation))
	buf = binary.AppendVarint(buf, c.Expires.Unix())
	payload := b64.EncodeToString(buf)
	return kid + "." + payload + "." + b64.EncodeToString(tag(key, kid, payload)), nil
}

// Verify checks the token's signature (in constant time) and expiry and
// returns its claims. The caller still checks the generation against the
// advocate's current one (ErrRevokedToken).
func Verify(keys Keys, token string, now time.Time) (Claims, error) {
	if len(token) > 200 {
		return Claims{}, ErrInvalidToken
	}
	kid, rest, ok := strings.Cut(token, ".")
	if !ok {
		return Claims{}, ErrInvalidToken
	}
	payload, sig, ok := strings.Cut(rest, ".")
	if !ok {
		return Claims{}, ErrInvalidToken
	}
	key, ok := keys.DeriveKey(kid, tokenLabel)
	if !ok {
		return Claims{}, ErrInvalidToken
	}
	got, err := b64.DecodeString(sig)
	if err != nil || !hmac.Equal(got, tag(key, kid, payload)) {
		return Claims{}, ErrInvalidToken
	}
	raw, err := b64.DecodeString(payload)
	if err != nil {
		return Claims{}, ErrInvalidToken
	}
	var vals [3]uint64
	for i := range vals {
		v, n := binary.Uvarint(raw)
		if n <= 0 {
			return Claims{}, ErrInvalidToken
		}
		vals[i], raw = v, raw[n:]
	}
	exp, n := binary.Varint(raw)
	if n <= 0 || n != len(raw) || vals[0] == 0 || vals[1] == 0 || vals[0] > 1<<62 || vals[1] > 1<<62 || vals[2] > 1<<30 {
		return Claims{}, ErrInvalidToken
	}
	c := Claims{ShopID: int64(vals[0]), AdvocateID: int64(vals[1]), Generation: int(vals[2]), Expires: time.Unix(exp, 0)}
	if !now.Before(c.Expires) {
		return c, ErrExpiredToken
	}
	return c, nil
}

func tag(key []byte, kid, payload string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(kid + "." + payload))
	return m.Sum(nil)[:macLen]
}
