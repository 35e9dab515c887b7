package jobs

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/testenv"
)

func testQueue(t *testing.T) (asynq.RedisConnOpt, *Client) {
	raw, _ := testenv.RedisURL(t)
	opt, err := asynq.ParseRedisURI(raw)
	if err != nil {
		t.Fatal(err)
	}
	c := &Client{Client: asynq.NewClient(opt), Inspector: asynq.NewInspector(opt)}
	t.Cleanup(func() { c.Client.Close(); c.Inspector.Close() })
	return opt, c
}

// One shop's backlog does not delay another shop's events: with 300 events
// of shop 1 queued ahead (20 ms of work each, two workers: 3 s of backlog),
// an event of shop 2 is taken within a few tasks, because it waits in its
// own lane. In the single webhooks queue it waited for the whole backlog.
func TestAnotherShopsEventDoesNotWaitBehindABacklog(t *testing.T) {
	opt, q := testQueue(t)
	const backlog = 300
	for i := range backlog {
		if err := EnqueueWebhook(q, app.EventRef{ID: int64(i + 1), ShopID: 1}); err != nil {
			t.Fatal(err)
		}
	}
	enqueued := time.Now()
	if err := EnqueueWebhook(q, app.EventRef{ID: 100_000, ShopID: 2}); err != nil {
		t.Fatal(err)
	}
	var doneA atomic.Int64
	took := make(chan time.Duration, 1)
	mux := asynq.NewServeMux()
	mux.HandleFunc(TypeProcessWebhook, func(ctx context.Context, task *asynq.Task) error {
		var p ProcessWebhookPayload
		_ = json.Unmarshal(task.Payload(), &p)
		if p.EventID == 100_000 {
			took <- time.Since(enqueued)
			return nil
		}
		time.Sleep(20 * time.Millisecond)
		doneA.Add(1)
		return nil
	})
	srv := NewServer(opt, 2, time.Second, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	select {
	case d := <-took:
		t.Logf("shop 2's event taken after %s, %d of shop 1's %d done", d.Round(time.Millisecond), doneA.Load(), backlog)
		if n := doneA.Load(); n > 30 {
			t.Fatalf("shop 2's event waited for %d of shop 1's events", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("shop 2's event never ran")
	}
}

// The relay and the dispatcher meet the same task in the same lane (a
// second enqueue is a no-op), and a finished copy in a lane is revived.
func TestLanesKeepTaskIDsAndRevival(t *testing.T) {
	_, q := testQueue(t)
	ev := app.EventRef{ID: 42, ShopID: 7}
	lane := WebhookQueue(ev.ShopID)
	if _, ok := QueuePriorities[lane]; !ok || lane == QueueWebhooks {
		t.Fatalf("lane %q not served", lane)
	}
	for range 2 {
		if err := EnqueueWebhook(q, ev); err != nil {
			t.Fatal(err)
		}
	}
	info, err := q.Inspector.GetQueueInfo(lane)
	if err != nil || info.Size != 1 {
		t.Fatalf("lane %s: %+v %v, want one task", lane, info, err)
	}
	if err := q.Inspector.ArchiveTask(lane, WebhookTaskID(ev.ID)); err != nil {
		t.Fatal(err)
	}
	if err := EnqueueWebhook(q, ev); err != nil {
		t.Fatal(err)
	}
	ti, err := q.Inspector.GetTaskInfo(lane, WebhookTaskID(ev.ID))
	if err != nil || ti.State != asynq.TaskStatePending {
		t.Fatalf("after revival: %+v %v", ti, err)
	}
}
