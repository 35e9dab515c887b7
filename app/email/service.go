package email

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/attribution"
	"github.com/parrain/parrain/app/logging"
	"github.com/parrain/parrain/app/popup"
)

// Service sends outbox rows.
type Service struct {
	Store   Store
	Sender  Sender
	Links   AdvocateLinker // optional
	Limiter Limiter        // optional
	Now     func() time.Time
	// FromAddr is EMAIL_FROM's address; the sender name is the shop's.
	FromAddr string
	// AppURL is the public origin: referral links and unsubscribe URLs.
	AppURL string
	// TokenKey signs unsubscribe links.
	TokenKey []byte
	// PerRecipientPerHour and PerShopPerMinute bound sends; 0 is no limit.
	PerRecipientPerHour int
	PerShopPerMinute    int
	// AfterSend, when set, runs after the server accepted a message and
	// before it is recorded: tests use it to crash at the worst moment.
	AfterSend func()
	// Campaigns, when set, gives the campaign in force: {campaign},
	// {friend_offer} and an unissued {value} then say its offer.
	Campaigns popup.Campaigns
	// InForce, when set, is the program in force for the advocate now
	// (the engine's offer policies: an A/B arm, then the campaign), so
	// {friend_offer} and an unissued {value} say what the advocate's
	// friend code carries, like the popup. It applies the campaign itself.
	InForce func(ctx context.Context, shop *app.Shop, p app.Program, adv *app.Advocate, at time.Time) (app.Program, app.OfferSource, error)
}

// Reasons a message is not sent, as the console shows them.
const (
	ReasonNoConsent    = "no consent"
	ReasonUnsubscribed = "unsubscribed"
	ReasonBounced      = "bounced"
	ReasonNoAddress    = "no email address"
)

// Send sends one outbox row. Safe to run again at any point: a row no
// longer queued is left alone, and a crash between the server's acceptance
// and the commit sends it again with the same Message-ID (docs/email.md).
// final is the job's last attempt: a temporary failure then marks the row
// failed instead of asking for a retry.
func (s *Service) Send(ctx context.Context, id int64, final bool) error {
	it, err := s.Store.Item(ctx, id)
	if err != nil {
		if app.ErrorCode(err) == app.ENOTFOUND {
			return nil // the shop or advocate was erased since
		}
		return err
	}
	if it.State != StateQueued {
		return nil
	}
	f, err := s.Store.Facts(ctx, it)
	if err != nil {
		return err
	}
	to := f.Advocate.Email
	if it.Kind == Test {
		to = it.To
	}
	lang := popup.PickLanguage("", f.Locale, f.Program.Widget.Language)
	if it.Kind == Test && it.Lang != "" {
		lang = it.Lang
	}
	if reason := s.skip(it, f, to); reason != "" {
		return s.Store.MarkSkipped(ctx, id, to, lang, reason)
	}
	if s.Limiter != nil {
		norm := attribution.NormalizeEmail(to)
		if s.PerRecipientPerHour > 0 && !s.Limiter.Allow(ctx, "email:to:"+strconv.FormatInt(it.ShopID, 10)+":"+norm, s.PerRecipientPerHour, time.Hour) {
			return &Deferred{Delay: 10 * time.Minute}
		}
		if s.PerShopPerMinute > 0 && !s.Limiter.Allow(ctx, "email:shop:"+strconv.FormatInt(it.ShopID, 10), s.PerShopPerMinute, time.Minute) {
			return &Deferred{Delay: 15 * time.Second}
		}
	}
	st, err := s.Store.Settings(ctx, it.ShopID)
	if err != nil {
		return err
	}
	m, r, err := s.Compose(ctx, it, f, st, lang, to)
	if err != nil {
		return err
	}
	if err := s.Sender.Send(ctx, m); err != nil {
		var de *DeliveryError
		if errors.As(err, &de) && de.Permanent {
			return s.Store.MarkFailed(ctx, id, to, lang, de.Text, de.HardBounce())
		}
		if final {
			return s.Store.MarkFailed(ctx, id, to, lang, "gave up after repeated temporary failures: "+err.Error(), false)
		}
		if rerr := s.Store.RecordAttempt(ctx, id, err.Error()); rerr != nil {
			logging.From(ctx).Warn("record email attempt", "outbox_id", id, "error", rerr.Error())
		}
		return fmt.Errorf("send email %d: %w", id, err)
	}
	if s.AfterSend != nil {
		s.AfterSend()
	}
	return s.Store.MarkSent(ctx, id, to, r, s.Now())
}

// skip says why a message is not to be sent, or "".
func (s *Service) skip(it *Item, f *Facts, to string) string {
	switch {
	case strings.TrimSpace(to) == "":
		return ReasonNoAddress
	case f.Bounced:
		// A hard bounce stops everything, transactional messages too.
		return ReasonBounced
	case it.Kind.Marketing() && f.Unsubscribed:
		return ReasonUnsubscribed
	case it.Kind.Marketing() && !f.Consent:
		return ReasonNoConsent
	case it.Kind == RewardExpiring && f.Reward != nil && (f.Reward.State != app.RewardIssued || f.RewardUsed):
		return "the reward was used or revoked"
	case it.Kind == RewardEarned && f.Reward != nil && f.Reward.State != app.RewardIssued:
		return "the reward was revoked"
	}
	return ""
}

// Compose renders the message of an outbox row for to in lang.
func (s *Service) Compose(ctx context.Context, it *Item, f *Facts, st Settings, lang, to string) (Message, Rendered, error) {
	kind := it.Kind
	if kind == Test {
		kind = Kind(it.SubjectKey)
	}
	v := s.values(ctx, it, f, lang)
	var footer []string
	unsub := ""
	if kind.Marketing() && it.Kind != Test {
		unsub = strings.TrimRight(s.AppURL, "/") + "/email/unsubscribe/" + url.PathEscape(UnsubscribeToken(s.TokenKey, it.ID))
		if lang == "fr" {
			footer = []string{"Ne plus recevoir ces e-mails : " + unsub}
		} else {
			footer = []string{"Stop these emails: " + unsub}
		}
	}
	r := Render(kind, lang, st.Templates[kind][lang], v, footer...)
	if it.Kind == Test {
		r.Subject = "[TEST] " + r.Subject
	}
	name := f.Shop.Name
	if name == "" {
		name = f.Shop.Domain
	}
	domain := "parrain.invalid"
	if i := strings.LastIndexByte(s.FromAddr, '@'); i >= 0 {
		domain = s.FromAddr[i+1:]
	}
	return Message{
		FromName: name, FromAddr: s.FromAddr, To: to, ReplyTo: st.ReplyTo, MessageID: it.MessageID + "@" + domain,
		Subject: r.Subject, Text: r.Text, HTML: r.HTML, Unsubscribe: unsub, Date: s.Now(),
	}, r, nil
}

func (s *Service) values(ctx context.Context, it *Item, f *Facts, lang string) Values {
	p := f.Program
	var campaign string
	var c *app.Campaign
	if s.Campaigns != nil && f.Shop.ID != 0 {
		var err error
		if c, err = s.Campaigns.Current(ctx, f.Shop.ID); err != nil {
			logging.From(ctx).Warn("campaign in force", "shop_id", f.Shop.ID, "error", err.Error())
			c = nil
		} else if c != nil {
			campaign = popup.CampaignLine(c, lang, f.Shop.Timezone)
		}
	}
	shaped := false
	if s.InForce != nil && f.Shop.ID != 0 {
		// The engine's policies apply the campaign themselves: applying
		// it here again would add an "add" campaign twice.
		adv := f.Advocate
		if in, _, err := s.InForce(ctx, &f.Shop, p, &adv, s.Now()); err != nil {
			// The message still goes, with the standing offer and the
			// campaign: the policies' store failing must not stop it.
			logging.From(ctx).Warn("offer in force", "shop_id", f.Shop.ID, "advocate_id", f.Advocate.ID, "error", err.Error())
		} else {
			p, shaped = in, true
		}
	}
	if !shaped && c != nil {
		p = c.Apply(p)
	}
	name := f.Shop.Name
	if name == "" {
		name = f.Shop.Domain
	}
	v := Values{
		"first_name": f.Advocate.FirstName, "shop": name, "friend_offer": popup.FriendOffer(p, lang),
		"value": popup.Reward(p, lang), "friend_code": f.Advocate.FriendCode, "friend": f.Friend,
		"campaign": campaign,
	}
	if f.Advocate.Code != "" {
		v["link"] = strings.TrimRight(s.AppURL, "/") + "/r/" + url.PathEscape(f.Advocate.Code)
	}
	if o := f.Offer; o != nil {
		// The friend ordered under these terms: the reward to come is
		// built from them, not from the program or campaign of today.
		v["value"] = RewardValue(o.Reward.Kind, o.Reward.Percent, o.Reward.AmountMinor, o.Currency, lang)
	}
	if rw := f.Reward; rw != nil {
		// An issued reward says its own amount (a campaign's, a
		// milestone bonus), as the store's code gives it.
		v["code"] = rw.Code
		v["value"] = RewardValue(rw.Kind, rw.Percent, rw.AmountMinor, rw.Currency, lang)
		if rw.Kind == app.OfferStoreCredit {
			// What lands on the account, in the advocate's currency
			// when it was credited in it.
			c := rw.Credited()
			v["value"] = RewardValue(rw.Kind, rw.Percent, c.Minor, c.Currency, lang)
			// No code to enter: the credit is on the account.
			v["code"], v[StoreCreditKey] = "", "1"
		}
		if rw.ExpiresAt != nil {
			v["expiry"] = FormatDate(*rw.ExpiresAt, lang)
		}
	}
	if !f.HoldUntil.IsZero() {
		v["reward_date"] = FormatDate(f.HoldUntil, lang)
	}
	if s.Links != nil && f.Advocate.ID != 0 {
		u, err := s.Links.AdvocateURL(ctx, it.ShopID, f.Advocate.ID)
		if err != nil {
			logging.From(ctx).Warn("advocate page link", "advocate_id", f.Advocate.ID, "error", err.Error())
		}
		v["advocate_page"] = u
	}
	return v
}

// Sample are made-up facts for a preview or a test send.
func Sample(shop app.Shop, p app.Program, now time.Time) *Facts {
	exp := now.AddDate(0, 0, 90)
	return &Facts{
		Shop: shop, Program: p, Consent: true,
		Advocate: app.Advocate{FirstName: "Marie", Code: "MARIE-SAMPLE", FriendCode: "FRIEND-MARIE-SAMPLE"},
		Reward: &app.Reward{Code: "THANKS-SAMPLE", Kind: p.RewardKind, Percent: p.RewardPercent, AmountMinor: p.RewardAmountMinor,
			Currency: p.Currency, ExpiresAt: &exp, State: app.RewardIssued},
		Friend: "Bob M.", HoldUntil: now.AddDate(0, 0, p.HoldingDays),
	}
}

// Preview renders a kind in a language with sample data and the merchant's
// settings (or the template being edited).
func (s *Service) Preview(ctx context.Context, shop app.Shop, p app.Program, st Settings, k Kind, lang string) Rendered {
	f := Sample(shop, p, s.Now())
	it := &Item{ShopID: shop.ID, Kind: k}
	v := s.values(ctx, it, f, lang)
	if v["advocate_page"] == "" && s.Links != nil {
		v["advocate_page"] = strings.TrimRight(s.AppURL, "/") + "/a/sample"
	}
	return Render(k, lang, st.Templates[k][lang], v)
}
