package i18n

// The words of the replay of a rule change (the settings page's "Preview
// the effect"), kept apart from messages.go and added to it at start.
var replayMessages = map[string]map[string]string{
	"en": {
		"replay.title":               "Preview the effect",
		"replay.intro":               "Before saving new rules, see what they would have done to your recent orders, judged by the same rules Parrain applies to every order. Nothing is saved until you apply.",
		"replay.days":                "Over the last (days)",
		"replay.bad_days":            "Choose between %d and %d days.",
		"replay.preview":             "Preview the effect",
		"replay.report_title":        "With these settings, from %s to %s",
		"replay.judged":              "%d orders in the period, %d of them referred.",
		"replay.now":                 "Rules in force",
		"replay.then":                "These settings",
		"replay.cost":                "Rewards earned",
		"replay.cost_diff":           "Reward cost difference: %s",
		"replay.cost_percent":        "(percent rewards are a share of a future order: only fixed rewards are counted)",
		"replay.hold_moved":          "The new holding period moves the approval date of %d held referrals (%d would be approved at once).",
		"replay.parrain_counts":      "%d orders were judged \"new customer\" on the orders Parrain has seen (the store was not asked again).",
		"replay.manual":              "%d referrals attributed by hand are left as support decided.",
		"replay.changes":             "%d orders judged differently",
		"replay.placed":              "Placed",
		"replay.on_apply":            "When you apply",
		"replay.more":                "and %d more.",
		"replay.none":                "These settings would not change any decision in the period.",
		"replay.apply_says":          "Applying saves these settings and updates %d open referrals (held or to review); approved and rewarded referrals are never changed. Each change is recorded in the referral's history.",
		"replay.apply_button":        "Save and apply",
		"replay.applied":             "Settings saved. %d referrals updated by the new rules.",
		"replay.outcome.accepted":    "Counted",
		"replay.outcome.flagged":     "To review",
		"replay.outcome.rejected":    "Rejected",
		"replay.outcome.reversed":    "Reversed",
		"replay.apply.change":        "Updated",
		"replay.apply.keep_rewarded": "Kept (already approved or rewarded)",
		"replay.apply.keep_closed":   "Kept as it is",
		"replay.apply.no_referral":   "No referral made",
		"event.changed_by_rules":     "Changed by a rule change",
	},
	"fr": {
		"replay.title":               "Voir l'effet",
		"replay.intro":               "Avant d'enregistrer de nouvelles règles, voyez ce qu'elles auraient fait de vos commandes récentes, jugées par les mêmes règles que Parrain applique à chaque commande. Rien n'est enregistré avant d'appliquer.",
		"replay.days":                "Sur les derniers (jours)",
		"replay.bad_days":            "Choisissez entre %d et %d jours.",
		"replay.preview":             "Voir l'effet",
		"replay.report_title":        "Avec ces réglages, du %s au %s",
		"replay.judged":              "%d commandes sur la période, dont %d parrainées.",
		"replay.now":                 "Règles en vigueur",
		"replay.then":                "Ces réglages",
		"replay.cost":                "Récompenses gagnées",
		"replay.cost_diff":           "Écart de coût des récompenses : %s",
		"replay.cost_percent":        "(une récompense en pourcentage est une part d'une future commande : seules les récompenses fixes sont comptées)",
		"replay.hold_moved":          "La nouvelle période de retenue déplace la date de validation de %d parrainages retenus (%d seraient validés aussitôt).",
		"replay.parrain_counts":      "%d commandes ont été jugées « nouveau client » sur les commandes que Parrain connaît (la boutique n'a pas été interrogée à nouveau).",
		"replay.manual":              "%d parrainages attribués à la main restent tels que le support l'a décidé.",
		"replay.changes":             "%d commandes jugées autrement",
		"replay.placed":              "Passée le",
		"replay.on_apply":            "Si vous appliquez",
		"replay.more":                "et %d de plus.",
		"replay.none":                "Ces réglages ne changeraient aucune décision sur la période.",
		"replay.apply_says":          "Appliquer enregistre ces réglages et met à jour %d parrainages ouverts (retenus ou à examiner) ; un parrainage validé ou récompensé n'est jamais modifié. Chaque changement est inscrit dans l'historique du parrainage.",
		"replay.apply_button":        "Enregistrer et appliquer",
		"replay.applied":             "Réglages enregistrés. %d parrainages mis à jour par les nouvelles règles.",
		"replay.outcome.accepted":    "Compté",
		"replay.outcome.flagged":     "À examiner",
		"replay.outcome.rejected":    "Refusé",
		"replay.outcome.reversed":    "Annulé",
		"replay.apply.change":        "Mis à jour",
		"replay.apply.keep_rewarded": "Conservé (déjà validé ou récompensé)",
		"replay.apply.keep_closed":   "Laissé tel quel",
		"replay.apply.no_referral":   "Aucun parrainage créé",
		"event.changed_by_rules":     "Modifié par un changement de règles",
	},
}

func init() {
	for lang, words := range replayMessages {
		for k, v := range words {
			messages[lang][k] = v
		}
	}
}
