package advocatepage

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/attribution"
)

func TestEachStateInPlainWords(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	// 23:30 UTC on the 19th is already the 20th in Paris.
	hold := time.Date(2026, 12, 19, 23, 30, 0, 0, time.UTC)
	exp := time.Date(2027, 3, 1, 10, 0, 0, 0, time.UTC)
	rejected := func(rule string) []byte {
		d := attribution.Decision{State: attribution.StateRejected, Outcomes: []attribution.Outcome{
			{Rule: "self-referral", Passed: true, Effect: "reject"},
			{Rule: "velocity (IP)", Passed: false, Effect: "review", Reason: "6 referred orders from this IP"},
			{Rule: rule, Passed: false, Effect: "reject", Reason: "same shipping address as advocate"},
		}}
		b, _ := json.Marshal(d)
		return b
	}
	reward := func(state string) *app.Reward {
		return &app.Reward{Code: "THANKS-ABC", Kind: app.OfferFixed, AmountMinor: 1000, Currency: "EUR", State: state, ExpiresAt: &exp}
	}
	for _, tc := range []struct {
		name     string
		r        ReferralRecord
		en, fr   string
		kind     string
		hideWord string
	}{
		{"pending", ReferralRecord{State: app.ReferralPending, HoldUntil: hold}, "waiting until 20 Dec 2026", "en attente jusqu'au 20 déc. 2026", "waiting", ""},
		{"pending past its hold", ReferralRecord{State: app.ReferralPending, HoldUntil: now.Add(-time.Hour)}, "approved soon", "bientôt validé", "waiting", ""},
		{"needs review", ReferralRecord{State: app.ReferralNeedsReview, HoldUntil: hold}, "being checked by Shop", "en cours de vérification par Shop", "waiting", ""},
		{"approved, reward being created", ReferralRecord{State: app.ReferralApproved, Reward: reward(app.RewardIssuing)}, "approved: your reward is being created", "validé : votre récompense est en cours de création", "waiting", ""},
		{"rewarded", ReferralRecord{State: app.ReferralRewarded, Reward: reward(app.RewardIssued)}, "rewarded: THANKS-ABC", "récompensé : THANKS-ABC", "rewarded", ""},
		{"reward refused by the store", ReferralRecord{State: app.ReferralApproved, Reward: reward(app.RewardFailed)}, "approved: Shop is sorting out your reward", "validé : Shop règle un souci avec votre récompense", "waiting", ""},
		{"reward revoked", ReferralRecord{State: app.ReferralRewarded, Reward: reward(app.RewardRevoked)}, "reward cancelled: THANKS-ABC", "récompense annulée : THANKS-ABC", "not_counted", ""},
		{"refunded", ReferralRecord{State: app.ReferralReversed, Reason: "order fully refunded"}, "not counted: the order was refunded", "non pris en compte : la commande a été remboursée", "not_counted", ""},
		{"cancelled", ReferralRecord{State: app.ReferralReversed, Reason: "order cancelled"}, "not counted: the order was cancelled", "non pris en compte : la commande a été annulée", "not_counted", ""},
		{"partly refunded", ReferralRecord{State: app.ReferralReversed, Reason: "partial refund took the order to €10.00, under the minimum €50.00"}, "not counted: the order was partly refunded", "non pris en compte : la commande a été en partie remboursée", "not_counted", "€"},
		{"self-referral", ReferralRecord{State: app.ReferralRejected, Decision: rejected("self-referral")}, "not counted: it looks like your own order", "non pris en compte : il semble que ce soit votre propre commande", "not_counted", "address"},
		{"not new", ReferralRecord{State: app.ReferralRejected, Decision: rejected("new customer")}, "not counted: your friend had ordered before", "non pris en compte : votre ami avait déjà commandé", "not_counted", ""},
		{"minimum", ReferralRecord{State: app.ReferralRejected, Decision: rejected("minimum order")}, "not counted: the order was under the minimum", "non pris en compte : la commande était sous le minimum", "not_counted", ""},
		{"cap", ReferralRecord{State: app.ReferralRejected, Decision: rejected("advocate cap")}, "not counted: you reached the number of rewards for this period", "non pris en compte : vous avez atteint le nombre de récompenses pour cette période", "not_counted", ""},
		{"rejected by support", ReferralRecord{State: app.ReferralRejected, Reason: "fraud ring, see ticket 42", Decision: []byte(`{"outcomes":[]}`)}, "not counted: Shop did not approve it", "non pris en compte : Shop ne l'a pas validé", "not_counted", "ticket"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for lang, want := range map[string]string{"en": tc.en, "fr": tc.fr} {
				l := line(tc.r, "Shop", lang, paris, now)
				if l.Status != want || l.Kind != tc.kind {
					t.Errorf("%s: %q (%s), want %q (%s)", lang, l.Status, l.Kind, want, tc.kind)
				}
				if tc.hideWord != "" && strings.Contains(l.Status, tc.hideWord) {
					t.Errorf("%s: support's detail leaks: %q", lang, l.Status)
				}
			}
		})
	}
}

func TestFriendNamesNeverAnEmail(t *testing.T) {
	for _, tc := range []struct{ first, initial, lang, want string }{
		{"Bob", "M", "en", "Bob M."},
		{"Élodie", "", "fr", "Élodie"},
		{"", "M", "en", "A friend"},
		{"  ", "", "fr", "Un ami"},
	} {
		if got := Friend(tc.first, tc.initial, tc.lang); got != tc.want {
			t.Errorf("Friend(%q, %q) = %q, want %q", tc.first, tc.initial, got, tc.want)
		}
	}
}

func TestRewardLines(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Hour), time.Date(2027, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		w    app.Reward
		lang string
		want RewardLine
	}{
		{"ready", app.Reward{Code: "THANKS-A", Kind: app.OfferFixed, AmountMinor: 1050, Currency: "EUR", State: app.RewardIssued, ExpiresAt: &future}, "fr",
			RewardLine{Code: "THANKS-A", Value: "10,50\u00a0€", Expires: "1er janv. 2027", Status: "prête à utiliser"}},
		{"percent, no expiry", app.Reward{Code: "THANKS-B", Kind: app.OfferPercent, Percent: 15, State: app.RewardIssued}, "en",
			RewardLine{Code: "THANKS-B", Value: "15%", Expires: "does not expire", Status: "ready to use"}},
		{"expired", app.Reward{Code: "THANKS-C", Kind: app.OfferFixed, AmountMinor: 500, Currency: "USD", State: app.RewardIssued, ExpiresAt: &past}, "en",
			RewardLine{Code: "THANKS-C", Value: "$5", Expires: "6 Dec 2026", Status: "expired"}},
		{"being created: no code shown yet", app.Reward{Code: "THANKS-D", Kind: app.OfferFixed, AmountMinor: 500, Currency: "USD", State: app.RewardIssuing}, "en",
			RewardLine{Code: "…", Value: "$5", Expires: "does not expire", Status: "being created"}},
		// Store credit: no code, the amount (in the shop's currency) in
		// the advocate's language, on their account.
		{"store credit, fr", app.Reward{Code: "THANKS-E", Kind: app.OfferStoreCredit, AmountMinor: 1500, Currency: "EUR", State: app.RewardIssued, ExpiresAt: &future}, "fr",
			RewardLine{Code: "sur votre compte", Value: "15\u00a0€ d'avoir", Expires: "1er janv. 2027", Status: "prête à utiliser"}},
		{"store credit, en", app.Reward{Code: "THANKS-E", Kind: app.OfferStoreCredit, AmountMinor: 1500, Currency: "EUR", State: app.RewardIssued, ExpiresAt: &future}, "en",
			RewardLine{Code: "on your account", Value: "€15 in store credit", Expires: "1 Jan 2027", Status: "ready to use"}},
		// Credited in the advocate's own currency: the page says what
		// their account received, not the shop-money cost.
		{"store credit in the advocate's currency, fr", app.Reward{Code: "THANKS-F", Kind: app.OfferStoreCredit, AmountMinor: 1500, Currency: "EUR",
			CreditMinor: 1620, CreditCurrency: "USD", State: app.RewardIssued, ExpiresAt: &future}, "fr",
			RewardLine{Code: "sur votre compte", Value: "16,20\u00a0$ US d'avoir", Expires: "1er janv. 2027", Status: "prête à utiliser"}},
		{"store credit in yen, en", app.Reward{Code: "THANKS-G", Kind: app.OfferStoreCredit, AmountMinor: 1500, Currency: "EUR",
			CreditMinor: 980, CreditCurrency: "JPY", State: app.RewardIssued, ExpiresAt: &future}, "en",
			RewardLine{Code: "on your account", Value: "¥980 in store credit", Expires: "1 Jan 2027", Status: "ready to use"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := rewardLine(tc.w, "Shop", tc.lang, time.UTC, now); got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
