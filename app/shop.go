package app

import (
	"context"
	"time"
)

// Platform names a store platform Parrain integrates with.
type Platform string

// Supported platforms.
const (
	PlatformShopify     Platform = "shopify"
	PlatformWooCommerce Platform = "woocommerce"
)

// ShopStatus is where a shop is in its install lifecycle.
type ShopStatus string

// Shop statuses. An uninstalled shop keeps its data (the merchant may come
// back, and compliance webhooks still arrive) until shop/redact erases it and
// leaves a tombstone with status redacted.
const (
	ShopInstalled   ShopStatus = "installed"
	ShopUninstalled ShopStatus = "uninstalled"
	ShopRedacted    ShopStatus = "redacted"
)

// Shop is a store that installed Parrain: one tenant.
type Shop struct {
	ID       int64
	Platform Platform
	// Domain is the platform's stable shop hostname (Shopify: the
	// *.myshopify.com domain), the tenant's natural key.
	Domain string
	Status ShopStatus

	// ShopDetails are facts about the store, recorded after install.
	ShopDetails

	InstalledAt   *time.Time
	UninstalledAt *time.Time
	// PolledAt is the last reconciliation poll (WooCommerce).
	PolledAt  *time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Credentials are a shop's API credentials, in clear only in memory: the
// store adapter encrypts them at rest.
type Credentials struct {
	AccessToken string
	// AccessExpiresAt is zero for a non-expiring token.
	AccessExpiresAt time.Time
	RefreshToken    string
	// RefreshExpiresAt is zero when there is no refresh token.
	RefreshExpiresAt time.Time
	Scopes           string
}

// Expiring reports whether the access token has an expiry at all.
func (c Credentials) Expiring() bool { return !c.AccessExpiresAt.IsZero() }

// NeedsRefresh reports whether the access token expires within margin of now
// and can be refreshed.
func (c Credentials) NeedsRefresh(now time.Time, margin time.Duration) bool {
	return c.Expiring() && c.RefreshToken != "" && !now.Add(margin).Before(c.AccessExpiresAt)
}

// ShopDetails are the store facts fetched from the platform after install.
type ShopDetails struct {
	PlatformShopID int64
	Name           string
	Email          string
	Currency       string
	Timezone       string
	Plan           string
	// StoreURL is where a WooCommerce store lives (https://shop.example or
	// http://…/wordpress); empty for Shopify, whose API is at the domain.
	StoreURL string
}

// ShopService stores shops and their credentials. Every method is scoped to
// one shop; no method returns another tenant's data.
type ShopService interface {
	// Install creates or reinstalls the shop with fresh credentials and
	// returns it. Reinstalling an uninstalled or redacted shop reactivates it.
	Install(ctx context.Context, platform Platform, domain string, creds Credentials, at time.Time) (*Shop, error)
	// ShopByDomain returns the shop or an ENOTFOUND error.
	ShopByDomain(ctx context.Context, platform Platform, domain string) (*Shop, error)
	// ShopByID returns the shop or an ENOTFOUND error.
	ShopByID(ctx context.Context, id int64) (*Shop, error)
	// Credentials returns the shop's decrypted credentials, or ENOTFOUND when
	// the shop has none (uninstalled).
	Credentials(ctx context.Context, shopID int64) (Credentials, error)
	// UpdateCredentials runs fn with the shop's current credentials while
	// holding a lock that serialises it against every other caller for the
	// same shop, and stores what fn returns. It exists because Shopify
	// rotates the refresh token on every use: two concurrent refreshes with
	// one token would race.
	UpdateCredentials(ctx context.Context, shopID int64, fn func(Credentials) (Credentials, error)) (Credentials, error)
	// SetDetails records the store facts fetched from the platform.
	SetDetails(ctx context.Context, shopID int64, d ShopDetails) error
	// MarkUninstalled drops the shop's credentials and marks it uninstalled,
	// unless it was (re)installed after at: an uninstall event that arrives
	// late must not undo a newer install.
	MarkUninstalled(ctx context.Context, shopID int64, at time.Time) error
	// ShopsMissingDetails lists installed shops whose post-install sync
	// never completed (no details recorded).
	ShopsMissingDetails(ctx context.Context, limit int) ([]*Shop, error)
	// ShopsNeedingRefresh lists installed shops whose access token expires
	// before the given time.
	ShopsNeedingRefresh(ctx context.Context, before time.Time, limit int) ([]int64, error)
}
