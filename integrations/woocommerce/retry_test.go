package woocommerce

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parrain/parrain/app"
)

// A host that throttles says when to come back (Retry-After, in seconds or
// as a date); the error carries it for the job queue, still EUNAVAILABLE.
func TestTooManyRequestsCarriesRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		header string
		want   time.Duration
	}{
		{"2", 2 * time.Second},
		{"1.5", 1500 * time.Millisecond},
		{"", 0},
		{"soon", 0},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if tc.header != "" {
				w.Header().Set("Retry-After", tc.header)
			}
			http.Error(w, `{"code":"too_many","message":"slow down"}`, http.StatusTooManyRequests)
		}))
		c := &Client{Store: srv.URL, ConsumerKey: "ck", ConsumerSecret: "cs", HTTP: srv.Client()}
		_, err := c.CreateCoupon(context.Background(), Coupon{Code: "x"})
		srv.Close()
		var ae *APIError
		if !errors.As(err, &ae) || ae.RetryDelay() != tc.want || app.ErrorCode(err) != app.EUNAVAILABLE {
			t.Errorf("Retry-After %q: %v (delay %v), want %s", tc.header, err, ae, tc.want)
		}
	}
	future := time.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat)
	if d := retryAfter(future, time.Now()); d < time.Second || d > 3*time.Second {
		t.Errorf("HTTP date: %s", d)
	}
}

// A store that cannot be reached gives an error without the request's
// query, which carries the consumer key over http (OAuth 1.0a).
func TestUnreachableStoreErrorHidesTheKey(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	c := &Client{Store: url, ConsumerKey: "ck_secretkey", ConsumerSecret: "cs", HTTP: &http.Client{}}
	_, err := c.CustomerOrderCount(context.Background(), "5")
	if err == nil || strings.Contains(err.Error(), "ck_secretkey") || strings.Contains(err.Error(), "oauth_") {
		t.Fatalf("error %v", err)
	}
}
