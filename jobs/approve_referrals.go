package jobs

import (
	"context"
	"time"

	"github.com/hibiken/asynq"

	"github.com/parrain/parrain/app/logging"
)

// TypeApproveReferrals approves referrals whose holding period is over and
// queues their rewards; it also re-queues rewards left issuing (their job
// was lost with Redis, or its retries ran out on throttling).
const TypeApproveReferrals = "referrals:approve-due"

// ApproveReferralsCron is its default schedule (APPROVE_REFERRALS_EVERY).
const ApproveReferralsCron = "@every 1m"

// NewApproveReferralsTask returns the periodic job.
func NewApproveReferralsTask() *asynq.Task {
	return asynq.NewTask(TypeApproveReferrals, nil, asynq.Queue(QueueMaintenance), asynq.MaxRetry(0), asynq.Unique(50*time.Second))
}

// DueApprover approves due referrals; referrals.Engine implements it.
type DueApprover interface {
	ApproveDue(ctx context.Context, limit int) (int, error)
}

// MilestoneSettler settles the milestones of advocates whose approved
// referrals changed; referrals.Engine implements it.
type MilestoneSettler interface {
	SettleMilestones(ctx context.Context, limit int) (int, error)
}

// StuckRewards lists rewards still issuing since before a time.
type StuckRewards interface {
	IssuingRewards(ctx context.Context, before time.Time, limit int) ([]int64, error)
}

// ApproveReferrals handles TypeApproveReferrals.
type ApproveReferrals struct {
	Engine  DueApprover
	Stuck   StuckRewards
	Rewards RewardQueue
	Now     func() time.Time
	// LostAfter is how long a reward may be issuing before its job is
	// enqueued again if Redis no longer has it (lost in a restart without
	// persistence); a job still queued, running or archived is left alone.
	// Zero: only the 10-minute revival.
	LostAfter time.Duration
	// FriendCodes, when set, are swept too: a shop whose friend codes
	// wait (their flush job lost with Redis, or a batch left by a dead
	// worker) gets a flush.
	FriendCodes      WaitingFriendCodes
	FriendCodesQueue FriendCodeQueue
}

// ProcessTask implements asynq.Handler.
func (h *ApproveReferrals) ProcessTask(ctx context.Context, _ *asynq.Task) error {
	n, err := h.Engine.ApproveDue(ctx, 500)
	if n > 0 {
		logging.From(ctx).Info("referrals approved", "count", n)
	}
	if err != nil {
		return err
	}
	if m, ok := h.Engine.(MilestoneSettler); ok {
		// After the approvals, so a referral approved now counts now.
		n, err := m.SettleMilestones(ctx, 500)
		if n > 0 {
			logging.From(ctx).Info("milestone rewards created", "count", n)
		}
		if err != nil {
			return err
		}
	}
	if h.LostAfter > 0 {
		lost, err := h.Stuck.IssuingRewards(ctx, h.Now().Add(-h.LostAfter), 500)
		if err != nil {
			return err
		}
		for _, id := range lost {
			if err := h.Rewards.EnqueueRewardIfMissing(ctx, id); err != nil {
				return err
			}
		}
	}
	if h.FriendCodes != nil {
		shops, err := h.FriendCodes.ShopsWithWaitingCodes(ctx, h.Now().Add(-30*time.Second), 500)
		if err != nil {
			return err
		}
		for _, id := range shops {
			if err := h.FriendCodesQueue.FlushFriendCodes(ctx, id); err != nil {
				return err
			}
		}
	}
	ids, err := h.Stuck.IssuingRewards(ctx, h.Now().Add(-10*time.Minute), 500)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := h.Rewards.EnqueueReward(ctx, id); err != nil {
			return err
		}
	}
	return nil
}
