// Package storebudget models what a store lets Parrain call, per shop, in
// Redis so that every worker process shares one model: Shopify's cost-based
// leaky bucket (Bucket) and a cap on concurrent calls for stores that only
// say 429 when overrun (Semaphore). A call asks before it goes, instead of
// firing and being refused.
package storebudget

import (
	"context"
	_ "embed"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Bucket is a per-shop leaky bucket of API points (Shopify's GraphQL
// calculated query cost, shopify.md §5): maximumAvailable points, restored at
// restoreRate points a second, both read from every answer's throttleStatus.
//
// A call reserves its requested cost before it goes. The model may go below
// zero by at most MaxWait of restore: the caller sleeps until its points are
// restored. A call further away gets a ticket, a place in line kept under
// the operation's key, and is told to come back when it is due (its job is
// rescheduled, not holding a worker); while tickets are out, new calls
// queue behind them. When it comes back it takes its points, so a backlog
// is served in order at the restore rate and each job runs about twice, not
// once a second until it wins. (Tickets hold no points: points set aside
// for a job that comes back late would be lost to the store's cap.)
//
// After the call, Settle gives back what was reserved and not spent
// (actualQueryCost, or everything when the store refused) and aligns the
// model with the store's currentlyAvailable: exactly when no other
// reservation of the shop is outstanding, else taking the lower of the two,
// so reservations the store has not seen yet are not forgotten.
type Bucket struct {
	Redis *redis.Client
	// Prefix namespaces the keys (default "storebudget").
	Prefix string
	// MaxWait is the longest a caller sleeps for its points (default
	// 250 ms); beyond it the caller gets a ticket and a delay.
	MaxWait time.Duration
	// DefaultMax and DefaultRate describe a shop never seen: Shopify's
	// smallest published figures, so a first burst cannot overrun it.
	DefaultMax, DefaultRate float64
	// Lease bounds how long a reservation counts as in flight when its
	// caller dies before Settle (default 2 minutes).
	Lease time.Duration
}

// Reservation is a granted reservation: wait Wait, then call, then Settle.
type Reservation struct {
	Shop string
	ID   string
	Cost float64
	Wait time.Duration
	seq  int64
}

// Deferred is the answer for a call whose points are further away than
// MaxWait: come back after Delay; a ticket holds the points until then.
type Deferred struct {
	Shop  string
	Delay time.Duration
}

// RetryDelay is when to try again; the job queue honours it.
func (d *Deferred) RetryDelay() time.Duration { return d.Delay }

func (d *Deferred) Error() string {
	return fmt.Sprintf("store budget of %s: points available in %s", d.Shop, d.Delay)
}

//go:embed reserve.lua
var reserveLua string

//go:embed settle.lua
var settleLua string

var (
	reserveScript = redis.NewScript(reserveLua)
	settleScript  = redis.NewScript(settleLua)
)

func (b *Bucket) prefix() string {
	if b.Prefix == "" {
		return "storebudget"
	}
	return b.Prefix
}

func (b *Bucket) keys(shop string) (state, inflight string) {
	p := b.prefix() + ":{" + shop + "}"
	return p + ":bucket", p + ":inflight"
}

func (b *Bucket) ticketKey(shop, op string) string {
	return b.prefix() + ":{" + shop + "}:ticket:" + op
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Reserve asks for cost points of shop's bucket for the operation op (a key
// stable across the job's retries, like "create:FRIEND-ANNA"). It returns a
// reservation to wait for, or a *Deferred error with the delay after which
// the operation's ticket is due. It fails open (a zero reservation) when
// Redis cannot answer: the store's own refusal still protects it.
func (b *Bucket) Reserve(ctx context.Context, shop, op string, cost float64) (*Reservation, error) {
	state, inflight := b.keys(shop)
	id := op + ":" + strconv.FormatInt(time.Now().UnixNano(), 36)
	maxWait := orDefault(b.MaxWait, 250*time.Millisecond)
	lease := orDefault(b.Lease, 2*time.Minute)
	defMax, defRate := b.DefaultMax, b.DefaultRate
	if defMax <= 0 {
		defMax = 1000
	}
	if defRate <= 0 {
		defRate = 50
	}
	rctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	res, err := reserveScript.Run(rctx, b.Redis, []string{state, inflight, b.ticketKey(shop, op)},
		cost, maxWait.Milliseconds(), defMax, defRate, id, lease.Milliseconds()).Int64Slice()
	if err != nil || len(res) != 3 {
		return &Reservation{Shop: shop}, nil // fail open
	}
	wait := time.Duration(res[1]) * time.Millisecond
	if res[0] == 0 {
		return nil, &Deferred{Shop: shop, Delay: wait}
	}
	return &Reservation{Shop: shop, ID: id, Cost: cost, Wait: wait, seq: res[2]}, nil
}

// Status is the store's own account of the bucket after a call (Shopify's
// extensions.cost): Spent is actualQueryCost, zero when the store refused
// the call; Known is false when the answer carried no cost.
type Status struct {
	Known              bool
	Spent              float64
	CurrentlyAvailable float64
	MaximumAvailable   float64
	RestoreRate        float64
}

// Settle ends a reservation with what the store said. A nil reservation or
// one granted while Redis was unreachable is ignored.
func (b *Bucket) Settle(ctx context.Context, r *Reservation, st Status) {
	if r == nil || r.ID == "" {
		return
	}
	state, inflight := b.keys(r.Shop)
	refund := r.Cost
	if st.Known {
		refund = r.Cost - st.Spent
	}
	avail, maxAv, rate := -1.0, -1.0, -1.0
	if st.Known && st.RestoreRate > 0 && st.MaximumAvailable > 0 {
		avail, maxAv, rate = st.CurrentlyAvailable, st.MaximumAvailable, st.RestoreRate
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	_ = settleScript.Run(rctx, b.Redis, []string{state, inflight}, r.ID, refund, avail, maxAv, rate, r.seq).Err()
}

// Snapshot is the model's view of a shop's bucket, for tests and metrics.
type Snapshot struct {
	Available, Max, Rate float64
	InFlight             int64
}

// Peek returns the shop's model restored to now, without changing it.
func (b *Bucket) Peek(ctx context.Context, shop string) (Snapshot, error) {
	state, inflight := b.keys(shop)
	vals, err := b.Redis.HMGet(ctx, state, "avail", "at", "max", "rate").Result()
	if err != nil {
		return Snapshot{}, err
	}
	f := func(v any) float64 {
		s, _ := v.(string)
		x, _ := strconv.ParseFloat(s, 64)
		return x
	}
	s := Snapshot{Available: f(vals[0]), Max: f(vals[2]), Rate: f(vals[3])}
	now, err := b.Redis.Time(ctx).Result()
	if err != nil {
		return Snapshot{}, err
	}
	if at := f(vals[1]); at > 0 {
		s.Available = math.Min(s.Max, s.Available+(float64(now.UnixMilli())-at)/1000*s.Rate)
	}
	s.InFlight, _ = b.Redis.ZCount(ctx, inflight, strconv.FormatInt(now.UnixMilli(), 10), "+inf").Result()
	return s, nil
}
