package referrals

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Initial returns the first letter of a name, upper case, "" when the name
// has none: what the advocate's page shows of a friend's last name.
func Initial(name string) string {
	for _, r := range strings.TrimSpace(name) {
		if unicode.IsLetter(r) {
			return string(unicode.ToUpper(r))
		}
		if r == utf8.RuneError {
			return ""
		}
	}
	return ""
}
