package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/parrain/parrain/app"
)

// shopRow maps the shops table.
type shopRow struct {
	ID                    int64 `gorm:"primaryKey"`
	Platform              string
	Domain                string
	Status                string
	PlatformShopID        *int64
	Name                  string
	Email                 string
	Currency              string
	Timezone              string
	Plan                  string
	StoreURL              string
	AccessToken           *string
	AccessTokenExpiresAt  *time.Time
	RefreshToken          *string
	RefreshTokenExpiresAt *time.Time
	Scopes                string
	InstalledAt           *time.Time
	UninstalledAt         *time.Time
	PolledAt              *time.Time
	RedactedAt            *time.Time
	CreatedAt             time.Time
	UpdatedAt             time.Time
}

func (shopRow) TableName() string { return "shops" }

func (r *shopRow) toShop() *app.Shop {
	s := &app.Shop{
		ID: r.ID, Platform: app.Platform(r.Platform), Domain: r.Domain, Status: app.ShopStatus(r.Status),
		ShopDetails: app.ShopDetails{Name: r.Name, Email: r.Email, Currency: r.Currency, Timezone: r.Timezone, Plan: r.Plan, StoreURL: r.StoreURL},
		InstalledAt: r.InstalledAt, UninstalledAt: r.UninstalledAt, PolledAt: r.PolledAt, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
	if r.PlatformShopID != nil {
		s.PlatformShopID = *r.PlatformShopID
	}
	return s
}

// ShopService implements app.ShopService.
type ShopService struct{ db *DB }

var _ app.ShopService = (*ShopService)(nil)

// Shops returns the shop service.
func (db *DB) Shops() *ShopService { return &ShopService{db: db} }

// sealContext binds a sealed token to its shop and field, so a ciphertext
// moved to another row or column fails to open. The domain is used because it
// is known before the row id exists and never changes.
func sealContext(platform, domain, field string) string {
	return platform + ":" + domain + ":" + field
}

func (s *ShopService) seal(platform, domain string, c app.Credentials, r *shopRow) error {
	at, err := s.db.keyring.Seal(c.AccessToken, sealContext(platform, domain, "access_token"))
	if err != nil {
		return err
	}
	r.AccessToken = &at
	r.AccessTokenExpiresAt = timePtr(c.AccessExpiresAt)
	r.RefreshToken, r.RefreshTokenExpiresAt = nil, nil
	if c.RefreshToken != "" {
		rt, err := s.db.keyring.Seal(c.RefreshToken, sealContext(platform, domain, "refresh_token"))
		if err != nil {
			return err
		}
		r.RefreshToken = &rt
		r.RefreshTokenExpiresAt = timePtr(c.RefreshExpiresAt)
	}
	r.Scopes = c.Scopes
	return nil
}

func (s *ShopService) open(r *shopRow) (app.Credentials, error) {
	if r.AccessToken == nil {
		return app.Credentials{}, app.Errorf(app.ENOTFOUND, "shop %d has no credentials (not installed)", r.ID)
	}
	var c app.Credentials
	var err error
	if c.AccessToken, err = s.db.keyring.Open(*r.AccessToken, sealContext(r.Platform, r.Domain, "access_token")); err != nil {
		return c, fmt.Errorf("open access token of shop %d: %w", r.ID, err)
	}
	if r.RefreshToken != nil {
		if c.RefreshToken, err = s.db.keyring.Open(*r.RefreshToken, sealContext(r.Platform, r.Domain, "refresh_token")); err != nil {
			return c, fmt.Errorf("open refresh token of shop %d: %w", r.ID, err)
		}
	}
	c.AccessExpiresAt = derefTime(r.AccessTokenExpiresAt)
	c.RefreshExpiresAt = derefTime(r.RefreshTokenExpiresAt)
	c.Scopes = r.Scopes
	return c, nil
}

// Install implements app.ShopService.
func (s *ShopService) Install(ctx context.Context, platform app.Platform, domain string, creds app.Credentials, at time.Time) (*app.Shop, error) {
	r := shopRow{Platform: string(platform), Domain: domain, Status: string(app.ShopInstalled), InstalledAt: &at}
	if err := s.seal(string(platform), domain, creds, &r); err != nil {
		return nil, fmt.Errorf("install shop %s: %w", domain, err)
	}
	err := s.db.gorm.WithContext(ctx).Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "platform"}, {Name: "domain"}},
		DoUpdates: clause.Assignments(map[string]any{
			"status": r.Status, "access_token": r.AccessToken, "access_token_expires_at": r.AccessTokenExpiresAt,
			"refresh_token": r.RefreshToken, "refresh_token_expires_at": r.RefreshTokenExpiresAt,
			"scopes": r.Scopes, "installed_at": at, "uninstalled_at": nil, "redacted_at": nil, "updated_at": s.db.now(),
		}),
	}).Create(&r).Error
	if err != nil {
		return nil, unavailable(err, "install shop "+domain)
	}
	return s.ShopByDomain(ctx, platform, domain)
}

// ShopByDomain implements app.ShopService.
func (s *ShopService) ShopByDomain(ctx context.Context, platform app.Platform, domain string) (*app.Shop, error) {
	var r shopRow
	err := s.db.gorm.WithContext(ctx).Where("platform = ? AND domain = ?", string(platform), domain).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, app.Errorf(app.ENOTFOUND, "unknown shop %s", domain)
	}
	if err != nil {
		return nil, unavailable(err, "find shop "+domain)
	}
	return r.toShop(), nil
}

// ShopByID implements app.ShopService.
func (s *ShopService) ShopByID(ctx context.Context, id int64) (*app.Shop, error) {
	r, err := s.row(ctx, s.db.gorm, id, false)
	if err != nil {
		return nil, err
	}
	return r.toShop(), nil
}

func (s *ShopService) row(ctx context.Context, tx *gorm.DB, id int64, lock bool) (*shopRow, error) {
	var r shopRow
	q := tx.WithContext(ctx)
	if lock {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	err := q.Where("id = ?", id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, app.Errorf(app.ENOTFOUND, "unknown shop %d", id)
	}
	if err != nil {
		return nil, unavailable(err, fmt.Sprintf("load shop %d", id))
	}
	return &r, nil
}

// Credentials implements app.ShopService.
func (s *ShopService) Credentials(ctx context.Context, shopID int64) (app.Credentials, error) {
	r, err := s.row(ctx, s.db.gorm, shopID, false)
	if err != nil {
		return app.Credentials{}, err
	}
	return s.open(r)
}

// UpdateCredentials implements app.ShopService. The row lock (SELECT ... FOR
// UPDATE) is held while fn runs, so fn may call the platform; a second caller
// waits, then sees the credentials the first one stored.
func (s *ShopService) UpdateCredentials(ctx context.Context, shopID int64, fn func(app.Credentials) (app.Credentials, error)) (app.Credentials, error) {
	var out app.Credentials
	var fnErr error
	err := s.db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		r, err := s.row(ctx, tx, shopID, true)
		if err != nil {
			return err
		}
		cur, err := s.open(r)
		if err != nil {
			return err
		}
		next, err := fn(cur)
		if err != nil {
			fnErr = err
			return err
		}
		if err := s.seal(r.Platform, r.Domain, next, r); err != nil {
			return err
		}
		out = next
		return tx.Model(&shopRow{}).Where("id = ?", shopID).Updates(map[string]any{
			"access_token": r.AccessToken, "access_token_expires_at": r.AccessTokenExpiresAt,
			"refresh_token": r.RefreshToken, "refresh_token_expires_at": r.RefreshTokenExpiresAt,
			"scopes": r.Scopes, "updated_at": s.db.now(),
		}).Error
	})
	switch {
	case fnErr != nil:
		return app.Credentials{}, fnErr
	case err != nil && app.ErrorCode(err) != app.EINTERNAL:
		return app.Credentials{}, err
	case err != nil:
		return app.Credentials{}, unavailable(err, fmt.Sprintf("update credentials of shop %d", shopID))
	}
	return out, nil
}

// SetDetails implements app.ShopService.
func (s *ShopService) SetDetails(ctx context.Context, shopID int64, d app.ShopDetails) error {
	fields := map[string]any{
		"platform_shop_id": d.PlatformShopID, "name": d.Name, "email": d.Email, "currency": d.Currency,
		"timezone": d.Timezone, "plan": d.Plan, "updated_at": s.db.now(),
	}
	if d.StoreURL != "" {
		fields["store_url"] = d.StoreURL
	}
	res := s.db.gorm.WithContext(ctx).Model(&shopRow{}).Where("id = ?", shopID).Updates(fields)
	if res.Error != nil {
		return unavailable(res.Error, fmt.Sprintf("set details of shop %d", shopID))
	}
	if res.RowsAffected == 0 {
		return app.Errorf(app.ENOTFOUND, "unknown shop %d", shopID)
	}
	return nil
}

// MarkUninstalled implements app.ShopService.
func (s *ShopService) MarkUninstalled(ctx context.Context, shopID int64, at time.Time) error {
	res := s.db.gorm.WithContext(ctx).Model(&shopRow{}).
		Where("id = ? AND status = ? AND (installed_at IS NULL OR installed_at <= ?)", shopID, string(app.ShopInstalled), at).
		Updates(map[string]any{
			"status": string(app.ShopUninstalled), "access_token": nil, "access_token_expires_at": nil,
			"refresh_token": nil, "refresh_token_expires_at": nil, "uninstalled_at": at, "updated_at": s.db.now(),
		})
	return unavailable(res.Error, fmt.Sprintf("mark shop %d uninstalled", shopID))
}

// ShopsMissingDetails implements app.ShopService.
func (s *ShopService) ShopsMissingDetails(ctx context.Context, limit int) ([]*app.Shop, error) {
	var rows []shopRow
	err := s.db.gorm.WithContext(ctx).Where("status = ? AND name = ''", string(app.ShopInstalled)).
		Order("id").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, unavailable(err, "list shops missing details")
	}
	out := make([]*app.Shop, len(rows))
	for i := range rows {
		out[i] = rows[i].toShop()
	}
	return out, nil
}

// ShopsNeedingRefresh implements app.ShopService.
func (s *ShopService) ShopsNeedingRefresh(ctx context.Context, before time.Time, limit int) ([]int64, error) {
	var ids []int64
	err := s.db.gorm.WithContext(ctx).Model(&shopRow{}).
		Where("status = ? AND refresh_token IS NOT NULL AND access_token_expires_at < ?", string(app.ShopInstalled), before).
		Order("access_token_expires_at").Limit(limit).Pluck("id", &ids).Error
	return ids, unavailable(err, "list shops needing refresh")
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func derefTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// StartWooCommerceInstall records a wc-auth state for a store.
func (s *ShopService) StartWooCommerceInstall(ctx context.Context, state, storeURL string) error {
	err := s.db.gorm.WithContext(ctx).Exec(`INSERT INTO woocommerce_installs (state, store_url) VALUES (?, ?)`, state, storeURL).Error
	return unavailable(err, "start woocommerce install")
}

// TakeWooCommerceInstall consumes a live state (younger than maxAge,
// unused) and returns its store; ENOTFOUND otherwise.
func (s *ShopService) TakeWooCommerceInstall(ctx context.Context, state string, maxAge time.Duration) (string, error) {
	var storeURL string
	err := s.db.gorm.WithContext(ctx).Raw(`UPDATE woocommerce_installs SET used_at = now()
		WHERE state = ? AND used_at IS NULL AND created_at > ? RETURNING store_url`, state, s.db.now().Add(-maxAge)).Scan(&storeURL).Error
	if err != nil {
		return "", unavailable(err, "take woocommerce install")
	}
	if storeURL == "" {
		return "", app.Errorf(app.ENOTFOUND, "unknown, used or expired install")
	}
	return storeURL, nil
}

// InstalledShops lists the installed shops of a platform.
func (s *ShopService) InstalledShops(ctx context.Context, platform app.Platform, limit int) ([]*app.Shop, error) {
	var rows []shopRow
	err := s.db.gorm.WithContext(ctx).Where("platform = ? AND status = ?", string(platform), string(app.ShopInstalled)).
		Order("id").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, unavailable(err, "list installed shops")
	}
	out := make([]*app.Shop, len(rows))
	for i := range rows {
		out[i] = rows[i].toShop()
	}
	return out, nil
}

// MarkPolled records a reconciliation poll.
func (s *ShopService) MarkPolled(ctx context.Context, shopID int64, at time.Time) error {
	return unavailable(s.db.gorm.WithContext(ctx).Exec(`UPDATE shops SET polled_at = ? WHERE id = ?`, at, shopID).Error, "mark shop polled")
}

// ConsumeOAuthState records an OAuth state (its hash) as used and reports
// whether this call was the first to use it. Rows older than keep are
// deleted on the way: a state that old is refused by its expiry anyway.
func (s *ShopService) ConsumeOAuthState(ctx context.Context, nonceHash string, keep time.Duration) (bool, error) {
	var first bool
	err := s.db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`DELETE FROM oauth_states WHERE used_at < ?`, s.db.now().Add(-keep)).Error; err != nil {
			return err
		}
		res := tx.Exec(`INSERT INTO oauth_states (nonce_hash, used_at) VALUES (?, ?) ON CONFLICT DO NOTHING`, nonceHash, s.db.now())
		first = res.RowsAffected == 1
		return res.Error
	})
	if err != nil {
		return false, unavailable(err, "consume oauth state")
	}
	return first, nil
}
