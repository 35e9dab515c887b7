package postgres_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/testenv"
)

func TestInstallSealsCredentialsAtRest(t *testing.T) {
	db, _ := testenv.OpenDB(t)
	ctx := context.Background()
	shops := db.Shops()
	exp := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	creds := app.Credentials{AccessToken: "shpat_plain_access", RefreshToken: "shprt_plain_refresh", AccessExpiresAt: exp, Scopes: "read_orders"}
	sh, err := shops.Install(ctx, app.PlatformShopify, "sealed.myshopify.com", creds, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var access, refresh string
	if err := db.SQL().QueryRow("SELECT access_token, refresh_token FROM shops WHERE id = $1", sh.ID).Scan(&access, &refresh); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(access, "plain") || strings.Contains(refresh, "plain") || !strings.HasPrefix(access, "v1.test1.") {
		t.Fatalf("tokens not sealed at rest: %q %q", access, refresh)
	}
	got, err := shops.Credentials(ctx, sh.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessToken != creds.AccessToken || got.RefreshToken != creds.RefreshToken || !got.AccessExpiresAt.Equal(exp) {
		t.Fatalf("credentials round trip: %+v", got)
	}

	// A ciphertext copied onto another shop's row must not open there.
	other, err := shops.Install(ctx, app.PlatformShopify, "other.myshopify.com", app.Credentials{AccessToken: "x"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL().Exec("UPDATE shops SET access_token = $1 WHERE id = $2", access, other.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := shops.Credentials(ctx, other.ID); err == nil {
		t.Fatal("another shop's sealed token opened")
	}
}

func TestUninstallDropsTokensUnlessReinstalledLater(t *testing.T) {
	db, _ := testenv.OpenDB(t)
	ctx := context.Background()
	shops := db.Shops()
	t0 := time.Now().UTC()
	sh, _ := shops.Install(ctx, app.PlatformShopify, "gone.myshopify.com", app.Credentials{AccessToken: "a"}, t0)

	// An uninstall that happened before the (re)install is stale.
	if err := shops.MarkUninstalled(ctx, sh.ID, t0.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := shops.Credentials(ctx, sh.ID); err != nil {
		t.Fatalf("stale uninstall dropped credentials: %v", err)
	}
	if err := shops.MarkUninstalled(ctx, sh.ID, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := shops.Credentials(ctx, sh.ID); app.ErrorCode(err) != app.ENOTFOUND {
		t.Fatalf("credentials after uninstall: err=%v", err)
	}
	got, _ := shops.ShopByID(ctx, sh.ID)
	if got.Status != app.ShopUninstalled {
		t.Fatalf("status = %s", got.Status)
	}
	// Reinstall reactivates the same row.
	again, err := shops.Install(ctx, app.PlatformShopify, "gone.myshopify.com", app.Credentials{AccessToken: "b"}, t0.Add(2*time.Minute))
	if err != nil || again.ID != sh.ID || again.Status != app.ShopInstalled {
		t.Fatalf("reinstall: %+v %v", again, err)
	}
}

// UpdateCredentials must serialise concurrent refreshes of one shop: each
// caller sees what the previous one stored, never the same old token.
func TestUpdateCredentialsSerialisesCallers(t *testing.T) {
	db, _ := testenv.OpenDB(t)
	ctx := context.Background()
	shops := db.Shops()
	sh, _ := shops.Install(ctx, app.PlatformShopify, "lock.myshopify.com", app.Credentials{AccessToken: "t0", RefreshToken: "r0"}, time.Now())

	var seen sync.Map
	var dup atomic.Bool
	var wg sync.WaitGroup
	var n atomic.Int64
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := shops.UpdateCredentials(ctx, sh.ID, func(c app.Credentials) (app.Credentials, error) {
				if _, loaded := seen.LoadOrStore(c.RefreshToken, true); loaded {
					dup.Store(true)
				}
				time.Sleep(5 * time.Millisecond)
				k := n.Add(1)
				return app.Credentials{AccessToken: "t", RefreshToken: "r" + string(rune('0'+k))}, nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if dup.Load() {
		t.Fatal("two callers were handed the same refresh token")
	}

	// An error from fn leaves the stored credentials untouched.
	before, _ := shops.Credentials(ctx, sh.ID)
	boom := errors.New("shopify said no")
	if _, err := shops.UpdateCredentials(ctx, sh.ID, func(app.Credentials) (app.Credentials, error) { return app.Credentials{}, boom }); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want fn's error", err)
	}
	after, _ := shops.Credentials(ctx, sh.ID)
	if after.RefreshToken != before.RefreshToken {
		t.Fatal("failed update changed credentials")
	}
}

func TestShopLookupsAreTenantScoped(t *testing.T) {
	db, _ := testenv.OpenDB(t)
	ctx := context.Background()
	shops := db.Shops()
	if _, err := shops.ShopByDomain(ctx, app.PlatformShopify, "nobody.myshopify.com"); app.ErrorCode(err) != app.ENOTFOUND {
		t.Fatalf("unknown shop: %v", err)
	}
	if _, err := shops.ShopByID(ctx, 999999); app.ErrorCode(err) != app.ENOTFOUND {
		t.Fatalf("unknown id: %v", err)
	}
	if err := shops.SetDetails(ctx, 999999, app.ShopDetails{Name: "x"}); app.ErrorCode(err) != app.ENOTFOUND {
		t.Fatalf("details of unknown shop: %v", err)
	}
	sh, _ := shops.Install(ctx, app.PlatformShopify, "exp.myshopify.com", app.Credentials{AccessToken: "a", RefreshToken: "r", AccessExpiresAt: time.Now().Add(5 * time.Minute)}, time.Now())
	shops.Install(ctx, app.PlatformShopify, "fresh.myshopify.com", app.Credentials{AccessToken: "a", RefreshToken: "r", AccessExpiresAt: time.Now().Add(time.Hour)}, time.Now())
	ids, err := shops.ShopsNeedingRefresh(ctx, time.Now().Add(10*time.Minute), 10)
	if err != nil || len(ids) != 1 || ids[0] != sh.ID {
		t.Fatalf("needing refresh = %v, %v; want [%d]", ids, err, sh.ID)
	}
}
