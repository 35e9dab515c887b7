package postgres

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/parrain/parrain/app"
)

func TestUnavailableClassifier(t *testing.T) {
	pg := func(code string) error { return &pgconn.PgError{Severity: "FATAL", Code: code} }
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"starting up 57P03", pg("57P03"), true},
		{"admin shutdown 57P01", pg("57P01"), true},
		{"crash shutdown 57P02", pg("57P02"), true},
		{"idle session timeout 57P05", pg("57P05"), true},
		{"too many connections 53300", pg("53300"), true},
		{"connection exception 08006", pg("08006"), true},
		{"connection does not exist 08003", pg("08003"), true},
		{"cannot establish 08001", pg("08001"), true},
		{"wrapped 57P03", fmt.Errorf("lookup shop: %w", pg("57P03")), true},
		{"dial refused", dial, true},
		{"bad conn", driver.ErrBadConn, true},
		{"unique violation", pg("23505"), false},
		{"syntax error", pg("42601"), false},
		{"serialization failure", pg("40001"), false},
		{"query canceled 57014", pg("57014"), false},
		{"context canceled", fmt.Errorf("q: %w", context.Canceled), false},
		{"nil", nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Unavailable(tc.err); got != tc.want {
				t.Fatalf("Unavailable = %v, want %v", got, tc.want)
			}
			if tc.err == nil {
				return
			}
			code := app.ErrorCode(unavailable(tc.err, "op"))
			if (code == app.EUNAVAILABLE) != tc.want {
				t.Fatalf("unavailable() code %q", code)
			}
		})
	}
}
