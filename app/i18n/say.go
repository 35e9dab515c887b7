package i18n

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Say writes in the viewer's language a sentence that comes from elsewhere
// in English: a rule's reason stored with a referral, a program field's
// problem, a reversal's cause, a store's refusal. Sentences of the
// catalogue are looked up by their English words; the ones with values
// (amounts, counts, dates) by the patterns below, their dates moved to
// the shop's zone. Anything else is shown as it came, a store's answer
// behind a French lead-in.
func (p *Printer) Say(s string) string {
	if s == "" {
		return ""
	}
	if key, ok := english[s]; ok {
		return p.T(key)
	}
	for _, pt := range patterns {
		m := pt.re.FindStringSubmatch(s)
		if m == nil {
			continue
		}
		args := make([]any, 0, len(m)-1)
		for i, v := range m[1:] {
			if i < len(pt.conv) && pt.conv[i] != nil {
				v = pt.conv[i](p, v)
			} else if p.Lang != "en" {
				v = p.sayPart(v)
			}
			args = append(args, v)
		}
		return p.T(pt.key, args...)
	}
	if p.Lang == "en" {
		return s
	}
	// A sentence ending with a full stop the catalogue has without it
	// (or the other way round).
	if key, ok := english[strings.TrimSuffix(s, ".")]; ok {
		return p.T(key)
	}
	return s
}

// sayPart translates a captured part when it is itself a known phrase
// (a nested reason), else keeps it.
func (p *Printer) sayPart(v string) string { return p.Say(v) }

// english is the catalogue's English sentences and their keys.
var english map[string]string

func englishIndex() map[string]string {
	out := map[string]string{}
	for k, v := range messages["en"] {
		if !strings.Contains(v, "%") {
			out[v] = k
		}
	}
	return out
}

type pattern struct {
	re  *regexp.Regexp
	key string
	// conv rewrites a captured value (a date, a duration) for the printer;
	// nil keeps it (translated when it is a known phrase).
	conv []func(*Printer, string) string
}

// utcDate is a date the engine wrote in UTC ("2 Jan 2006 15:04 MST"),
// written again in the shop's zone and the viewer's language.
func utcDate(p *Printer, v string) string {
	t, err := time.Parse("2 Jan 2006 15:04 MST", v)
	if err != nil {
		return v
	}
	return p.DateTime(t)
}

// duration is a window the engine wrote as a Go duration ("1h0m0s") or in
// minutes ("60 minutes"), in words.
func duration(p *Printer, v string) string {
	d, err := time.ParseDuration(v)
	if err != nil {
		n, err := strconv.Atoi(strings.TrimSuffix(v, " minutes"))
		if err != nil {
			return v
		}
		d = time.Duration(n) * time.Minute
	}
	n, unit := int(d/time.Minute), "minute"
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		n, unit = int(d/(24*time.Hour)), "day"
	case d >= time.Hour && d%time.Hour == 0:
		n, unit = int(d/time.Hour), "hour"
	}
	if n == 1 {
		return p.T("unit." + unit)
	}
	return p.T("unit."+unit+"s", n)
}

// days is "30 days" or "any period".
func days(p *Printer, v string) string {
	if v == "any period" {
		return p.T("unit.any_period")
	}
	n, err := strconv.Atoi(strings.TrimSuffix(v, " days"))
	if err != nil {
		return v
	}
	if n == 1 {
		return p.T("unit.day")
	}
	return p.T("unit.days", n)
}

func keep(_ *Printer, v string) string { return v }

// day is a day the engine wrote as "2 Jan 2006", in the viewer's language.
func day(p *Printer, v string) string {
	t, err := time.Parse("2 Jan 2006", v)
	if err != nil {
		return v
	}
	return p.Date(time.Date(t.Year(), t.Month(), t.Day(), 12, 0, 0, 0, p.Zone)) // the day as written
}

// patterns are the sentences with values, as app/attribution,
// app/referrals, app (program problems) and the stores write them. Keys
// name them in the catalogue; the first matching pattern wins.
var patterns = []pattern{
	// app/attribution rule reasons.
	{regexp.MustCompile(`^the order was placed on (.+), before the advocate got their code on (.+)$`), "reason.before_advocate", []func(*Printer, string) string{utcDate, utcDate}},
	{regexp.MustCompile(`^the customer already had (\d+) order\(s\)$`), "reason.prior_orders", []func(*Printer, string) string{keep}},
	{regexp.MustCompile(`^order total (.+) is not in the program currency (\S+)$`), "reason.currency", []func(*Printer, string) string{amount, keep}},
	{regexp.MustCompile(`^order total (.+) is under the minimum (.+)$`), "reason.under_minimum", []func(*Printer, string) string{amount, amount}},
	{regexp.MustCompile(`^orders from "(.*)" are excluded$`), "reason.source", []func(*Printer, string) string{keep}},
	{regexp.MustCompile(`^the advocate already has (\d+) referral\(s\) in (.+) \(cap (\d+)\)$`), "reason.cap", []func(*Printer, string) string{keep, days, keep}},
	{regexp.MustCompile(`^(\d+) referred orders from this IP within (.+)$`), "reason.velocity_ip", []func(*Printer, string) string{keep, duration}},
	{regexp.MustCompile(`^(\d+) referred orders from one address in (.+)$`), "reason.velocity_address", []func(*Printer, string) string{keep, keep}},
	{regexp.MustCompile(`^(\d+) referred orders on this advocate within (.+)$`), "reason.velocity_advocate", []func(*Printer, string) string{keep, duration}},
	// app/referrals reversal.
	{regexp.MustCompile(`^partial refund took the order to (.+), under the minimum (.+)$`), "reason.partial_refund", []func(*Printer, string) string{amount, amount}},
	// app/postgres: the manual attribution's line.
	{regexp.MustCompile(`^by (\S+): (.*)$`), "reason.by", []func(*Printer, string) string{whoPart, keep}},
	// app.Program problems with values.
	{regexp.MustCompile(`^The (.+) cannot be negative\.$`), "problem.negative", nil},
	{regexp.MustCompile(`^The (.+) must be at most (\S+) (\S+)\.$`), "problem.amount_max", []func(*Printer, string) string{nil, keep, keep}},
	{regexp.MustCompile(`^The reward expiry must be at most (\d+) days \(0: it never expires\)\.$`), "problem.expiry", []func(*Printer, string) string{keep}},
	{regexp.MustCompile(`^The cap window must be between 1 and (\d+) days\.$`), "problem.cap_window", []func(*Printer, string) string{keep}},
	{regexp.MustCompile(`^The velocity window must be between 1 and (\d+) minutes\.$`), "problem.velocity_window", []func(*Printer, string) string{keep}},
	{regexp.MustCompile(`^The cap on (.+) must be between 0 \(none\) and at most (\d+)\.$`), "problem.cap", []func(*Printer, string) string{nil, keep}},
	{regexp.MustCompile(`^The text on the background has a contrast of ([\d.]+):1; shoppers need at least ([\d.]+):1 to read it\.$`), "contrast.text", []func(*Printer, string) string{keep, keep}},
	{regexp.MustCompile(`^White button text on the accent colour has a contrast of ([\d.]+):1; shoppers need at least ([\d.]+):1 to read it\.$`), "contrast.accent", []func(*Printer, string) string{keep, keep}},
	{regexp.MustCompile(`^an amount in (\S+)$`), "problem.amount_in", []func(*Printer, string) string{keep}},
	// Setup checks (integrations/shopify).
	{regexp.MustCompile(`^Parrain could not read your theme: (.*)$`), "setup.theme_unreadable", []func(*Printer, string) string{storeWords}},
	{regexp.MustCompile(`^Your published theme (".*") has no theme settings yet\.$`), "setup.theme_no_settings", []func(*Printer, string) string{keep}},
	{regexp.MustCompile(`^On in your published theme (".*")\.$`), "setup.embed_on", []func(*Printer, string) string{keep}},
	{regexp.MustCompile(`^Switched off in your published theme (".*")\.$`), "setup.embed_off", []func(*Printer, string) string{keep}},
	{regexp.MustCompile(`^Not added to your published theme (".*") yet\.$`), "setup.embed_missing", []func(*Printer, string) string{keep}},
	// Where a reward is (app/review) and an email (app/httpapi).
	{regexp.MustCompile(`^Created in the store: code (\S+) \(the email's state is below\)\.$`), "where.issued", []func(*Printer, string) string{keep}},
	{regexp.MustCompile(`^Waiting for the holding period to end on (.+)\.$`), "where.pending", []func(*Printer, string) string{day}},
	{regexp.MustCompile(`^emailed on (.+)$`), "mail.emailed_on", []func(*Printer, string) string{utcDate}},
	{regexp.MustCompile(`^not emailed: (.+)$`), "mail.not_emailed", nil},
	{regexp.MustCompile(`^bounced: (.+)$`), "mail.bounced", nil},
	{regexp.MustCompile(`^gave up after repeated temporary failures: (.+)$`), "mail.gave_up", []func(*Printer, string) string{storeWords}},
	{regexp.MustCompile(`^waiting to be sent \(the mail server said: (.+); retrying\)$`), "mail.retrying", []func(*Printer, string) string{storeWords}},
	// app/review's refusals.
	{regexp.MustCompile(`^order_id: no order (.+) in this shop$`), "err.no_order", []func(*Printer, string) string{keep}},
	{regexp.MustCompile(`^advocate_code: no advocate (.+) in this shop$`), "err.no_advocate", []func(*Printer, string) string{keep}},
	{regexp.MustCompile(`^override: a rule refuses this attribution \((.*)\); tick the override and say why to attribute it anyway$`), "err.override", nil},
	{regexp.MustCompile(`^Added (.+)\.$`), "staff.added", []func(*Printer, string) string{keep}},
	{regexp.MustCompile(`^Preview unavailable: ([a-z_]+): (.+)$`), "err.preview", []func(*Printer, string) string{keep, nil}},
	{regexp.MustCompile(`^Parrain could not reach your store: (.*)$`), "setup.unreachable", []func(*Printer, string) string{storeWords}},
}

func whoPart(p *Printer, v string) string {
	if strings.HasPrefix(v, "shopify:") {
		return p.T("who.shopify_admin")
	}
	return strings.TrimPrefix(v, "staff:")
}

// storeWords is a store's (or a network's) own answer: shown as it came,
// in quotes, behind words in the viewer's language.
func storeWords(p *Printer, v string) string {
	if p.Lang == "en" {
		return v
	}
	if key, ok := english[v]; ok {
		return p.T(key)
	}
	return fmt.Sprintf("« %s »", v)
}

// StoreAnswer is a store's refusal (a reward the store would not create):
// its own words, quoted, behind a lead-in in the viewer's language.
func (p *Printer) StoreAnswer(s string) string {
	if s == "" {
		return ""
	}
	return p.T("store.answer", storeWords(p, s))
}
