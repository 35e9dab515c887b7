package jobs

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/parrain/parrain/integrations/shopify"
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
