package jobs

import (
	"context"
	"errors"
	"fmt"

	"github.com/hibiken/asynq"
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
