package popup

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parrain/parrain/app"
)

func program() app.Program {
	p := app.DefaultProgram(1, "USD") // friend 10%, reward $10, 14 days
	return p
}

func TestOfferInWords(t *testing.T) {
	eur := program()
	eur.Currency, eur.FriendKind, eur.FriendAmountMinor, eur.RewardAmountMinor = "EUR", app.OfferFixed, 550, 1000
	free := program()
	free.FriendKind, free.RewardKind, free.RewardPercent = app.OfferFreeShipping, app.OfferPercent, 15
	for _, tc := range []struct {
		name string
		p    app.Program
		lang string
		want string
	}{
		{"percent and fixed, en", program(), "en", "Give your friends 10% off, get $10 for each friend who orders."},
		{"percent and fixed, fr", program(), "fr", "Offrez 10\u00a0% de réduction à vos amis et recevez 10\u00a0$ US pour chaque ami qui commande."},
		{"euros with cents, en", eur, "en", "Give your friends €5.50 off, get €10 for each friend who orders."},
		{"euros with cents, fr", eur, "fr", "Offrez 5,50\u00a0€ de réduction à vos amis et recevez 10\u00a0€ pour chaque ami qui commande."},
		{"free shipping and percent reward", free, "en", "Give your friends free shipping, get 15% off your next order for each friend who orders."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Texts(tc.p, tc.lang, "Shop", "L")["offer"]; got != tc.want {
				t.Errorf("offer = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestPickLanguage(t *testing.T) {
	for _, tc := range []struct {
		setting string
		wanted  []string
		want    string
	}{
		{"auto", []string{"fr-CA", "en"}, "fr"},
		{"auto", []string{"de", "fr_FR"}, "fr"},
		{"auto", []string{"de"}, "en"},
		{"auto", nil, "en"},
		{"fr", []string{"en"}, "fr"},
		{"", []string{"FR"}, "fr"},
	} {
		if got := PickLanguage(tc.setting, tc.wanted...); got != tc.want {
			t.Errorf("PickLanguage(%q, %v) = %q, want %q", tc.setting, tc.wanted, got, tc.want)
		}
	}
}

func TestMerchantOverridesAndTerms(t *testing.T) {
	p := program()
	p.Widget.Texts = map[string]map[string]string{"en": {"title": "Share {shop}, earn {reward}"}}
	en := Texts(p, "en", "Acme", "L")
	if en["title"] != "Share Acme, earn $10" {
		t.Errorf("override title = %q", en["title"])
	}
	if en["terms"] != "Your reward code is emailed to you 14 days after your friend's first order, unless it is returned." {
		t.Errorf("terms = %q", en["terms"])
	}
	if fr := Texts(p, "fr", "Acme", "L"); fr["title"] != "Offrez 10\u00a0% de réduction, recevez 10\u00a0$ US" {
		t.Errorf("fr title must stay built-in, got %q", fr["title"])
	}
	p.HoldingDays = 0
	if got := Texts(p, "en", "Acme", "L")["terms"]; !strings.HasPrefix(got, "Your reward code is emailed to you right after") {
		t.Errorf("terms with no hold = %q", got)
	}
}

func TestShareLinksCarryTheirChannel(t *testing.T) {
	link := "https://app.example/r/ANNA-7K2P"
	shares := ShareLinks(link, "Acme & Co", "Here's 10% off at Acme & Co: "+link, "en")
	if len(shares) != len(Channels) {
		t.Fatalf("%d share links, want %d", len(shares), len(Channels))
	}
	for _, s := range shares {
		u, err := url.Parse(s.URL)
		if err != nil {
			t.Fatalf("%s: %v", s.Channel, err)
		}
		// Decode the whole URL once: the tagged link is inside a parameter.
		decoded, _ := url.QueryUnescape(u.RawQuery)
		if !strings.Contains(decoded, link+"?ch="+s.Channel) {
			t.Errorf("%s: %s does not carry the link tagged ch=%s", s.Channel, s.URL, s.Channel)
		}
		if s.Label == "" {
			t.Errorf("%s has no label", s.Channel)
		}
	}
	if !strings.Contains(shares[0].URL, "subject=Acme%20%26%20Co") {
		t.Errorf("email subject badly encoded: %s", shares[0].URL)
	}
}

type fakeData struct {
	order *Order
	adv   *app.Advocate
	prog  app.Program
}

func (f *fakeData) Program(context.Context, *app.Shop) (app.Program, error) { return f.prog, nil }
func (f *fakeData) PopupOrder(context.Context, int64, string) (*Order, error) {
	if f.order == nil {
		return nil, app.Errorf(app.ENOTFOUND, "no order")
	}
	return f.order, nil
}
func (f *fakeData) AdvocateByCustomer(context.Context, int64, string) (*app.Advocate, error) {
	if f.adv == nil {
		return nil, app.Errorf(app.ENOTFOUND, "no advocate")
	}
	return f.adv, nil
}

// BuyerAdvocate finds the advocate only by the order's own identity, as
// the repository does.
func (f *fakeData) BuyerAdvocate(_ context.Context, _ int64, customerID, emailNorm string) (*app.Advocate, error) {
	if f.order == nil || customerID != f.order.CustomerID || emailNorm != f.order.EmailNorm {
		return nil, app.Errorf(app.EINTERNAL, "asked for another buyer: %q %q", customerID, emailNorm)
	}
	return f.AdvocateByCustomer(context.Background(), 0, customerID)
}

// The proof rules are pure: a fake store is enough here. The HTTP tests in
// app/stack run the same paths against Postgres.
func TestSessionProofs(t *testing.T) {
	paid := &Order{Known: true, Paid: true, CustomerID: "42", EmailNorm: "ann@example.com", Key: "wc_order_abc", ConfirmationNumber: "XPAV284CT"}
	adv := &app.Advocate{Code: "ANN-1234", FriendCode: "FRIEND-ANN-1234", FriendCodeState: "created"}
	for _, tc := range []struct {
		name  string
		order *Order
		adv   *app.Advocate
		proof Proof
		want  string // "ok", "pending" or an error code
	}{
		{"no proof", paid, adv, Proof{}, app.EFORBIDDEN},
		{"email matches (case, spaces)", paid, adv, Proof{Email: " Ann@Example.com "}, "ok"},
		// A wrong proof for a known order is answered like an unknown
		// order (pending), so the answer does not tell which orders exist.
		{"email mismatch", paid, adv, Proof{Email: "eve@example.com"}, "pending"},
		{"malformed email", paid, adv, Proof{Email: "ann"}, "pending"},
		{"email, order unknown", nil, adv, Proof{Email: "eve@example.com"}, "pending"},
		{"order key matches", paid, adv, Proof{OrderKey: "wc_order_abc"}, "ok"},
		{"order key mismatch", paid, adv, Proof{OrderKey: "wc_order_abd"}, "pending"},
		// A guest's token proves the shop, not the order: the thank-you
		// page's confirmation number must come with it.
		{"token, guest, no confirmation number", paid, adv, Proof{SessionToken: true}, app.EFORBIDDEN},
		{"token, guest, confirmation number", paid, adv, Proof{SessionToken: true, ConfirmationNumber: " xpav284ct "}, "ok"},
		{"token, guest, wrong confirmation number", paid, adv, Proof{SessionToken: true, ConfirmationNumber: "XPAV284CU"}, "pending"},
		{"token, guest, order without one", &Order{Known: true, Paid: true, CustomerID: "42"}, adv, Proof{SessionToken: true, ConfirmationNumber: "XPAV284CT"}, "pending"},
		{"token, guest, order unknown", nil, adv, Proof{SessionToken: true, ConfirmationNumber: "XPAV284CT"}, "pending"},
		{"token, same customer", paid, adv, Proof{SessionToken: true, TokenCustomerID: "42"}, "ok"},
		{"token, other customer", paid, adv, Proof{SessionToken: true, TokenCustomerID: "43"}, "pending"},
		{"order unknown", nil, adv, Proof{Email: "ann@example.com"}, "pending"},
		{"only a refund seen", &Order{Known: false}, adv, Proof{Email: "ann@example.com"}, "pending"},
		{"unpaid", &Order{Known: true, CustomerID: "42", EmailNorm: "ann@example.com"}, adv, Proof{Email: "ann@example.com"}, "pending"},
		{"advocate not created yet", paid, nil, Proof{Email: "ann@example.com"}, "pending"},
		{"friend code on its way to the store", paid, &app.Advocate{Code: "ANN-1234", FriendCode: "FRIEND-ANN-1234", FriendCodeState: "creating"}, Proof{Email: "ann@example.com"}, "ok"},
		{"friend code failed", paid, &app.Advocate{FriendCodeState: "failed"}, Proof{Email: "ann@example.com"}, app.ENOTFOUND},
		{"guest order: the advocate of the email", &Order{Known: true, Paid: true, EmailNorm: "ann@example.com"}, adv, Proof{Email: "ann@example.com"}, "ok"},
		{"no customer, no email", &Order{Known: true, Paid: true, Key: "wc_order_abc"}, adv, Proof{OrderKey: "wc_order_abc"}, app.ENOTFOUND},
		{"cancelled", &Order{Known: true, Paid: true, Cancelled: true, CustomerID: "42", EmailNorm: "ann@example.com"}, adv, Proof{Email: "ann@example.com"}, app.ENOTFOUND},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Service{Data: &fakeData{order: tc.order, adv: tc.adv, prog: program()}, LinkBase: "https://app.example"}
			c, err := s.Session(context.Background(), Request{Shop: &app.Shop{ID: 1, ShopDetails: app.ShopDetails{Name: "Acme"}}, OrderID: "1", Proof: tc.proof})
			got := "ok"
			switch {
			case errors.Is(err, ErrPending):
				got = "pending"
			case err != nil:
				got = app.ErrorCode(err)
			}
			if got != tc.want {
				t.Fatalf("got %s (%v), want %s", got, err, tc.want)
			}
			if got == "ok" && (c.Link != "https://app.example/r/ANN-1234" || c.Code != "FRIEND-ANN-1234") {
				t.Errorf("content link %q code %q", c.Link, c.Code)
			}
			// The code's label says when it is not in the store yet.
			if pending := tc.adv != nil && tc.adv.FriendCodeState != "created"; got == "ok" &&
				(c.CodePending != pending || strings.Contains(c.Texts["code_label"], "ready in a moment") != pending) {
				t.Errorf("code pending %v, label %q", c.CodePending, c.Texts["code_label"])
			}
			if got != "ok" && c != nil {
				t.Errorf("content returned with a refusal")
			}
		})
	}
}

func TestDisabledWidgetOffersNothing(t *testing.T) {
	p := program()
	p.Widget.Enabled = false
	s := &Service{Data: &fakeData{order: &Order{Known: true, Paid: true, CustomerID: "1", EmailNorm: "a@b.co"},
		adv: &app.Advocate{FriendCodeState: "created"}, prog: p}}
	_, err := s.Session(context.Background(), Request{Shop: &app.Shop{ID: 1}, Proof: Proof{Email: "a@b.co"}})
	if app.ErrorCode(err) != app.ENOTFOUND {
		t.Fatalf("disabled widget: %v", err)
	}
}

func TestForCustomer(t *testing.T) {
	on := program()
	on.Widget.Launcher = true
	adv := &app.Advocate{Code: "ANN-1234", FriendCode: "FRIEND-ANN-1234", FriendCodeState: "created"}
	for _, tc := range []struct {
		name     string
		prog     app.Program
		adv      *app.Advocate
		customer string
		want     string
	}{
		{"advocate", on, adv, "42", "ok"},
		{"visitor", on, adv, "", app.EFORBIDDEN},
		{"not an advocate", on, nil, "42", app.ENOTFOUND},
		{"launcher off", program(), adv, "42", app.ENOTFOUND},
		{"code refused by the store", on, &app.Advocate{FriendCodeState: "failed"}, "42", app.ENOTFOUND},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Service{Data: &fakeData{adv: tc.adv, prog: tc.prog}, LinkBase: "https://app.example"}
			c, err := s.ForCustomer(context.Background(), &app.Shop{ID: 1}, tc.customer, []string{"fr"})
			got := "ok"
			if err != nil {
				got = app.ErrorCode(err)
			}
			if got != tc.want {
				t.Fatalf("got %s (%v), want %s", got, err, tc.want)
			}
			if got == "ok" && (c.Code != adv.FriendCode || c.Lang != "fr" || !c.Launcher) {
				t.Errorf("content %+v", c)
			}
		})
	}
}

// The campaign line names the campaign's last day in the shop's zone: the
// end is excluded, so an end at local midnight is the day before.
func TestCampaignLine(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	c := func(end time.Time) *app.Campaign {
		return &app.Campaign{Name: "Double rewards", Start: end.Add(-7 * 24 * time.Hour), End: end}
	}
	for _, tc := range []struct {
		name       string
		c          *app.Campaign
		lang, zone string
		want       string
	}{
		{"no campaign", nil, "en", "Europe/Paris", ""},
		{"end at local midnight", c(time.Date(2027, 1, 1, 0, 0, 0, 0, paris)), "en", "Europe/Paris", "Double rewards — until 31 December"},
		{"in French", c(time.Date(2027, 1, 1, 0, 0, 0, 0, paris)), "fr", "Europe/Paris", "Double rewards — jusqu'au 31 décembre"},
		{"a second into the day counts that day", c(time.Date(2027, 1, 1, 0, 0, 1, 0, paris)), "en", "Europe/Paris", "Double rewards — until 1 January"},
		// 23:30 UTC on 31 December is already 1 January in Paris.
		{"the shop's zone, not UTC", c(time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC)), "en", "Europe/Paris", "Double rewards — until 1 January"},
		{"the same instant in New York", c(time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC)), "en", "America/New_York", "Double rewards — until 31 December"},
		{"unknown zone reads UTC", c(time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC)), "en", "Mars/Olympus", "Double rewards — until 31 December"},
		{"unknown language reads English", c(time.Date(2027, 3, 1, 0, 0, 0, 0, paris)), "de", "Europe/Paris", "Double rewards — until 28 February"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := CampaignLine(tc.c, tc.lang, tc.zone); got != tc.want {
				t.Fatalf("%q, want %q", got, tc.want)
			}
		})
	}
}
