package i18n

import (
	"regexp"
	"strings"
	"time"
)

// emailsEventsMessages are the words of the console's Emails page and its
// Events pages (the endpoints and one endpoint's deliveries), by key:
// English, French. Merged into the catalogue at start.
var emailsEventsMessages = [][3]string{
	{"emails.title", "Emails", "E-mails"},
	{"emails.off", "Email is not set up on this Parrain (SMTP_URL): messages are decided and listed below, none is sent.", "L'e-mail n'est pas configuré sur ce Parrain (SMTP_URL) : les messages sont décidés et listés ci-dessous, aucun n'est envoyé."},
	{"emails.settings", "Settings", "Réglages"},
	{"emails.reply_to", "Reply-to address (customers' replies go there)", "Adresse de réponse (les réponses des clients y arrivent)"},
	{"emails.reminder", "Share reminder: days after a customer becomes an advocate without sharing (0 = off)", "Rappel de partage : jours après qu'un client devient parrain sans partager (0 = désactivé)"},
	{"emails.expiring", "Reward expiring: days before an unused reward expires (0 = off)", "Récompense bientôt expirée : jours avant qu'une récompense inutilisée expire (0 = désactivé)"},
	{"emails.welcome", "Welcome email after the first order", "E-mail de bienvenue après la première commande"},
	{"emails.consent", "Reminders, reward-expiring and welcome emails go only to customers who accepted marketing emails in the store, with a one-click unsubscribe link. Reward earned and friend ordered go to every advocate (unless their address bounced).", "Les rappels, les avis d'expiration et les e-mails de bienvenue ne vont qu'aux clients qui ont accepté les e-mails marketing dans la boutique, avec un lien de désabonnement en un clic. « Récompense gagnée » et « Un ami a commandé » vont à tous les parrains (sauf si leur adresse a été rejetée)."},
	{"emails.text", "Text:", "Texte :"},
	{"emails.which", "%s (%s)", "%s (%s)"},
	{"emails.subject", "Subject (empty = built-in: “%s”)", "Objet (vide = celui d'origine : « %s »)"},
	{"emails.body", "Body (empty = built-in; a line whose placeholder has no value is left out)", "Texte (vide = celui d'origine ; une ligne dont la variable n'a pas de valeur est omise)"},
	{"emails.placeholders", "Placeholders", "Variables"},
	{"emails.save", "Save", "Enregistrer"},
	{"emails.preview_button", "Preview without saving", "Aperçu sans enregistrer"},
	{"emails.preview", "Preview (%s, sample data)", "Aperçu (%s, données d'exemple)"},
	{"emails.preview_frame", "HTML preview", "Aperçu HTML"},
	{"emails.subject_is", "Subject:", "Objet :"},
	{"emails.plain", "Plain text", "Texte brut"},
	{"emails.send_test", "Send a test to me", "M'envoyer un test"},
	{"emails.latest", "Latest messages", "Derniers messages"},
	{"emails.kind", "Kind", "Type"},
	{"emails.to", "To", "Destinataire"},
	{"emails.subject_col", "Subject", "Objet"},
	{"emails.where", "Where is it?", "Où en est-il ?"},
	{"emails.none", "No message yet.", "Aucun message pour l'instant."},
	{"emails.saved", "Email settings saved.", "Réglages des e-mails enregistrés."},
	{"emails.test_sent", "Test sent to %s.", "Test envoyé à %s."},
	{"emails.lang.en", "English", "anglais"},
	{"emails.lang.fr", "French", "français"},
	{"emails.kind.reward_earned", "Reward earned", "Récompense gagnée"},
	{"emails.kind.friend_ordered", "Friend ordered", "Un ami a commandé"},
	{"emails.kind.share_reminder", "Share reminder", "Rappel de partage"},
	{"emails.kind.reward_expiring", "Reward expiring", "Récompense bientôt expirée"},
	{"emails.kind.welcome", "Welcome", "Bienvenue"},
	{"emails.kind.test", "Test", "Test"},
	{"emails.ph.first_name", "the advocate's first name", "le prénom du parrain"},
	{"emails.ph.shop", "the shop's name", "le nom de la boutique"},
	{"emails.ph.code", "the reward code", "le code de la récompense"},
	{"emails.ph.value", "the reward's value (10 €, 15 %)", "la valeur de la récompense (10 €, 15 %)"},
	{"emails.ph.expiry", "the reward's expiry date", "la date d'expiration de la récompense"},
	{"emails.ph.friend", "the friend who ordered (first name and initial)", "l'ami qui a commandé (prénom et initiale)"},
	{"emails.ph.reward_date", "when the reward comes", "quand la récompense arrive"},
	{"emails.ph.friend_offer", "what friends get", "ce que reçoivent les amis"},
	{"emails.ph.link", "the advocate's referral link", "le lien de parrainage du parrain"},
	{"emails.ph.friend_code", "the advocate's friend code", "le code ami du parrain"},
	{"emails.ph.advocate_page", "the advocate's own page", "la page du parrain"},
	{"emails.ph.campaign", "the campaign running, if any (\"Double rewards — until 31 December\"); its line is left out otherwise", "la campagne en cours, s'il y en a une (« Récompenses doublées — jusqu'au 31 décembre ») ; sinon sa ligne est omise"},

	{"events.title", "Events", "Événements"},
	{"events.intro", "Parrain POSTs a signed JSON message to each endpoint when something it subscribed to happens (Standard Webhooks: %s). Failed deliveries are retried for a day; an endpoint failing for a day is disabled and you are told on the dashboard. Payloads: docs/events.md.", "Parrain envoie (POST) un message JSON signé à chaque point de réception quand survient un événement auquel il est abonné (Standard Webhooks : %s). Les envois échoués sont retentés pendant un jour ; un point de réception en échec depuis un jour est désactivé et le tableau de bord vous le signale. Contenus : docs/events.md."},
	{"events.added", "Endpoint added", "Point de réception ajouté"},
	{"events.secret_once", "Its signing secret, shown once here (the shop's owner can reveal it again on the endpoint's page):", "Son secret de signature, affiché une seule fois ici (le propriétaire de la boutique peut l'afficher à nouveau sur la page du point de réception) :"},
	{"events.verify", "Verify each message with it: base64(HMAC-SHA256(secret's bytes after %s, webhook-id + \".\" + webhook-timestamp + \".\" + body)) must be one of the %s signatures.", "Vérifiez chaque message avec lui : base64(HMAC-SHA256(octets du secret après %s, webhook-id + « . » + webhook-timestamp + « . » + corps)) doit être l'une des signatures %s."},
	{"events.url", "URL", "URL"},
	{"events.description", "Description", "Description"},
	{"events.events", "Events", "Événements"},
	{"events.events_are", "Events:", "Événements :"},
	{"events.state", "State", "État"},
	{"events.failing_since", "failing since %s", "en échec depuis le %s"},
	{"events.enabled", "enabled", "actif"},
	{"events.disabled", "disabled", "désactivé"},
	{"events.none", "No endpoint yet.", "Aucun point de réception pour l'instant."},
	{"events.add", "Add an endpoint", "Ajouter un point de réception"},
	{"events.add_button", "Add endpoint", "Ajouter le point de réception"},
	{"events.owner_only", "Only the shop's owner adds endpoints.", "Seul le propriétaire de la boutique ajoute des points de réception."},
	{"events.endpoint", "Endpoint", "Point de réception"},
	{"events.back", "← Events", "← Événements"},
	{"events.secret", "Signing secret:", "Secret de signature :"},
	{"events.reveal", "Reveal the signing secret", "Afficher le secret de signature"},
	{"events.enable", "Enable again", "Réactiver"},
	{"events.delete", "Delete", "Supprimer"},
	{"events.deliveries", "Deliveries", "Envois"},
	{"events.event", "Event", "Événement"},
	{"events.attempts", "Attempts", "Tentatives"},
	{"events.last_answer", "Last answer", "Dernière réponse"},
	{"events.log", "Log", "Journal"},
	{"events.actions", "Actions", "Actions"},
	{"events.attempt_count", "%d attempt(s)", "%d tentative(s)"},
	{"events.next_try", "next try %s", "prochain essai le %s"},
	{"events.no_answer", "no answer", "pas de réponse"},
	{"events.in_ms", "in %d ms", "en %d ms"},
	{"events.resend", "Send again", "Renvoyer"},
	{"events.nothing_sent", "Nothing sent to this endpoint yet.", "Rien n'a encore été envoyé à ce point de réception."},
	{"events.state.pending", "pending", "en attente"},
	{"events.state.sending", "sending", "en cours d'envoi"},
	{"events.state.delivered", "delivered", "livré"},
	{"events.state.failed", "failed", "échoué"},
	{"events.gone", "the endpoint answered 410 Gone", "le point de réception a répondu 410 Gone"},
	{"events.enabled_done", "Endpoint enabled.", "Point de réception réactivé."},
	{"events.deleted_done", "Endpoint deleted.", "Point de réception supprimé."},
	{"events.resent_done", "Queued: it is sent again within seconds.", "En file : il est renvoyé dans quelques secondes."},
	// The refusals and reasons app/events and app/email write in English.
	{"events.no_success", "no successful delivery since %s (%s)", "aucun envoi réussi depuis le %s (%s)"},
	{"events.err.no_resolve", "url: %s does not resolve: check the address", "URL : %s ne répond pas au DNS : vérifiez l'adresse"},
	{"events.err.private_addr", "url: %s is not a public address (%s): Parrain only sends events to the internet", "URL : %s n'est pas une adresse publique (%s) : Parrain n'envoie d'événements que sur Internet"},
	{"events.err.private", "url: %s is not a public address", "URL : %s n'est pas une adresse publique"},
	{"events.err.url_required", "url: required", "URL : obligatoire"},
	{"events.err.url_long", "url: at most 2000 characters", "URL : 2000 caractères au plus"},
	{"events.err.url_http", "url: must be an http(s) address, like https://hooks.example.com/parrain", "URL : doit être une adresse http(s), comme https://hooks.example.com/parrain"},
	{"events.err.url_user", "url: no user name or password in the address (the signature authenticates Parrain)", "URL : ni nom d'utilisateur ni mot de passe dans l'adresse (la signature authentifie Parrain)"},
	{"events.err.url_fragment", "url: no #fragment", "URL : pas de #fragment"},
	{"events.err.description", "description: at most 200 characters", "Description : 200 caractères au plus"},
	{"events.err.pick", "events: pick at least one", "Événements : choisissez-en au moins un"},
	{"emails.err.reply_to", "reply_to: an email address like support@example.com", "Adresse de réponse : une adresse e-mail comme support@example.com"},
	{"emails.err.reminder", "reminder_after_days: 0 (off) to %s", "Rappel de partage : de 0 (désactivé) à %s"},
	{"emails.err.expiring", "expiring_before_days: 0 (off) to %s", "Récompense bientôt expirée : de 0 (désactivé) à %s"},
	{"emails.err.subject", "templates.%s.%s.subject: one line, at most %s characters", "Objet (%s, %s) : une ligne, %s caractères au plus"},
	{"emails.err.body", "templates.%s.%s.body: at most %s characters", "Texte (%s, %s) : %s caractères au plus"},
	{"emails.err.placeholder", "templates.%s.%s: unknown placeholder {%s}", "Modèle (%s, %s) : variable inconnue {%s}"},
}

// emailsEventsPatterns put in the viewer's words the sentences above that
// carry values.
var emailsEventsPatterns = []pattern{
	{regexp.MustCompile(`^no successful delivery since (\S+) \((.+)\)$`), "events.no_success", []func(*Printer, string) string{rfc3339, duration}},
	{regexp.MustCompile(`^url: (\S+) does not resolve: check the address$`), "events.err.no_resolve", []func(*Printer, string) string{keep}},
	{regexp.MustCompile(`^url: (\S+) is not a public address \((.+)\): Parrain only sends events to the internet$`), "events.err.private_addr", []func(*Printer, string) string{keep, keep}},
	{regexp.MustCompile(`^url: (\S+) is not a public address$`), "events.err.private", []func(*Printer, string) string{keep}},
	{regexp.MustCompile(`^reminder_after_days: 0 \(off\) to (\d+)$`), "emails.err.reminder", []func(*Printer, string) string{keep}},
	{regexp.MustCompile(`^expiring_before_days: 0 \(off\) to (\d+)$`), "emails.err.expiring", []func(*Printer, string) string{keep}},
	{regexp.MustCompile(`^templates\.(\w+)\.(\w+)\.subject: one line, at most (\d+) characters$`), "emails.err.subject", []func(*Printer, string) string{keep, keep, keep}},
	{regexp.MustCompile(`^templates\.(\w+)\.(\w+)\.body: at most (\d+) characters$`), "emails.err.body", []func(*Printer, string) string{keep, keep, keep}},
	{regexp.MustCompile(`^templates\.(\w+)\.(\w+): unknown placeholder \{(\w+)\}$`), "emails.err.placeholder", []func(*Printer, string) string{keep, keep, keep}},
}

// rfc3339 is an instant written in RFC 3339, in the shop's zone and the
// viewer's language.
func rfc3339(p *Printer, v string) string {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return v
	}
	return p.DateTime(t)
}

func init() {
	for _, m := range emailsEventsMessages {
		messages["en"][m[0]], messages["fr"][m[0]] = m[1], m[2]
		// Say looks sentences up by their English words; the index may
		// have been built before this file's init ran.
		if english != nil && !strings.Contains(m[1], "%") {
			english[m[1]] = m[0]
		}
	}
	patterns = append(patterns, emailsEventsPatterns...)
}

var amountRE = regexp.MustCompile(`^(-?\d+)(?:\.(\d+))? ([A-Z]{3})$`)

// amountSymbols are the signs the French console writes after an amount;
// other currencies keep their ISO code.
var amountSymbols = map[string]string{"EUR": "€", "USD": "$ US", "GBP": "£", "CHF": "CHF", "CAD": "$ CA"}

// amount is money the engine wrote as app.Money.String() ("12.50 EUR"),
// written the French way in French ("12,50 €"), as it came in English.
func amount(p *Printer, v string) string {
	m := amountRE.FindStringSubmatch(v)
	if m == nil || p.Lang != "fr" {
		return v
	}
	num := m[1]
	if m[2] != "" {
		num += "," + m[2]
	}
	sym, ok := amountSymbols[m[3]]
	if !ok {
		sym = m[3]
	}
	return num + "\u00a0" + sym
}
