package jobs

import (
	"context"
	"errors"
	"fmt"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// Reviver makes a finished task's id usable again. asynq keeps a task that
// used up its retries in the archive (and a completed one, with retention)
// under its id, and refuses to enqueue that id again: without this, an event
// or reward whose job failed through a long outage would never run again,
// since our task ids are derived from rows.
type Reviver interface {
	// Revive deletes the task if it is archived or completed and reports
	// whether it did; a task still pending, scheduled, retrying or active
	// is left alone.
	Revive(ctx context.Context, queue, id string) (bool, error)
}

// Client is the asynq client with an inspector to revive finished tasks.
type Client struct {
	*asynq.Client
	Inspector *asynq.Inspector
	// Redis is the queue's Redis, for Live (nil: Live reports nothing
	// live, and every task takes the enqueue path).
	Redis redis.UniversalClient
}

// TaskRef names a task in its queue.
type TaskRef struct{ Queue, ID string }

// LiveChecker tells, in one round trip for many tasks, which are live in
// the queue (pending, scheduled, retrying, active): enqueueing those again
// is a no-op, so a caller offering many tasks at once (the relay) can skip
// the enqueue and the inspection that follows its conflict.
type LiveChecker interface {
	Live(ctx context.Context, tasks []TaskRef) ([]bool, error)
}

// Live implements LiveChecker: one pipeline of HGET state on the tasks'
// hashes (asynq's layout: asynq:{queue}:t:id, the field GetTaskInfo reads).
// A task missing, archived or completed is not live; if asynq ever stores
// its tasks elsewhere, none is found live and every task takes the
// enqueue path, as without this check (TestLiveTasks fails first).
func (c *Client) Live(ctx context.Context, tasks []TaskRef) ([]bool, error) {
	live := make([]bool, len(tasks))
	if c.Redis == nil || len(tasks) == 0 {
		return live, nil
	}
	cmds := make([]*redis.StringCmd, len(tasks))
	_, err := c.Redis.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, t := range tasks {
			cmds[i] = p.HGet(ctx, "asynq:{"+t.Queue+"}:t:"+t.ID, "state")
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return live, fmt.Errorf("read task states: %w", err)
	}
	for i, cmd := range cmds {
		switch cmd.Val() {
		case "pending", "scheduled", "retry", "active", "aggregating":
			live[i] = true
		}
	}
	return live, nil
}

// Revive implements Reviver.
func (c *Client) Revive(_ context.Context, queue, id string) (bool, error) {
	info, err := c.Inspector.GetTaskInfo(queue, id)
	if errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound) {
		return false, nil // finished and gone since: the next enqueue works
	}
	if err != nil {
		return false, fmt.Errorf("inspect task %s: %w", id, err)
	}
	if info.State != asynq.TaskStateArchived && info.State != asynq.TaskStateCompleted {
		return false, nil
	}
	if err := c.Inspector.DeleteTask(queue, id); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) {
		return false, fmt.Errorf("delete finished task %s: %w", id, err)
	}
	return true, nil
}

// enqueueOnce enqueues a task whose id is derived from a row. A conflict
// with a live copy is success (the job will run); a conflict with a
// finished copy revives it when the queue can, so the job runs again.
func enqueueOnce(ctx context.Context, q Enqueuer, task *asynq.Task, queue, id string) error {
	_, err := q.EnqueueContext(ctx, task)
	if !errors.Is(err, asynq.ErrTaskIDConflict) {
		return err
	}
	rv, ok := q.(Reviver)
	if !ok {
		return nil
	}
	revived, err := rv.Revive(ctx, queue, id)
	if err != nil || !revived {
		return err
	}
	if _, err = q.EnqueueContext(ctx, task); errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil // another process revived it first
	}
	return err
}
