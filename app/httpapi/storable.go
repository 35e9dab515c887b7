package httpapi

import (
	"bytes"
	"strconv"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/parrain/parrain/app/logging"
)

// storable is storableJSON for an intake, noting in the log (without the
// body) that the stored copy differs from what was signed.
func (s *Server) storable(c *gin.Context, body []byte) []byte {
	out, changed := storableJSON(body)
	if changed {
		logging.From(c.Request.Context()).Warn("webhook body stored with NUL, lone surrogates or invalid UTF-8 replaced by U+FFFD")
	}
	return out
}

// storableJSON returns a copy of a verified webhook body that Postgres's
// jsonb accepts, and whether it had to change anything. jsonb refuses the
// \u0000 escape, lone UTF-16 surrogate escapes and invalid UTF-8, all of
// which a store can legitimately send (a NUL pasted into an order note).
// Refusing the delivery would make the platform retry it for hours and then
// drop it: the event would be lost. So the stored copy carries U+FFFD in
// their place and everything else as sent. It runs after the signature was
// checked on the raw bytes; the stored copy is then what the platform sent,
// with those characters replaced.
func storableJSON(body []byte) ([]byte, bool) {
	changed := false
	if !utf8.Valid(body) {
		body = bytes.ToValidUTF8(body, []byte("\uFFFD"))
		changed = true
	}
	if !bytes.Contains(body, []byte(`\u`)) && !bytes.Contains(body, []byte(`\U`)) {
		return body, changed
	}
	out := make([]byte, 0, len(body))
	const repl = `\ufffd`
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c != '\\' || i+1 >= len(body) {
			out = append(out, c)
			continue
		}
		if body[i+1] != 'u' || i+6 > len(body) {
			// A two-character escape (\", \\, \n...): copy it whole so an
			// escaped backslash is not read as the start of another.
			out = append(out, c, body[i+1])
			i++
			continue
		}
		v, err := strconv.ParseUint(string(body[i+2:i+6]), 16, 16)
		if err != nil {
			out = append(out, body[i:i+6]...) // not JSON; the caller's parse will say so
			i += 5
			continue
		}
		switch {
		case v == 0:
			out, changed = append(out, repl...), true
		case v >= 0xD800 && v <= 0xDBFF:
			// A high surrogate must be followed by a low one.
			if i+12 <= len(body) && body[i+6] == '\\' && body[i+7] == 'u' {
				if lo, err := strconv.ParseUint(string(body[i+8:i+12]), 16, 16); err == nil && lo >= 0xDC00 && lo <= 0xDFFF {
					out = append(out, body[i:i+12]...)
					i += 11
					continue
				}
			}
			out, changed = append(out, repl...), true
		case v >= 0xDC00 && v <= 0xDFFF:
			out, changed = append(out, repl...), true
		default:
			out = append(out, body[i:i+6]...)
		}
		i += 5
	}
	return out, changed
}
