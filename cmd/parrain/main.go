// Command parrain runs Parrain: `serve` (HTTP), `work` (jobs and scheduler),
// `all` (both, the default), and `migrate up|down|status`.
package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	_ "net/http/pprof" // served only when PPROF_ADDR is set
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/parrain/parrain/app/config"
	"github.com/parrain/parrain/app/logging"
	"github.com/parrain/parrain/app/postgres"
	"github.com/parrain/parrain/app/stack"
)

const usage = `usage: parrain [serve|work|all|migrate up|migrate down|migrate status|staff add]
  serve    HTTP server (install flows, webhook intake, health, metrics)
  work     background jobs and the scheduler
  all      serve and work in one process (default)
  migrate  apply (up), roll back one (down) or list (status) schema migrations
  staff add --email E --role owner|support|viewer [--name N] [--shops a.myshopify.com,…]
           create a console account; the password is read from PARRAIN_STAFF_PASSWORD or stdin
Settings come from environment variables; see README.md.`

func main() {
	if err := run(os.Args[1:]); err != nil {
		// One line, so a bad setting is obvious in any process manager.
		fmt.Fprintln(os.Stderr, "parrain:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	cmd := "all"
	if len(args) > 0 {
		cmd = args[0]
	}
	switch cmd {
	case "serve", "work", "all", "migrate", "staff":
	case "-h", "--help", "help":
		fmt.Println(usage)
		return nil
	default:
		return fmt.Errorf("unknown command %q\n%s", cmd, usage)
	}
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	log := logging.New(cfg.LogLevel, nil)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	if cmd == "migrate" {
		sub := "up"
		if len(args) > 1 {
			sub = args[1]
		}
		db, err := postgres.Open(ctx, cfg.DatabaseURL, cfg.Keyring)
		if err != nil {
			return err
		}
		defer db.Close()
		lines, err := db.Migrate(ctx, sub)
		for _, l := range lines {
			fmt.Println(l)
		}
		return err
	}

	if cmd == "staff" {
		return staffCommand(ctx, cfg, args[1:])
	}

	s, err := stack.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer s.Close()
	if os.Getenv("PARRAIN_FAULT") == "exit-after-reward-store-call" {
		// Test-only fault injection: die the worst way, after the store
		// created the reward and before the database knows (crash test in
		// app/stack). Never set in production.
		s.AfterStoreCall = func() { os.Exit(3) }
	}
	if os.Getenv("PARRAIN_FAULT") == "exit-after-friend-batch-sent" {
		// Test-only: die after the store took a batch of friend codes and
		// before its operation is recorded (crash test in app/stack).
		s.AfterFriendBatchSent = func() { os.Exit(3) }
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	if cmd == "serve" || cmd == "all" {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- s.Serve(ctx, cfg.ListenAddr) }()
	}
	if cmd == "work" || cmd == "all" {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- s.RunWorker(ctx) }()
	}
	if addr := os.Getenv("PPROF_ADDR"); addr != "" {
		// Off by default; for profiling on a loopback address only.
		go func() { log.Warn("pprof stopped", "error", http.ListenAndServe(addr, nil).Error()) }()
	}
	log.Info("parrain started", "mode", cmd)
	// The first part to fail stops the others.
	var first error
	go func() { wg.Wait(); close(errs) }()
	for err := range errs {
		if err != nil && first == nil {
			first = err
			stop()
		}
	}
	log.Info("parrain stopped")
	if errors.Is(first, context.Canceled) {
		return nil
	}
	return first
}
