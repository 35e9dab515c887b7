package i18n

import "testing"

func TestSayPutsOtherPackagesSentencesInTheViewersWords(t *testing.T) {
	for _, tc := range []struct{ lang, in, want string }{
		{"fr", "same customer as the advocate", "même client que le parrain"},
		{"fr", "2 referred orders from this IP within 1h0m0s", "2 commandes parrainées depuis cette adresse IP en 1 heure"},
		{"en", "2 referred orders from this IP within 1h0m0s", "2 referred orders from this IP within 1 hour"},
		{"en", "the advocate already has 3 referral(s) in 30 days (cap 3)", "the advocate already has 3 referral(s) in 30 days (cap 3)"},
		{"fr", "the order was placed on 20 Dec 2026 23:30 UTC, before the advocate got their code on 21 Dec 2026 08:00 UTC",
			"la commande a été passée le 21 déc. 2026 à 00:30 CET, avant que le parrain reçoive son code le 21 déc. 2026 à 09:00 CET"},
		{"fr", "override: a rule refuses this attribution (same customer as the advocate); tick the override and say why to attribute it anyway",
			"Une règle refuse cette attribution (même client que le parrain) : cochez le forçage et dites pourquoi pour l'attribuer quand même."},
		{"fr", "The friend amount cannot be negative.", "Le champ « montant offert à l'ami » ne peut pas être négatif."},
		{"fr", "not emailed: no consent", "non envoyé : pas de consentement"},
		{"fr", "no successful delivery since 2026-12-20T08:00:00Z (24h0m0s)", "aucun envoi réussi depuis le 20 déc. 2026 à 09:00 CET (1 jour)"},
		{"fr", "the endpoint answered 410 Gone", "le point de réception a répondu 410 Gone"},
		{"fr", "url: 10.0.0.1 is not a public address", "URL : 10.0.0.1 n'est pas une adresse publique"},
		{"fr", "templates.reward_earned.en: unknown placeholder {password}", "Modèle (reward_earned, en) : variable inconnue {password}"},
		{"en", "templates.reward_earned.en: unknown placeholder {password}", "templates.reward_earned.en: unknown placeholder {password}"},
		{"fr", "Endpoint deleted.", "Point de réception supprimé."},
		{"fr", "order total 12.50 EUR is under the minimum 20.00 EUR", "le total 12,50\u00a0€ est sous le minimum de 20,00\u00a0€"},
		{"en", "order total 12.50 EUR is under the minimum 20.00 EUR", "order total 12.50 EUR is under the minimum 20.00 EUR"},
		{"fr", "order total 12.50 SEK is not in the program currency EUR", "le total 12,50\u00a0SEK n'est pas dans la devise du programme, EUR"},
		{"fr", "Something nobody wrote here", "Something nobody wrote here"},
		{"fr", "", ""},
	} {
		if got := New(tc.lang, "Europe/Paris").Say(tc.in); got != tc.want {
			t.Errorf("%s %q:\n got %q\nwant %q", tc.lang, tc.in, got, tc.want)
		}
	}
	if got := New("fr", "").StoreAnswer("Code must be unique"); got != "Réponse du magasin : « Code must be unique »" {
		t.Errorf("store answer: %q", got)
	}
}
