package email

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/parrain/parrain/app"
)

func TestRenderFillsEscapesAndDropsEmptyLines(t *testing.T) {
	exp := time.Date(2027, 3, 6, 0, 0, 0, 0, time.UTC)
	v := Values{"first_name": "<Marie>", "shop": "Boutique & Co", "code": "THANKS-ABC", "value": "10\u00a0€", "expiry": FormatDate(exp, "fr")}
	r := Render(RewardEarned, "fr", Template{}, v)
	if r.Subject != "Votre récompense Boutique & Co : 10\u00a0€" {
		t.Errorf("subject %q", r.Subject)
	}
	for _, want := range []string{"Bonjour <Marie>,", "THANKS-ABC", "Il expire le 6 mars 2027."} {
		if !strings.Contains(r.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, r.Text)
		}
	}
	if strings.Contains(r.Text, "{advocate_page}") || strings.Contains(r.Text, "Vos parrainages") {
		t.Errorf("the line without an advocate page stayed:\n%s", r.Text)
	}
	if !strings.Contains(r.HTML, "&lt;Marie&gt;") || strings.Contains(r.HTML, "<Marie>") || !strings.Contains(r.HTML, "Boutique &amp; Co") {
		t.Errorf("HTML not escaped:\n%s", r.HTML)
	}
	// Store credit: no code to enter, the credit is on the account.
	v = Values{"first_name": "Marie", "shop": "Boutique", "code": "", "value": RewardValue(app.OfferStoreCredit, 0, 1500, "EUR", "fr"),
		"expiry": FormatDate(exp, "fr"), StoreCreditKey: "1"}
	r = Render(RewardEarned, "fr", Template{}, v)
	if r.Subject != "Votre récompense Boutique : 15\u00a0€ d'avoir" || !strings.Contains(r.Text, "déjà sur votre compte client chez Boutique") ||
		strings.Contains(r.Text, "Saisissez ce code") || strings.Contains(r.HTML, "dashed") {
		t.Errorf("store credit email: %q\n%s", r.Subject, r.Text)
	}
	r = Render(RewardEarned, "en", Template{}, Values{"first_name": "Ann", "shop": "Shop", "value": RewardValue(app.OfferStoreCredit, 0, 1500, "EUR", "en"), StoreCreditKey: "1"})
	if !strings.Contains(r.Text, "€15 in store credit, already on your customer account at Shop") {
		t.Errorf("store credit email (en):\n%s", r.Text)
	}
	// The merchant's text, with a link made clickable, and the unsubscribe
	// footer.
	r = Render(ShareReminder, "en", Template{Subject: "Hi {first_name}", Body: "Share {link} now"},
		Values{"first_name": "Ann", "link": "https://app.example/r/ANN-1"}, "Stop these emails: https://app.example/email/unsubscribe/1.x")
	if r.Subject != "Hi Ann" || !strings.Contains(r.HTML, `<a href="https://app.example/r/ANN-1"`) || !strings.Contains(r.Text, "Stop these emails") {
		t.Errorf("custom: %+v", r)
	}
}

func TestSettingsValidate(t *testing.T) {
	cases := []struct {
		name string
		s    Settings
		want string
	}{
		{"ok", Settings{ReplyTo: "help@shop.example", ReminderAfterDays: 7, Templates: map[Kind]map[string]Template{RewardEarned: {"fr": {Subject: "{code}"}}}}, ""},
		{"reply-to", Settings{ReplyTo: "Help <help@shop.example>"}, "reply_to"},
		{"days", Settings{ReminderAfterDays: 400}, "reminder_after_days"},
		{"negative", Settings{ExpiringBeforeDays: -1}, "expiring_before_days"},
		{"kind", Settings{Templates: map[Kind]map[string]Template{"spam": {"en": {}}}}, "unknown kind"},
		{"lang", Settings{Templates: map[Kind]map[string]Template{Welcome: {"de": {}}}}, "unknown language"},
		{"header injection", Settings{Templates: map[Kind]map[string]Template{Welcome: {"en": {Subject: "a\r\nBcc: x@y.z"}}}}, "one line"},
		{"placeholder", Settings{Templates: map[Kind]map[string]Template{Welcome: {"en": {Body: "{password}"}}}}, "unknown placeholder {password}"},
		{"long", Settings{Templates: map[Kind]map[string]Template{Welcome: {"en": {Body: strings.Repeat("x", 10_001)}}}}, "at most"},
	}
	for _, tc := range cases {
		err := tc.s.Validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || app.ErrorCode(err) != app.EINVALID) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestUnsubscribeToken(t *testing.T) {
	key := []byte("k")
	tok := UnsubscribeToken(key, 42)
	if id, ok := ParseUnsubscribeToken(key, tok); !ok || id != 42 {
		t.Fatalf("round trip: %d %v", id, ok)
	}
	for _, bad := range []string{tok + "x", "43" + tok[2:], "", ".", "42", UnsubscribeToken([]byte("other"), 42), "-1." + tok[3:]} {
		if _, ok := ParseUnsubscribeToken(key, bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestHardBounceAndFriendName(t *testing.T) {
	for _, tc := range []struct {
		e    DeliveryError
		hard bool
	}{
		{DeliveryError{Permanent: true, Code: 550, Enhanced: "5.1.1"}, true},
		{DeliveryError{Permanent: true, Code: 554, Enhanced: "5.7.1"}, false}, // refused as spam: not the address
		{DeliveryError{Permanent: false, Code: 451}, false},
	} {
		if tc.e.HardBounce() != tc.hard {
			t.Errorf("%+v hard bounce = %v", tc.e, !tc.hard)
		}
	}
	if FriendName("bob", "martin", "en") != "bob M." || FriendName("", "", "fr") != "Un ami" || FriendName("x@y.z", "", "en") != "A friend" {
		t.Error("friend names")
	}
}

type oneCampaign struct{ c *app.Campaign }

func (o oneCampaign) Current(context.Context, int64) (*app.Campaign, error) { return o.c, nil }

// {value} is, by precedence: an issued reward's own amount; else the
// offer the friend's order earned (referrals.offer); else the program as
// it stands now, with the campaign in force.
func TestValueSaysTheRewardEarned(t *testing.T) {
	p := app.DefaultProgram(1, "EUR") // reward 10.00 EUR
	double := &app.Campaign{ID: 3, Name: "Double", Start: time.Now().Add(-time.Hour), End: time.Now().Add(time.Hour), Mode: app.CampaignAdd,
		Reward: &app.Offer{Kind: app.OfferFixed, AmountMinor: 1000}}
	stored := &app.OfferTerms{Reward: app.Offer{Kind: app.OfferFixed, AmountMinor: 1500}, Currency: "EUR", CampaignID: 2}
	reward := &app.Reward{Code: "THANKS-X", Kind: app.OfferFixed, AmountMinor: 3000, Currency: "EUR"}
	for _, c := range []struct {
		name     string
		campaign *app.Campaign
		offer    *app.OfferTerms
		reward   *app.Reward
		want     int64
	}{
		{"program", nil, nil, nil, 1000},
		{"program with the campaign in force", double, nil, nil, 2000},
		{"the order's stored offer, whatever runs now", double, stored, nil, 1500},
		{"the issued reward's own amount", double, stored, reward, 3000},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := &Service{Campaigns: oneCampaign{c.campaign}}
			f := &Facts{Shop: app.Shop{ID: 1}, Program: p, Offer: c.offer, Reward: c.reward}
			got := s.values(context.Background(), &Item{ShopID: 1, Kind: FriendOrdered}, f, "en")["value"]
			if want := RewardValue(app.OfferFixed, 0, c.want, "EUR", "en"); got != want {
				t.Fatalf("{value} %q, want %q", got, want)
			}
		})
	}
}

// With InForce (the engine's offer policies: the A/B arm, then the
// campaign), {friend_offer} states the arm's offer and the campaign counts
// once: the policies applied it, the email does not again.
func TestValuesUseTheOfferInForce(t *testing.T) {
	p := app.DefaultProgram(1, "EUR") // friend 10 %, reward 10.00 EUR
	double := &app.Campaign{ID: 3, Name: "Double", Start: time.Now().Add(-time.Hour), End: time.Now().Add(time.Hour), Mode: app.CampaignAdd,
		Reward: &app.Offer{Kind: app.OfferFixed, AmountMinor: 1000}}
	var asked *app.Advocate
	armB := func(_ context.Context, _ *app.Shop, p app.Program, adv *app.Advocate, _ time.Time) (app.Program, app.OfferSource, error) {
		asked = adv
		p.FriendKind, p.FriendPercent = app.OfferPercent, 25
		return double.Apply(p), app.OfferSource{Arm: "B", CampaignID: double.ID}, nil
	}
	s := &Service{Campaigns: oneCampaign{double}, InForce: armB, Now: time.Now}
	f := &Facts{Shop: app.Shop{ID: 1}, Program: p, Advocate: app.Advocate{ID: 7}}
	v := s.values(context.Background(), &Item{ShopID: 1, Kind: ShareReminder}, f, "en")
	if asked == nil || asked.ID != 7 {
		t.Fatalf("InForce asked about %+v, want advocate 7", asked)
	}
	if !strings.Contains(v["friend_offer"], "25%") {
		t.Errorf("{friend_offer} %q, want the arm's 25%%", v["friend_offer"])
	}
	if want := RewardValue(app.OfferFixed, 0, 2000, "EUR", "en"); v["value"] != want {
		t.Errorf("{value} %q, want %q (the campaign once)", v["value"], want)
	}
	if v["campaign"] == "" {
		t.Error("no {campaign} line")
	}
}
