package staff

import (
	"context"
	"testing"
	"time"

	"github.com/parrain/parrain/app"
)

type memStore struct {
	m        *Member
	hash     string
	sessions map[string]*Session
}

func (s *memStore) CreateMember(_ context.Context, m *Member, h string, _ []string) (*Member, error) {
	m.ID, s.m, s.hash = 1, m, h
	return m, nil
}
func (s *memStore) MemberByEmail(_ context.Context, email string) (*Member, string, error) {
	if s.m == nil || s.m.Email != email {
		return nil, "", app.Errorf(app.ENOTFOUND, "none")
	}
	return s.m, s.hash, nil
}
func (s *memStore) CreateSession(_ context.Context, h []byte, id int64, csrf string, exp time.Time) error {
	s.sessions[string(h)] = &Session{StaffID: id, CSRF: csrf, ExpiresAt: exp}
	return nil
}
func (s *memStore) SessionByHash(_ context.Context, h []byte, now time.Time) (*Session, *Member, error) {
	x, ok := s.sessions[string(h)]
	if !ok || !x.ExpiresAt.After(now) {
		return nil, nil, app.Errorf(app.ENOTFOUND, "none")
	}
	c := *x
	return &c, s.m, nil
}
func (s *memStore) DeleteSession(_ context.Context, h []byte) error {
	delete(s.sessions, string(h))
	return nil
}

func TestAddValidates(t *testing.T) {
	svc := &Service{Store: &memStore{sessions: map[string]*Session{}}}
	for _, tc := range []struct {
		email, password string
		role            Role
		ok              bool
	}{
		{"ann@example.com", "long enough pass", Support, true},
		{"Ann <ann@example.com>", "long enough pass", Support, false},
		{"not-an-email", "long enough pass", Support, false},
		{"ann@example.com", "short", Support, false},
		{"ann@example.com", string(make([]byte, 73)), Support, false},
		{"ann@example.com", "long enough pass", Role("admin"), false},
	} {
		_, err := svc.Add(context.Background(), tc.email, "", tc.role, tc.password, nil)
		if (err == nil) != tc.ok {
			t.Errorf("Add(%q, %q): %v", tc.email, tc.role, err)
		}
		if err != nil && app.ErrorCode(err) != app.EINVALID {
			t.Errorf("Add(%q): code %s, want invalid", tc.email, app.ErrorCode(err))
		}
	}
}

func TestLoginSessionsAndCSRF(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	st := &memStore{sessions: map[string]*Session{}}
	svc := &Service{Store: st, Now: func() time.Time { return now }, TTL: time.Hour}
	if _, err := svc.Add(context.Background(), "Ann@Example.com", "", Viewer, "long enough pass", nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Login(context.Background(), "ann@example.com", "wrong password"); app.ErrorCode(err) != app.EUNAUTHORIZED {
		t.Fatalf("wrong password: %v", err)
	}
	if _, _, err := svc.Login(context.Background(), "bob@example.com", "long enough pass"); app.ErrorCode(err) != app.EUNAUTHORIZED {
		t.Fatalf("unknown email: %v", err)
	}
	sess, m, err := svc.Login(context.Background(), " ANN@example.com ", "long enough pass")
	if err != nil || m.Role != Viewer || m.CanAct() {
		t.Fatalf("login: %v %+v", err, m)
	}
	for k := range st.sessions {
		if k == sess.Token {
			t.Fatal("the token itself is stored")
		}
	}
	got, _, err := svc.Authenticate(context.Background(), sess.Token)
	if err != nil || !CheckCSRF(got, sess.CSRF) || CheckCSRF(got, "") || CheckCSRF(got, sess.CSRF+"x") {
		t.Fatalf("authenticate/CSRF: %v", err)
	}
	now = now.Add(2 * time.Hour)
	if _, _, err := svc.Authenticate(context.Background(), sess.Token); app.ErrorCode(err) != app.EUNAUTHORIZED {
		t.Fatalf("expired session: %v", err)
	}
	st.m.Disabled = true
	now = now.Add(-2 * time.Hour)
	if _, _, err := svc.Authenticate(context.Background(), sess.Token); app.ErrorCode(err) != app.EUNAUTHORIZED {
		t.Fatalf("disabled member: %v", err)
	}
}

func TestRoles(t *testing.T) {
	owner, support := &Member{Role: Owner}, &Member{Role: Support, ShopIDs: []int64{2}}
	if !owner.CanSee(99) || !support.CanSee(2) || support.CanSee(3) || !support.CanAct() {
		t.Fatal("role rules")
	}
}
