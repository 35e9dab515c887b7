package app

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// ClickIPHash keeps clicks countable per visitor without storing
// addresses: a keyed hash of the IP. The link handler stores it with a
// click; attribution hashes an order's browser IP the same way to find the
// click that led to the order.
func ClickIPHash(key, ip string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte("click-ip:" + ip))
	return hex.EncodeToString(m.Sum(nil))[:16]
}
