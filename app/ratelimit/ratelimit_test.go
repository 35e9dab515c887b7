package ratelimit

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parrain/parrain/app/testenv"
)

func TestAllowCountsPerKeyAndWindow(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	l := &Limiter{Redis: testenv.Redis(t), Now: func() time.Time { return now }}
	ctx := context.Background()
	for i := 1; i <= 4; i++ {
		if got := l.Allow(ctx, "a", 3, time.Minute); got != (i <= 3) {
			t.Fatalf("hit %d allowed=%v", i, got)
		}
	}
	if !l.Allow(ctx, "b", 3, time.Minute) {
		t.Fatal("another key shares the count")
	}
	now = now.Add(time.Minute)
	if !l.Allow(ctx, "a", 3, time.Minute) {
		t.Fatal("a new window must start from zero")
	}
}

func TestAllowFailsOpenWithoutRedis(t *testing.T) {
	l := &Limiter{Redis: redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), Now: time.Now}
	for range 5 {
		if !l.Allow(context.Background(), "x", 1, time.Minute) {
			t.Fatal("refused while Redis is unreachable; the limiter must fail open")
		}
	}
}
