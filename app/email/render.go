package email

import (
	"bytes"
	"fmt"
	"html/template"
	"regexp"
	"strings"
	"time"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/popup"
)

// builtin holds each kind's subject and body per language. Placeholders
// in braces (see placeholders); a line whose placeholder has no value (no
// advocate page yet, no expiry) is left out.
var builtin = map[Kind]map[string]Template{
	RewardEarned: {
		"en": {"Your reward from {shop}: {value}", "Hello {first_name},\n\nA friend you referred ordered at {shop}: thank you! Here is your reward, {value} off your next order:\n\n{code}\n\nEnter this code at checkout at {shop}. It works once.\nIt expires on {expiry}.\n\nYour referrals: {advocate_page}"},
		"fr": {"Votre récompense {shop} : {value}", "Bonjour {first_name},\n\nUn ami que vous avez parrainé a commandé chez {shop} : merci ! Voici votre récompense, {value} de réduction sur votre prochaine commande :\n\n{code}\n\nSaisissez ce code au moment de payer chez {shop}. Il est valable une fois.\nIl expire le {expiry}.\n\nVos parrainages : {advocate_page}"},
	},
	FriendOrdered: {
		"en": {"{friend} ordered at {shop} thanks to you", "Hello {first_name},\n\n{friend} just ordered at {shop} with your link. Thank you!\n\nYour reward ({value}) comes by email on {reward_date}, once the order can no longer be returned.\n\nYour referrals: {advocate_page}"},
		"fr": {"{friend} a commandé chez {shop} grâce à vous", "Bonjour {first_name},\n\n{friend} vient de commander chez {shop} avec votre lien. Merci !\n\nVotre récompense ({value}) arrive par e-mail le {reward_date}, une fois la commande non retournable.\n\nVos parrainages : {advocate_page}"},
	},
	ShareReminder: {
		"en": {"Your friends get {friend_offer} at {shop}", "Hello {first_name},\n\n{campaign}\n\nYour friends get {friend_offer} at {shop} with your link, and you get {value} for each friend who orders:\n\n{link}\n\nOr give them your code: {friend_code}\n\nYour referrals: {advocate_page}"},
		"fr": {"Vos amis ont {friend_offer} chez {shop}", "Bonjour {first_name},\n\n{campaign}\n\nVos amis ont {friend_offer} chez {shop} avec votre lien, et vous recevez {value} pour chaque ami qui commande :\n\n{link}\n\nOu donnez-leur votre code : {friend_code}\n\nVos parrainages : {advocate_page}"},
	},
	RewardExpiring: {
		"en": {"Your {value} reward at {shop} expires on {expiry}", "Hello {first_name},\n\nYour reward of {value} at {shop} has not been used yet. It expires on {expiry}:\n\n{code}\n\nEnter this code at checkout at {shop}.\n\nYour referrals: {advocate_page}"},
		"fr": {"Votre récompense de {value} chez {shop} expire le {expiry}", "Bonjour {first_name},\n\nVotre récompense de {value} chez {shop} n'a pas encore été utilisée. Elle expire le {expiry} :\n\n{code}\n\nSaisissez ce code au moment de payer chez {shop}.\n\nVos parrainages : {advocate_page}"},
	},
	Welcome: {
		"en": {"Share {shop} with your friends", "Hello {first_name},\n\nThank you for your order at {shop}.\n\n{campaign}\n\nYour friends get {friend_offer} with your link, and you get {value} for each friend who orders:\n\n{link}\n\nOr give them your code: {friend_code}\n\nYour referrals: {advocate_page}"},
		"fr": {"Partagez {shop} avec vos amis", "Bonjour {first_name},\n\nMerci pour votre commande chez {shop}.\n\n{campaign}\n\nVos amis ont {friend_offer} avec votre lien, et vous recevez {value} pour chaque ami qui commande :\n\n{link}\n\nOu donnez-leur votre code : {friend_code}\n\nVos parrainages : {advocate_page}"},
	},
}

// Builtin returns the built-in subject and body of a kind in a language.
func Builtin(k Kind, lang string) Template { return builtin[k][lang] }

// placeholders are the words a subject or body may use.
var placeholders = map[string]string{
	"first_name":    "the advocate's first name",
	"shop":          "the shop's name",
	"code":          "the reward code",
	"value":         "the reward's value (10 €, 15 %)",
	"expiry":        "the reward's expiry date",
	"friend":        "the friend who ordered (first name and initial)",
	"reward_date":   "when the reward comes",
	"friend_offer":  "what friends get",
	"link":          "the advocate's referral link",
	"friend_code":   "the advocate's friend code",
	"advocate_page": "the advocate's own page",
	"campaign":      "the campaign running, if any (\"Double rewards — until 31 December\"); its line is left out otherwise",
}

// Placeholders lists the placeholders with what each stands for.
func Placeholders() map[string]string { return placeholders }

var placeholderRE = regexp.MustCompile(`\{([a-z_]+)\}`)

func checkPlaceholders(s string) error {
	for _, m := range placeholderRE.FindAllStringSubmatch(s, -1) {
		if _, ok := placeholders[m[1]]; !ok {
			return fmt.Errorf("unknown placeholder {%s}", m[1])
		}
	}
	return nil
}

// Values are a message's placeholder values.
type Values map[string]string

var months = map[string][]string{
	"en": {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
	"fr": {"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"},
}

// FormatDate writes a day as the language does: "20 December 2026",
// "20 décembre 2026".
func FormatDate(t time.Time, lang string) string {
	m := months[lang]
	if m == nil {
		m = months["en"]
	}
	return fmt.Sprintf("%d %s %d", t.Day(), m[t.Month()-1], t.Year())
}

// FriendName is how a friend is named to the advocate: first name and
// initial of the last name, or the first name alone; never an email.
func FriendName(first, last, lang string) string {
	first = strings.TrimSpace(first)
	if first == "" || strings.Contains(first, "@") {
		if lang == "fr" {
			return "Un ami"
		}
		return "A friend"
	}
	if r := []rune(strings.TrimSpace(last)); len(r) > 0 {
		return first + " " + strings.ToUpper(string(r[0])) + "."
	}
	return first
}

// RewardValue writes a reward's value: "10 €", "15 %".
func RewardValue(kind string, percent int, amountMinor int64, currency, lang string) string {
	switch kind {
	case app.OfferPercent:
		return popup.Percent(percent, lang)
	case app.OfferStoreCredit:
		return popup.RewardValue(kind, percent, app.Money{Minor: amountMinor, Currency: currency}, lang)
	}
	return popup.FormatMoney(app.Money{Minor: amountMinor, Currency: currency}, lang)
}

// StoreCreditKey, set in Values, picks the store credit wording of the
// built-in reward messages (no code to enter: the credit is on the
// advocate's account). It is not a placeholder.
const StoreCreditKey = "_store_credit"

// builtinStoreCredit are the reward messages for a reward paid as store
// credit.
var builtinStoreCredit = map[Kind]map[string]Template{
	RewardEarned: {
		"en": {"Your reward from {shop}: {value}", "Hello {first_name},\n\nA friend you referred ordered at {shop}: thank you! Here is your reward: {value}, already on your customer account at {shop}.\n\nLog in to your account at checkout and it is taken off your order.\nIt expires on {expiry}.\n\nYour referrals: {advocate_page}"},
		"fr": {"Votre récompense {shop} : {value}", "Bonjour {first_name},\n\nUn ami que vous avez parrainé a commandé chez {shop} : merci ! Voici votre récompense : {value}, déjà sur votre compte client chez {shop}.\n\nConnectez-vous à votre compte au moment de payer : il est déduit de votre commande.\nIl expire le {expiry}.\n\nVos parrainages : {advocate_page}"},
	},
	RewardExpiring: {
		"en": {"Your {value} at {shop} expires on {expiry}", "Hello {first_name},\n\nYour reward of {value} at {shop} has not been used yet. It expires on {expiry}.\n\nLog in to your customer account at checkout at {shop} and it is taken off your order.\n\nYour referrals: {advocate_page}"},
		"fr": {"Votre {value} chez {shop} expire le {expiry}", "Bonjour {first_name},\n\nVotre récompense de {value} chez {shop} n'a pas encore été utilisée. Elle expire le {expiry}.\n\nConnectez-vous à votre compte client au moment de payer chez {shop} : elle est déduite de votre commande.\n\nVos parrainages : {advocate_page}"},
	},
}

// Render writes the message of kind k in lang from the merchant's
// template (empty fields: the built-in one) and the values.
func Render(k Kind, lang string, custom Template, v Values, footer ...string) Rendered {
	t := builtin[k][lang]
	if sc, ok := builtinStoreCredit[k][lang]; ok && v[StoreCreditKey] != "" {
		t = sc
	}
	if custom.Subject != "" {
		t.Subject = custom.Subject
	}
	if custom.Body != "" {
		t.Body = custom.Body
	}
	// One line whatever the values hold (no header injection); other
	// spaces (the no-break space before "€") kept.
	subject := strings.TrimSpace(strings.NewReplacer("\r", " ", "\n", " ").Replace(fill(t.Subject, v)))
	var lines []string
	for _, line := range strings.Split(strings.ReplaceAll(t.Body, "\r\n", "\n"), "\n") {
		if missing(line, v) {
			continue
		}
		if strings.TrimSpace(line) == "" && (len(lines) == 0 || lines[len(lines)-1] == "") {
			continue // a left-out line does not leave two blank lines
		}
		lines = append(lines, fill(line, v))
	}
	if len(footer) > 0 {
		lines = append(lines, "", "--")
		lines = append(lines, footer...)
	}
	text := strings.TrimSpace(strings.Join(lines, "\n"))
	return Rendered{Lang: lang, Subject: subject, Text: text + "\n", HTML: toHTML(subject, v["shop"], text, v["code"])}
}

// missing says whether the line uses a placeholder that has no value.
func missing(line string, v Values) bool {
	for _, m := range placeholderRE.FindAllStringSubmatch(line, -1) {
		if _, known := placeholders[m[1]]; known && v[m[1]] == "" {
			return true
		}
	}
	return false
}

func fill(s string, v Values) string {
	return placeholderRE.ReplaceAllStringFunc(s, func(m string) string {
		if val, ok := v[m[1:len(m)-1]]; ok {
			return val
		}
		return m
	})
}

var urlRE = regexp.MustCompile(`https?://[^\s<>"]+`)

// htmlPage is the HTML part: the same text, escaped by html/template,
// paragraphs by blank lines, links clickable, the reward code set apart.
var htmlPage = template.Must(template.New("email").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>{{.Subject}}</title></head>
<body style="margin:0;padding:0;background:#f6f6f7;font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,sans-serif;color:#202223">
<div style="max-width:560px;margin:0 auto;padding:24px 16px">
<p style="font-size:14px;color:#6d7175;margin:0 0 16px">{{.Shop}}</p>
<div style="background:#fff;border:1px solid #e1e3e5;border-radius:10px;padding:20px;font-size:16px;line-height:1.5">
{{range .Paragraphs}}{{if .Code}}<p style="font-size:22px;font-weight:700;letter-spacing:1px;background:#f1f8f5;border:1px dashed #008060;border-radius:6px;padding:12px;text-align:center">{{.Code}}</p>
{{else}}<p>{{range $i, $l := .Lines}}{{if $i}}<br>{{end}}{{range $l}}{{if .URL}}<a href="{{.URL}}" style="color:#005bd3">{{.Text}}</a>{{else}}{{.Text}}{{end}}{{end}}{{end}}</p>
{{end}}{{end}}</div></div></body></html>`))

type span struct{ Text, URL string }

type paragraph struct {
	Code  string
	Lines [][]span
}

func toHTML(subject, shop, text, code string) string {
	var ps []paragraph
	for _, block := range strings.Split(text, "\n\n") {
		block = strings.TrimSpace(strings.TrimPrefix(block, "--\n"))
		if block == "" {
			continue
		}
		if code != "" && block == code {
			ps = append(ps, paragraph{Code: code})
			continue
		}
		var p paragraph
		for _, line := range strings.Split(block, "\n") {
			var spans []span
			last := 0
			for _, loc := range urlRE.FindAllStringIndex(line, -1) {
				spans = append(spans, span{Text: line[last:loc[0]]}, span{Text: line[loc[0]:loc[1]], URL: line[loc[0]:loc[1]]})
				last = loc[1]
			}
			p.Lines = append(p.Lines, append(spans, span{Text: line[last:]}))
		}
		ps = append(ps, p)
	}
	var b bytes.Buffer
	_ = htmlPage.Execute(&b, map[string]any{"Subject": subject, "Shop": shop, "Paragraphs": ps})
	return b.String()
}
