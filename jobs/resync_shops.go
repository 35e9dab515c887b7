package jobs

import (
	"context"
	"time"

	"github.com/hibiken/asynq"

	"github.com/parrain/parrain/app"
)

// TypeResyncShops re-queues the post-install sync of shops that have none
// recorded: the install succeeded while Redis was down, so its sync job was
// never queued. Without it such a shop would never get its webhook
// subscriptions.
const TypeResyncShops = "shops:resync-missing"

// ResyncShopsCron is the schedule of TypeResyncShops.
const ResyncShopsCron = "@every 5m"

// NewResyncShopsTask returns the periodic job.
func NewResyncShopsTask() *asynq.Task {
	return asynq.NewTask(TypeResyncShops, nil, asynq.Queue(QueueMaintenance), asynq.MaxRetry(0), asynq.Unique(4*time.Minute))
}

// ResyncShops handles TypeResyncShops. The sync task id is derived from the
// install, so a shop whose sync is merely slow is not queued twice.
type ResyncShops struct {
	Shops   app.ShopService
	Install InstallQueue
}

// ProcessTask implements asynq.Handler.
func (h *ResyncShops) ProcessTask(ctx context.Context, _ *asynq.Task) error {
	shops, err := h.Shops.ShopsMissingDetails(ctx, 200)
	if err != nil {
		return err
	}
	for _, sh := range shops {
		if err := h.Install.ShopInstalled(ctx, sh); err != nil {
			return err
		}
	}
	return nil
}
