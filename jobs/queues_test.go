package jobs

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/storebudget"
	"github.com/parrain/parrain/integrations/shopify"
	"github.com/parrain/parrain/integrations/woocommerce"
)

func TestRetryPolicyHonoursThrottling(t *testing.T) {
	task := asynq.NewTask("x", nil)
	throttled := fmt.Errorf("sync shop: %w", &shopify.RetryError{Delay: 7 * time.Second, Err: errors.New("THROTTLED")})
	if d := retryDelay(1, throttled, task); d != 7*time.Second {
		t.Fatalf("throttled delay = %s, want Shopify's 7s", d)
	}
	if isFailure(throttled) {
		t.Fatal("throttling counted as a failure")
	}
	plain := errors.New("boom")
	if !isFailure(plain) {
		t.Fatal("a plain error must count as a failure")
	}
	if d := retryDelay(1, plain, task); d <= 0 {
		t.Fatalf("default delay = %s", d)
	}
}

// A store's 429 Retry-After and a store's concurrency cap are waits, not
// failures, and the queue honours their delay like Shopify's.
func TestRetryPolicyHonoursEveryStoresDelay(t *testing.T) {
	task := asynq.NewTask("x", nil)
	for _, tc := range []struct {
		name string
		err  error
		want time.Duration
	}{
		{"woocommerce 429", app.Wrap(app.EUNAVAILABLE, &woocommerce.APIError{Status: 429, Retry: 3 * time.Second}, "store busy"), 3 * time.Second},
		{"store busy", fmt.Errorf("create coupon: %w", &storebudget.Deferred{Shop: "w", Delay: time.Second}), time.Second},
		{"shopify budget", &shopify.RetryError{Delay: 1234 * time.Millisecond, NotSent: true}, 1234 * time.Millisecond},
	} {
		if d := retryDelay(3, tc.err, task); d != tc.want {
			t.Errorf("%s: delay %s, want %s", tc.name, d, tc.want)
		}
		if isFailure(tc.err) {
			t.Errorf("%s counted as a failure", tc.name)
		}
	}
	// A 429 without Retry-After is an ordinary unavailability.
	plain := app.Wrap(app.EUNAVAILABLE, &woocommerce.APIError{Status: 429}, "store busy")
	if !isFailure(plain) || retryDelay(0, plain, task) != 5*time.Second {
		t.Errorf("429 without Retry-After: failure %v delay %s", isFailure(plain), retryDelay(0, plain, task))
	}
}
