package events

import (
	"context"
	"errors"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/netguard"
)

// EndpointStore is the storage of endpoints and their deliveries, every
// call scoped by shop.
type EndpointStore interface {
	CreateEndpoint(ctx context.Context, shopID int64, in EndpointInput, secret string) (*Endpoint, error)
	Endpoints(ctx context.Context, shopID int64) ([]Endpoint, error)
	Endpoint(ctx context.Context, shopID, id int64) (*Endpoint, error)
	EndpointSecret(ctx context.Context, shopID, id int64) (string, error)
	DeleteEndpoint(ctx context.Context, shopID, id int64) error
	EnableEndpoint(ctx context.Context, shopID, id int64) error
	Deliveries(ctx context.Context, shopID, endpointID int64, limit int) ([]Delivery, error)
	Resend(ctx context.Context, shopID, deliveryID int64) error
}

// Service is the merchant's side: endpoints and their delivery logs.
type Service struct {
	Store EndpointStore
	// Resolver resolves destination hosts for the early check (nil: the
	// system's).
	Resolver netguard.Resolver
	// AllowPrivate lets destinations on loopback and private networks
	// through (EVENTS_ALLOW_PRIVATE_DESTINATIONS, development only).
	AllowPrivate bool
}

// Create validates the input, refuses a destination that is not public
// (unless allowed), and stores the endpoint with a fresh secret, returned
// once here.
func (s *Service) Create(ctx context.Context, shopID int64, in EndpointInput) (*Endpoint, error) {
	u, err := in.Validate()
	if err != nil {
		return nil, err
	}
	if !s.AllowPrivate {
		err := netguard.CheckHost(ctx, s.Resolver, u.Hostname())
		var ae *netguard.AddrError
		switch {
		case errors.Is(err, netguard.ErrUnresolved):
			return nil, app.Errorf(app.EINVALID, "url: %s does not resolve: check the address", u.Hostname())
		case errors.As(err, &ae):
			return nil, app.Errorf(app.EINVALID, "url: %s is not a public address (%s): Parrain only sends events to the internet", u.Hostname(), ae.Addr)
		case err != nil:
			return nil, app.Errorf(app.EINVALID, "url: %s is not a public address", u.Hostname())
		}
	}
	secret, err := NewSecret()
	if err != nil {
		return nil, err
	}
	e, err := s.Store.CreateEndpoint(ctx, shopID, in, secret)
	if err != nil {
		return nil, err
	}
	e.Secret = secret
	return e, nil
}

// List returns the shop's endpoints (without secrets).
func (s *Service) List(ctx context.Context, shopID int64) ([]Endpoint, error) {
	return s.Store.Endpoints(ctx, shopID)
}

// Get returns one endpoint (without its secret).
func (s *Service) Get(ctx context.Context, shopID, id int64) (*Endpoint, error) {
	return s.Store.Endpoint(ctx, shopID, id)
}

// Secret reveals an endpoint's signing secret (callers allow owners only).
func (s *Service) Secret(ctx context.Context, shopID, id int64) (string, error) {
	return s.Store.EndpointSecret(ctx, shopID, id)
}

// Delete removes an endpoint and its pending deliveries.
func (s *Service) Delete(ctx context.Context, shopID, id int64) error {
	return s.Store.DeleteEndpoint(ctx, shopID, id)
}

// Enable turns a disabled endpoint back on, with a clean failure record.
// Deliveries failed while it was off stay failed ("send again" each).
func (s *Service) Enable(ctx context.Context, shopID, id int64) error {
	return s.Store.EnableEndpoint(ctx, shopID, id)
}

// Deliveries lists the endpoint's latest deliveries with their attempts.
func (s *Service) Deliveries(ctx context.Context, shopID, endpointID int64, limit int) ([]Delivery, error) {
	if _, err := s.Store.Endpoint(ctx, shopID, endpointID); err != nil {
		return nil, err
	}
	return s.Store.Deliveries(ctx, shopID, endpointID, limit)
}

// Resend queues one more attempt of a delivery now ("send again"), whatever
// its state; its endpoint must be enabled.
func (s *Service) Resend(ctx context.Context, shopID, deliveryID int64) error {
	return s.Store.Resend(ctx, shopID, deliveryID)
}
