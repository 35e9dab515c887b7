package advocatepage

import (
	"fmt"
	"strings"
	"time"
)

// texts are the page's words per language. Placeholders: {date}, {code},
// {shop}, {reason}.
var texts = map[string]map[string]string{
	"en": {
		"title":             "Your referrals at {shop}",
		"link_label":        "Your personal link",
		"code_label":        "Your friends' code",
		"copy":              "Copy link",
		"copied":            "Link copied",
		"share_label":       "Share by",
		"no_link":           "Your link is being prepared. Come back in a few minutes.",
		"stats_label":       "So far",
		"clicks":            "clicks on your link",
		"ordered":           "friends who ordered",
		"referrals_label":   "Your friends' orders",
		"no_referrals":      "No friend has ordered with your link yet.",
		"rewards_label":     "Your rewards",
		"no_rewards":        "No reward yet.",
		"friend":            "A friend",
		"ordered_on":        "ordered on {date}",
		"waiting":           "waiting until {date}",
		"approving":         "approved soon",
		"review":            "being checked by {shop}",
		"approved":          "approved: your reward is being created",
		"rewarded":          "rewarded: {code}",
		"rewarded_credit":   "rewarded: {value} on your account",
		"on_account":        "on your account",
		"reward_trouble":    "approved: {shop} is sorting out your reward",
		"reward_cancelled":  "reward cancelled: {code}",
		"not_counted":       "not counted: {reason}",
		"r_refunded":        "the order was refunded",
		"r_part_refunded":   "the order was partly refunded",
		"r_cancelled":       "the order was cancelled",
		"r_own":             "it looks like your own order",
		"r_not_new":         "your friend had ordered before",
		"r_minimum":         "the order was under the minimum",
		"r_test":            "it was a test order",
		"r_channel":         "orders from that sales channel do not count",
		"r_cap":             "you reached the number of rewards for this period",
		"r_shop":            "{shop} did not approve it",
		"reward_code":       "Code",
		"reward_value":      "Value",
		"reward_expires":    "Expires",
		"reward_state":      "State",
		"expires_on":        "{date}",
		"no_expiry":         "does not expire",
		"s_ready":           "ready to use",
		"s_issuing":         "being created",
		"s_trouble":         "being sorted out by {shop}",
		"s_revoked":         "cancelled",
		"s_expired":         "expired",
		"footer":            "This page is personal: do not share its address, share your link.",
		"bad_title":         "This link does not work",
		"bad_body":          "The address is incomplete or was changed. Open the link from your latest email again, or copy it in full.",
		"expired_title":     "This link has expired",
		"expired_body":      "For your privacy, links to this page expire. Open the link in your latest email from the shop, or ask the shop for a new one.",
		"revoked_title":     "This link is no longer valid",
		"revoked_body":      "The shop replaced the links to this page. Open the link in your latest email from the shop, or ask the shop for a new one.",
		"login_title":       "Log in to see your referrals",
		"login_body":        "Log in to your account on the shop, then open this page again.",
		"none_title":        "No referral link yet",
		"none_body":         "You get your personal link after your first order.",
		"slow_title":        "Too many requests",
		"slow_body":         "Wait a minute, then try again.",
		"unavailable_title": "This page is not available right now",
		"unavailable_body":  "Try again in a few minutes.",
		"milestone":         "{have} of {need} friends toward your {value} bonus",
		"milestone_all":     "You reached every milestone. Thank you!",
		"bonus_value":       "{value}, bonus for {n} friends",
	},
	"fr": {
		"title":             "Vos parrainages chez {shop}",
		"link_label":        "Votre lien personnel",
		"code_label":        "Le code pour vos amis",
		"copy":              "Copier le lien",
		"copied":            "Lien copié",
		"share_label":       "Partager par",
		"no_link":           "Votre lien est en préparation. Revenez dans quelques minutes.",
		"stats_label":       "Jusqu'ici",
		"clicks":            "clics sur votre lien",
		"ordered":           "amis qui ont commandé",
		"referrals_label":   "Les commandes de vos amis",
		"no_referrals":      "Aucun ami n'a encore commandé avec votre lien.",
		"rewards_label":     "Vos récompenses",
		"milestone":         "{have} sur {need} amis pour votre bonus de {value}",
		"milestone_all":     "Vous avez atteint tous les paliers. Merci !",
		"bonus_value":       "{value}, bonus pour {n} amis",
		"no_rewards":        "Pas encore de récompense.",
		"friend":            "Un ami",
		"ordered_on":        "a commandé le {date}",
		"waiting":           "en attente jusqu'au {date}",
		"approving":         "bientôt validé",
		"review":            "en cours de vérification par {shop}",
		"approved":          "validé : votre récompense est en cours de création",
		"rewarded":          "récompensé : {code}",
		"rewarded_credit":   "récompensé : {value} sur votre compte",
		"on_account":        "sur votre compte",
		"reward_trouble":    "validé : {shop} règle un souci avec votre récompense",
		"reward_cancelled":  "récompense annulée : {code}",
		"not_counted":       "non pris en compte : {reason}",
		"r_refunded":        "la commande a été remboursée",
		"r_part_refunded":   "la commande a été en partie remboursée",
		"r_cancelled":       "la commande a été annulée",
		"r_own":             "il semble que ce soit votre propre commande",
		"r_not_new":         "votre ami avait déjà commandé",
		"r_minimum":         "la commande était sous le minimum",
		"r_test":            "c'était une commande de test",
		"r_channel":         "les commandes de ce canal de vente ne comptent pas",
		"r_cap":             "vous avez atteint le nombre de récompenses pour cette période",
		"r_shop":            "{shop} ne l'a pas validé",
		"reward_code":       "Code",
		"reward_value":      "Valeur",
		"reward_expires":    "Expire le",
		"reward_state":      "État",
		"expires_on":        "{date}",
		"no_expiry":         "n'expire pas",
		"s_ready":           "prête à utiliser",
		"s_issuing":         "en cours de création",
		"s_trouble":         "en cours de règlement par {shop}",
		"s_revoked":         "annulée",
		"s_expired":         "expirée",
		"footer":            "Cette page est personnelle : ne partagez pas son adresse, partagez votre lien.",
		"bad_title":         "Ce lien ne fonctionne pas",
		"bad_body":          "L'adresse est incomplète ou a été modifiée. Ouvrez à nouveau le lien de votre dernier e-mail, ou copiez-le en entier.",
		"expired_title":     "Ce lien a expiré",
		"expired_body":      "Pour protéger vos données, les liens vers cette page expirent. Ouvrez le lien de votre dernier e-mail de la boutique, ou demandez-en un nouveau à la boutique.",
		"revoked_title":     "Ce lien n'est plus valable",
		"revoked_body":      "La boutique a remplacé les liens vers cette page. Ouvrez le lien de votre dernier e-mail de la boutique, ou demandez-en un nouveau à la boutique.",
		"login_title":       "Connectez-vous pour voir vos parrainages",
		"login_body":        "Connectez-vous à votre compte sur la boutique, puis rouvrez cette page.",
		"none_title":        "Pas encore de lien de parrainage",
		"none_body":         "Vous recevez votre lien personnel après votre première commande.",
		"slow_title":        "Trop de demandes",
		"slow_body":         "Patientez une minute, puis réessayez.",
		"unavailable_title": "Cette page n'est pas disponible pour le moment",
		"unavailable_body":  "Réessayez dans quelques minutes.",
	},
}

// Text returns one of the page's texts in lang with placeholders filled.
func Text(lang, key string, pairs ...string) string {
	t, ok := texts[lang][key]
	if !ok {
		t = texts["en"][key]
	}
	if len(pairs) > 0 {
		t = strings.NewReplacer(pairs...).Replace(t)
	}
	return t
}

var frMonths = [...]string{"janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."}

// FormatDate writes a day as the language does, in loc: "20 Dec 2026",
// "20 déc. 2026".
func FormatDate(t time.Time, loc *time.Location, lang string) string {
	t = t.In(loc)
	if lang == "fr" {
		day := fmt.Sprint(t.Day())
		if t.Day() == 1 {
			day = "1er"
		}
		return day + " " + frMonths[t.Month()-1] + " " + fmt.Sprint(t.Year())
	}
	return t.Format("2 Jan 2006")
}
