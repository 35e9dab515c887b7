package storebudget

import (
	"context"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Semaphore caps the calls in flight to one store across every process:
// WooCommerce has no published budget, and a small shared host answers a
// burst with 429s or timeouts. Each holder has a lease, so a process that
// dies holding a place frees it when the lease ends.
type Semaphore struct {
	Redis *redis.Client
	// Prefix namespaces the keys (default "storesem").
	Prefix string
	// Limit is how many calls may be in flight per store (default 3).
	Limit int
	// Lease is how long a place is held at most (default: a minute, longer
	// than a store call's timeout).
	Lease time.Duration
	// MaxWait is how long Acquire polls for a place before answering
	// *Deferred (default 2 s).
	MaxWait time.Duration
}

var semSeq atomic.Int64

var acquireScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
  return 1
end
return 0
`)

// Acquire takes a place for store and returns the function that frees it.
// When no place frees up within MaxWait it returns *Deferred. It fails open
// when Redis cannot answer.
func (s *Semaphore) Acquire(ctx context.Context, store string) (release func(), err error) {
	prefix, limit := s.Prefix, s.Limit
	if prefix == "" {
		prefix = "storesem"
	}
	if limit <= 0 {
		limit = 3
	}
	lease, maxWait := orDefault(s.Lease, time.Minute), orDefault(s.MaxWait, 2*time.Second)
	key := prefix + ":{" + store + "}"
	id := strconv.FormatInt(time.Now().UnixNano(), 36) + "-" + strconv.FormatInt(semSeq.Add(1), 36)
	deadline := time.Now().Add(maxWait)
	pause := 10 * time.Millisecond
	for {
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		ok, err := acquireScript.Run(rctx, s.Redis, []string{key}, limit, lease.Milliseconds(), id).Int()
		cancel()
		if err != nil {
			return func() {}, nil // fail open
		}
		if ok == 1 {
			return func() {
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
				defer cancel()
				s.Redis.ZRem(rctx, key, id)
			}, nil
		}
		if time.Now().Add(pause).After(deadline) {
			return nil, &Deferred{Shop: store, Delay: time.Second}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(pause):
		}
		pause = min(2*pause, 200*time.Millisecond)
	}
}
