package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hibiken/asynq"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/campaigns"
	"github.com/parrain/parrain/app/logging"
)

// TypeSyncCampaign sets one shop's friend discounts in the store to what
// the campaign in force says (app/campaigns.Sync).
const TypeSyncCampaign = "campaigns:sync"

// TypeSweepCampaigns finds the shops whose friend discounts follow a
// campaign and queues their sync.
const TypeSweepCampaigns = "campaigns:sweep"

// SweepCampaignsCron is the sweep's schedule: the safety net under the
// syncs queued at each campaign's start and end.
const SweepCampaignsCron = "@every 1m"

// SyncCampaignPayload names the shop.
type SyncCampaignPayload struct {
	ShopID int64 `json:"shop_id"`
}

// NewSyncCampaignTask returns the shop's sync, run at the instant given.
// Its id is the shop and the instant's second, so every replica and every
// retry of a save derive the same task.
func NewSyncCampaignTask(shopID int64, at time.Time) *asynq.Task {
	b, _ := json.Marshal(SyncCampaignPayload{ShopID: shopID})
	id := "campaigns:" + strconv.FormatInt(shopID, 10) + ":" + strconv.FormatInt(at.Unix(), 10)
	return asynq.NewTask(TypeSyncCampaign, b, asynq.TaskID(id), asynq.Queue(QueueDefault), asynq.MaxRetry(25),
		asynq.Timeout(5*time.Minute), asynq.ProcessAt(at))
}

// NewSweepCampaignsTask returns the periodic sweep.
func NewSweepCampaignsTask() *asynq.Task {
	return asynq.NewTask(TypeSweepCampaigns, nil, asynq.Queue(QueueMaintenance), asynq.MaxRetry(0), asynq.Unique(50*time.Second))
}

// CampaignQueue queues syncs; it implements campaigns.Changes: a saved
// campaign's shop is synced now (the campaign may already run, or an edit
// ended it), at its start and at its end, so the store follows the
// window to the second or so, not to the sweep's minute.
type CampaignQueue struct {
	Queue Enqueuer
	Now   func() time.Time
}

// CampaignChanged implements campaigns.Changes.
func (q CampaignQueue) CampaignChanged(ctx context.Context, shopID int64, c app.Campaign) error {
	var errs []error
	for _, at := range []time.Time{q.Now(), c.Start, c.End} {
		if at.Before(q.Now()) {
			at = q.Now()
		}
		if _, err := q.Queue.EnqueueContext(ctx, NewSyncCampaignTask(shopID, at)); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// SyncCampaign handles TypeSyncCampaign. Safe to retry: the store is set
// to the same terms again.
type SyncCampaign struct{ Sync *campaigns.Sync }

// ProcessTask implements asynq.Handler.
func (h *SyncCampaign) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p SyncCampaignPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.ShopID <= 0 {
		return fmt.Errorf("sync campaign: bad payload: %v: %w", err, asynq.SkipRetry)
	}
	return h.Sync.Run(ctx, p.ShopID)
}

// ShopsToSync lists the shops the sweep visits.
type ShopsToSync interface {
	ShopsToSync(ctx context.Context, now time.Time, limit int) ([]int64, error)
}

// SweepCampaigns handles TypeSweepCampaigns.
type SweepCampaigns struct {
	Shops ShopsToSync
	Queue CampaignQueue
	Now   func() time.Time
}

// ProcessTask implements asynq.Handler.
func (h *SweepCampaigns) ProcessTask(ctx context.Context, _ *asynq.Task) error {
	now := h.Now()
	ids, err := h.Shops.ShopsToSync(ctx, now, 10000)
	if err != nil {
		return err
	}
	// One task per shop per minute: a sync still running or retrying
	// keeps its id, the next minute's is another.
	at := now.Truncate(time.Minute)
	for _, id := range ids {
		if _, err := h.Queue.Queue.EnqueueContext(ctx, NewSyncCampaignTask(id, at)); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
			logging.From(ctx).Warn("queue campaign sync", "shop_id", id, "error", err.Error())
		}
	}
	return nil
}
