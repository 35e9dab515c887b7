package i18n

import (
	"strings"
	"testing"
	"time"
)

func TestCatalogueComplete(t *testing.T) {
	for key, en := range messages["en"] {
		fr, ok := messages["fr"][key]
		if !ok || strings.TrimSpace(fr) == "" {
			t.Errorf("no French for %q", key)
		}
		if strings.Count(en, "%") != strings.Count(fr, "%") {
			t.Errorf("%q: the English and French take different arguments", key)
		}
	}
	for key := range messages["fr"] {
		if _, ok := messages["en"][key]; !ok {
			t.Errorf("French %q has no English", key)
		}
	}
}

func TestPick(t *testing.T) {
	for _, tc := range []struct{ choice, accept, want string }{
		{"", "", "en"},
		{"", "fr-FR,fr;q=0.9,en;q=0.8", "fr"},
		{"", "de-DE,en;q=0.5,fr;q=0.7", "fr"},
		{"en", "fr-FR", "en"},
		{"xx", "fr-CA", "fr"},
		{"", "de", "en"},
	} {
		if got := Pick(tc.choice, tc.accept); got != tc.want {
			t.Errorf("Pick(%q, %q) = %s, want %s", tc.choice, tc.accept, got, tc.want)
		}
	}
}

func TestDatesInTheShopsZoneAndLanguage(t *testing.T) {
	at := time.Date(2026, 12, 20, 23, 30, 0, 0, time.UTC) // 21 Dec in Paris
	for _, tc := range []struct{ lang, zone, want string }{
		{"en", "Europe/Paris", "21 Dec 2026, 00:30 CET"},
		{"fr", "Europe/Paris", "21 déc. 2026 à 00:30 CET"},
		{"en", "America/Los_Angeles", "20 Dec 2026, 15:30 PST"},
		{"en", "", "20 Dec 2026, 23:30 UTC"},
		{"en", "Not/AZone", "20 Dec 2026, 23:30 UTC"},
	} {
		if got := New(tc.lang, tc.zone).DateTime(at); got != tc.want {
			t.Errorf("%s %s: %q, want %q", tc.lang, tc.zone, got, tc.want)
		}
	}
	p := New("fr", "")
	if p.T("state.needs_review") != "À revoir" || p.T("no.such.key") != "no.such.key" || p.T("outcome.pending", "20 déc.") != "En attente jusqu'au 20 déc." {
		t.Fatal("messages")
	}
}
