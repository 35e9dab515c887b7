// Package mailsim is an SMTP server for development and tests: it keeps
// every message it accepts and shows them (an inbox page and a JSON API),
// and can be told to refuse an address for a while (4xx) or for good
// (5xx, a hard bounce), so retries and bounces can be exercised against a
// real SMTP conversation. It is built on github.com/emersion/go-smtp.
package mailsim

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"time"

	smtp "github.com/emersion/go-smtp"
)

// Message is one message the server accepted.
type Message struct {
	ID        int               `json:"id"`
	From      string            `json:"from"`
	To        []string          `json:"to"`
	Subject   string            `json:"subject"`
	MessageID string            `json:"message_id"`
	Headers   map[string]string `json:"headers"`
	Text      string            `json:"text"`
	HTML      string            `json:"html"`
	Raw       string            `json:"raw,omitempty"`
	Received  time.Time         `json:"received"`
}

// Fault kinds.
const (
	// TempFail answers 451 at RCPT, Count times (or always with Count 0).
	TempFail = "tempfail"
	// Bounce answers 550 5.1.1 at RCPT: the mailbox does not exist.
	Bounce = "bounce"
)

// Fault is a refusal the server is told to make for an address ("*" for
// every address).
type Fault struct {
	Address string `json:"address"`
	Kind    string `json:"kind"`
	Count   int    `json:"count"`
}

// Server is the SMTP sink.
type Server struct {
	mu       sync.Mutex
	messages []Message
	faults   map[string]*Fault
	// Refused counts refusals made, per address.
	refused map[string]int
	nextID  int
	smtp    *smtp.Server
	ln      net.Listener
}

// New returns a server; Listen starts it.
func New() *Server {
	s := &Server{faults: map[string]*Fault{}, refused: map[string]int{}}
	s.smtp = smtp.NewServer(s)
	s.smtp.Domain = "mailsim.local"
	s.smtp.AllowInsecureAuth = true
	s.smtp.MaxMessageBytes = 10 << 20
	s.smtp.MaxRecipients = 50
	s.smtp.ReadTimeout = time.Minute
	s.smtp.WriteTimeout = time.Minute
	return s
}

// Listen serves SMTP on addr ("127.0.0.1:0" for any port) until Close.
func (s *Server) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s.ln = ln
	go func() { _ = s.smtp.Serve(ln) }()
	return nil
}

// Addr is the SMTP listener's address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is the SMTP_URL that reaches this server.
func (s *Server) URL() string { return "smtp://" + s.Addr() + "?tls=none" }

// Close stops the server.
func (s *Server) Close() error { return s.smtp.Close() }

// SetFault makes the server refuse an address; a Kind of "" removes it.
func (s *Server) SetFault(f Fault) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	addr := strings.ToLower(strings.TrimSpace(f.Address))
	if addr == "" {
		return errors.New("address: an address or *")
	}
	switch f.Kind {
	case "":
		delete(s.faults, addr)
	case TempFail, Bounce:
		if f.Count < 0 {
			return errors.New("count: 0 (always) or more")
		}
		s.faults[addr] = &Fault{Address: addr, Kind: f.Kind, Count: f.Count}
	default:
		return fmt.Errorf("kind %q: want tempfail or bounce", f.Kind)
	}
	return nil
}

// Faults lists the refusals in force.
func (s *Server) Faults() []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Fault
	for _, f := range s.faults {
		out = append(out, *f)
	}
	return out
}

// Refused is how many times the server refused the address.
func (s *Server) Refused(addr string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused[strings.ToLower(addr)]
}

// Messages returns the accepted messages, oldest first; to filters by
// recipient when not empty.
func (s *Server) Messages(to string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.messages {
		if to == "" || contains(m.To, to) {
			out = append(out, m)
		}
	}
	return out
}

// Message returns one message.
func (s *Server) Message(id int) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.messages {
		if m.ID == id {
			return m, true
		}
	}
	return Message{}, false
}

// Clear forgets every message.
func (s *Server) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = nil
}

// Count is how many messages were accepted.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.messages)
}

func contains(list []string, addr string) bool {
	for _, a := range list {
		if strings.EqualFold(a, addr) {
			return true
		}
	}
	return false
}

// NewSession implements smtp.Backend.
func (s *Server) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{srv: s}, nil }

type session struct {
	srv  *Server
	from string
	to   []string
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s := x.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	addr := strings.ToLower(to)
	f := s.faults[addr]
	if f == nil {
		f = s.faults["*"]
	}
	if f != nil {
		s.refused[addr]++
		if f.Kind == Bounce {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "mailbox " + to + " does not exist"}
		}
		if f.Count > 0 {
			f.Count--
			if f.Count == 0 {
				delete(s.faults, f.Address)
			}
		}
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := parse(raw)
	m.From, m.To = x.from, append([]string(nil), x.to...)
	s := x.srv
	s.mu.Lock()
	s.nextID++
	m.ID = s.nextID
	m.Received = time.Now().UTC()
	s.messages = append(s.messages, m)
	s.mu.Unlock()
	return nil
}

var wordDecoder = &mime.WordDecoder{}

func parse(raw []byte) Message {
	m := Message{Raw: string(raw), Headers: map[string]string{}}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		m.Text = string(raw)
		return m
	}
	for k, v := range msg.Header {
		m.Headers[k] = strings.Join(v, ", ")
	}
	if subj, err := wordDecoder.DecodeHeader(msg.Header.Get("Subject")); err == nil {
		m.Subject = subj
	}
	m.MessageID = strings.Trim(msg.Header.Get("Message-Id"), "<>")
	readPart(&m, msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	return m
}

func readPart(m *Message, ctype, enc string, body io.Reader) {
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		mt = "text/plain"
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return
			}
			readPart(m, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p)
		}
	}
	var r io.Reader = body
	switch strings.ToLower(enc) {
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, newlineStripper{body})
	}
	b, _ := io.ReadAll(r)
	switch mt {
	case "text/html":
		m.HTML = string(b)
	case "text/plain":
		m.Text = string(b)
	}
}

type newlineStripper struct{ r io.Reader }

func (n newlineStripper) Read(p []byte) (int, error) {
	k, err := n.r.Read(p)
	j := 0
	for _, c := range p[:k] {
		if c != '\r' && c != '\n' {
			p[j] = c
			j++
		}
	}
	return j, err
}
