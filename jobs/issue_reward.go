package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
)

// TypeIssueReward creates an approved referral's reward in the store.
const TypeIssueReward = "reward:issue"

// IssueRewardPayload names the reward.
type IssueRewardPayload struct {
	RewardID int64 `json:"reward_id"`
}

// NewIssueRewardTask returns the job; its id comes from the reward row, so
// queueing it twice is a no-op while it waits.
func NewIssueRewardTask(rewardID int64) *asynq.Task {
	b, _ := json.Marshal(IssueRewardPayload{RewardID: rewardID})
	return asynq.NewTask(TypeIssueReward, b, asynq.TaskID(rewardTaskID(rewardID)),
		asynq.Queue(QueueDefault), asynq.MaxRetry(25), asynq.Timeout(time.Minute))
}

// RewardIssuer issues one reward; referrals.Engine implements it.
type RewardIssuer interface {
	IssueReward(ctx context.Context, rewardID int64) error
}

// IssueReward handles TypeIssueReward. Safe to retry: see
// referrals.Engine.IssueReward.
type IssueReward struct{ Engine RewardIssuer }

// ProcessTask implements asynq.Handler.
func (h *IssueReward) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p IssueRewardPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.RewardID <= 0 {
		return fmt.Errorf("issue reward: bad payload: %v: %w", err, asynq.SkipRetry)
	}
	return h.Engine.IssueReward(ctx, p.RewardID)
}

// RewardQueue queues reward jobs; it implements referrals.RewardQueue.
type RewardQueue struct{ Queue Enqueuer }

// EnqueueReward queues the reward's job; already queued counts as done, a
// copy archived after its last retry is revived.
func (q RewardQueue) EnqueueReward(ctx context.Context, rewardID int64) error {
	return enqueueOnce(ctx, q.Queue, NewIssueRewardTask(rewardID), QueueDefault, rewardTaskID(rewardID))
}

// EnqueueRewardIfMissing queues the reward's job unless a copy exists in
// any state (queued, running, retrying, archived): it brings back a job
// lost with Redis's data without reviving one that failed for good.
func (q RewardQueue) EnqueueRewardIfMissing(ctx context.Context, rewardID int64) error {
	_, err := q.Queue.EnqueueContext(ctx, NewIssueRewardTask(rewardID))
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil
	}
	return err
}

func rewardTaskID(rewardID int64) string { return "reward:" + strconv.FormatInt(rewardID, 10) }
