package jobs

import (
	"context"
	"testing"

	"github.com/hibiken/asynq"

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
