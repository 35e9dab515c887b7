package woocommerce

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/http"

	"github.com/parrain/parrain/app"
)

// Credentials stores a WooCommerce key pair as a shop's credentials (both
// sealed at rest like any token).
func Credentials(consumerKey, consumerSecret string) app.Credentials {
	return app.Credentials{AccessToken: consumerKey, RefreshToken: consumerSecret, Scopes: "read_write"}
}

// KeyDerivedWebhookSecret is the secret Parrain gave webhooks before
// secrets were stored: derived from the consumer secret and domain. Each
// wc-auth approval makes new keys while the store's webhooks keep their
// secret (woocommerce.md §9), so it is used only to recognise the webhooks
// of shops installed back then (see ShopWebhookSecret).
func KeyDerivedWebhookSecret(creds app.Credentials, domain string) string {
	m := hmac.New(sha256.New, []byte(creds.RefreshToken))
	m.Write([]byte("parrain-webhook:" + domain))
	return hex.EncodeToString(m.Sum(nil))
}

// NewWebhookSecret is a fresh webhook secret: alphanumeric, as WooCommerce
// HTML-decodes secrets before signing (woocommerce.md §1).
func NewWebhookSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// SecretStore keeps each shop's webhook secret, sealed, apart from its
// keys, so a reconnect (new keys) leaves it unchanged.
type SecretStore interface {
	WebhookSecret(ctx context.Context, shopID int64) (secret string, synced bool, err error)
	SetWebhookSecret(ctx context.Context, shopID int64, secret string) error
	Credentials(ctx context.Context, shopID int64) (app.Credentials, error)
}

// ShopWebhookSecret returns the secret the shop's webhooks sign with and
// whether the store's webhooks were told it since the last install. A shop
// installed before secrets were stored has webhooks created with the
// key-derived secret of its keys: that secret is stored now, so the next
// reconnect keeps it.
func ShopWebhookSecret(ctx context.Context, st SecretStore, shopID int64, domain string) (string, bool, error) {
	secret, synced, err := st.WebhookSecret(ctx, shopID)
	if err != nil || secret != "" {
		return secret, synced, err
	}
	creds, err := st.Credentials(ctx, shopID)
	if err != nil {
		return "", false, err
	}
	secret = KeyDerivedWebhookSecret(creds, domain)
	if err := st.SetWebhookSecret(ctx, shopID, secret); err != nil {
		return "", false, err
	}
	return secret, false, nil
}

// ShopClients gives each shop its REST client from its stored keys.
type ShopClients struct {
	Shops interface {
		Credentials(ctx context.Context, shopID int64) (app.Credentials, error)
	}
	HTTP *http.Client
}

// Client implements Clients.
func (s ShopClients) Client(ctx context.Context, shop *app.Shop) (*Client, error) {
	if shop.StoreURL == "" {
		return nil, app.Errorf(app.EINVALID, "shop %d has no store URL", shop.ID)
	}
	c, err := s.Shops.Credentials(ctx, shop.ID)
	if err != nil {
		return nil, err
	}
	return &Client{Store: shop.StoreURL, ConsumerKey: c.AccessToken, ConsumerSecret: c.RefreshToken, HTTP: s.HTTP}, nil
}

// Topics Parrain subscribes to; every delivery means "order X changed".
const (
	TopicOrderCreated = "order.created"
	TopicOrderUpdated = "order.updated"
	TopicOrderDeleted = "order.deleted"
)

// KnownTopic reports whether the intake takes the topic.
func KnownTopic(t string) bool {
	return t == TopicOrderCreated || t == TopicOrderUpdated || t == TopicOrderDeleted
}
