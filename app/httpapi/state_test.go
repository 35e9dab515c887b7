package httpapi

import (
	"strings"
	"testing"
	"time"

	"github.com/parrain/parrain/app"
)

func TestStateCookie(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s := &Server{ShopifySecret: "secret", Now: func() time.Time { return now }}
	good := s.signState("nonce1", "demo.myshopify.com", now.Add(stateTTL))
	other := &Server{ShopifySecret: "other", Now: s.Now}
	tamper := func(v string) string {
		p, mac, _ := strings.Cut(v, ".")
		return p[:len(p)-2] + "xx." + mac
	}
	cases := []struct {
		name, cookie, state, shop string
		ok                        bool
	}{
		{"valid", good, "nonce1", "demo.myshopify.com", true},
		{"wrong state", good, "nonce2", "demo.myshopify.com", false},
		{"prefix of state", good, "nonce", "demo.myshopify.com", false},
		{"another shop", good, "nonce1", "evil.myshopify.com", false},
		{"expired", s.signState("nonce1", "demo.myshopify.com", now.Add(-time.Second)), "nonce1", "demo.myshopify.com", false},
		{"signed with another key", other.signState("nonce1", "demo.myshopify.com", now.Add(stateTTL)), "nonce1", "demo.myshopify.com", false},
		{"tampered", tamper(good), "nonce1", "demo.myshopify.com", false},
		{"missing", "", "nonce1", "demo.myshopify.com", false},
		{"garbage", "a.b", "nonce1", "demo.myshopify.com", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := s.checkState(tc.cookie, tc.state, tc.shop)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && app.ErrorCode(err) != app.EUNAUTHORIZED {
				t.Fatalf("code = %s", app.ErrorCode(err))
			}
		})
	}
}
