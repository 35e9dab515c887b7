// Package secretbox encrypts secrets (platform access and refresh tokens) for
// storage with AES-256-GCM. Each ciphertext names the key that sealed it, so
// keys can rotate: new writes use the first (active) key, reads accept any key
// still configured.
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// prefix versions the sealed format so it can change without guessing.
const prefix = "v1"

var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// Keyring seals and opens secrets.
type Keyring struct {
	active string
	aeads  map[string]cipher.AEAD
	raw    map[string][]byte
}

// Parse reads a keyring from its configuration form:
// "kid:base64key[,kid:base64key...]", each key 32 bytes (standard or URL
// base64). The first key is the active one.
func Parse(spec string) (*Keyring, error) {
	k := &Keyring{aeads: map[string]cipher.AEAD{}, raw: map[string][]byte{}}
	for i, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		id, b64, ok := strings.Cut(part, ":")
		if !ok || !keyIDPattern.MatchString(id) {
			return nil, fmt.Errorf("key %d: want kid:base64key with kid of letters, digits, - or _", i+1)
		}
		raw, err := decodeKey(b64)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", id, err)
		}
		if len(raw) != 32 {
			return nil, fmt.Errorf("key %q: want 32 bytes (AES-256), got %d", id, len(raw))
		}
		if _, dup := k.aeads[id]; dup {
			return nil, fmt.Errorf("key %q: listed twice", id)
		}
		block, err := aes.NewCipher(raw)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", id, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", id, err)
		}
		k.aeads[id] = aead
		k.raw[id] = raw
		if i == 0 {
			k.active = id
		}
	}
	return k, nil
}

func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not valid base64")
}

// DeriveKey returns a 32-byte key for one purpose (label), derived from the
// key kid with HMAC-SHA256 (the HKDF-Expand step with a single block), and
// false when kid is not configured. Signing keys come from here so that a
// deployment has one secret to keep and rotate, and a signature made for one
// purpose is worthless for another.
func (k *Keyring) DeriveKey(kid, label string) ([]byte, bool) {
	raw, ok := k.raw[kid]
	if !ok {
		return nil, false
	}
	m := hmac.New(sha256.New, raw)
	m.Write([]byte("parrain/" + label))
	m.Write([]byte{1})
	return m.Sum(nil), true
}

// ActiveKeyID returns the id of the key new secrets are sealed with.
func (k *Keyring) ActiveKeyID() string { return k.active }

// Seal encrypts plaintext with the active key. context is authenticated but
// not stored: the same context must be given to Open. Binding the ciphertext to
// its owner (e.g. "shop:42:access_token") means a ciphertext copied onto
// another row does not decrypt.
func (k *Keyring) Seal(plaintext, context string) (string, error) {
	aead := k.aeads[k.active]
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal: read nonce: %w", err)
	}
	ct := aead.Seal(nonce, nonce, []byte(plaintext), []byte(context))
	return prefix + "." + k.active + "." + base64.RawURLEncoding.EncodeToString(ct), nil
}

// Open decrypts a value produced by Seal with the same context.
func (k *Keyring) Open(sealed, context string) (string, error) {
	parts := strings.SplitN(sealed, ".", 3)
	if len(parts) != 3 || parts[0] != prefix {
		return "", errors.New("open: not a sealed value")
	}
	aead, ok := k.aeads[parts[1]]
	if !ok {
		return "", fmt.Errorf("open: key %q is not configured", parts[1])
	}
	ct, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(ct) < aead.NonceSize() {
		return "", errors.New("open: malformed ciphertext")
	}
	pt, err := aead.Open(nil, ct[:aead.NonceSize()], ct[aead.NonceSize():], []byte(context))
	if err != nil {
		return "", errors.New("open: authentication failed (wrong key or context, or tampered)")
	}
	return string(pt), nil
}

// KeyID returns the id of the key that sealed the value, for rotation
// reports.
func KeyID(sealed string) string {
	parts := strings.SplitN(sealed, ".", 3)
	if len(parts) != 3 {
		return ""
	}
	return parts[1]
}
