package shopify

import (
	"context"
	"fmt"
	"time"

	"github.com/parrain/parrain/app"
)

// CredentialStore is what Tokens needs from storage.
type CredentialStore interface {
	Credentials(ctx context.Context, shopID int64) (app.Credentials, error)
	UpdateCredentials(ctx context.Context, shopID int64, fn func(app.Credentials) (app.Credentials, error)) (app.Credentials, error)
}

// Tokens hands out a valid access token for a shop, refreshing the expiring
// offline token when it is close to expiry.
type Tokens struct {
	Store  CredentialStore
	Client *TokenClient
	Now    func() time.Time
	// Margin is how long before expiry a token is refreshed.
	Margin time.Duration
}

// AccessToken returns a usable access token for the shop.
func (t *Tokens) AccessToken(ctx context.Context, shopID int64, shop string) (string, error) {
	c, err := t.Store.Credentials(ctx, shopID)
	if err != nil {
		return "", err
	}
	if !c.NeedsRefresh(t.Now(), t.Margin) {
		return c.AccessToken, nil
	}
	c, err = t.Refresh(ctx, shopID, shop, false)
	if err != nil {
		return "", err
	}
	return c.AccessToken, nil
}

// Refresh refreshes the shop's token if it needs it (or always, with force)
// and stores the rotated pair. It runs under the store's per-shop lock, so two
// workers never spend the same refresh token; the second one finds the fresh
// token and returns it. If the process dies after Shopify answered but before
// the commit, the new pair is lost, but the old refresh token stays valid until
// the new one is first used (Shopify changelog 2026-08-28, "more resilient
// refreshes"), so the next attempt succeeds: safe to retry.
func (t *Tokens) Refresh(ctx context.Context, shopID int64, shop string, force bool) (app.Credentials, error) {
	return t.Store.UpdateCredentials(ctx, shopID, func(cur app.Credentials) (app.Credentials, error) {
		if !force && !cur.NeedsRefresh(t.Now(), t.Margin) {
			return cur, nil
		}
		if cur.RefreshToken == "" {
			return cur, app.Errorf(app.ECONFLICT, "shop %d has a non-expiring token: nothing to refresh", shopID)
		}
		next, err := t.Client.Refresh(ctx, shop, cur.RefreshToken)
		if err != nil {
			return cur, fmt.Errorf("refresh token of shop %d: %w", shopID, err)
		}
		if next.Scopes == "" {
			next.Scopes = cur.Scopes
		}
		return next, nil
	})
}
