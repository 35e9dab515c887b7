package stack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/integrations/woocommerce"
	"github.com/parrain/parrain/integrations/woocommerce/wcsim"
	"github.com/parrain/parrain/jobs"
)

// countingStore is a willing WooCommerce store (the simulator, accepting
// the keys) on 127.0.0.1 behind a listener that counts connections: zero
// connections proves Parrain made no request to it.
func countingStore(t *testing.T, network, addr string) (string, *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Skipf("listen %s: %v", addr, err)
	}
	var n atomic.Int64
	srv := &http.Server{Handler: wcsim.New("ck_ssrf", "cs_ssrf").Handler(), ConnState: func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			n.Add(1)
		}
	}}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), &n
}

// Issue 10 §2: /auth/woocommerce/start redirected to any host and the
// callback made Parrain call {store}/wp-json/… on loopback, private and
// metadata addresses, then poll them. Now every such store is refused at
// /start (400, a message, no redirect, nothing stored) and at the callback
// (nothing written), and no connection reaches it; a shop that points at
// one anyway (installed before, or a name rebound since) is not polled:
// the maintenance job's dialer refuses the address. Seen failing before the
// guard: /start answered 302 to http://127.0.0.1:…/wc-auth/v1/authorize and
// the callback installed the shop after calling the store.
func TestWooCommerceInstallRefusesPrivateStores(t *testing.T) {
	h := newHarness(t, withEnv("WOOCOMMERCE_ALLOW_PRIVATE_STORES", "false"))
	v4, n4 := countingStore(t, "tcp4", "127.0.0.1:0")
	_, port, _ := net.SplitHostPort(v4)
	stores := []string{
		"http://" + v4,
		"http://localhost:" + port, // a name that resolves to loopback
		"http://10.0.0.7",
		"http://169.254.169.254",
		"http://[fd00:ec2::254]",
		"http://[::ffff:127.0.0.1]:" + port,
		"http://100.64.0.1",
	}
	var n6 *atomic.Int64
	if ln, err := net.Listen("tcp6", "[::1]:0"); err == nil {
		ln.Close()
		var v6 string
		v6, n6 = countingStore(t, "tcp6", "[::1]:0")
		stores = append(stores, "http://"+v6)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	ctx := context.Background()
	for _, store := range stores {
		resp, err := noFollow.Get(h.app.URL + "/auth/woocommerce/start?store=" + url.QueryEscape(store))
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(resp)
		if resp.StatusCode != 400 || resp.Header.Get("Location") != "" || !strings.Contains(body, "not a public address") {
			t.Fatalf("start %s: %d %q location %q", store, resp.StatusCode, body, resp.Header.Get("Location"))
		}
		// The callback of a state that names such a store (stored before
		// the guard, or by a name that resolved elsewhere at /start).
		state := "ssrf-" + strconv.Itoa(len(store)) + strings.NewReplacer(":", "", "/", "", ".", "", "[", "", "]", "").Replace(store)
		if err := h.stack.DB.Shops().StartWooCommerceInstall(ctx, state, store); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(map[string]any{"key_id": 1, "user_id": state, "consumer_key": "ck_ssrf", "consumer_secret": "cs_ssrf", "key_permissions": "read_write"})
		resp, err = http.Post(h.app.URL+"/auth/woocommerce/callback", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if body := readAll(resp); resp.StatusCode != 400 || !strings.Contains(body, "not a public address") {
			t.Fatalf("callback %s: %d %q", store, resp.StatusCode, body)
		}
	}
	if n := h.count("SELECT count(*) FROM shops"); n != 0 {
		t.Fatalf("%d shops written", n)
	}
	if n := h.count("SELECT count(*) FROM woocommerce_installs WHERE state NOT LIKE 'ssrf-%'"); n != 0 {
		t.Fatalf("/start stored %d install states", n)
	}

	// A shop already pointing at loopback: the maintenance job (webhooks,
	// poll) goes through the guarded dialer and never connects.
	if _, err := h.stack.DB.Shops().Install(ctx, app.PlatformWooCommerce, "rebound.example", woocommerce.Credentials("ck_ssrf", "cs_ssrf"), time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := h.direct.Exec(`UPDATE shops SET store_url = $1, currency = 'EUR' WHERE domain = 'rebound.example'`, "http://"+v4); err != nil {
		t.Fatal(err)
	}
	err := h.stack.Mux().ProcessTask(ctx, jobs.NewWooCommerceMaintainTask())
	if err == nil || !strings.Contains(h.logs.String(), "address is not public") {
		t.Fatalf("maintenance of a loopback store: %v", err)
	}
	if n4.Load() != 0 || (n6 != nil && n6.Load() != 0) {
		t.Fatalf("Parrain connected to the loopback store: %d (v4) %v (v6)", n4.Load(), n6)
	}
}
