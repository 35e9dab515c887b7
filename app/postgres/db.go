// Package postgres is the Postgres adapter: GORM as the query layer over the
// schema that migrations/ owns, implementing the storage services declared in
// package app.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/pressly/goose/v3"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/secretbox"
	"github.com/parrain/parrain/migrations"
)

// DB is an open database with the services built on it.
type DB struct {
	gorm    *gorm.DB
	sql     *sql.DB
	keyring *secretbox.Keyring
	now     func() time.Time
	// clickKey hashes an order's browser IP as the link handler hashes a
	// click's (app.ClickIPHash), to find the click that led to an order.
	clickKey string
}

// SetClickIPKey sets the key clicks' IPs are hashed with (the link
// handler's).
func (db *DB) SetClickIPKey(key string) { db.clickKey = key }

// Open connects to Postgres. It does not check migrations; call
// CheckMigrations before serving.
func Open(ctx context.Context, dsn string, keyring *secretbox.Keyring) (*DB, error) {
	g, err := gorm.Open(postgres.Open(dsn), &gorm.Config{
		Logger:                 logger.Discard, // query logs would carry customer data
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return time.Now().UTC() },
	})
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if err := g.Use(classifyErrors{}); err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	sqlDB, err := g.DB()
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	sqlDB.SetMaxOpenConns(20)
	sqlDB.SetMaxIdleConns(20)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	return &DB{gorm: g, sql: sqlDB, keyring: keyring, now: func() time.Time { return time.Now().UTC() }}, nil
}

// Close closes the connection pool.
func (db *DB) Close() error { return db.sql.Close() }

// Ping reports whether Postgres answers.
func (db *DB) Ping(ctx context.Context) error { return db.sql.PingContext(ctx) }

// SQL exposes the underlying pool for tests and tools.
func (db *DB) SQL() *sql.DB { return db.sql }

func newMigrator(sqlDB *sql.DB) (*goose.Provider, error) {
	sub, err := fs.Sub(migrations.FS, ".")
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(goose.DialectPostgres, sqlDB, sub)
}

// Migrate runs a migration command: "up", "down" (one step) or "status"
// (returns one line per migration).
func (db *DB) Migrate(ctx context.Context, command string) ([]string, error) {
	p, err := newMigrator(db.sql)
	if err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	var lines []string
	switch command {
	case "up":
		res, err := p.Up(ctx)
		for _, r := range res {
			lines = append(lines, fmt.Sprintf("applied %s (%s)", r.Source.Path, r.Duration.Round(time.Millisecond)))
		}
		if err != nil {
			return lines, fmt.Errorf("migrate up: %w", err)
		}
		if len(lines) == 0 {
			lines = append(lines, "no pending migrations")
		}
	case "down":
		r, err := p.Down(ctx)
		if err != nil {
			return nil, fmt.Errorf("migrate down: %w", err)
		}
		if r != nil {
			lines = append(lines, fmt.Sprintf("rolled back %s", r.Source.Path))
		}
	case "status":
		st, err := p.Status(ctx)
		if err != nil {
			return nil, fmt.Errorf("migrate status: %w", err)
		}
		for _, s := range st {
			at := "pending"
			if s.State == goose.StateApplied {
				at = "applied " + s.AppliedAt.UTC().Format(time.RFC3339)
			}
			lines = append(lines, fmt.Sprintf("%-40s %s", s.Source.Path, at))
		}
	default:
		return nil, app.Errorf(app.EINVALID, "unknown migrate command %q (want up, down or status)", command)
	}
	return lines, nil
}

// CheckMigrations fails when any embedded migration is not applied, so a
// binary never runs against a schema older than it expects.
func (db *DB) CheckMigrations(ctx context.Context) error {
	p, err := newMigrator(db.sql)
	if err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return fmt.Errorf("check migrations: %w", err)
	}
	if pending {
		return errors.New("database schema is behind this binary: run `parrain migrate up`")
	}
	return nil
}

// unavailable classifies "database unavailable" failures as EUNAVAILABLE so
// the HTTP layer answers 503 (platforms retry) instead of 500.
func unavailable(err error, what string) error {
	if err == nil {
		return nil
	}
	if !Unavailable(err) {
		return fmt.Errorf("%s: %w", what, err)
	}
	return app.Wrap(app.EUNAVAILABLE, fmt.Errorf("%s: %w", what, err), "database unavailable, retry later")
}

// Unavailable reports whether err means the database cannot serve us right
// now, as opposed to refusing our SQL: connection failures (dial, reset,
// timeout, a closed pool) and the server states that refuse every session
// for a while, which the server reports with a SQLSTATE:
//
//   - class 08, connection exception (08000, 08003, 08006, 08001, 08004...);
//   - 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now
//     ("the database system is starting up", or in recovery), 57P05
//     idle_session_timeout;
//   - 53300 too_many_connections.
//
// Any other SQLSTATE (a constraint, a syntax error, a serialization failure)
// is the server answering: not an outage. A cancelled context is the caller
// leaving, not an outage either. Neither are GORM's and database/sql's own
// errors (no row found, a missing WHERE, a finished transaction...): they
// carry no SQLSTATE either, but they are answers, not failures to connect.
func Unavailable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || answered(err) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return unavailableState(pgErr.Code)
	}
	// No SQLSTATE: the failure happened below SQL (dial, TLS, a dropped
	// connection, a pool closed or timed out).
	return true
}

// answeredErrs are the errors GORM and database/sql return when the
// database (or the library) answered: a row that is not there, a statement
// GORM refuses to run, a transaction already finished.
var answeredErrs = []error{
	gorm.ErrRecordNotFound, gorm.ErrInvalidTransaction, gorm.ErrNotImplemented, gorm.ErrMissingWhereClause,
	gorm.ErrUnsupportedRelation, gorm.ErrPrimaryKeyRequired, gorm.ErrModelValueRequired,
	gorm.ErrModelAccessibleFieldsRequired, gorm.ErrSubQueryRequired, gorm.ErrInvalidData, gorm.ErrUnsupportedDriver,
	gorm.ErrRegistered, gorm.ErrInvalidField, gorm.ErrEmptySlice, gorm.ErrDryRunModeUnsupported, gorm.ErrInvalidDB,
	gorm.ErrInvalidValue, gorm.ErrInvalidValueOfLength, gorm.ErrPreloadNotAllowed, gorm.ErrDuplicatedKey,
	gorm.ErrForeignKeyViolated, gorm.ErrCheckConstraintViolated,
	sql.ErrNoRows, sql.ErrTxDone,
}

func answered(err error) bool {
	for _, a := range answeredErrs {
		if errors.Is(err, a) {
			return true
		}
	}
	return false
}

func unavailableState(code string) bool {
	if strings.HasPrefix(code, "08") {
		return true
	}
	switch code {
	case "57P01", "57P02", "57P03", "57P05", "53300":
		return true
	}
	return false
}

// classifyErrors is a GORM plugin that marks every "database unavailable"
// error of a statement EUNAVAILABLE where it happens, so repository methods
// that return a query's error as is still answer 503, not 500.
type classifyErrors struct{}

func (classifyErrors) Name() string { return "parrain:classify-errors" }

func (classifyErrors) Initialize(db *gorm.DB) error {
	mark := func(tx *gorm.DB) {
		if err := tx.Error; err != nil && app.ErrorCode(err) == app.EINTERNAL && Unavailable(err) {
			tx.Error = app.Wrap(app.EUNAVAILABLE, err, "database unavailable, retry later")
		}
	}
	cb := db.Callback()
	for _, err := range []error{
		cb.Create().After("*").Register("parrain:classify", mark),
		cb.Query().After("*").Register("parrain:classify", mark),
		cb.Update().After("*").Register("parrain:classify", mark),
		cb.Delete().After("*").Register("parrain:classify", mark),
		cb.Row().After("*").Register("parrain:classify", mark),
		cb.Raw().After("*").Register("parrain:classify", mark),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}
