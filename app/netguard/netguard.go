// Package netguard keeps Parrain from calling into private networks on a
// stranger's say-so. A WooCommerce store is any address someone types into
// /auth/woocommerce/start, and an event endpoint is any URL a merchant types
// into the console; Parrain then calls them. Without a guard that is a
// server-side request forgery: the destination can be 127.0.0.1, the
// cloud's metadata service or a neighbour on the private network. The guard
// refuses those addresses where it cannot be fooled: on the IP the dialer
// is about to connect to, after DNS, so a name that resolves to a public
// address when it is saved and to 127.0.0.1 later (DNS rebinding) is
// refused too. CheckHost, the early check, only gives the person a clear
// message; the dialer is the guard.
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrPrivateAddress is returned (wrapped) for an address Parrain does not
// connect to.
var ErrPrivateAddress = errors.New("address is not public")

// forbidden are the ranges no public service lives in (IANA special-purpose
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

// NewHTTPClient returns a client for addresses strangers chose (a
// WooCommerce store, a merchant's event endpoint). Unless allowPrivate
// (development against a simulator or receiver on 127.0.0.1), it refuses to
// connect to non-public addresses, checked on the resolved IP at connect
// time. It uses no proxy from the environment: the guard would check the
// proxy's address instead of the destination's.
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

// Resolver looks a host name up (net.DefaultResolver; a stub in tests).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// ErrUnresolved is returned (wrapped) by CheckHost for a name that does not
// resolve.
var ErrUnresolved = errors.New("address does not resolve")

// CheckHost is the early check of a destination host (a name or an IP
// literal): every address it resolves to must be public. It returns
// ErrUnresolved (wrapped) or an *AddrError. It is not
// the guard (DNS may answer differently later); NewHTTPClient's dialer is.
func CheckHost(ctx context.Context, r Resolver, host string) error {
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
			return fmt.Errorf("%w: %s", ErrUnresolved, host)
		}
	}
	for _, a := range addrs {
		if err := CheckAddr(a); err != nil {
			return &AddrError{Host: host, Addr: a.Unmap(), Err: err}
		}
	}
	return nil
}

// AddrError names the non-public address a host resolved to; it unwraps to
// ErrPrivateAddress.
type AddrError struct {
	Host string
	Addr netip.Addr
	Err  error
}

func (e *AddrError) Error() string {
	return e.Host + " resolves to " + e.Addr.String() + ": " + e.Err.Error()
}
func (e *AddrError) Unwrap() error { return e.Err }
