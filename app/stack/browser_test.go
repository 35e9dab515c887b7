package stack_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestWidgetInBrowser runs widget/test/browser.test.mjs (headless Debian
// chromium, playwright-core) against this running app and simulator: the
// popup on the demo order-received page, keyboard, clipboard, share links,
// frequency cap, French, hostile CSS, phone layout, storefront capture.
// make test installs chromium and playwright-core first
// (scripts/browser-deps.sh).
// browserTests locates widget/test and checks what the browser tests need.
func browserTests(t *testing.T) (root, testDir, chromium string) {
	root, _ = filepath.Abs("../..")
	testDir = filepath.Join(root, "widget", "test")
	chromium = os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	for _, need := range []string{chromium, filepath.Join(testDir, "node_modules", "playwright-core")} {
		if _, err := os.Stat(need); err != nil {
			t.Fatalf("%s is missing: run `make test` (scripts/browser-deps.sh installs chromium and playwright-core)", need)
		}
	}
	return root, testDir, chromium
}

// runNodeTests runs one test file of widget/test with env, logging its
// report.
func runNodeTests(t *testing.T, testDir, file string, env ...string) {
	// Generous: on a loaded machine chromium runs several times slower.
	runNodeTestsWithin(t, 10*time.Minute, testDir, file, env...)
}

func runNodeTestsWithin(t *testing.T, d time.Duration, testDir, file string, env ...string) {
	cmd := exec.Command("node", "--test", "--test-reporter=spec", file)
	cmd.Dir = testDir
	cmd.Env = append(os.Environ(), env...)
	out, err := runWithTimeout(cmd, d)
	t.Log("\n" + string(out))
	if err != nil {
		t.Fatalf("%s failed: %v", file, err)
	}
}

func TestWidgetInBrowser(t *testing.T) {
	root, testDir, chromium := browserTests(t)
	h := newHarness(t, withSimulator(), withEnv("WIDGET_PER_MINUTE_PER_IP", "10000"), withEnv("CLICKS_PER_MINUTE_PER_IP", "10000"))
	const shop = "demo-widget.myshopify.com"
	h.installAndSync(shop, "USD")
	in := simOrder("ann@example.com")
	in.FirstName = "Ann"
	orderID := h.order(shop, in)
	var adv *advocateView
	eventually(t, 15*time.Second, "advocate with friend code", func() bool {
		adv = h.advocate("ann@example.com")
		return adv != nil && adv.FriendState == "created"
	})

	h.putProgram(shop, `{"widget":{"launcher":true}}`)

	out := filepath.Join(root, "test-output", "widget")
	runNodeTests(t, testDir, "browser.test.mjs",
		"SIM_URL="+h.simSrv.URL, "APP_URL="+h.app.URL, "SHOP="+shop, "ORDER_ID="+strconv.FormatInt(orderID, 10),
		"LINK="+h.app.URL+"/r/"+adv.Code, "CODE="+adv.FriendCode, "REF="+adv.Code, "OUT_DIR="+out, "CHROMIUM="+chromium)
	t.Logf("screenshots in %s", out)

	// The friend's order placed in the browser carries the cart attribute
	// the capture script wrote.
	var found bool
	for _, o := range h.sim.Orders(shop) {
		if strings.Contains(string(o), "friend-from-browser@example.com") {
			found = strings.Contains(string(o), `{"name":"parrain_ref","value":"`+adv.Code+`"}`)
		}
	}
	if !found {
		t.Fatalf("the browser's order does not carry parrain_ref=%s", adv.Code)
	}
}

func runWithTimeout(cmd *exec.Cmd, d time.Duration) ([]byte, error) {
	var buf strings.Builder
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return []byte(buf.String()), err
	case <-time.After(d):
		_ = cmd.Process.Kill()
		<-done
		return []byte(buf.String()), os.ErrDeadlineExceeded
	}
}

// TestConsoleInBrowser runs widget/test/console.test.mjs against this app:
// support reviews and approves a flagged referral (the reward reaches the
// simulated store), a viewer cannot act, the merchant's offer change shows
// in the live preview; screenshots of the queue and dashboard.
func TestConsoleInBrowser(t *testing.T) {
	root, testDir, chromium := browserTests(t)
	w := newConsoleWorld(t)
	runNodeTests(t, testDir, "console.test.mjs", "APP_URL="+w.h.app.URL, "SIM_URL="+w.h.simSrv.URL, "SHOP="+w.shopA,
		"REVIEW_ID="+strconv.FormatInt(w.reviewA, 10), "PASSWORD="+staffPassword,
		"TOKEN="+w.h.sim.SessionToken(w.shopA, 42, 10*time.Minute),
		"LONE_ORDER="+strconv.FormatInt(w.unattributedOrderA, 10), "ADVOCATE="+w.advocateA.Code,
		"OUT_DIR="+filepath.Join(root, "test-output", "console"), "CHROMIUM="+chromium)
}

// TestCampaignsInBrowser runs widget/test/campaigns.test.mjs: the merchant
// creates a campaign in the console and sees it in the popup preview; an
// overlapping one is refused.
func TestCampaignsInBrowser(t *testing.T) {
	root, testDir, chromium := browserTests(t)
	w := newConsoleWorld(t)
	runNodeTests(t, testDir, "campaigns.test.mjs", "APP_URL="+w.h.app.URL, "SHOP="+w.shopA, "PASSWORD="+staffPassword,
		"OUT_DIR="+filepath.Join(root, "test-output", "campaigns"), "CHROMIUM="+chromium)
}

// TestConsoleSweepInBrowser runs widget/test/sweep.test.mjs: every console
// page standalone and inside the Shopify admin (App Bridge and Polaris
// stood in), in each language, at phone and desktop width; screenshots
// under test-output/sweep and no serious or critical axe-core violation.
func TestConsoleSweepInBrowser(t *testing.T) {
	root, testDir, chromium := browserTests(t)
	w := newConsoleWorld(t)
	runNodeTestsWithin(t, 25*time.Minute, testDir, "sweep.test.mjs", "APP_URL="+w.h.app.URL, "SHOP="+w.shopA,
		"REVIEW_ID="+strconv.FormatInt(w.reviewA, 10), "PASSWORD="+staffPassword,
		"TOKEN="+w.h.sim.SessionToken(w.shopA, 42, 30*time.Minute), "API_KEY="+w.h.stack.Config.ShopifyAPIKey,
		"OUT_DIR="+filepath.Join(root, "test-output", "sweep"), "CHROMIUM="+chromium)
	t.Logf("screenshots in %s", filepath.Join(root, "test-output", "sweep"))
}
