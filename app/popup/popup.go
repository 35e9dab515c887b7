// Package popup decides what the shopper's referral popup shows for an
// order, and to whom: the advocate's link and code only for a caller who
// proved they saw the order. It knows nothing of HTTP or storage.
package popup

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/attribution"
	"github.com/parrain/parrain/app/logging"
)

// ErrPending means the order is not processed yet: ask again shortly.
var ErrPending = errors.New("order not processed yet")

// Order is what the popup needs to know of an order.
type Order struct {
	Known      bool
	Paid       bool
	Cancelled  bool
	CustomerID string
	EmailNorm  string
	// Key is the platform's order key (WooCommerce), "" where there is none.
	Key string
	// ConfirmationNumber is the code the thank-you page shows (Shopify),
	// "" where none is known.
	ConfirmationNumber string
}

// Data is the storage the popup reads.
type Data interface {
	Program(ctx context.Context, shop *app.Shop) (app.Program, error)
	PopupOrder(ctx context.Context, shopID int64, platformOrderID string) (*Order, error)
	AdvocateByCustomer(ctx context.Context, shopID int64, customerID string) (*app.Advocate, error)
	// BuyerAdvocate is the advocate an order's buyer is: by customer id,
	// else by normalised email (a guest checkout).
	BuyerAdvocate(ctx context.Context, shopID int64, customerID, emailNorm string) (*app.Advocate, error)
}

// Proof is how the caller shows they saw the order. The HTTP layer fills it
// after verifying what it can (a session token's signature); the checks that
// need the order happen here.
type Proof struct {
	// SessionToken is true when a platform session token for the shop was
	// verified; TokenCustomerID is its customer, "" for a guest buyer.
	SessionToken    bool
	TokenCustomerID string
	Email           string
	OrderKey        string
	// ConfirmationNumber is the order's confirmation number as the
	// thank-you page shows it; required with a guest's session token, which
	// proves the shop but not the order.
	ConfirmationNumber string
}

// Request asks for the popup of one order.
type Request struct {
	Shop    *app.Shop
	OrderID string
	Proof   Proof
	// Languages are the shopper's, most preferred first.
	Languages []string
}

// Share is one share button.
type Share struct {
	Channel string `json:"channel"`
	Label   string `json:"label"`
	URL     string `json:"url"`
}

// Theme is how the popup looks.
type Theme struct {
	Accent     string `json:"accent"`
	Background string `json:"background"`
	Text       string `json:"text"`
	Position   string `json:"position"`
}

// Content is everything the widget renders.
type Content struct {
	Lang  string            `json:"lang"`
	Texts map[string]string `json:"texts"`
	Link  string            `json:"link"`
	Code  string            `json:"code"`
	// CodePending is true while the code is on its way to the store; the
	// code's label then says it is ready in a moment.
	CodePending bool    `json:"code_pending,omitempty"`
	Share       []Share `json:"share"`
	Theme       Theme   `json:"theme"`
	CapDays     int     `json:"cap_days"`
	Launcher    bool    `json:"launcher"`
	// Campaign says a campaign runs and until when ("Double rewards —
	// until 31 December"); the texts already give its offer.
	Campaign string `json:"campaign,omitempty"`
}

// Service answers popup requests.
type Service struct {
	Data Data
	// LinkBase is the app's public URL; links are LinkBase/r/CODE.
	LinkBase string
	// NoEmail says Parrain sends no email (SMTP_URL unset): the popup
	// then does not promise the reward by email.
	NoEmail bool
	// Fetch, when set, is asked for an order we have not heard of yet when
	// the caller showed its order key: the store's delivery may trail the
	// order page by minutes, and the shopper is looking at it now.
	Fetch Fetcher
	// Campaigns, when set, gives the campaign in force: the popup then
	// shows its line (app/campaigns keeps the store's friend discounts
	// in step).
	Campaigns Campaigns
	// InForce, when set, is the program in force for the advocate now
	// (referrals.Engine.ProgramFor: their A/B arm, then a campaign): the
	// popup then states the offer their friend code carries. Nil: the
	// standing program with the campaign in force.
	InForce func(ctx context.Context, shop *app.Shop, p app.Program, adv *app.Advocate, at time.Time) (app.Program, app.OfferSource, error)
}

// Campaigns finds the campaign in force now.
type Campaigns interface {
	Current(ctx context.Context, shopID int64) (*app.Campaign, error)
}

// inForce is the program the advocate's popup states, and the campaign
// running now (for its line); a failure to read campaigns shows no line
// (logged) rather than no popup.
func (s *Service) inForce(ctx context.Context, shop *app.Shop, p app.Program, adv *app.Advocate) (app.Program, *app.Campaign, error) {
	var c *app.Campaign
	if s.Campaigns != nil {
		var err error
		if c, err = s.Campaigns.Current(ctx, shop.ID); err != nil {
			logging.From(ctx).Warn("campaign in force", "shop_id", shop.ID, "error", err.Error())
			c = nil
		}
	}
	if s.InForce != nil {
		// The engine's policies apply the campaign themselves: applying
		// it here again would add an "add" campaign twice.
		shaped, _, err := s.InForce(ctx, shop, p, adv, time.Now())
		return shaped, c, err
	}
	if c != nil {
		p = c.Apply(p)
	}
	return p, c, nil
}

// Fetcher brings an order the store has not delivered yet into the same
// path its delivery takes; it stores it only if orderKey is the order's.
type Fetcher interface {
	FetchUnknownOrder(ctx context.Context, shop *app.Shop, orderID, orderKey string) error
}

var errNoProof = app.Errorf(app.EFORBIDDEN, "cannot show a referral link: this page did not prove it shows this order")

// Session returns the popup for the order, ErrPending while the order or
// its advocate is not ready, EFORBIDDEN when no proof was given and
// ENOTFOUND when there is nothing to offer.
//
// A proof that does not hold is answered like an order we do not know yet
// (ErrPending, 202), not with a refusal: the unknown order must stay 202 (the
// thank-you page usually asks before the order webhook is processed), so the
// only way not to tell a prober which order ids exist is to answer a wrong
// proof the same way. The widget gives up after a few retries either way.
func (s *Service) Session(ctx context.Context, r Request) (*Content, error) {
	pr := r.Proof
	if !pr.SessionToken && pr.Email == "" && pr.OrderKey == "" {
		return nil, errNoProof
	}
	if pr.SessionToken && pr.TokenCustomerID == "" && strings.TrimSpace(pr.ConfirmationNumber) == "" {
		// A guest's token proves the shop, not the order.
		return nil, errNoProof
	}
	o, err := s.Data.PopupOrder(ctx, r.Shop.ID, r.OrderID)
	if app.ErrorCode(err) == app.ENOTFOUND || (err == nil && !o.Known) {
		if s.Fetch != nil && pr.OrderKey != "" {
			// Still 202: the widget asks again once it is processed.
			if err := s.Fetch.FetchUnknownOrder(ctx, r.Shop, r.OrderID, pr.OrderKey); err != nil {
				logging.From(ctx).Warn("fetch an order not delivered yet", "shop_id", r.Shop.ID, "error", err.Error())
			}
		}
		return nil, ErrPending
	}
	if err != nil {
		return nil, err
	}
	if !proves(pr, o) {
		return nil, ErrPending
	}
	if o.Cancelled {
		return nil, app.Errorf(app.ENOTFOUND, "no referral offer for this order")
	}
	if !o.Paid {
		return nil, ErrPending
	}
	p, err := s.Data.Program(ctx, r.Shop)
	if err != nil {
		return nil, err
	}
	if !p.Enabled || !p.Widget.Enabled {
		return nil, app.Errorf(app.ENOTFOUND, "the shop has no referral offer right now")
	}
	if o.CustomerID == "" && o.EmailNorm == "" {
		// The engine makes no advocate of a buyer it cannot know again.
		return nil, app.Errorf(app.ENOTFOUND, "no referral link for an order without a customer or an email")
	}
	adv, err := s.Data.BuyerAdvocate(ctx, r.Shop.ID, o.CustomerID, o.EmailNorm)
	if app.ErrorCode(err) == app.ENOTFOUND {
		return nil, ErrPending
	}
	if err != nil {
		return nil, err
	}
	if adv.FriendCodeState == "failed" {
		return nil, app.Errorf(app.ENOTFOUND, "no referral offer for this order")
	}
	// A code still on its way to the store (pending, creating: the
	// batching stage adds it within seconds) is shown with "ready in a
	// moment": the link works at once (it does not need the code), and
	// the code is the one the store will hold.
	p, cp, err := s.inForce(ctx, r.Shop, p, adv)
	if err != nil {
		return nil, err
	}
	c := Build(p, adv, r.Shop.Name, s.LinkBase, PickLanguage(p.Widget.Language, r.Languages...))
	c.Campaign = CampaignLine(cp, c.Lang, r.Shop.Timezone)
	s.trueTerms(&c, p)
	return &c, nil
}

// ForCustomer returns the popup of a logged-in store customer who is an
// advocate, for the storefront's "Refer a friend" launcher. The platform
// vouches for the customer (a signed app proxy request); ENOTFOUND when the
// customer has no link to share.
func (s *Service) ForCustomer(ctx context.Context, shop *app.Shop, customerID string, languages []string) (*Content, error) {
	p, err := s.Data.Program(ctx, shop)
	if err != nil {
		return nil, err
	}
	if !p.Enabled || !p.Widget.Enabled || !p.Widget.Launcher {
		return nil, app.Errorf(app.ENOTFOUND, "the shop has no referral launcher")
	}
	if customerID == "" {
		return nil, app.Errorf(app.EFORBIDDEN, "log in to see your referral link")
	}
	adv, err := s.Data.AdvocateByCustomer(ctx, shop.ID, customerID)
	if err != nil {
		return nil, err
	}
	if adv.FriendCodeState == "failed" {
		return nil, app.Errorf(app.ENOTFOUND, "no referral link")
	}
	p, cp, err := s.inForce(ctx, shop, p, adv)
	if err != nil {
		return nil, err
	}
	c := Build(p, adv, shop.Name, s.LinkBase, PickLanguage(p.Widget.Language, languages...))
	c.Campaign = CampaignLine(cp, c.Lang, shop.Timezone)
	s.trueTerms(&c, p)
	return &c, nil
}

// proves checks the caller's proof against the order. A session token is
// Shopify's word that the caller is this shop's checkout; when it names a
// customer, that customer must be the buyer; when it does not (a guest), the
// caller must also show the order's confirmation number, which only the
// buyer's thank-you page has. Secrets are compared in constant time.
func proves(pr Proof, o *Order) bool {
	switch {
	case pr.SessionToken && pr.TokenCustomerID != "":
		return pr.TokenCustomerID == o.CustomerID
	case pr.SessionToken:
		got := strings.ToUpper(strings.TrimSpace(pr.ConfirmationNumber))
		want := strings.ToUpper(o.ConfirmationNumber)
		return got != "" && want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
	case pr.OrderKey != "":
		return o.Key != "" && subtle.ConstantTimeCompare([]byte(pr.OrderKey), []byte(o.Key)) == 1
	default:
		e := attribution.NormalizeEmail(pr.Email)
		return e != "" && o.EmailNorm != "" && subtle.ConstantTimeCompare([]byte(e), []byte(o.EmailNorm)) == 1
	}
}

// Build assembles the popup for an advocate.
func Build(p app.Program, adv *app.Advocate, shopName, linkBase, lang string) Content {
	link := linkBase + "/r/" + url.PathEscape(adv.Code)
	texts := Texts(p, lang, shopName, link)
	w := p.Widget
	pending := adv.FriendCodeState != "created"
	if pending {
		texts["code_label"] = codePendingLabel[lang]
	}
	return Content{
		Lang: lang, Texts: texts, Link: link, Code: adv.FriendCode, CodePending: pending,
		Share:   ShareLinks(link, shopName, texts["share_message"], lang),
		Theme:   Theme{Accent: w.AccentColor, Background: w.BackgroundColor, Text: w.TextColor, Position: w.Position},
		CapDays: w.CapDays, Launcher: w.Launcher,
	}
}

// Channels are the share buttons, in the order shown.
var Channels = []string{"email", "sms", "whatsapp", "facebook", "x", "messenger"}

// ShareLinks builds each channel's share URL. Each carries the link tagged
// with its channel (ch=), so clicks are counted per channel. message is the
// share text with the untagged link in it; the tagged one replaces it.
func ShareLinks(link, shopName, message, lang string) []Share {
	out := make([]Share, 0, len(Channels))
	for _, ch := range Channels {
		tagged := link + "?ch=" + ch
		msg := replaceLink(message, link, tagged)
		var u string
		switch ch {
		case "email":
			u = "mailto:?subject=" + pathEscape(shopName) + "&body=" + pathEscape(msg)
		case "sms":
			// "?&body=" is understood by both iOS and Android.
			u = "sms:?&body=" + pathEscape(msg)
		case "whatsapp":
			u = "https://wa.me/?text=" + url.QueryEscape(msg)
		case "facebook":
			u = "https://www.facebook.com/sharer/sharer.php?u=" + url.QueryEscape(tagged)
		case "x":
			u = "https://x.com/intent/post?text=" + url.QueryEscape(replaceLink(message, link, "")) + "&url=" + url.QueryEscape(tagged)
		case "messenger":
			u = "fb-messenger://share/?link=" + url.QueryEscape(tagged)
		}
		out = append(out, Share{Channel: ch, Label: words[lang].channels[ch], URL: u})
	}
	return out
}

// replaceLink puts the tagged link in the message; with "" it drops the
// link and the separator before it, for X, which shows the url itself.
func replaceLink(msg, link, with string) string {
	if with == "" {
		return strings.TrimRight(strings.ReplaceAll(msg, link, ""), " :\u00a0-—")
	}
	return strings.ReplaceAll(msg, link, with)
}

// trueTerms keeps the terms true: the built-in ones say the reward is
// emailed, which holds only when Parrain sends email.
func (s *Service) trueTerms(c *Content, p app.Program) {
	if !s.NoEmail || strings.TrimSpace(p.Widget.Texts[c.Lang]["terms"]) != "" {
		return
	}
	c.Texts["terms"] = strings.NewReplacer("{days}", holdWords(p.HoldingDays, c.Lang)).Replace(termsNoEmail[c.Lang])
}
