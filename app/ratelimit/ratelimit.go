// Package ratelimit counts requests per key in fixed windows in Redis, so
// every web replica shares the same counts.
package ratelimit

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// Limiter is a fixed-window counter.
type Limiter struct {
	Redis *redis.Client
	Now   func() time.Time
}

// Allow counts one hit for key and reports whether it is within limit for
// the current window. It fails open: when Redis is unreachable the request
// is allowed, because a referral link that does not redirect costs the
// merchant a customer, and an abuser gains little from one outage.
func (l *Limiter) Allow(ctx context.Context, key string, limit int, window time.Duration) bool {
	// Add answers 0 when Redis is unreachable: allowed.
	return l.Add(ctx, key, window) <= int64(limit)
}

// Add counts one event for key in the current window and returns the
// window's count so far. Unlike Allow it limits nothing itself: callers
// count what they want to slow down (failed logins) and decide. It fails
// open, returning 0, when Redis is unreachable.
func (l *Limiter) Add(ctx context.Context, key string, window time.Duration) int64 {
	return l.count(ctx, key, window, true)
}

// Count returns the current window's count for key without adding to it (0
// when Redis is unreachable).
func (l *Limiter) Count(ctx context.Context, key string, window time.Duration) int64 {
	return l.count(ctx, key, window, false)
}

func (l *Limiter) count(ctx context.Context, key string, window time.Duration, add bool) int64 {
	bucket := l.Now().UnixNano() / int64(window)
	k := "ratelimit:" + key + ":" + time.Duration(bucket).String()
	ctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if !add {
		n, err := l.Redis.Get(ctx, k).Int64()
		if err != nil {
			return 0
		}
		return n
	}
	pipe := l.Redis.TxPipeline()
	incr := pipe.Incr(ctx, k)
	pipe.Expire(ctx, k, window+time.Second)
	if _, err := pipe.Exec(ctx); err != nil {
		return 0
	}
	return incr.Val()
}
