package jobs

import (
	"context"
	"slices"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/testenv"
)

// A reward job that used up its retries is archived under its id; asking
// for it again must run it again, not be taken for "already queued".
func TestEnqueueRevivesArchivedTasks(t *testing.T) {
	raw0, _ := testenv.RedisURL(t)
	opt, err := asynq.ParseRedisURI(raw0)
	if err != nil {
		t.Fatal(err)
	}
	raw := asynq.NewClient(opt)
	defer raw.Close()
	insp := asynq.NewInspector(opt)
	defer insp.Close()
	ctx := context.Background()
	state := func(id string) asynq.TaskState {
		info, err := insp.GetTaskInfo(QueueDefault, id)
		if err != nil {
			t.Fatalf("task %s: %v", id, err)
		}
		return info.State
	}

	const rewardID = 7
	id := rewardTaskID(rewardID)
	if err := (RewardQueue{Queue: raw}).EnqueueReward(ctx, rewardID); err != nil {
		t.Fatal(err)
	}
	if err := insp.ArchiveTask(QueueDefault, id); err != nil {
		t.Fatal(err)
	}
	// The plain client takes the archived copy for a queued one.
	if err := (RewardQueue{Queue: raw}).EnqueueReward(ctx, rewardID); err != nil || state(id) != asynq.TaskStateArchived {
		t.Fatalf("plain client: err %v, state %v", err, state(id))
	}
	q := RewardQueue{Queue: &Client{Client: raw, Inspector: insp}}
	if err := q.EnqueueReward(ctx, rewardID); err != nil {
		t.Fatal(err)
	}
	if s := state(id); s != asynq.TaskStatePending {
		t.Fatalf("after revive: %v, want pending", s)
	}
	// A live copy is left alone: still one task.
	if err := q.EnqueueReward(ctx, rewardID); err != nil {
		t.Fatal(err)
	}
	info, err := insp.GetQueueInfo(QueueDefault)
	if err != nil || info.Size != 1 {
		t.Fatalf("queue: %+v %v, want one task", info, err)
	}
}

// The relay skips the enqueue of tasks Live finds live; Live reads asynq's
// own task hashes, so this ties it to asynq's layout: a task asynq queued
// is live, a missing one is not, an archived one is not (it must take the
// enqueue path, which revives it).
func TestLiveTasks(t *testing.T) {
	raw0, _ := testenv.RedisURL(t)
	opt, err := asynq.ParseRedisURI(raw0)
	if err != nil {
		t.Fatal(err)
	}
	ropt, err := redis.ParseURL(raw0)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(ropt)
	defer rdb.Close()
	raw := asynq.NewClient(opt)
	defer raw.Close()
	insp := asynq.NewInspector(opt)
	defer insp.Close()
	ctx := context.Background()
	c := &Client{Client: raw, Inspector: insp, Redis: rdb}

	queued := app.EventRef{ID: 41, ShopID: 3}
	archived := app.EventRef{ID: 42, ShopID: 3}
	for _, ev := range []app.EventRef{queued, archived} {
		if err := EnqueueWebhook(c, ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := insp.ArchiveTask(WebhookQueue(archived.ShopID), WebhookTaskID(archived.ID)); err != nil {
		t.Fatal(err)
	}
	ref := func(ev app.EventRef) TaskRef { return TaskRef{WebhookQueue(ev.ShopID), WebhookTaskID(ev.ID)} }
	live, err := c.Live(ctx, []TaskRef{ref(queued), ref(archived), ref(app.EventRef{ID: 43, ShopID: 3}), {WebhookQueue(4), WebhookTaskID(queued.ID)}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []bool{true, false, false, false}; !slices.Equal(live, want) {
		t.Fatalf("live %v, want %v (queued, archived, missing, other lane)", live, want)
	}
	// Without a Redis client nothing is live: every task is enqueued.
	if live, err := (&Client{Client: raw}).Live(ctx, []TaskRef{ref(queued)}); err != nil || live[0] {
		t.Fatalf("no redis: %v %v", live, err)
	}
}
