package popup

import (
	"strings"
	"time"
	_ "time/tzdata" // shops' time zones, also where the system has no zoneinfo

	"github.com/parrain/parrain/app"
)

// builtin holds the popup's texts per language. Placeholders: {friend} (the
// friend's offer), {reward} (the advocate's reward), {shop}, {days} (holding
// period), {link}.
var builtin = map[string]map[string]string{
	"en": {
		"title":         "Give {friend}, get {reward}",
		"offer":         "Give your friends {friend}, get {reward} for each friend who orders.",
		"link_label":    "Your personal link",
		"copy":          "Copy link",
		"copied":        "Link copied",
		"copy_manual":   "Press Ctrl+C (⌘C on a Mac) to copy",
		"code_label":    "Or give them your code",
		"share_label":   "Share by",
		"share_message": "Here's {friend} at {shop}: {link}",
		"terms":         "Your reward code is emailed to you {days} after your friend's first order, unless it is returned.",
		"no_thanks":     "No thanks",
		"close":         "Close",
		"launcher":      "Refer a friend",
	},
	"fr": {
		"title":         "Offrez {friend}, recevez {reward}",
		"offer":         "Offrez {friend} à vos amis et recevez {reward} pour chaque ami qui commande.",
		"link_label":    "Votre lien personnel",
		"copy":          "Copier le lien",
		"copied":        "Lien copié",
		"copy_manual":   "Appuyez sur Ctrl+C (⌘C sur Mac) pour copier",
		"code_label":    "Ou donnez-leur votre code",
		"share_label":   "Partager par",
		"share_message": "Voici {friend} chez {shop} : {link}",
		"terms":         "Votre code de récompense vous est envoyé par e-mail {days} après la première commande de votre ami, sauf en cas de retour.",
		"no_thanks":     "Non merci",
		"close":         "Fermer",
		"launcher":      "Parrainer un ami",
	},
}

// termsNoEmail are the terms when Parrain sends no email.
var termsNoEmail = map[string]string{
	"en": "Your reward code is created {days} after your friend's first order, unless it is returned.",
	"fr": "Votre code de récompense est créé {days} après la première commande de votre ami, sauf en cas de retour.",
}

// codePendingLabel replaces code_label while the friend code is still on
// its way to the store (a few seconds after the order in a burst).
var codePendingLabel = map[string]string{
	"en": "Or give them your code (ready in a moment)",
	"fr": "Ou donnez-leur votre code (prêt dans un instant)",
}

// words are the pieces the offer sentences are made of, per language.
var words = map[string]struct {
	percentOff, amountOff, freeShipping, percentReward, days, day, immediately string
	channels                                                                   map[string]string
}{
	"en": {"%s off", "%s off", "free shipping", "%s off your next order", "%d days", "%d day", "right",
		map[string]string{"email": "Email", "sms": "SMS", "whatsapp": "WhatsApp", "facebook": "Facebook", "x": "X", "messenger": "Messenger"}},
	"fr": {"%s de réduction", "%s de réduction", "la livraison gratuite", "%s de réduction sur votre prochaine commande", "%d jours", "%d jour", "juste",
		map[string]string{"email": "E-mail", "sms": "SMS", "whatsapp": "WhatsApp", "facebook": "Facebook", "x": "X", "messenger": "Messenger"}},
}

// campaignUntil is a running campaign's line: its name and its last day
// in the shop's time zone.
var campaignUntil = map[string]string{"en": "%s — until %s", "fr": "%s — jusqu'au %s"}

var monthNames = map[string][]string{
	"en": {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
	"fr": {"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"},
}

// CampaignLine says a campaign runs and until when, in lang, its last day
// read in the shop's zone (IANA; "" is UTC): a campaign ending at midnight
// on 1 January runs "until 31 December". "" without a campaign.
func CampaignLine(c *app.Campaign, lang, zone string) string {
	if c == nil {
		return ""
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		loc = time.UTC
	}
	if _, ok := campaignUntil[lang]; !ok {
		lang = "en"
	}
	last := c.End.Add(-time.Second).In(loc)
	return sprintf(campaignUntil[lang], c.Name, sprintf("%d %s", last.Day(), monthNames[lang][last.Month()-1]))
}

// PickLanguage returns the language to speak: the merchant's choice, else
// the first of the shopper's languages we have ("fr-CA" counts as "fr"),
// else English.
func PickLanguage(setting string, wanted ...string) string {
	if setting != "" && setting != app.LanguageAuto {
		if _, ok := builtin[setting]; ok {
			return setting
		}
	}
	for _, w := range wanted {
		primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(w)), "-")
		primary, _, _ = strings.Cut(primary, "_")
		if _, ok := builtin[primary]; ok {
			return primary
		}
	}
	return "en"
}

// Texts returns every text of the popup in lang, merchant overrides first,
// with placeholders filled in.
func Texts(p app.Program, lang, shopName, link string) map[string]string {
	fill := strings.NewReplacer(
		"{friend}", FriendOffer(p, lang), "{reward}", Reward(p, lang), "{shop}", shopName,
		"{days}", holdWords(p.HoldingDays, lang), "{link}", link)
	out := make(map[string]string, len(app.WidgetTextKeys))
	for _, k := range app.WidgetTextKeys {
		t := builtin[lang][k]
		if o, ok := p.Widget.Texts[lang][k]; ok && strings.TrimSpace(o) != "" {
			t = o
		}
		out[k] = fill.Replace(t)
	}
	return out
}

func holdWords(days int, lang string) string {
	w := words[lang]
	switch days {
	case 0: // "sent right after", "envoyée juste après"
		return w.immediately
	case 1:
		return sprintf(w.day, days)
	}
	return sprintf(w.days, days)
}

// FriendOffer is the friend's side in words: "10% off", "$5 off", "free
// shipping".
func FriendOffer(p app.Program, lang string) string {
	w := words[lang]
	switch p.FriendKind {
	case app.OfferPercent:
		return sprintf(w.percentOff, Percent(p.FriendPercent, lang))
	case app.OfferFixed:
		return sprintf(w.amountOff, FormatMoney(app.Money{Minor: p.FriendAmountMinor, Currency: p.Currency}, lang))
	}
	return w.freeShipping
}

// Reward is the advocate's side in words: "$10", "10% off your next
// order" or "$10 in store credit".
func Reward(p app.Program, lang string) string {
	if p.RewardKind == app.OfferStoreCredit && p.RewardAmountMinor == 0 && p.RewardPercent > 0 {
		if _, ok := words[lang]; !ok {
			lang = "en"
		}
		return sprintf(storeCreditPercentWords[lang], Percent(p.RewardPercent, lang))
	}
	return RewardValue(p.RewardKind, p.RewardPercent, app.Money{Minor: p.RewardAmountMinor, Currency: p.Currency}, lang)
}

// storeCreditPercentWords name a store credit worth a percent of the
// friend's order.
var storeCreditPercentWords = map[string]string{"en": "%s of your friend's order in store credit", "fr": "%s de la commande de votre ami en avoir"}

// RewardValue is a reward in words, as Reward says it, from its kind and
// terms: the amount is in the shop's currency (the reward is issued in
// it), written the advocate's language's way ("€10.00", "10,00 €").
func RewardValue(kind string, percent int, amount app.Money, lang string) string {
	if _, ok := words[lang]; !ok {
		lang = "en"
	}
	switch kind {
	case app.OfferPercent:
		return sprintf(words[lang].percentReward, Percent(percent, lang))
	case app.OfferStoreCredit:
		return sprintf(storeCreditWords[lang], FormatMoney(amount, lang))
	}
	return FormatMoney(amount, lang)
}

// storeCreditWords name an amount of store credit.
var storeCreditWords = map[string]string{"en": "%s in store credit", "fr": "%s d'avoir"}
