package jobs

import (
	"context"
	"time"

	"github.com/hibiken/asynq"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/logging"
)

// TypeRefreshTokens refreshes every expiring access token that is close to
// expiry. The scheduler enqueues it every minute; jobs also refresh on
// demand, so this only keeps idle shops' tokens alive.
const TypeRefreshTokens = "tokens:refresh-due"

// RefreshTokensCron is the schedule of TypeRefreshTokens.
const RefreshTokensCron = "@every 1m"

// NewRefreshTokensTask returns the periodic refresh job. The unique window
// keeps replicas' schedulers from piling up copies.
func NewRefreshTokensTask() *asynq.Task {
	return asynq.NewTask(TypeRefreshTokens, nil, asynq.Queue(QueueMaintenance), asynq.MaxRetry(0), asynq.Unique(50*time.Second))
}

// TokenRefresher refreshes a shop's credentials.
type TokenRefresher interface {
	Refresh(ctx context.Context, shopID int64, shop string, force bool) (app.Credentials, error)
}

// RefreshTokens handles TypeRefreshTokens.
type RefreshTokens struct {
	Shops  app.ShopService
	Tokens TokenRefresher
	Now    func() time.Time
	// Ahead is how far ahead of expiry tokens are refreshed.
	Ahead time.Duration
}

// ProcessTask implements asynq.Handler. One shop's failure does not stop the
// others; the next run retries it.
func (h *RefreshTokens) ProcessTask(ctx context.Context, _ *asynq.Task) error {
	ids, err := h.Shops.ShopsNeedingRefresh(ctx, h.Now().Add(h.Ahead), 500)
	if err != nil {
		return err
	}
	log := logging.From(ctx)
	for _, id := range ids {
		shop, err := h.Shops.ShopByID(ctx, id)
		if err != nil {
			log.Warn("refresh: load shop", "shop_id", id, "error", err.Error())
			continue
		}
		if _, err := h.Tokens.Refresh(ctx, id, shop.Domain, false); err != nil {
			log.Warn("refresh token", "shop_id", id, "error", err.Error())
		}
	}
	return nil
}
