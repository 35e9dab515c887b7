package jobs

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/testenv"
)

// Script calls issued concurrently on a PipelinedRedis share pipelines, and
// each still gets its own answer: values, a per-call error, asynq's
// enqueue and its task-id conflict, and NOSCRIPT's fallback to EVAL; other
// commands are untouched.
func TestPipelinedRedis(t *testing.T) {
	raw, _ := testenv.RedisURL(t)
	opt, err := redis.ParseURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	p := NewPipelinedRedis(opt, 8)
	ctx := context.Background()
	if err := p.ScriptFlush(ctx).Err(); err != nil { // the first enqueue meets NOSCRIPT
		t.Fatal(err)
	}
	insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: opt.Addr, DB: opt.DB})
	defer insp.Close()
	q := &Client{Client: asynq.NewClientFromRedisClient(p), Inspector: insp}
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, 4*n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := fmt.Sprint("pipelined:", i)
			if err := p.Set(ctx, key, i, 0).Err(); err != nil {
				errs <- err
			}
			if v, err := p.Eval(ctx, "return redis.call('GET', KEYS[1])", []string{key}).Int(); err != nil || v != i {
				errs <- fmt.Errorf("eval get %s: %d %v", key, v, err)
			}
			if err := p.Eval(ctx, "return redis.call('LPUSH', KEYS[1], 'x')", []string{key}).Err(); err == nil { // a string, not a list
				errs <- fmt.Errorf("lpush on a string: no error")
			}
			if _, err := p.Eval(ctx, "return redis.call('GET', KEYS[1])", []string{fmt.Sprint("missing:", i)}).Result(); err != redis.Nil {
				errs <- fmt.Errorf("missing key: %v, want redis.Nil", err)
			}
			// Every event twice: the second is a conflict, success.
			ev := app.EventRef{ID: int64(i % (n / 2)), ShopID: 5}
			if err := EnqueueWebhook(q, ev); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	info, err := insp.GetQueueInfo(WebhookQueue(5))
	if err != nil || info.Size != n/2 {
		t.Fatalf("queue %+v %v: want %d tasks", info, err, n/2)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
}
