// Package events is what Parrain tells a merchant's own tools (Klaviyo,
// Zapier, Slack, Shopify Flow…): the event types, the endpoints a merchant
// subscribes, the Standard Webhooks signature
// (https://www.standardwebhooks.com), the retry schedule and the delivery
// use case. Events are written by the storage adapter in the transaction of
// the state change they report (an outbox); a job delivers each one to each
// subscribed endpoint, at least once.
package events

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parrain/parrain/app"
)

// The event types a merchant can subscribe to (docs/events.md describes
// each payload).
const (
	AdvocateCreated  = "advocate.created"
	ReferralCreated  = "referral.created"
	ReferralApproved = "referral.approved"
	ReferralReversed = "referral.reversed"
	RewardIssued     = "reward.issued"
	RewardRevoked    = "reward.revoked"
	EmailSent        = "email.sent"
)

// Types lists every event type, in the order the console shows them.
var Types = []string{AdvocateCreated, ReferralCreated, ReferralApproved, ReferralReversed, RewardIssued, RewardRevoked, EmailSent}

// Event is one thing that happened, as the outbox stores it. Subject names
// what it is about ("referral:42"): one event per (shop, type, subject),
// ever.
type Event struct {
	ShopID  int64
	Type    string
	Subject string
	// AdvocateID is the advocate the event concerns (0: none), so a
	// customers/redact finds the events that name them.
	AdvocateID int64
	Data       any
	At         time.Time
}

// ID is the event's webhook-id: derived from (shop, type, subject), so the
// same event written again (an engine step retried) has the same id and is
// not stored twice. Base32 of a hash: no '.' (the spec forbids it in ids
// because the signed content is id.timestamp.body).
func ID(shopID int64, typ, subject string) string {
	h := sha256.Sum256([]byte(strconv.FormatInt(shopID, 10) + "\x00" + typ + "\x00" + subject))
	return "msg_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(h[:20]))
}

// Body is the JSON envelope Standard Webhooks recommends.
type Body struct {
	Type      string `json:"type"`
	Timestamp string `json:"timestamp"`
	Data      any    `json:"data"`
}

// SecretPrefix marks a Standard Webhooks symmetric secret.
const SecretPrefix = "whsec_"

// NewSecret returns a fresh signing secret: whsec_ + base64 of 32 random
// bytes (the spec asks for 24 to 64).
func NewSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("new signing secret: %w", err)
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(b), nil
}

// Sign returns the webhook-signature header value for one attempt:
// "v1," + base64(HMAC-SHA256(key, id + "." + timestamp + "." + body)), the
// key being the base64-decoded part of the secret.
func Sign(secret, id string, ts time.Time, body []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil || !strings.HasPrefix(secret, SecretPrefix) {
		return "", fmt.Errorf("signing secret is not whsec_ + base64")
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + strconv.FormatInt(ts.Unix(), 10) + "."))
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil)), nil
}

// Schedule is the delay before each attempt (Standard Webhooks' example
// schedule): immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h:
// retries span a little over a day. An attempt past the last is not made;
// the delivery is failed.
var Schedule = []time.Duration{0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

// DisableAfter is how long an endpoint may fail (no success since its first
// failure) before it is disabled and the merchant told.
const DisableAfter = 24 * time.Hour

// Endpoint is a merchant's destination.
type Endpoint struct {
	ID             int64      `json:"id"`
	URL            string     `json:"url"`
	Description    string     `json:"description"`
	Types          []string   `json:"events"`
	Enabled        bool       `json:"enabled"`
	DisabledReason string     `json:"disabled_reason,omitempty"`
	FailingSince   *time.Time `json:"failing_since,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	// Secret is set only when it is shown: on creation and when an owner
	// reveals it.
	Secret string `json:"secret,omitempty"`
}

// Subscribed reports whether the endpoint wants the type.
func (e Endpoint) Subscribed(typ string) bool { return slices.Contains(e.Types, typ) }

// EndpointInput is what a merchant types.
type EndpointInput struct {
	URL         string   `json:"url"`
	Description string   `json:"description"`
	Types       []string `json:"events"`
}

// Validate checks and normalises the input; EINVALID names the field.
func (in *EndpointInput) Validate() (*url.URL, error) {
	in.URL = strings.TrimSpace(in.URL)
	in.Description = strings.TrimSpace(in.Description)
	u, err := url.Parse(in.URL)
	switch {
	case in.URL == "":
		return nil, app.Errorf(app.EINVALID, "url: required")
	case len(in.URL) > 2000:
		return nil, app.Errorf(app.EINVALID, "url: at most 2000 characters")
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "":
		return nil, app.Errorf(app.EINVALID, "url: must be an http(s) address, like https://hooks.example.com/parrain")
	case u.User != nil:
		return nil, app.Errorf(app.EINVALID, "url: no user name or password in the address (the signature authenticates Parrain)")
	case u.Fragment != "":
		return nil, app.Errorf(app.EINVALID, "url: no #fragment")
	case utf8.RuneCountInString(in.Description) > 200 || !utf8.ValidString(in.Description):
		return nil, app.Errorf(app.EINVALID, "description: at most 200 characters")
	}
	var types []string
	for _, t := range in.Types {
		t = strings.TrimSpace(t)
		if !slices.Contains(Types, t) {
			return nil, app.Errorf(app.EINVALID, "events: unknown event %q (one of %s)", t, strings.Join(Types, ", "))
		}
		if !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	if len(types) == 0 {
		return nil, app.Errorf(app.EINVALID, "events: pick at least one")
	}
	in.Types = types
	return u, nil
}

// Delivery is one event to one endpoint, with its log.
type Delivery struct {
	ID          int64      `json:"id"`
	EventID     string     `json:"event_id"`
	Type        string     `json:"type"`
	State       string     `json:"state"`
	Attempts    int        `json:"attempts"`
	NextAt      *time.Time `json:"next_attempt_at,omitempty"`
	LastStatus  int        `json:"last_status,omitempty"`
	LastError   string     `json:"last_error,omitempty"`
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	Log         []Attempt  `json:"attempts_log"`
}

// Delivery states.
const (
	StatePending   = "pending"
	StateSending   = "sending"
	StateDelivered = "delivered"
	StateFailed    = "failed"
)

// Attempt is one POST and what came back.
type Attempt struct {
	At        time.Time `json:"at"`
	Status    int       `json:"status,omitempty"`
	Response  string    `json:"response,omitempty"`
	Error     string    `json:"error,omitempty"`
	LatencyMS int       `json:"latency_ms"`
}
