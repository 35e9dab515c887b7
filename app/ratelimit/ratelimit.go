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
	bucket := l.Now().UnixNano() / int64(window)
	k := "ratelimit:" + key + ":" + time.Duration(bucket).String()
	ctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	pipe := l.Redis.TxPipeline()
	incr := pipe.Incr(ctx, k)
	pipe.Expire(ctx, k, window+time.Second)
	if _, err := pipe.Exec(ctx); err != nil {
		return true
	}
	return incr.Val() <= int64(limit)
}
