// Package smtp sends Parrain's emails to any SMTP server (Postmark, SES,
// Mailgun, a company relay) through github.com/wneessen/go-mail, a
// maintained client that handles STARTTLS, authentication, MIME
// multipart/alternative and header encoding, and tells a server's
// temporary (4xx) refusals from permanent ones (5xx).
package smtp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	mail "github.com/wneessen/go-mail"

	"github.com/parrain/parrain/app/email"
)

// Server is where messages go, as SMTP_URL says.
type Server struct {
	Host     string
	Port     int
	Username string
	Password string
	// TLS is "starttls" (required), "opportunistic", "none" or "implicit"
	// (smtps://).
	TLS     string
	Timeout time.Duration
}

// ParseURL reads smtp://user:pass@host:port?tls=starttls|opportunistic|none
// or smtps://user:pass@host:port. smtp:// defaults to port 587 with
// STARTTLS required; smtps:// to 465 with TLS from the first byte.
func ParseURL(raw string) (*Server, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("want smtp://user:password@host:port or smtps://…")
	}
	s := &Server{Host: u.Hostname(), Timeout: 15 * time.Second}
	switch u.Scheme {
	case "smtp":
		s.Port, s.TLS = 587, "starttls"
	case "smtps":
		s.Port, s.TLS = 465, "implicit"
	default:
		return nil, fmt.Errorf("want an smtp:// or smtps:// URL, got scheme %q", u.Scheme)
	}
	if s.Host == "" {
		return nil, errors.New("the URL names no host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("port %q: want 1-65535", p)
		}
		s.Port = n
	}
	if u.User != nil {
		s.Username = u.User.Username()
		s.Password, _ = u.User.Password()
	}
	for k, v := range u.Query() {
		switch k {
		case "tls":
			if u.Scheme == "smtps" {
				return nil, errors.New("tls= applies to smtp:// only (smtps:// is TLS from the start)")
			}
			switch v[0] {
			case "starttls", "opportunistic", "none":
				s.TLS = v[0]
			default:
				return nil, fmt.Errorf("tls=%q: want starttls, opportunistic or none", v[0])
			}
		case "timeout":
			d, err := time.ParseDuration(v[0])
			if err != nil || d <= 0 {
				return nil, fmt.Errorf("timeout=%q: want a duration like 15s", v[0])
			}
			s.Timeout = d
		default:
			return nil, fmt.Errorf("unknown option %q (tls, timeout)", k)
		}
	}
	if s.Password != "" && s.TLS == "none" && !isLoopback(s.Host) {
		return nil, errors.New("a password would cross the network in clear: use tls=starttls or smtps://")
	}
	return s, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Sender implements email.Sender.
type Sender struct {
	Server *Server
	// HELO is the name Parrain gives itself; "localhost" when empty.
	HELO string
}

func (s *Sender) client() (*mail.Client, error) {
	opts := []mail.Option{mail.WithPort(s.Server.Port), mail.WithTimeout(s.Server.Timeout)}
	switch s.Server.TLS {
	case "implicit":
		opts = append(opts, mail.WithSSL())
	case "opportunistic":
		opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic))
	case "none":
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if s.Server.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(s.Server.Username), mail.WithPassword(s.Server.Password))
	}
	if s.HELO != "" {
		opts = append(opts, mail.WithHELO(s.HELO))
	}
	return mail.NewClient(s.Server.Host, opts...)
}

// Build makes the MIME message: text/plain with a text/html alternative,
// the shop's name as sender name, the merchant's reply-to, a fixed
// Message-ID, and List-Unsubscribe with one-click (RFC 8058) when given.
func Build(m email.Message) (*mail.Msg, error) {
	msg := mail.NewMsg()
	if err := msg.FromFormat(m.FromName, m.FromAddr); err != nil {
		return nil, fmt.Errorf("from %q: %w", m.FromAddr, err)
	}
	if err := msg.To(m.To); err != nil {
		return nil, &email.DeliveryError{Permanent: true, Text: "invalid recipient address"}
	}
	if m.ReplyTo != "" {
		if err := msg.ReplyTo(m.ReplyTo); err != nil {
			return nil, fmt.Errorf("reply-to: %w", err)
		}
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(m.MessageID)
	msg.SetDateWithValue(m.Date)
	if m.Unsubscribe != "" {
		// go-mail's one-click helper insists on https; development runs
		// on http://127.0.0.1, so the header is written as is.
		msg.SetGenHeaderPreformatted(mail.HeaderListUnsubscribe, "<"+m.Unsubscribe+">")
		msg.SetGenHeaderPreformatted(mail.HeaderListUnsubscribePost, "List-Unsubscribe=One-Click")
	}
	msg.SetGenHeader(mail.Header("Auto-Submitted"), "auto-generated")
	msg.SetBodyString(mail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

// Send implements email.Sender: a permanent refusal (5xx) is an
// email.DeliveryError with Permanent set and the server's words; anything
// else (4xx, a timeout, a refused connection) is temporary.
func (s *Sender) Send(ctx context.Context, m email.Message) error {
	msg, err := Build(m)
	if err != nil {
		return err
	}
	c, err := s.client()
	if err != nil {
		return fmt.Errorf("smtp client: %w", err)
	}
	err = c.DialAndSendWithContext(ctx, msg)
	if err == nil {
		return nil
	}
	var se *mail.SendError
	if errors.As(err, &se) {
		code := se.ErrorCode()
		return &email.DeliveryError{
			Permanent: !se.IsTemp() && code >= 500 && code < 600, Code: code, Enhanced: se.EnhancedStatusCode(),
			Text: serverWords(err),
		}
	}
	return &email.DeliveryError{Text: serverWords(err)}
}

// serverWords keeps the server's answer and drops go-mail's framing.
func serverWords(err error) string {
	s := err.Error()
	for _, p := range []string{"send failed: ", "dial failed: "} {
		s = strings.TrimPrefix(s, p)
	}
	if len(s) > 500 {
		s = s[:500]
	}
	return s
}
