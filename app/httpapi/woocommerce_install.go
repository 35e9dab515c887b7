package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/logging"
	"github.com/parrain/parrain/integrations/woocommerce"
)

// WooInstalls keeps the wc-auth states of installs in flight.
// and the WooCommerce shops' webhook secrets and delivery health.
type WooInstalls interface {
	StartWooCommerceInstall(ctx context.Context, state, storeURL string) error
	TakeWooCommerceInstall(ctx context.Context, state string, maxAge time.Duration) (string, error)
	woocommerce.SecretStore
	RecordDeliveryRejected(ctx context.Context, shopID int64, reason string, at time.Time) error
}

// wooInstallTTL is how long a merchant has to approve on their store.
const wooInstallTTL = 15 * time.Minute

// storeURL validates a store address: http(s), a host, no query or
// credentials; the path is kept (WordPress may live in a folder).
func storeURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", app.Errorf(app.EINVALID, "store must be the store's address, like https://shop.example")
	}
	u.Host = strings.ToLower(u.Host)
	return strings.TrimRight(u.String(), "/"), nil
}

// wooDomain is a WooCommerce shop's tenant key: host and path of its URL.
func wooDomain(store string) string {
	u, _ := url.Parse(store)
	return strings.TrimRight(u.Host+u.Path, "/")
}

// checkStoreAddress refuses a store whose host resolves to a non-public
// address, unless the development setting allows them.
func (s *Server) checkStoreAddress(ctx context.Context, store string) error {
	if s.WooAllowPrivateStores {
		return nil
	}
	return woocommerce.CheckStoreURL(ctx, s.WooResolver, store)
}

// wooInstallStart sends the merchant to their store's wc-auth page with an
// unguessable single-use state as user_id (woocommerce.md §4: the key
// callback is unsigned; the state binds it to this flow and this store).
func (s *Server) wooInstallStart(c *gin.Context) {
	if !s.allow(c.Request.Context(), "wcstart:"+s.hashIP(c.ClientIP()), 20) {
		fail(c, app.Errorf(app.ERATELIMITED, "too many install attempts; try again in a minute"))
		return
	}
	store, err := storeURL(c.Query("store"))
	if err != nil {
		fail(c, err)
		return
	}
	// Before anything is stored or anyone redirected: a store on a
	// private address is refused here with a message; the dialer refuses
	// it again whatever DNS says later.
	if err := s.checkStoreAddress(c.Request.Context(), store); err != nil {
		fail(c, err)
		return
	}
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	state := hex.EncodeToString(b)
	if err := s.WooInstalls.StartWooCommerceInstall(c.Request.Context(), state, store); err != nil {
		fail(c, err)
		return
	}
	q := url.Values{"app_name": {"Parrain"}, "scope": {"read_write"}, "user_id": {state},
		"return_url": {s.AppURL + "/auth/woocommerce/return"}, "callback_url": {s.AppURL + "/auth/woocommerce/callback"}}
	c.Redirect(http.StatusFound, store+"/wc-auth/v1/authorize?"+q.Encode())
}

// wooInstallCallback receives the keys WooCommerce POSTs after the
// merchant approved. It answers 200 only when everything worked: any other
// status makes WooCommerce delete the key, which is what we want when we
// cannot use it.
func (s *Server) wooInstallCallback(c *gin.Context) {
	ctx := c.Request.Context()
	// The store's server posts the keys once per install; a caller posting
	// many is guessing states.
	if !s.allow(ctx, "wccallback:"+s.hashIP(c.ClientIP()), installPerMinute) {
		fail(c, app.Errorf(app.ERATELIMITED, "too many install callbacks from this address; try again in a minute"))
		return
	}
	var in struct {
		KeyID          int64  `json:"key_id"`
		UserID         string `json:"user_id"`
		ConsumerKey    string `json:"consumer_key"`
		ConsumerSecret string `json:"consumer_secret"`
		KeyPermissions string `json:"key_permissions"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, 8<<10)).Decode(&in); err != nil {
		fail(c, app.Wrap(app.EINVALID, err, "body must be WooCommerce's key JSON"))
		return
	}
	if in.UserID == "" || !strings.HasPrefix(in.ConsumerKey, "ck_") || !strings.HasPrefix(in.ConsumerSecret, "cs_") || in.KeyPermissions != "read_write" {
		fail(c, app.Errorf(app.EINVALID, "keys missing or not read_write"))
		return
	}
	store, err := s.WooInstalls.TakeWooCommerceInstall(ctx, in.UserID, wooInstallTTL)
	if app.ErrorCode(err) == app.ENOTFOUND {
		fail(c, app.Errorf(app.EFORBIDDEN, "unknown or expired install: start again from Parrain"))
		return
	}
	if err != nil {
		fail(c, err)
		return
	}
	if err := s.checkStoreAddress(ctx, store); err != nil {
		fail(c, err)
		return
	}
	// The callback is unsigned: the keys count only if the store we
	// started from accepts them.
	currency, err := woocommerce.VerifyKeys(ctx, store, in.ConsumerKey, in.ConsumerSecret, s.WooHTTP)
	if err != nil {
		logging.From(ctx).Warn("woocommerce keys refused", "store", store, "error", err.Error())
		fail(c, app.Errorf(app.EFORBIDDEN, "the store did not accept these keys"))
		return
	}
	domain := wooDomain(store)
	// A reconnect (the plugin's button, or installing again) brings new
	// keys; the store's webhooks keep their secret (woocommerce.md §9), so
	// the shop keeps its own, stored apart from the keys. A shop from
	// before secrets were stored gets the one its webhooks were created
	// with (derived from its current keys) before they are replaced.
	var previous *app.Credentials
	var previousAt *time.Time
	secret := ""
	if old, err := s.Shops.ShopByDomain(ctx, app.PlatformWooCommerce, domain); err == nil {
		if secret, _, err = woocommerce.ShopWebhookSecret(ctx, s.WooInstalls, old.ID, domain); err != nil && app.ErrorCode(err) != app.ENOTFOUND {
			fail(c, err)
			return
		}
		if creds, err := s.Shops.Credentials(ctx, old.ID); err == nil && creds.AccessToken != in.ConsumerKey {
			previous, previousAt = &creds, old.InstalledAt
		}
	} else if app.ErrorCode(err) != app.ENOTFOUND {
		fail(c, err)
		return
	}
	if secret == "" {
		secret = woocommerce.NewWebhookSecret()
	}
	shop, err := s.Shops.Install(ctx, app.PlatformWooCommerce, domain, woocommerce.Credentials(in.ConsumerKey, in.ConsumerSecret), s.Now())
	if err != nil {
		fail(c, err)
		return
	}
	// Stored as not yet synced: the setup job gives it to the store's
	// existing webhooks, whatever secret an earlier install left them.
	if err := s.WooInstalls.SetWebhookSecret(ctx, shop.ID, secret); err != nil {
		fail(c, err)
		return
	}
	site, _ := woocommerce.SiteInfo(ctx, store, s.WooHTTP)
	if site.Name == "" {
		site.Name = domain
	}
	if err := s.Shops.SetDetails(ctx, shop.ID, app.ShopDetails{Name: site.Name, Currency: currency, Timezone: site.Timezone, StoreURL: store}); err != nil {
		fail(c, err)
		return
	}
	if previous != nil && s.Console != nil {
		// The earlier key stays valid in the store until the merchant
		// revokes it: name it the way the store lists it.
		if err := s.Console.Record(ctx, shop.ID, "system", "woocommerce_reconnected", "store", nil, previousKey(previous.AccessToken, previousAt)); err != nil {
			logging.From(ctx).Warn("record reconnect", "shop_id", shop.ID, "error", err.Error())
		}
	}
	logging.From(ctx).Info("woocommerce shop installed", "shop_id", shop.ID, "reconnect", previous != nil)
	if s.Install != nil {
		// Webhooks and program, off the request: WooCommerce waits for
		// this answer. A lost job is made up by the maintenance schedule.
		if err := s.Install.ShopInstalled(ctx, shop); err != nil {
			logging.From(ctx).Warn("queue woocommerce setup", "shop_id", shop.ID, "error", err.Error())
		}
	}
	c.JSON(http.StatusOK, gin.H{"status": "installed"})
}

// previousKey describes the key a reconnect replaced as WooCommerce →
// Settings → Advanced → REST API lists it: wc-auth names it "Parrain - API
// ({GMT date of the approval})" (class-wc-auth.php create_keys), and the
// list shows the consumer key's last 7 characters. The date is the
// previous install's, within seconds of the approval.
func previousKey(consumerKey string, installedAt *time.Time) map[string]any {
	out := map[string]any{"key_ending": ""}
	if len(consumerKey) >= 7 {
		out["key_ending"] = consumerKey[len(consumerKey)-7:]
	}
	if installedAt != nil {
		out["key_name"] = "Parrain - API (" + installedAt.UTC().Format("2006-01-02 15:04") + ":…)"
	} else {
		out["key_name"] = "Parrain - API (…)"
	}
	return out
}

var wooReturnPage = template.Must(template.New("wooreturn").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>Parrain</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem}</style></head><body>
{{if .OK}}<h1>Parrain is connected</h1><p>Your store's referral program is being set up. You can close this page.</p>
{{else}}<h1>Parrain is not connected</h1><p>{{.Why}}</p><p>Start again from the Parrain plugin's settings page.</p>{{end}}
</body></html>`))

// wooInstallReturn is where WooCommerce sends the merchant afterwards.
func (s *Server) wooInstallReturn(c *gin.Context) {
	v := map[string]any{"OK": c.Query("success") == "1"}
	if !v["OK"].(bool) {
		v["Why"] = "The access was not granted on the store."
	}
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Header("Cache-Control", "no-store")
	_ = wooReturnPage.Execute(c.Writer, v)
}
