// Command mail-sim runs the loopback SMTP server of development
// (integrations/smtp/mailsim): it keeps every message Parrain sends and
// shows them on an inbox page, with a JSON API and refusals on demand.
//
// Usage:
//
//	mail-sim [-smtp 127.0.0.1:1025] [-http 127.0.0.1:8025]
//
// Parrain reaches it with SMTP_URL=smtp://127.0.0.1:1025?tls=none.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/parrain/parrain/integrations/smtp/mailsim"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	fs := flag.NewFlagSet("mail-sim", flag.ContinueOnError)
	smtpAddr := fs.String("smtp", "127.0.0.1:1025", "SMTP listen address")
	httpAddr := fs.String("http", "127.0.0.1:8025", "inbox page and JSON API listen address")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	srv := mailsim.New()
	if err := srv.Listen(*smtpAddr); err != nil {
		fmt.Fprintln(os.Stderr, "mail-sim: smtp:", err)
		return 1
	}
	defer srv.Close()
	hs := &http.Server{Addr: *httpAddr, Handler: srv.Handler(), ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.ListenAndServe() }()
	fmt.Fprintf(os.Stderr, "mail-sim: SMTP on %s, inbox on http://%s/\n", srv.Addr(), *httpAddr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "mail-sim: http:", err)
			return 1
		}
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = hs.Shutdown(sctx)
	return 0
}
