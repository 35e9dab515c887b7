// Package logging sets up Parrain's structured JSON logs and carries a
// request-scoped logger through contexts, so every line of a request (or job)
// has its request id.
package logging

import (
	"context"
	"io"
	"log/slog"
	"os"
)

// New returns a JSON logger at the given level ("debug", "info", "warn",
// "error") writing to w (stderr when nil).
func New(level string, w io.Writer) *slog.Logger {
	if w == nil {
		w = os.Stderr
	}
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

type ctxKey struct{}

// With returns a context carrying logger.
func With(ctx context.Context, logger *slog.Logger) context.Context {
	return context.WithValue(ctx, ctxKey{}, logger)
}

// From returns the context's logger, or the default logger.
func From(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(ctxKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}
