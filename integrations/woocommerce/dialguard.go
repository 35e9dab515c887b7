package woocommerce

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/netguard"
)

// A WooCommerce store is an address a stranger typed into
// /auth/woocommerce/start: every call to it goes through a netguard client,
// which refuses loopback, private and metadata addresses on the resolved IP
// at connect time (app/netguard says why). The early check at /start only
// gives the merchant a clear message; the dialer is the guard.

// ErrPrivateAddress is returned (wrapped) for a store address Parrain does
// not connect to.
var ErrPrivateAddress = netguard.ErrPrivateAddress

// NewHTTPClient returns the client every call to a WooCommerce store goes
// through: guarded unless allowPrivate (development against wcsim on
// 127.0.0.1).
func NewHTTPClient(allowPrivate bool) *http.Client { return netguard.NewHTTPClient(allowPrivate) }

// defaultHTTP is the client of a Client without one: guarded.
var defaultHTTP = NewHTTPClient(false)

// Resolver looks a host name up (net.DefaultResolver; a stub in tests).
type Resolver = netguard.Resolver

// CheckStoreURL is the early check of a store address, for a clear answer
// before anything is written or anyone redirected: every address the host
// resolves to must be public. It is not the guard (DNS may answer
// differently later); the dialer of NewHTTPClient is. EINVALID with a
// message for the merchant.
func CheckStoreURL(ctx context.Context, r Resolver, store string) error {
	u, err := url.Parse(store)
	if err != nil || u.Hostname() == "" {
		return app.Errorf(app.EINVALID, "store must be the store's address, like https://shop.example")
	}
	host := u.Hostname()
	err = netguard.CheckHost(ctx, r, host)
	var addr *netguard.AddrError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, netguard.ErrUnresolved):
		return app.Errorf(app.EINVALID, "the store's address %s does not resolve: check it and try again", host)
	case errors.As(err, &addr):
		return app.Errorf(app.EINVALID, "the store's address %s is not a public address (%s): Parrain only connects to stores on the internet", host, addr.Addr)
	}
	return app.Errorf(app.EINVALID, "the store's address %s is not a public address: Parrain only connects to stores on the internet", host)
}
