package storebudget

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// Notes is a set of short-lived facts in Redis, shared by every process
// (e.g. "this code was not created: the store refused the create"). It fails
// open: a fact that cannot be read is absent, which only costs the caller
// the check the fact would have saved.
type Notes struct {
	Redis *redis.Client
}

// Has reports whether the fact is recorded.
func (n *Notes) Has(ctx context.Context, key string) bool {
	ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	v, err := n.Redis.Exists(ctx, key).Result()
	return err == nil && v == 1
}

// Set records the fact for ttl.
func (n *Notes) Set(ctx context.Context, key string, ttl time.Duration) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 500*time.Millisecond)
	defer cancel()
	n.Redis.Set(ctx, key, "1", ttl)
}

// Clear forgets the fact.
func (n *Notes) Clear(ctx context.Context, key string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 500*time.Millisecond)
	defer cancel()
	n.Redis.Del(ctx, key)
}

// Claim records the fact for ttl unless it is already recorded, and
// reports whether this call recorded it; when not, it also says how long
// the holder's fact has left. It fails open (claimed) when Redis cannot
// answer.
func (n *Notes) Claim(ctx context.Context, key string, ttl time.Duration) (bool, time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	ok, err := n.Redis.SetNX(ctx, key, "1", ttl).Result()
	if err != nil || ok {
		return true, 0
	}
	left, err := n.Redis.PTTL(ctx, key).Result()
	if err != nil || left < 0 {
		left = 0
	}
	return false, left
}
