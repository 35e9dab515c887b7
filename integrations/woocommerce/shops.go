package woocommerce

import (
	"context"
	"crypto/hmac"
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

// WebhookSecret is the secret of the webhooks Parrain creates in a store:
// derived from the store's consumer secret and domain, so it needs no
// storage of its own and changes when the keys do (a reinstall re-creates
// the webhooks).
func WebhookSecret(creds app.Credentials, domain string) string {
	m := hmac.New(sha256.New, []byte(creds.RefreshToken))
	m.Write([]byte("parrain-webhook:" + domain))
	return hex.EncodeToString(m.Sum(nil))
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
