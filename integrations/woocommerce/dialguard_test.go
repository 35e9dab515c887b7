package woocommerce

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"

	"github.com/parrain/parrain/app"
)

// Every store call goes through the guarded client (app/netguard tests the
// guard itself): a store on loopback is refused before any connection.
func TestStoreClientIsGuarded(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Skip(err)
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
	defer ln.Close()
	c := &Client{Store: "http://" + ln.Addr().String(), ConsumerKey: "ck_x", ConsumerSecret: "cs_x"} // default HTTP: guarded
	_, err = c.StoreCurrency(context.Background())
	if !errors.Is(err, ErrPrivateAddress) || app.ErrorCode(err) != app.EUNAVAILABLE {
		t.Errorf("got %v, want the dial guard's refusal", err)
	}
	if n.Load() != 0 {
		t.Fatalf("%d connections reached 127.0.0.1", n.Load())
	}
}

// stubResolver answers from a map, as a hostile DNS server would.
type stubResolver map[string][]netip.Addr

func (s stubResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := s[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func TestCheckStoreURL(t *testing.T) {
	r := stubResolver{
		"shop.example":     {netip.MustParseAddr("93.184.216.34")},
		"rebind.example":   {netip.MustParseAddr("127.0.0.1")},
		"mixed.example":    {netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("10.0.0.5")},
		"meta.example":     {netip.MustParseAddr("fd00:ec2::254")},
		"v6public.example": {netip.MustParseAddr("2606:4700::1111")},
	}
	cases := []struct {
		store string
		ok    bool
	}{
		{"https://shop.example", true},
		{"https://shop.example/wordpress", true},
		{"https://v6public.example", true},
		{"https://93.184.216.34", true},
		{"http://127.0.0.1:8080", false},
		{"http://[::1]", false},
		{"http://10.0.0.1", false},
		{"http://169.254.169.254", false},
		{"http://[::ffff:169.254.169.254]", false},
		{"https://rebind.example", false},
		{"https://mixed.example", false},
		{"https://meta.example", false},
		{"https://nowhere.example", false},
	}
	for _, tc := range cases {
		err := CheckStoreURL(context.Background(), r, tc.store)
		if tc.ok != (err == nil) {
			t.Errorf("%s: err %v, want ok=%v", tc.store, err, tc.ok)
		}
		if err != nil && app.ErrorCode(err) != app.EINVALID {
			t.Errorf("%s: code %s, want EINVALID", tc.store, app.ErrorCode(err))
		}
	}
	// The system resolver: localhost is loopback.
	if err := CheckStoreURL(context.Background(), nil, "http://localhost:8080"); err == nil {
		t.Error("localhost accepted")
	}
}

var _ Resolver = net.DefaultResolver
