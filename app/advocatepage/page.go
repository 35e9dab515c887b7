// Package advocatepage is the advocate's own page: their link and code with
// the popup's share buttons, clicks, the friends who ordered, each referral
// in plain words with its date, each reward with its code and expiry. It
// decides who may see a page (a signed, expiring, revocable link; a customer
// the store vouches for) and what each state reads as. It knows nothing of
// HTTP or storage.
package advocatepage

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // shops' time zones, also where the system has no zoneinfo

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/attribution"
	"github.com/parrain/parrain/app/popup"
)

// Record is what storage knows of one advocate for the page, read within
// the advocate's shop.
type Record struct {
	Advocate   app.Advocate
	Generation int
	Clicks     int64
	// Referrals are the friends' orders, newest first.
	Referrals []ReferralRecord
	// Approved is the advocate's approved referrals that stand (the
	// milestone ladder's count); MilestoneRewards their milestone bonuses.
	Approved         int
	MilestoneRewards []app.Reward
}

// ReferralRecord is one friend's order and what became of it.
type ReferralRecord struct {
	ID            int64
	FriendFirst   string
	FriendInitial string
	OrderedAt     time.Time
	State         string
	Reason        string
	Decision      []byte // attribution.Decision as stored
	HoldUntil     time.Time
	// Reward is nil until the referral is approved.
	Reward *app.Reward
}

// Data is the storage the page reads and the revocation it writes. Every
// method is scoped to the shop.
type Data interface {
	Program(ctx context.Context, shop *app.Shop) (app.Program, error)
	AdvocateByCustomer(ctx context.Context, shopID int64, customerID string) (*app.Advocate, error)
	// AdvocatePage returns the advocate's record, ENOTFOUND when the
	// advocate is not the shop's.
	AdvocatePage(ctx context.Context, shopID, advocateID int64) (*Record, error)
	// PageGeneration is the advocate's current link generation.
	PageGeneration(ctx context.Context, shopID, advocateID int64) (int, error)
	// RevokePageLinks adds one to the advocate's generation and returns it.
	RevokePageLinks(ctx context.Context, shopID, advocateID int64) (int, error)
}

// Shops finds a token's shop.
type Shops interface {
	ShopByID(ctx context.Context, id int64) (*app.Shop, error)
}

// Line is one referral as the advocate reads it.
type Line struct {
	Friend  string
	Ordered string
	Status  string
	// Kind is waiting, review, rewarded or not_counted (for styling).
	Kind string
}

// RewardLine is one reward as the advocate reads it.
type RewardLine struct {
	Code    string
	Value   string
	Expires string
	Status  string
}

// Page is everything the page shows.
type Page struct {
	Lang     string
	ShopName string
	Title    string
	// Link and Code are empty while the friend code is not in the store.
	Link  string
	Code  string
	Share []popup.Share
	Offer string
	// Campaign says a campaign runs and until when ("" when none).
	Campaign  string
	Clicks    int64
	Ordered   int
	Referrals []Line
	Rewards   []RewardLine
	// Milestone is the progress toward the next milestone ("2 of 3
	// friends toward your 20,00 € bonus"), "" without a ladder.
	Milestone string
	// T holds the page's labels in Lang.
	T map[string]string
}

// Service answers page requests and makes page links.
type Service struct {
	Data  Data
	Shops Shops
	Keys  Keys
	// LinkBase is the app's public URL: referral links are LinkBase/r/CODE
	// and page links LinkBase/a/TOKEN.
	LinkBase string
	// LinkTTL is how long a page link works (default 90 days).
	LinkTTL time.Duration
	Now     func() time.Time
	// Campaigns, when set, gives the campaign in force: the page shows
	// its offer and until when it runs.
	Campaigns popup.Campaigns
	// InForce, when set, is the program in force for the advocate now
	// (the engine's offer policies: an A/B arm, then the campaign), so
	// the page states the offer their friend code carries, like the
	// popup does. It applies the campaign itself.
	InForce func(ctx context.Context, shop *app.Shop, p app.Program, adv *app.Advocate, at time.Time) (app.Program, app.OfferSource, error)
}

func (s *Service) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// ByToken returns the page a link opens. ErrInvalidToken, ErrExpiredToken
// and ErrRevokedToken show no data; an uninstalled shop's links stop
// working (ErrRevokedToken).
func (s *Service) ByToken(ctx context.Context, token string, languages []string) (*Page, error) {
	c, err := Verify(s.Keys, token, s.now())
	if err != nil {
		return nil, err
	}
	shop, err := s.Shops.ShopByID(ctx, c.ShopID)
	if app.ErrorCode(err) == app.ENOTFOUND || (err == nil && shop.Status != app.ShopInstalled) {
		return nil, ErrRevokedToken
	}
	if err != nil {
		return nil, err
	}
	rec, err := s.Data.AdvocatePage(ctx, shop.ID, c.AdvocateID)
	if app.ErrorCode(err) == app.ENOTFOUND {
		return nil, ErrRevokedToken
	}
	if err != nil {
		return nil, err
	}
	if rec.Generation != c.Generation {
		return nil, ErrRevokedToken
	}
	return s.build(ctx, shop, rec, languages)
}

// ForCustomer returns the page of a store customer the platform vouches for
// (Shopify's signed app proxy, the WooCommerce plugin's signed link).
// EFORBIDDEN when nobody is logged in, ENOTFOUND when the customer is not an
// advocate.
func (s *Service) ForCustomer(ctx context.Context, shop *app.Shop, customerID string, languages []string) (*Page, error) {
	if customerID == "" {
		return nil, app.Errorf(app.EFORBIDDEN, "log in to see your referrals")
	}
	adv, err := s.Data.AdvocateByCustomer(ctx, shop.ID, customerID)
	if err != nil {
		return nil, err
	}
	rec, err := s.Data.AdvocatePage(ctx, shop.ID, adv.ID)
	if err != nil {
		return nil, err
	}
	return s.build(ctx, shop, rec, languages)
}

// AdvocateURL returns a fresh page link for the advocate (for emails and the
// console): signed, expiring after LinkTTL, of the advocate's current
// generation. Append ?lang=fr to open it in French.
func (s *Service) AdvocateURL(ctx context.Context, shopID, advocateID int64) (string, error) {
	gen, err := s.Data.PageGeneration(ctx, shopID, advocateID)
	if err != nil {
		return "", err
	}
	ttl := s.LinkTTL
	if ttl <= 0 {
		ttl = 90 * 24 * time.Hour
	}
	tok, err := Sign(s.Keys, Claims{ShopID: shopID, AdvocateID: advocateID, Generation: gen, Expires: s.now().Add(ttl)})
	if err != nil {
		return "", err
	}
	return strings.TrimRight(s.LinkBase, "/") + "/a/" + tok, nil
}

// Revoke makes every page link of the advocate signed so far stop working.
func (s *Service) Revoke(ctx context.Context, shopID, advocateID int64) error {
	_, err := s.Data.RevokePageLinks(ctx, shopID, advocateID)
	return err
}

func (s *Service) build(ctx context.Context, shop *app.Shop, rec *Record, languages []string) (*Page, error) {
	p, err := s.Data.Program(ctx, shop)
	if err != nil {
		return nil, err
	}
	lang := popup.PickLanguage(p.Widget.Language, languages...)
	name := shop.Name
	if name == "" {
		name = shop.Domain
	}
	loc := time.UTC
	if l, err := time.LoadLocation(shop.Timezone); err == nil && shop.Timezone != "" {
		loc = l
	}
	var cp *app.Campaign
	if s.Campaigns != nil {
		if cp, err = s.Campaigns.Current(ctx, shop.ID); err != nil {
			return nil, err
		}
	}
	if s.InForce != nil {
		// The engine's policies apply the campaign themselves: applying
		// it here again would add an "add" campaign twice.
		adv := rec.Advocate
		if p, _, err = s.InForce(ctx, shop, p, &adv, s.now()); err != nil {
			return nil, err
		}
	} else if cp != nil {
		p = cp.Apply(p)
	}
	pg := Build(p, rec, name, strings.TrimRight(s.LinkBase, "/"), lang, loc, s.now())
	if pg.Offer != "" {
		pg.Campaign = popup.CampaignLine(cp, lang, shop.Timezone)
	}
	return &pg, nil
}

// Build assembles the page of one advocate in lang, dates in loc.
func Build(p app.Program, rec *Record, shopName, linkBase, lang string, loc *time.Location, now time.Time) Page {
	shop := []string{"{shop}", shopName}
	pg := Page{Lang: lang, ShopName: shopName, Title: Text(lang, "title", shop...), Clicks: rec.Clicks, T: map[string]string{}}
	for k := range texts["en"] {
		pg.T[k] = Text(lang, k, shop...)
	}
	adv := rec.Advocate
	if adv.FriendCodeState == "created" && p.Enabled {
		c := popup.Build(p, &adv, shopName, linkBase, lang)
		pg.Link, pg.Code, pg.Share, pg.Offer = c.Link, c.Code, c.Share, c.Texts["offer"]
	}
	for _, r := range rec.Referrals {
		pg.Referrals = append(pg.Referrals, line(r, shopName, lang, loc, now))
		if r.State != app.ReferralRejected && r.State != app.ReferralReversed {
			pg.Ordered++
		}
		if w := r.Reward; w != nil {
			pg.Rewards = append(pg.Rewards, rewardLine(*w, shopName, lang, loc, now))
		}
	}
	for _, w := range rec.MilestoneRewards {
		rl := rewardLine(w, shopName, lang, loc, now)
		rl.Value = Text(lang, "bonus_value", "{value}", rl.Value, "{n}", strconv.Itoa(w.MilestoneFriends))
		pg.Rewards = append(pg.Rewards, rl)
	}
	if len(p.Milestones) > 0 {
		prog := app.ProgressOn(p.Milestones, rec.Approved)
		if m := prog.Next; m != nil {
			value := popup.Percent(m.Percent, lang)
			if m.Kind == app.OfferFixed {
				value = popup.FormatMoney(app.Money{Minor: m.AmountMinor, Currency: p.Currency}, lang)
			}
			pg.Milestone = Text(lang, "milestone", "{have}", strconv.Itoa(rec.Approved), "{need}", strconv.Itoa(m.Friends), "{value}", value)
		} else {
			pg.Milestone = Text(lang, "milestone_all")
		}
	}
	return pg
}

// Friend is how a friend is named to the advocate: first name and initial
// ("Bob M."), never the email.
func Friend(first, initial, lang string) string {
	first = strings.TrimSpace(first)
	if first == "" {
		return Text(lang, "friend")
	}
	if initial != "" {
		return first + " " + initial + "."
	}
	return first
}

func line(r ReferralRecord, shopName, lang string, loc *time.Location, now time.Time) Line {
	date := func(t time.Time) string { return FormatDate(t, loc, lang) }
	l := Line{Friend: Friend(r.FriendFirst, r.FriendInitial, lang), Ordered: Text(lang, "ordered_on", "{date}", date(r.OrderedAt))}
	shop := "{shop}"
	switch r.State {
	case app.ReferralPending:
		l.Kind = "waiting"
		if now.Before(r.HoldUntil) {
			l.Status = Text(lang, "waiting", "{date}", date(r.HoldUntil))
		} else {
			l.Status = Text(lang, "approving")
		}
	case app.ReferralNeedsReview:
		l.Kind, l.Status = "waiting", Text(lang, "review", shop, shopName)
	case app.ReferralApproved, app.ReferralRewarded:
		l.Kind, l.Status = "waiting", Text(lang, "approved")
		if w := r.Reward; w != nil {
			switch w.State {
			case app.RewardIssued:
				l.Kind, l.Status = "rewarded", Text(lang, "rewarded", "{code}", w.Code)
				if w.Kind == app.OfferStoreCredit {
					// No code: the credit is on the advocate's account.
					l.Status = Text(lang, "rewarded_credit", "{value}", rewardValue(*w, lang))
				}
			case app.RewardFailed:
				l.Status = Text(lang, "reward_trouble", shop, shopName)
			case app.RewardRevoked:
				l.Kind, l.Status = "not_counted", Text(lang, "reward_cancelled", "{code}", w.Code)
			}
		}
	default: // rejected, reversed
		l.Kind = "not_counted"
		l.Status = Text(lang, "not_counted", "{reason}", Text(lang, whyNot(r), shop, shopName))
	}
	return l
}

// whyNot names, in the advocate's terms, why a referral does not count. A
// reversal's reason is the engine's (referrals.Engine: "order cancelled",
// "order fully refunded", "partial refund took the order to …"); a
// rejection's is its first failing rule (attribution.Evaluate), or support's
// decision when no rule failed. Support's own words and the rules' details
// (another customer's address, IP counts) are not for the advocate.
func whyNot(r ReferralRecord) string {
	if r.State == app.ReferralReversed {
		switch {
		case strings.HasPrefix(r.Reason, "order cancelled"):
			return "r_cancelled"
		case strings.HasPrefix(r.Reason, "partial refund"):
			return "r_part_refunded"
		}
		return "r_refunded"
	}
	var d attribution.Decision
	if json.Unmarshal(r.Decision, &d) == nil {
		for _, o := range d.Outcomes {
			if o.Passed || o.Effect != "reject" {
				continue
			}
			switch o.Rule {
			case "self-referral":
				return "r_own"
			case "new customer":
				return "r_not_new"
			case "minimum order":
				return "r_minimum"
			case "not a test order":
				return "r_test"
			case "sales channel":
				return "r_channel"
			case "advocate cap":
				return "r_cap"
			}
		}
	}
	return "r_shop"
}

func rewardLine(w app.Reward, shopName, lang string, loc *time.Location, now time.Time) RewardLine {
	shop := []string{"{shop}", shopName}
	rl := RewardLine{Code: w.Code, Expires: Text(lang, "no_expiry"), Value: rewardValue(w, lang)}
	if w.Kind == app.OfferStoreCredit {
		rl.Code = Text(lang, "on_account")
	}
	if w.ExpiresAt != nil {
		rl.Expires = FormatDate(*w.ExpiresAt, loc, lang)
	}
	switch {
	case w.State == app.RewardRevoked:
		rl.Status = Text(lang, "s_revoked")
	case w.State == app.RewardFailed:
		rl.Status = Text(lang, "s_trouble", shop...)
	case w.State == app.RewardIssuing:
		rl.Status = Text(lang, "s_issuing")
		rl.Code = "…"
	case w.ExpiresAt != nil && !now.Before(*w.ExpiresAt):
		rl.Status = Text(lang, "s_expired")
	default:
		rl.Status = Text(lang, "s_ready")
	}
	return rl
}

// rewardValue is a reward's value in the advocate's language: the amount
// is in the shop's currency, written the language's way.
func rewardValue(w app.Reward, lang string) string {
	if w.Kind == app.OfferPercent {
		return popup.Percent(w.Percent, lang)
	}
	// Credited: a store credit in the advocate's own currency says that.
	return popup.RewardValue(w.Kind, w.Percent, w.Credited(), lang)
}
