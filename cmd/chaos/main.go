// Command chaos checks "nothing lost, nothing doubled" under failure: it
// starts its own Postgres and Redis (project-local, under -dir), the
// Shopify simulator, two `parrain serve` and two `parrain work` processes;
// sends signed order webhooks (advocates' orders, then friends' orders
// that attribute to them) from many concurrent senders, with duplicates
// and in shuffled order; meanwhile kills -9 web and worker processes at
// random moments (and restarts them), restarts Redis (empty: no
// persistence) and crashes Postgres (immediate shutdown, crash recovery).
// Then it waits for the backlog to drain and compares: acknowledged vs
// stored vs processed events, advocates vs friend codes in the simulator,
// referrals vs rewards vs reward codes in the simulator. It exits 1 on any
// loss or double.
//
//	go run ./cmd/chaos -orders 5000 -kills 3      (make chaos)
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	var o options
	flag.IntVar(&o.Orders, "orders", 5000, "orders sent (half advocates' first orders, half their friends' orders)")
	flag.IntVar(&o.Kills, "kills", 3, "kill -9 of each kind of process (serve, work) during the run")
	flag.IntVar(&o.Senders, "senders", 32, "concurrent webhook senders")
	flag.Float64Var(&o.DupRate, "dup-rate", 0.3, "probability that a delivery is sent again (1 or 2 more times)")
	flag.StringVar(&o.Dir, "dir", ".local/chaos", "working directory (data, logs)")
	flag.StringVar(&o.Bin, "bin", "bin", "directory with the parrain and shopify-sim binaries")
	flag.IntVar(&o.BasePort, "base-port", 57400, "first of the ports used (Postgres, Redis, simulator, two web processes)")
	flag.DurationVar(&o.DrainTimeout, "drain-timeout", 15*time.Minute, "how long the backlog may take to drain")
	flag.Int64Var(&o.Seed, "seed", time.Now().UnixNano(), "random seed (printed, to replay a run)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	r, err := run(ctx, o, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(2)
	}
	if !r.OK() {
		os.Exit(1)
	}
}
