package woocommerce

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"

	"github.com/parrain/parrain/app"
)

// A WooCommerce store is any address a stranger types into
// /auth/woocommerce/start, and Parrain then calls it with keys and keeps
// polling it. Without a guard that is a server-side request forgery: the
// "store" can be 127.0.0.1, the cloud's metadata service or a neighbour on
// the private network. The guard refuses those addresses where it cannot be
// fooled: on the IP the dialer is about to connect to, after DNS, so a name
// that resolves to a public address at /start and to 127.0.0.1 later (DNS
// rebinding) is refused too. The early check at /start only gives the
// merchant a clear message; the dialer is the guard.

// ErrPrivateAddress is returned (wrapped) for a store address Parrain does
// not connect to.
var ErrPrivateAddress = errors.New("store address is not public")

// forbidden are the ranges no public store lives in (IANA special-purpose
// registries, RFC 6890 and successors).
var forbidden = func() []netip.Prefix {
	var ps []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",      // "this network", 0.0.0.0 (unspecified)
		"10.0.0.0/8",     // private
		"100.64.0.0/10",  // carrier-grade NAT (shared address space)
		"127.0.0.0/8",    // loopback
		"169.254.0.0/16", // link-local, 169.254.169.254 metadata
		"172.16.0.0/12",  // private
		"192.0.0.0/24",   // IETF protocol assignments
		"192.0.2.0/24",   // documentation
		"192.168.0.0/16", // private
		"198.18.0.0/15",  // benchmarking
		"198.51.100.0/24",
		"203.0.113.0/24",
		"224.0.0.0/4",   // multicast
		"240.0.0.0/4",   // reserved, 255.255.255.255 broadcast
		"::/128",        // unspecified
		"::1/128",       // loopback
		"::/96",         // IPv4-compatible (deprecated): may reach IPv4 space
		"100::/64",      // discard
		"2001:db8::/32", // documentation
		"fc00::/7",      // unique local, fd00:ec2::254 metadata
		"fe80::/10",     // link-local
		"fec0::/10",     // site-local (deprecated)
		"ff00::/8",      // multicast
	} {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return ps
}()

// embedded are IPv6 ranges that carry an IPv4 address a gateway reaches:
// NAT64 (the last 32 bits) and 6to4 (bits 16..47).
var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	nat64L    = netip.MustParsePrefix("64:ff9b:1::/48")
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// CheckAddr returns ErrPrivateAddress (wrapped, with the address) when ip
// is not a public unicast address: loopback, private, link-local, metadata,
// CGNAT, unspecified, multicast, reserved, or an IPv6 form of one of those
// (IPv4-mapped, NAT64, 6to4).
func CheckAddr(ip netip.Addr) error {
	if !ip.IsValid() {
		return fmt.Errorf("%w: invalid address", ErrPrivateAddress)
	}
	ip = ip.Unmap().WithZone("")
	for _, p := range forbidden {
		if p.Contains(ip) {
			return fmt.Errorf("%w: %s is in %s", ErrPrivateAddress, ip, p)
		}
	}
	if ip.Is6() {
		b := ip.As16()
		var v4 netip.Addr
		switch {
		case nat64.Contains(ip) || nat64L.Contains(ip):
			v4 = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
		case sixToFour.Contains(ip):
			v4 = netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})
		}
		if v4.IsValid() {
			if err := CheckAddr(v4); err != nil {
				return fmt.Errorf("%w (embedded in %s)", err, ip)
			}
		}
	}
	return nil
}

// dialControl runs after DNS, before connect(2), on the exact address the
// socket is about to reach.
func dialControl(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot read %q", ErrPrivateAddress, address)
	}
	return CheckAddr(ap.Addr())
}

// NewHTTPClient returns the client every call to a WooCommerce store goes
// through. Unless allowPrivate (development against a simulator on
// 127.0.0.1), it refuses to connect to non-public addresses, checked on the
// resolved IP at connect time. It uses no proxy from the environment: the
// guard would check the proxy's address instead of the store's.
func NewHTTPClient(allowPrivate bool) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		d.Control = dialControl
	}
	tr := &http.Transport{
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{Timeout: 20 * time.Second, Transport: tr}
}

// defaultHTTP is the client of a Client without one: guarded.
var defaultHTTP = NewHTTPClient(false)

// Resolver looks a host name up (net.DefaultResolver; a stub in tests).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

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
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else {
		if r == nil {
			r = net.DefaultResolver
		}
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		addrs, err = r.LookupNetIP(lctx, "ip", host)
		if err != nil || len(addrs) == 0 {
			return app.Errorf(app.EINVALID, "the store's address %s does not resolve: check it and try again", host)
		}
	}
	for _, a := range addrs {
		if err := CheckAddr(a); err != nil {
			return app.Errorf(app.EINVALID, "the store's address %s is not a public address (%s): Parrain only connects to stores on the internet", host, a.Unmap())
		}
	}
	return nil
}
