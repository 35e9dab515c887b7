package netguard

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"sync/atomic"
	"testing"
)

func TestCheckAddr(t *testing.T) {
	refused := []string{
		"127.0.0.1", "127.1.2.3", "::1", "0.0.0.0", "::", "10.0.0.1", "10.255.255.255",
		"172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254", "169.254.0.1",
		"fd00:ec2::254", "fc00::1", "fe80::1", "fe80::1%eth0", "100.64.0.1", "100.127.255.254",
		"224.0.0.1", "ff02::1", "255.255.255.255", "240.0.0.1",
		"::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", // IPv4-mapped
		"64:ff9b::a9fe:a9fe", "2002:7f00:1::1", "::7f00:1", // NAT64, 6to4, IPv4-compatible
	}
	for _, s := range refused {
		if err := CheckAddr(netip.MustParseAddr(s)); !errors.Is(err, ErrPrivateAddress) {
			t.Errorf("%s: got %v, want refused", s, err)
		}
	}
	allowed := []string{"8.8.8.8", "93.184.216.34", "172.32.0.1", "100.128.0.1", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"}
	for _, s := range allowed {
		if err := CheckAddr(netip.MustParseAddr(s)); err != nil {
			t.Errorf("%s: %v, want allowed", s, err)
		}
	}
}

// countingListener accepts on loopback and counts every connection: the
// proof that a refused call never reached it.
func countingListener(t *testing.T, network, addr string) (net.Listener, *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Skipf("listen %s: %v", addr, err)
	}
	var n atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return ln, &n
}

// The guarded client refuses loopback, a name that resolves to loopback,
// private and metadata addresses at connect time: the listener on
// 127.0.0.1 sees no connection, and for 10.x / 169.254.169.254 the dialer's
// control hook refused before connect(2), so no packet left.
func TestGuardedClientRefusesBeforeConnecting(t *testing.T) {
	ln4, n4 := countingListener(t, "tcp4", "127.0.0.1:0")
	port := ln4.Addr().(*net.TCPAddr).AddrPort().Port()
	urls := []string{
		"http://127.0.0.1:" + itoa(port) + "/",
		"http://localhost:" + itoa(port) + "/",
		"http://10.1.2.3:9/",
		"http://169.254.169.254/latest/meta-data/",
		"http://[::ffff:127.0.0.1]:" + itoa(port) + "/",
	}
	var n6 *atomic.Int64
	if ln6, n, ok := tryListen6(t); ok {
		n6 = n
		urls = append(urls, "http://[::1]:"+itoa(ln6.Addr().(*net.TCPAddr).AddrPort().Port())+"/")
	}
	for _, u := range urls {
		resp, err := NewHTTPClient(false).Get(u)
		if err == nil {
			resp.Body.Close()
			t.Errorf("%s: answered %d, want refused", u, resp.StatusCode)
		} else if !errors.Is(err, ErrPrivateAddress) {
			t.Errorf("%s: got %v, want the dial guard's refusal", u, err)
		}
	}
	if n4.Load() != 0 {
		t.Fatalf("the guard let %d connections through to 127.0.0.1", n4.Load())
	}
	if n6 != nil && n6.Load() != 0 {
		t.Fatalf("the guard let %d connections through to ::1", n6.Load())
	}

	// The development setting lets the simulator on 127.0.0.1 through.
	resp, err := NewHTTPClient(true).Get("http://127.0.0.1:" + itoa(port) + "/")
	if err == nil {
		resp.Body.Close()
	}
	if n4.Load() != 1 {
		t.Fatalf("allowPrivate: %d connections, want 1", n4.Load())
	}
}

func tryListen6(t *testing.T) (net.Listener, *atomic.Int64, bool) {
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		return nil, nil, false
	}
	ln.Close()
	l, n := countingListener(t, "tcp6", "[::1]:0")
	return l, n, true
}

func itoa(p uint16) string { return strconv.Itoa(int(p)) }

var _ Resolver = net.DefaultResolver

func TestCheckHost(t *testing.T) {
	r := stubResolver{"rebind.example": {netip.MustParseAddr("127.0.0.1")}, "ok.example": {netip.MustParseAddr("93.184.216.34")}}
	var ae *AddrError
	if err := CheckHost(context.Background(), r, "rebind.example"); !errors.As(err, &ae) || !errors.Is(err, ErrPrivateAddress) || ae.Addr.String() != "127.0.0.1" {
		t.Errorf("rebind.example: %v", err)
	}
	if err := CheckHost(context.Background(), r, "nowhere.example"); !errors.Is(err, ErrUnresolved) {
		t.Errorf("nowhere.example: %v", err)
	}
	if err := CheckHost(context.Background(), r, "ok.example"); err != nil {
		t.Errorf("ok.example: %v", err)
	}
}

type stubResolver map[string][]netip.Addr

func (s stubResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := s[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}
