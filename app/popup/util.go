package popup

import (
	"net/url"
	"strings"
)

// pathEscape encodes for mailto: and sms: bodies, where "+" is not a space.
func pathEscape(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }
