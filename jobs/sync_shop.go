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
	"github.com/parrain/parrain/app/logging"
	"github.com/parrain/parrain/integrations/shopify"
)

// TypeSyncShop records a newly installed shop's details and makes sure its
// webhook subscriptions exist.
const TypeSyncShop = "shop:sync"

// SyncShopPayload names the shop.
type SyncShopPayload struct {
	ShopID int64 `json:"shop_id"`
}

// NewSyncShopTask returns the post-install job. The task id includes the
// install time, so the same install is synced once however often the
// callback is replayed, and a reinstall syncs again.
func NewSyncShopTask(shopID int64, installedAt time.Time) *asynq.Task {
	b, _ := json.Marshal(SyncShopPayload{ShopID: shopID})
	id := "shop-sync:" + strconv.FormatInt(shopID, 10) + ":" + strconv.FormatInt(installedAt.Unix(), 10)
	return asynq.NewTask(TypeSyncShop, b, asynq.TaskID(id), asynq.Queue(QueueDefault), asynq.MaxRetry(25))
}

// ShopifyAdmin is the part of the Shopify Admin API the shop sync uses.
type ShopifyAdmin interface {
	ShopDetails(ctx context.Context, shop, token string) (app.ShopDetails, error)
	EnsureWebhooks(ctx context.Context, shop, token, callbackURL string, topics []string) ([]string, error)
}

// AccessTokens hands out valid access tokens.
type AccessTokens interface {
	AccessToken(ctx context.Context, shopID int64, shop string) (string, error)
}

// SyncShop handles TypeSyncShop. Safe to retry: both steps are upserts.
type SyncShop struct {
	Shops app.ShopService
	// Programs creates the shop's default program once its currency is
	// known.
	Programs interface {
		Program(ctx context.Context, shop *app.Shop) (app.Program, error)
	}
	Admin      ShopifyAdmin
	Tokens     AccessTokens
	WebhookURL string
	// WooCommerce sets up a WooCommerce shop (its details come with the
	// install; its webhooks are created here).
	WooCommerce interface {
		Setup(ctx context.Context, shop *app.Shop) error
	}
}

// ProcessTask implements asynq.Handler.
func (h *SyncShop) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p SyncShopPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.ShopID <= 0 {
		return fmt.Errorf("sync shop: bad payload: %v: %w", err, asynq.SkipRetry)
	}
	shop, err := h.Shops.ShopByID(ctx, p.ShopID)
	if err != nil {
		return err
	}
	if shop.Status != app.ShopInstalled {
		return nil // uninstalled before the job ran
	}
	if shop.Platform == app.PlatformWooCommerce {
		if h.WooCommerce == nil {
			return fmt.Errorf("sync shop %d: no WooCommerce setup: %w", shop.ID, asynq.SkipRetry)
		}
		if h.Programs != nil {
			if _, err := h.Programs.Program(ctx, shop); err != nil {
				return err
			}
		}
		return h.WooCommerce.Setup(ctx, shop)
	}
	token, err := h.Tokens.AccessToken(ctx, shop.ID, shop.Domain)
	if err != nil {
		return err
	}
	d, err := h.Admin.ShopDetails(ctx, shop.Domain, token)
	if err != nil {
		return err
	}
	if err := h.Shops.SetDetails(ctx, shop.ID, d); err != nil {
		return err
	}
	shop.ShopDetails = d
	if h.Programs != nil {
		if _, err := h.Programs.Program(ctx, shop); err != nil {
			return err
		}
	}
	created, err := h.Admin.EnsureWebhooks(ctx, shop.Domain, token, h.WebhookURL, shopify.SubscribedTopics)
	if err != nil {
		return err
	}
	logging.From(ctx).Info("shop synced", "shop_id", shop.ID, "webhooks_created", len(created))
	return nil
}

// InstallQueue queues the post-install work; it implements the HTTP layer's
// InstallJobs.
type InstallQueue struct{ Queue Enqueuer }

// ShopInstalled enqueues the shop's sync. A task id conflict means this
// install is already queued.
func (q InstallQueue) ShopInstalled(ctx context.Context, shop *app.Shop) error {
	at := time.Now()
	if shop.InstalledAt != nil {
		at = *shop.InstalledAt
	}
	_, err := q.Queue.EnqueueContext(ctx, NewSyncShopTask(shop.ID, at))
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("queue sync of shop %d: %w", shop.ID, err)
	}
	return nil
}
