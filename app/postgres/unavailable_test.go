package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"os"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

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
		// GORM's and database/sql's own answers carry no SQLSTATE and are
		// not outages (they were classified 503 once).
		{"gorm record not found", gorm.ErrRecordNotFound, false},
		{"wrapped gorm record not found", fmt.Errorf("load x: %w", gorm.ErrRecordNotFound), false},
		{"gorm missing where", gorm.ErrMissingWhereClause, false},
		{"gorm invalid transaction", gorm.ErrInvalidTransaction, false},
		{"gorm duplicated key", gorm.ErrDuplicatedKey, false},
		{"sql no rows", sql.ErrNoRows, false},
		{"sql tx done", sql.ErrTxDone, false},
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

// TestClassifyPluginLeavesAnswersAlone runs a query that finds no row
// through GORM with the plugin installed: the error must stay "not found"
// (a 404 or a skipped job), not become a 503 "database unavailable".
func TestClassifyPluginLeavesAnswersAlone(t *testing.T) {
	dsn := os.Getenv("TEST_DATABASE_URL")
	if dsn == "" {
		t.Skip("TEST_DATABASE_URL not set")
	}
	db, err := Open(context.Background(), dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var row struct{ Oid int64 }
	err = db.gorm.Table("pg_class").Where("oid = 0").Take(&row).Error
	if !errors.Is(err, gorm.ErrRecordNotFound) {
		t.Fatalf("err = %v, want record not found", err)
	}
	if code := app.ErrorCode(err); code == app.EUNAVAILABLE {
		t.Fatalf("a missing row was classified %s", code)
	}
	if code := app.ErrorCode(unavailable(err, "load")); code == app.EUNAVAILABLE {
		t.Fatalf("unavailable() classified a missing row %s", code)
	}
}
