package email

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
)

// UnsubscribeToken signs an outbox row's id: the one-click link carries
// no address (links end up in logs), and only Parrain can make one.
func UnsubscribeToken(key []byte, outboxID int64) string {
	id := strconv.FormatInt(outboxID, 10)
	return id + "." + sign(key, id)
}

// ParseUnsubscribeToken returns the outbox id of a token it signed.
func ParseUnsubscribeToken(key []byte, token string) (int64, bool) {
	id, sig, ok := strings.Cut(token, ".")
	if !ok || len(id) > 19 {
		return 0, false
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 || !hmac.Equal([]byte(sig), []byte(sign(key, id))) {
		return 0, false
	}
	return n, true
}

func sign(key []byte, s string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("parrain unsubscribe v1:" + s))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}
