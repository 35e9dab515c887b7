package smtp_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parrain/parrain/app/email"
	"github.com/parrain/parrain/integrations/smtp"
	"github.com/parrain/parrain/integrations/smtp/mailsim"
)

func sink(t *testing.T) (*mailsim.Server, *smtp.Sender) {
	t.Helper()
	srv := mailsim.New()
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	s, err := smtp.ParseURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	return srv, &smtp.Sender{Server: s, HELO: "parrain.test"}
}

func msg(to string) email.Message {
	return email.Message{FromName: "Boutique Éloïse", FromAddr: "rewards@parrain.test", To: to, ReplyTo: "help@shop.test",
		MessageID: "reward_earned.1.2.parrain@parrain.test", Subject: "Votre récompense : 10 €", Text: "Bonjour Marie,\n\nTHANKS-ABC\n",
		HTML: "<p>Bonjour <b>Marie</b></p>", Unsubscribe: "http://127.0.0.1:8080/email/unsubscribe/1.x", Date: time.Now()}
}

// A message goes over a real SMTP conversation with its headers, both
// parts, its fixed Message-ID and the one-click unsubscribe headers.
func TestSendsToTheServer(t *testing.T) {
	srv, s := sink(t)
	start := time.Now()
	if err := s.Send(context.Background(), msg("marie@example.com")); err != nil {
		t.Fatal(err)
	}
	t.Logf("one message in %s", time.Since(start))
	got := srv.Messages("marie@example.com")
	if len(got) != 1 {
		t.Fatalf("%d messages", len(got))
	}
	m := got[0]
	if m.Subject != "Votre récompense : 10 €" || m.MessageID != "reward_earned.1.2.parrain@parrain.test" || !strings.Contains(m.Text, "THANKS-ABC") ||
		!strings.Contains(m.HTML, "<b>Marie</b>") || !strings.Contains(m.Headers["From"], "rewards@parrain.test") ||
		m.Headers["List-Unsubscribe-Post"] != "List-Unsubscribe=One-Click" || m.Headers["Reply-To"] != "<help@shop.test>" {
		t.Fatalf("received %+v", m)
	}
}

// 4xx is temporary, 550 permanent and a hard bounce, a closed port
// temporary.
func TestClassifiesRefusals(t *testing.T) {
	srv, s := sink(t)
	srv.SetFault(mailsim.Fault{Address: "later@example.com", Kind: mailsim.TempFail})
	srv.SetFault(mailsim.Fault{Address: "gone@example.com", Kind: mailsim.Bounce})
	var de *email.DeliveryError
	if err := s.Send(context.Background(), msg("later@example.com")); !errors.As(err, &de) || de.Permanent || de.Code != 451 {
		t.Fatalf("451: %#v", err)
	}
	if err := s.Send(context.Background(), msg("gone@example.com")); !errors.As(err, &de) || !de.Permanent || !de.HardBounce() ||
		!strings.Contains(de.Text, "does not exist") {
		t.Fatalf("550: %#v", err)
	}
	srv.Close()
	if err := s.Send(context.Background(), msg("marie@example.com")); !errors.As(err, &de) || de.Permanent {
		t.Fatalf("server down: %#v", err)
	}
}

func TestParseURL(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"smtp://user:pw@mail.example.com", "mail.example.com:587 starttls user"},
		{"smtps://mail.example.com", "mail.example.com:465 implicit "},
		{"smtp://127.0.0.1:1025?tls=none", "127.0.0.1:1025 none "},
		{"smtp://u:p@localhost:25?tls=none", "localhost:25 none u"},
	} {
		s, err := smtp.ParseURL(tc.url)
		if err != nil {
			t.Fatalf("%s: %v", tc.url, err)
		}
		if got := s.Host + ":" + itoa(s.Port) + " " + s.TLS + " " + s.Username; got != tc.want {
			t.Errorf("%s → %q, want %q", tc.url, got, tc.want)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
