// Package staff is the standalone console's accounts: members with a role
// and the shops they may see, bcrypt passwords, sessions whose cookie token
// is stored only as a hash, and the CSRF secret bound to each session. It
// knows nothing of HTTP or SQL.
package staff

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/parrain/parrain/app"
)

// Role is what a member may do.
type Role string

// Roles.
const (
	// Owner sees every shop, acts, and manages staff.
	Owner Role = "owner"
	// Support sees its assigned shops and acts on them.
	Support Role = "support"
	// Viewer sees its assigned shops, read only.
	Viewer Role = "viewer"
)

// ParseRole validates a role name.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case Owner, Support, Viewer:
		return r, nil
	}
	return "", app.Errorf(app.EINVALID, "role must be owner, support or viewer")
}

// Member is a staff account.
type Member struct {
	ID       int64
	Email    string
	Name     string
	Role     Role
	ShopIDs  []int64
	Disabled bool
}

// ShopSummary is a shop in the console's list.
type ShopSummary struct {
	Domain string
	Name   string
}

// Session is a logged-in member's session.
type Session struct {
	// Token is the cookie value, known only to the browser; the store keeps
	// its hash.
	Token     string
	CSRF      string
	StaffID   int64
	ExpiresAt time.Time
}

// Store is the storage the service needs.
type Store interface {
	CreateMember(ctx context.Context, m *Member, passwordHash string, shopDomains []string) (*Member, error)
	MemberByEmail(ctx context.Context, email string) (*Member, string, error) // and its password hash
	CreateSession(ctx context.Context, tokenHash []byte, staffID int64, csrf string, expires time.Time) error
	SessionByHash(ctx context.Context, tokenHash []byte, now time.Time) (*Session, *Member, error)
	DeleteSession(ctx context.Context, tokenHash []byte) error
}

// Service logs members in and out and recognises their sessions.
type Service struct {
	Store Store
	Now   func() time.Time
	// TTL is a session's life (default 12 h).
	TTL time.Duration
}

// MinPassword is the shortest password accepted.
const MinPassword = 12

// dummyHash is compared against when the email is unknown, so a login
// takes as long whether or not the account exists.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("parrain-no-such-account"), bcrypt.DefaultCost)

// Add creates a member (the CLI's `parrain staff add`).
func (s *Service) Add(ctx context.Context, email, name string, role Role, password string, shopDomains []string) (*Member, error) {
	addr, err := mail.ParseAddress(strings.TrimSpace(email))
	if err != nil || addr.Address != strings.TrimSpace(email) {
		return nil, app.Errorf(app.EINVALID, "email: not an email address")
	}
	if utf8.RuneCountInString(password) < MinPassword || len(password) > 72 {
		// bcrypt reads 72 bytes at most: longer would be silently cut.
		return nil, app.Errorf(app.EINVALID, "password: %d to 72 characters", MinPassword)
	}
	if _, err := ParseRole(string(role)); err != nil {
		return nil, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), 12)
	if err != nil {
		return nil, app.Wrap(app.EINTERNAL, err, "hash password")
	}
	return s.Store.CreateMember(ctx, &Member{Email: strings.ToLower(addr.Address), Name: name, Role: role}, string(hash), shopDomains)
}

var errLogin = app.Errorf(app.EUNAUTHORIZED, "wrong email or password")

// Login checks the password and opens a session.
func (s *Service) Login(ctx context.Context, email, password string) (*Session, *Member, error) {
	m, hash, err := s.Store.MemberByEmail(ctx, strings.ToLower(strings.TrimSpace(email)))
	if app.ErrorCode(err) == app.ENOTFOUND {
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return nil, nil, errLogin
	}
	if err != nil {
		return nil, nil, err
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil || m.Disabled {
		return nil, nil, errLogin
	}
	sess := &Session{Token: random(), CSRF: random(), StaffID: m.ID, ExpiresAt: s.now().Add(s.ttl())}
	if err := s.Store.CreateSession(ctx, HashToken(sess.Token), m.ID, sess.CSRF, sess.ExpiresAt); err != nil {
		return nil, nil, err
	}
	return sess, m, nil
}

// Authenticate returns the session and member of a cookie token.
func (s *Service) Authenticate(ctx context.Context, token string) (*Session, *Member, error) {
	if token == "" || len(token) > 100 {
		return nil, nil, app.Errorf(app.EUNAUTHORIZED, "log in first")
	}
	sess, m, err := s.Store.SessionByHash(ctx, HashToken(token), s.now())
	if app.ErrorCode(err) == app.ENOTFOUND || (err == nil && m.Disabled) {
		return nil, nil, app.Errorf(app.EUNAUTHORIZED, "session expired: log in again")
	}
	if err != nil {
		return nil, nil, err
	}
	sess.Token = token
	return sess, m, nil
}

// Logout ends a session.
func (s *Service) Logout(ctx context.Context, token string) error {
	return s.Store.DeleteSession(ctx, HashToken(token))
}

// CheckCSRF compares a submitted token with the session's in constant time.
func CheckCSRF(sess *Session, submitted string) bool {
	return sess != nil && submitted != "" && subtle.ConstantTimeCompare([]byte(sess.CSRF), []byte(submitted)) == 1
}

// HashToken is how a session token is stored.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

func random() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) ttl() time.Duration {
	if s.TTL > 0 {
		return s.TTL
	}
	return 12 * time.Hour
}

// CanSee reports whether the member may see the shop.
func (m *Member) CanSee(shopID int64) bool {
	return m.Role == Owner || slices.Contains(m.ShopIDs, shopID)
}

// CanAct reports whether the member may change things (review actions,
// settings).
func (m *Member) CanAct() bool { return m.Role == Owner || m.Role == Support }
