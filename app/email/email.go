// Package email decides, renders and sends Parrain's messages to advocates:
// reward earned, a friend ordered, share reminder, reward expiring and
// welcome, in English and French, plain text + HTML.
//
// Every message is decided by a row in the outbox, written in the same
// transaction as the state change that causes it and keyed by kind +
// subject (one "reward earned" per reward, ever). A job then sends it
// (Service.Send): consent, suppressions and limits are checked at that
// moment, the message is rendered and handed to an SMTP server, and the
// row is marked sent, failed or skipped with the reason. The package knows
// nothing of SQL, SMTP libraries or HTTP: it speaks to them through the
// small interfaces below.
package email

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/parrain/parrain/app"
)

// Kind is what a message is about.
type Kind string

// The kinds of message.
const (
	RewardEarned   Kind = "reward_earned"
	FriendOrdered  Kind = "friend_ordered"
	ShareReminder  Kind = "share_reminder"
	RewardExpiring Kind = "reward_expiring"
	Welcome        Kind = "welcome"
	// Test is a merchant's test send of another kind with sample data.
	Test Kind = "test"
)

// Kinds are the kinds a merchant can edit, in the console's order.
var Kinds = []Kind{RewardEarned, FriendOrdered, ShareReminder, RewardExpiring, Welcome}

// Languages are the languages messages are written in.
var Languages = []string{"en", "fr"}

// Marketing says whether the kind needs the customer's marketing consent
// (and stops for an unsubscribed address). Reward earned and friend
// ordered are transactional: they tell the advocate about their own
// reward.
func (k Kind) Marketing() bool { return k == ShareReminder || k == RewardExpiring || k == Welcome }

// Valid says whether k is a kind a merchant can edit.
func (k Kind) Valid() bool {
	for _, x := range Kinds {
		if x == k {
			return true
		}
	}
	return false
}

// Outbox states.
const (
	StateQueued  = "queued"
	StateSent    = "sent"
	StateFailed  = "failed"
	StateSkipped = "skipped"
)

// Template is a merchant's subject and body for one kind and language;
// empty fields use the built-in text.
type Template struct {
	Subject string `json:"subject"`
	Body    string `json:"body"`
}

// Settings are a shop's email settings.
type Settings struct {
	ShopID  int64  `json:"-"`
	ReplyTo string `json:"reply_to"`
	// ReminderAfterDays sends the share reminder that many days after a
	// customer became an advocate without a click on their link; 0 is off.
	ReminderAfterDays int `json:"reminder_after_days"`
	// ExpiringBeforeDays sends the reward-expiring message that many days
	// before an unused reward expires; 0 is off.
	ExpiringBeforeDays int  `json:"expiring_before_days"`
	Welcome            bool `json:"welcome"`
	// Templates[kind][lang] overrides the built-in texts.
	Templates map[Kind]map[string]Template `json:"templates"`
}

// Limits on what a merchant can type.
const (
	maxSubject = 200
	maxBody    = 10_000
	maxDays    = 365
)

// Validate checks the settings; the error names the field.
func (s Settings) Validate() error {
	if s.ReplyTo != "" {
		if a, err := mail.ParseAddress(s.ReplyTo); err != nil || a.Name != "" || a.Address != s.ReplyTo {
			return app.Errorf(app.EINVALID, "reply_to: an email address like support@example.com")
		}
	}
	if s.ReminderAfterDays < 0 || s.ReminderAfterDays > maxDays {
		return app.Errorf(app.EINVALID, "reminder_after_days: 0 (off) to %d", maxDays)
	}
	if s.ExpiringBeforeDays < 0 || s.ExpiringBeforeDays > maxDays {
		return app.Errorf(app.EINVALID, "expiring_before_days: 0 (off) to %d", maxDays)
	}
	for k, byLang := range s.Templates {
		if !k.Valid() {
			return app.Errorf(app.EINVALID, "templates: unknown kind %q", k)
		}
		for lang, t := range byLang {
			if lang != "en" && lang != "fr" {
				return app.Errorf(app.EINVALID, "templates.%s: unknown language %q (en, fr)", k, lang)
			}
			if len(t.Subject) > maxSubject || strings.ContainsAny(t.Subject, "\r\n") {
				return app.Errorf(app.EINVALID, "templates.%s.%s.subject: one line, at most %d characters", k, lang, maxSubject)
			}
			if len(t.Body) > maxBody {
				return app.Errorf(app.EINVALID, "templates.%s.%s.body: at most %d characters", k, lang, maxBody)
			}
			if err := checkPlaceholders(t.Subject + " " + t.Body); err != nil {
				return app.Errorf(app.EINVALID, "templates.%s.%s: %s", k, lang, err)
			}
		}
	}
	return nil
}

// Item is one outbox row.
type Item struct {
	ID         int64
	ShopID     int64
	Kind       Kind
	SubjectKey string
	AdvocateID int64
	State      string
	Reason     string
	To         string
	Lang       string
	Subject    string
	MessageID  string
	Attempts   int
	LastError  string
	CreatedAt  time.Time
	SentAt     *time.Time
}

// Facts are what a message is rendered from and decided on, gathered
// when it is sent.
type Facts struct {
	Shop     app.Shop
	Program  app.Program
	Advocate app.Advocate
	// Locale is the advocate's latest order's language ("fr", "fr-CA"),
	// "" when the store does not say.
	Locale string
	// Consent is the advocate's marketing consent as their latest order
	// said it.
	Consent      bool
	Unsubscribed bool
	Bounced      bool
	Reward       *app.Reward
	// RewardUsed says an order was placed with the reward's code.
	RewardUsed bool
	// Friend is the friend who ordered ("Bob M."), HoldUntil when the
	// reward comes, ReferralState its state now.
	Friend        string
	HoldUntil     time.Time
	ReferralState string
	// Offer is the referral's stored offer (referrals.offer): what its
	// reward will be, whatever the program or a campaign says by the time
	// the email goes. Nil for a referral made before offers were stored:
	// its reward follows the program.
	Offer *app.OfferTerms
}

// Rendered is a message ready to send.
type Rendered struct {
	Lang    string
	Subject string
	Text    string
	HTML    string
}

// Message is what the SMTP adapter sends.
type Message struct {
	FromName, FromAddr string
	To                 string
	ReplyTo            string
	MessageID          string // without angle brackets
	Subject            string
	Text, HTML         string
	// Unsubscribe is the one-click URL (RFC 8058), marketing only.
	Unsubscribe string
	Date        time.Time
}

// DeliveryError is an SMTP server's answer refusing a message, or a
// failure to reach it. Permanent is a 5xx: retrying will not help.
type DeliveryError struct {
	Permanent bool
	Code      int
	Enhanced  string
	Text      string
}

func (e *DeliveryError) Error() string { return e.Text }

// HardBounce says whether the refusal is about the address itself (a
// mailbox that does not exist), which suppresses it: 550/551/553 or an
// enhanced 5.1.x status.
func (e *DeliveryError) HardBounce() bool {
	if !e.Permanent {
		return false
	}
	return e.Code == 550 || e.Code == 551 || e.Code == 553 || strings.HasPrefix(e.Enhanced, "5.1.")
}

// Sender hands a message to the SMTP server.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// AdvocateLinker gives the advocate's own page (a signed link) for the
// emails; nil, or an empty URL, leaves the link out.
type AdvocateLinker interface {
	AdvocateURL(ctx context.Context, shopID, advocateID int64) (string, error)
}

// Store is the outbox's storage.
type Store interface {
	Item(ctx context.Context, id int64) (*Item, error)
	Facts(ctx context.Context, it *Item) (*Facts, error)
	Settings(ctx context.Context, shopID int64) (Settings, error)
	// MarkSent records the message as sent, with its "email.sent" event
	// in the same transaction. A row no longer queued is left alone.
	MarkSent(ctx context.Context, id int64, to string, r Rendered, at time.Time) error
	// MarkSkipped and MarkFailed end a queued row; MarkFailed with
	// suppress records the address as bounced in the same transaction.
	MarkSkipped(ctx context.Context, id int64, to, lang, reason string) error
	MarkFailed(ctx context.Context, id int64, to, lang, reason string, suppress bool) error
	// RecordAttempt counts a failed attempt that will be retried.
	RecordAttempt(ctx context.Context, id int64, lastErr string) error
}

// Limiter counts sends in fixed windows (app/ratelimit).
type Limiter interface {
	Allow(ctx context.Context, key string, limit int, window time.Duration) bool
}

// Deferred is a send held back by a limit: the job tries again after
// Delay without counting a failure.
type Deferred struct{ Delay time.Duration }

func (d *Deferred) Error() string {
	return fmt.Sprintf("email held back by a send limit for %s", d.Delay)
}
func (d *Deferred) RetryDelay() time.Duration { return d.Delay }
