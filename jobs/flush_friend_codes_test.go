package jobs

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/parrain/parrain/app/testenv"
)

// countingEnqueuer counts what reaches Redis (the real queue underneath).
type countingEnqueuer struct {
	Enqueuer
	calls atomic.Int64
}

func (c *countingEnqueuer) EnqueueContext(ctx context.Context, t *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error) {
	c.calls.Add(1)
	return c.Enqueuer.EnqueueContext(ctx, t, opts...)
}

// A burst of codes asks Redis once a window per shop, and every window
// that had a code still gets its flush job.
func TestFlushFriendCodesOnceAWindow(t *testing.T) {
	raw, _ := testenv.RedisURL(t)
	opt, err := asynq.ParseRedisURI(raw)
	if err != nil {
		t.Fatal(err)
	}
	client := asynq.NewClient(opt)
	defer client.Close()
	insp := asynq.NewInspector(opt)
	defer insp.Close()
	ctx := context.Background()

	now := time.UnixMilli(1_800_000_000_000) // the start of a window
	counted := &countingEnqueuer{Enqueuer: client}
	q := FriendCodeQueue{Queue: counted, Now: func() time.Time { return now }, Queued: &FlushWindows{}}
	other := FriendCodeQueue{Queue: counted, Now: func() time.Time { return now }, Queued: &FlushWindows{}} // another process
	scheduled := func() int {
		tasks, err := insp.ListScheduledTasks(QueueDefault)
		if err != nil {
			t.Fatal(err)
		}
		return len(tasks)
	}

	for i := range 50 {
		now = now.Add(time.Duration(min(i, 1)) * 10 * time.Millisecond) // all within the window
		if err := q.FlushFriendCodes(ctx, 1); err != nil {
			t.Fatal(err)
		}
	}
	if c := counted.calls.Load(); c != 1 {
		t.Fatalf("%d calls to Redis for 50 codes in one window, want 1", c)
	}
	// Another process asks Redis too; asynq's task id keeps one job.
	if err := other.FlushFriendCodes(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if n := scheduled(); n != 1 {
		t.Fatalf("%d flush jobs for one shop's window, want 1", n)
	}
	// Another shop, and the next window, each get their own job.
	if err := q.FlushFriendCodes(ctx, 2); err != nil {
		t.Fatal(err)
	}
	now = now.Add(FriendCodesWindow)
	if err := q.FlushFriendCodes(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if n := scheduled(); n != 3 {
		t.Fatalf("%d flush jobs, want 3 (shop 1 twice, shop 2 once)", n)
	}
	if c := counted.calls.Load(); c != 4 {
		t.Fatalf("%d calls to Redis, want 4", c)
	}
}
