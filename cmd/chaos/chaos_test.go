package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// The small chaos run of `make test`: a few hundred orders, one kill -9 of
// each kind of process, a Redis restart and a Postgres crash, with real
// processes and its own Postgres and Redis; nothing lost, nothing doubled.
// `make chaos` runs the large one.
func TestChaosSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Postgres, Redis and five processes")
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("no redis-server (scripts/stack.sh installs it)")
	}
	if m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres"); len(m) == 0 {
		t.Skip("no PostgreSQL server binaries (scripts/stack.sh installs them)")
	}
	bin := t.TempDir()
	for _, c := range []string{"parrain", "shopify-sim"} {
		out, err := exec.Command("go", "build", "-o", filepath.Join(bin, c), "../"+c).CombinedOutput()
		if err != nil {
			t.Fatalf("build %s: %v\n%s", c, err, out)
		}
	}
	dir := t.TempDir()
	// The postgres OS user (when run as root) must reach the data dir.
	_ = os.Chmod(filepath.Dir(dir), 0o755)
	_ = os.Chmod(dir, 0o755)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out bytes.Buffer
	r, err := run(ctx, options{Orders: 300, Kills: 1, Senders: 16, DupRate: 0.3, Dir: dir, Bin: bin, BasePort: 57500,
		DrainTimeout: 90 * time.Second, Seed: time.Now().UnixNano()}, &out)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() {
		t.Fatalf("chaos: %v", r.Problems)
	}
	if len(r.Problems) == 0 && r.Acknowledged != 600 {
		t.Fatalf("%d events acknowledged, want 600", r.Acknowledged)
	}
}
