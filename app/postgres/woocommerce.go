package postgres

import (
	"context"
	"fmt"
	"time"
)

// The WooCommerce shop's webhook secret and delivery health (migration
// 00006): the secret is sealed like the keys, bound to its shop and column.

// WebhookSecret returns the shop's webhook secret ("" when it has none
// yet: a shop installed before secrets were stored) and whether the
// store's webhooks were told it since the last install.
func (s *ShopService) WebhookSecret(ctx context.Context, shopID int64) (string, bool, error) {
	var row struct {
		Platform, Domain    string
		WebhookSecret       *string
		WebhookSecretSynced bool
	}
	err := s.db.gorm.WithContext(ctx).Raw(`SELECT platform, domain, webhook_secret, webhook_secret_synced FROM shops WHERE id = ?`, shopID).Scan(&row).Error
	if err != nil {
		return "", false, unavailable(err, fmt.Sprintf("load webhook secret of shop %d", shopID))
	}
	if row.WebhookSecret == nil {
		return "", row.WebhookSecretSynced, nil
	}
	secret, err := s.db.keyring.Open(*row.WebhookSecret, sealContext(row.Platform, row.Domain, "webhook_secret"))
	if err != nil {
		return "", false, fmt.Errorf("open webhook secret of shop %d: %w", shopID, err)
	}
	return secret, row.WebhookSecretSynced, nil
}

// SetWebhookSecret stores the shop's webhook secret, to be told to the
// store's webhooks (synced false) by the next setup.
func (s *ShopService) SetWebhookSecret(ctx context.Context, shopID int64, secret string) error {
	r, err := s.row(ctx, s.db.gorm.WithContext(ctx), shopID, false)
	if err != nil {
		return err
	}
	sealed, err := s.db.keyring.Seal(secret, sealContext(r.Platform, r.Domain, "webhook_secret"))
	if err != nil {
		return fmt.Errorf("seal webhook secret of shop %d: %w", shopID, err)
	}
	err = s.db.gorm.WithContext(ctx).Exec(`UPDATE shops SET webhook_secret = ?, webhook_secret_synced = false, updated_at = now() WHERE id = ?`, sealed, shopID).Error
	return unavailable(err, fmt.Sprintf("store webhook secret of shop %d", shopID))
}

// MarkWebhookSecretSynced records that the store's webhooks have the secret.
func (s *ShopService) MarkWebhookSecretSynced(ctx context.Context, shopID int64) error {
	err := s.db.gorm.WithContext(ctx).Exec(`UPDATE shops SET webhook_secret_synced = true WHERE id = ?`, shopID).Error
	return unavailable(err, fmt.Sprintf("mark webhook secret of shop %d synced", shopID))
}

// RecordDeliveryRejected keeps why the intake refused a delivery of the
// shop, at most once a minute (a flood of bad deliveries is one write a
// minute).
func (s *ShopService) RecordDeliveryRejected(ctx context.Context, shopID int64, reason string, at time.Time) error {
	err := s.db.gorm.WithContext(ctx).Exec(`UPDATE shops SET delivery_rejected = ?, delivery_rejected_at = ?
		WHERE id = ? AND (delivery_rejected_at IS NULL OR delivery_rejected_at < ? OR delivery_rejected <> ?)`,
		reason, at, shopID, at.Add(-time.Minute), reason).Error
	return unavailable(err, fmt.Sprintf("record rejected delivery of shop %d", shopID))
}

// DeliveryRejected returns the last refused delivery's reason and time
// ("" and nil when none).
func (s *ShopService) DeliveryRejected(ctx context.Context, shopID int64) (string, *time.Time, error) {
	var row struct {
		DeliveryRejected   string
		DeliveryRejectedAt *time.Time
	}
	err := s.db.gorm.WithContext(ctx).Raw(`SELECT delivery_rejected, delivery_rejected_at FROM shops WHERE id = ?`, shopID).Scan(&row).Error
	return row.DeliveryRejected, row.DeliveryRejectedAt, unavailable(err, fmt.Sprintf("load rejected delivery of shop %d", shopID))
}
