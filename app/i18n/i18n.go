// Package i18n is the console's words in the viewer's language (English and
// French) and its dates in the shop's time zone: a small message catalogue
// (messages.go), the language a request asks for (a choice, else
// Accept-Language), and dates and money written the way the language
// writes them. Any page, standalone or embedded in the Shopify admin, can
// use it.
package i18n

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Languages the console speaks; the first is the fallback.
var Languages = []string{"en", "fr"}

// Pick returns the language to use: choice (a cookie or a ?lang=) when it is
// one we speak, else the first language of the Accept-Language header we
// speak (by quality), else English.
func Pick(choice, acceptLanguage string) string {
	if l := base(choice); known(l) {
		return l
	}
	best, bestQ := "", -1.0
	for _, part := range strings.Split(acceptLanguage, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		if l := base(tag); known(l) && q > bestQ {
			best, bestQ = l, q
		}
	}
	if best != "" {
		return best
	}
	return Languages[0]
}

func base(tag string) string {
	l, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
	return l
}

func known(l string) bool {
	for _, k := range Languages {
		if k == l {
			return true
		}
	}
	return false
}

// Printer writes words and dates for one viewer: their language, the
// shop's time zone.
type Printer struct {
	Lang string
	Zone *time.Location
}

// New returns a printer for lang in the IANA zone; an unknown or empty
// zone is UTC (said so on screen by the zone's abbreviation).
func New(lang, zone string) *Printer {
	loc, err := time.LoadLocation(zone)
	if zone == "" || err != nil {
		loc = time.UTC
	}
	if !known(lang) {
		lang = Languages[0]
	}
	return &Printer{Lang: lang, Zone: loc}
}

// T returns the message for key in the printer's language (English when
// the language lacks it, the key itself when nobody has it), formatted
// with args like fmt.Sprintf.
func (p *Printer) T(key string, args ...any) string {
	msg, ok := messages[p.Lang][key]
	if !ok {
		if msg, ok = messages["en"][key]; !ok {
			msg = key
		}
	}
	if len(args) > 0 {
		return fmt.Sprintf(msg, args...)
	}
	return msg
}

// Has reports whether key is in the catalogue.
func (p *Printer) Has(key string) bool { _, ok := messages["en"][key]; return ok }

// TOr returns the message for key, or fallback when there is none (words
// that come from elsewhere, like a store's own message).
func (p *Printer) TOr(key, fallback string) string {
	if p.Has(key) {
		return p.T(key)
	}
	return fallback
}

var monthsFR = []string{"janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."}

// Date writes the day in the shop's zone: "20 Dec 2026", "20 déc. 2026".
func (p *Printer) Date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(p.Zone)
	if p.Lang == "fr" {
		return fmt.Sprintf("%d %s %d", t.Day(), monthsFR[t.Month()-1], t.Year())
	}
	return t.Format("2 Jan 2006")
}

// DateTime writes the day and time in the shop's zone, with the zone's
// abbreviation: "20 Dec 2026, 14:05 CET", "20 déc. 2026 à 14:05 CET".
func (p *Printer) DateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	l := t.In(p.Zone)
	if p.Lang == "fr" {
		return p.Date(t) + " à " + l.Format("15:04 MST")
	}
	return p.Date(t) + ", " + l.Format("15:04 MST")
}

// ISODate is the day in the shop's zone as a date input wants it.
func (p *Printer) ISODate(t time.Time) string { return t.In(p.Zone).Format("2006-01-02") }
