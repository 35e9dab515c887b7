package events

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parrain/parrain/app"
)

// The Standard Webhooks reference libraries' published test vector (secret,
// id, timestamp, body → signature): matching it means any receiver using
// those libraries verifies Parrain's messages.
func TestSignMatchesTheStandardWebhooksVector(t *testing.T) {
	sig, err := Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if err != nil || sig != "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" {
		t.Fatalf("got %q %v", sig, err)
	}
	for _, bad := range []string{"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not base64!"} {
		if _, err := Sign(bad, "msg_1", time.Unix(1, 0), nil); err == nil {
			t.Errorf("secret %q accepted", bad)
		}
	}
}

func TestSecretsAndIDs(t *testing.T) {
	a, _ := NewSecret()
	b, _ := NewSecret()
	if a == b || !strings.HasPrefix(a, "whsec_") || len(a) != len("whsec_")+44 {
		t.Fatalf("secrets %q %q", a, b)
	}
	id := ID(1, ReferralCreated, "referral:7")
	if id != ID(1, ReferralCreated, "referral:7") || id == ID(2, ReferralCreated, "referral:7") || id == ID(1, ReferralApproved, "referral:7") ||
		!strings.HasPrefix(id, "msg_") || strings.Contains(id, ".") {
		t.Fatalf("id %q", id)
	}
}

func TestEndpointInputValidation(t *testing.T) {
	cases := []struct {
		in    EndpointInput
		field string // "" = valid
	}{
		{EndpointInput{URL: " https://hooks.example.com/p ", Types: []string{"reward.issued", "reward.issued"}}, ""},
		{EndpointInput{URL: "", Types: []string{"reward.issued"}}, "url"},
		{EndpointInput{URL: "ftp://x.example", Types: []string{"reward.issued"}}, "url"},
		{EndpointInput{URL: "https://u:p@x.example", Types: []string{"reward.issued"}}, "url"},
		{EndpointInput{URL: "https://x.example/#frag", Types: []string{"reward.issued"}}, "url"},
		{EndpointInput{URL: "https://" + strings.Repeat("a", 2000) + ".example", Types: []string{"reward.issued"}}, "url"},
		{EndpointInput{URL: "https://x.example", Types: nil}, "events"},
		{EndpointInput{URL: "https://x.example", Types: []string{"order.paid"}}, "events"},
		{EndpointInput{URL: "https://x.example", Description: strings.Repeat("é", 201), Types: []string{"email.sent"}}, "description"},
	}
	for _, tc := range cases {
		_, err := tc.in.Validate()
		if tc.field == "" {
			if err != nil || len(tc.in.Types) != 1 || tc.in.URL != "https://hooks.example.com/p" {
				t.Errorf("%+v: %v", tc.in, err)
			}
			continue
		}
		if app.ErrorCode(err) != app.EINVALID || !strings.HasPrefix(app.ErrorMessage(err), tc.field+":") {
			t.Errorf("%.60s: %v, want an EINVALID about %s", tc.in.URL, err, tc.field)
		}
	}
}

// The sender follows no redirect (a 3xx is a failure) and keeps a short,
// valid excerpt of the answer.
func TestHTTPSenderNoRedirectAndExcerpt(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "/ok", http.StatusFound)
			return
		}
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(503)
		w.Write([]byte(strings.Repeat("é", 400)))
	}))
	defer srv.Close()
	s := NewHTTPSender(true)
	if res := s.Send(context.Background(), Request{URL: srv.URL + "/moved", ID: "msg_x", Timestamp: time.Now(), Signature: "v1,x"}); res.Status != 302 {
		t.Fatalf("redirect: %+v", res)
	}
	res := s.Send(context.Background(), Request{URL: srv.URL + "/busy", ID: "msg_x", Timestamp: time.Now(), Signature: "v1,x"})
	if res.Status != 503 || res.RetryAfter != 2*time.Minute || len(res.Excerpt) > 512 || strings.ContainsRune(res.Excerpt, '\uFFFD') {
		t.Fatalf("503: status %d retry %s excerpt %d bytes", res.Status, res.RetryAfter, len(res.Excerpt))
	}
	if res := NewHTTPSender(false).Send(context.Background(), Request{URL: srv.URL, ID: "msg_x", Timestamp: time.Now()}); res.Err == nil ||
		!strings.Contains(res.Err.Error(), "not a public address") {
		t.Fatalf("guarded sender reached %s: %+v", srv.URL, res)
	}
}

// 410 Gone disables at once; a failure after DisableAfter disables; the
// schedule ends in a failed delivery.
func TestNextAttempt(t *testing.T) {
	d := &Deliverer{}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	next, dis := d.next(&Claimed{Attempts: 0}, now, Response{Status: 500})
	if next == nil || next.Sub(now) != 5*time.Second || dis != "" {
		t.Fatalf("first retry: %v %q", next, dis)
	}
	if next, _ := d.next(&Claimed{Attempts: 0}, now, Response{Status: 503, RetryAfter: time.Hour}); next.Sub(now) != time.Hour {
		t.Fatalf("Retry-After not honoured: %v", next)
	}
	if _, dis := d.next(&Claimed{Attempts: 1}, now, Response{Status: 410}); !strings.Contains(dis, "410") {
		t.Fatalf("410: %q", dis)
	}
	since := now.Add(-25 * time.Hour)
	if _, dis := d.next(&Claimed{Attempts: 3, FailingSince: &since}, now, Response{Status: 500}); dis == "" {
		t.Fatal("a day of failures did not disable")
	}
	if next, _ := d.next(&Claimed{Attempts: len(Schedule) - 1}, now, Response{Status: 500}); next != nil {
		t.Fatalf("retried past the schedule: %v", next)
	}
}
