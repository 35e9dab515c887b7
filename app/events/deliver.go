package events

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parrain/parrain/app/netguard"
)

// Claimed is a delivery a worker holds for one attempt.
type Claimed struct {
	DeliveryID int64
	ShopID     int64
	EndpointID int64
	URL        string
	Secret     string
	EventID    string
	Body       []byte
	// Attempts made before this one: the claim's token (Record applies
	// only while it still holds).
	Attempts     int
	FailingSince *time.Time
}

// Outcome is what an attempt did, recorded in one transaction: the log
// row, the delivery's next state, the endpoint's health.
type Outcome struct {
	At        time.Time
	Status    int
	Response  string
	Error     string
	Latency   time.Duration
	Delivered bool
	// NextAt is when to try again; nil with !Delivered: failed for good.
	NextAt *time.Time
	// Disable, when set, disables the endpoint with this reason and tells
	// the merchant.
	Disable string
}

// DeliveryStore is the storage the deliverer needs.
type DeliveryStore interface {
	// Claim takes the delivery for one attempt until now+lease when it is
	// due (pending and next_at passed, or a lapsed claim); nil when there
	// is nothing to do. A delivery whose endpoint was disabled or deleted
	// is failed instead, and nil returned.
	Claim(ctx context.Context, deliveryID int64, now time.Time, lease time.Duration) (*Claimed, error)
	Record(ctx context.Context, c *Claimed, o Outcome) error
}

// Request is one signed POST.
type Request struct {
	URL       string
	ID        string
	Timestamp time.Time
	Signature string
	Body      []byte
}

// Response is what the endpoint answered (Err: no answer).
type Response struct {
	Status     int
	Excerpt    string
	RetryAfter time.Duration
	Err        error
}

// Sender makes the POST.
type Sender interface {
	Send(ctx context.Context, r Request) Response
}

// Deliverer makes one attempt of one delivery.
type Deliverer struct {
	Store  DeliveryStore
	Sender Sender
	Now    func() time.Time
	// Schedule and DisableAfter default to the package's; tests shorten
	// them.
	Schedule     []time.Duration
	DisableAfter time.Duration
	// Lease is how long a claim holds (longer than the sender's timeout):
	// a worker that dies mid-attempt leaves the delivery to be claimed
	// again after it, so the event is sent at least once.
	Lease time.Duration
}

// Deliver makes the attempt of delivery id if it is due. An endpoint's
// failure is not the job's failure: the next attempt is scheduled in the
// row and the job succeeds.
func (d *Deliverer) Deliver(ctx context.Context, id int64) error {
	now := d.Now()
	lease := d.Lease
	if lease == 0 {
		lease = time.Minute
	}
	c, err := d.Store.Claim(ctx, id, now, lease)
	if err != nil || c == nil {
		return err
	}
	sig, err := Sign(c.Secret, c.EventID, now, c.Body)
	if err != nil {
		return fmt.Errorf("sign delivery %d: %w", id, err)
	}
	res := d.Sender.Send(ctx, Request{URL: c.URL, ID: c.EventID, Timestamp: now, Signature: sig, Body: c.Body})
	end := d.Now()
	o := Outcome{At: now, Status: res.Status, Response: res.Excerpt, Latency: end.Sub(now)}
	if res.Err != nil {
		o.Error = res.Err.Error()
	}
	if res.Err == nil && res.Status >= 200 && res.Status < 300 {
		o.Delivered = true
		return d.Store.Record(ctx, c, o)
	}
	if o.Error == "" {
		o.Error = fmt.Sprintf("answered %d", res.Status)
	}
	o.NextAt, o.Disable = d.next(c, end, res)
	return d.Store.Record(ctx, c, o)
}

// next decides the failed attempt's sequel: when to try again, and whether
// the endpoint has failed long enough to be disabled.
func (d *Deliverer) next(c *Claimed, now time.Time, res Response) (*time.Time, string) {
	sched, after := d.Schedule, d.DisableAfter
	if sched == nil {
		sched = Schedule
	}
	if after == 0 {
		after = DisableAfter
	}
	var next *time.Time
	if n := c.Attempts + 1; n < len(sched) {
		t := now.Add(max(sched[n], min(res.RetryAfter, 24*time.Hour)))
		next = &t
	}
	since := now
	if c.FailingSince != nil {
		since = *c.FailingSince
	}
	switch {
	case res.Status == http.StatusGone:
		// Standard Webhooks: 410 means the receiver wants no more.
		return nil, "the endpoint answered 410 Gone"
	case now.Sub(since) >= after:
		return next, "no successful delivery since " + since.UTC().Format(time.RFC3339) + " (" + roundDuration(now.Sub(since)) + ")"
	}
	return next, ""
}

func roundDuration(d time.Duration) string {
	if d >= time.Hour {
		return d.Round(time.Hour).String()
	}
	return d.Round(time.Millisecond).String()
}

// HTTPSender posts through a client that refuses private destinations
// (netguard) unless allowed, and follows no redirect (Standard Webhooks:
// a 3xx is a failure; following it would also step around the guard's
// early check).
type HTTPSender struct{ Client *http.Client }

// NewHTTPSender returns the production sender: netguard's client, 15 s
// timeout (the spec's 15–30 s), no redirects.
func NewHTTPSender(allowPrivate bool) *HTTPSender {
	c := netguard.NewHTTPClient(allowPrivate)
	c.Timeout = 15 * time.Second
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &HTTPSender{Client: c}
}

// Send implements Sender.
func (s *HTTPSender) Send(ctx context.Context, r Request) Response {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return Response{Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Parrain-Events/1")
	req.Header.Set("webhook-id", r.ID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(r.Timestamp.Unix(), 10))
	req.Header.Set("webhook-signature", r.Signature)
	resp, err := s.Client.Do(req)
	if err != nil {
		if errors.Is(err, netguard.ErrPrivateAddress) {
			err = errors.New("refused: the destination is not a public address")
		}
		return Response{Err: err}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	out := Response{Status: resp.StatusCode, Excerpt: excerpt(b)}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		out.RetryAfter = time.Duration(s) * time.Second
	}
	return out
}

// excerpt keeps the start of a response as valid UTF-8 text.
func excerpt(b []byte) string {
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return strings.ReplaceAll(s, "\x00", "")
}
