// Package testenv gives integration tests real dependencies: a fresh,
// migrated Postgres database per test binary, a Redis database of its own,
// and a TCP proxy that can cut a connection on demand to play an outage.
// It is imported only from _test files.
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"github.com/redis/go-redis/v9"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for admin statements

	"github.com/parrain/parrain/app/postgres"
	"github.com/parrain/parrain/app/secretbox"
)

// DefaultDatabaseURL is used when TEST_DATABASE_URL is unset; `make test`
// sets it to whatever scripts/stack.sh found or started.
const DefaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/parrain_test?sslmode=disable"

// DefaultRedisURL is used when TEST_REDIS_URL is unset.
const DefaultRedisURL = "redis://127.0.0.1:6379/0"

// Keyring returns a fixed test keyring.
func Keyring(t testing.TB) (*secretbox.Keyring, string) {
	spec := "test1:" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	k, err := secretbox.Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	return k, spec
}

// DatabaseURL creates a fresh database named after the test binary, applies
// the migrations and returns its URL; the database is dropped at cleanup.
// Tests that cannot reach Postgres fail: they never skip silently.
func DatabaseURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" {
		base = DefaultDatabaseURL
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("TEST_DATABASE_URL: %v", err)
	}
	admin := *u
	admin.Path = "/postgres"
	adb, err := sql.Open("pgx", admin.String())
	if err != nil {
		t.Fatal(err)
	}
	defer adb.Close()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := strings.TrimPrefix(u.Path, "/") + "_" + hex.EncodeToString(b)
	if _, err := adb.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create test database (is Postgres running? `make test` starts it): %v", err)
	}
	u.Path = "/" + name
	dsn := u.String()
	t.Cleanup(func() {
		adb, err := sql.Open("pgx", admin.String())
		if err == nil {
			_, _ = adb.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
			adb.Close()
		}
	})
	k, _ := Keyring(t)
	db, err := postgres.Open(context.Background(), dsn, k)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(context.Background(), "up"); err != nil {
		t.Fatal(err)
	}
	return dsn
}

// OpenDB returns an open, migrated test database.
func OpenDB(t testing.TB) (*postgres.DB, string) {
	t.Helper()
	dsn := DatabaseURL(t)
	k, _ := Keyring(t)
	db, err := postgres.Open(context.Background(), dsn, k)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, dsn
}

// RedisURL returns the URL of a Redis database that no other running test
// holds, flushed, and the database's index. Two test runs on one machine
// (two checkouts, CI beside a developer) would otherwise take each other's
// jobs. Databases 1 to 15 are claimed with a SET NX lease in database 0,
// released when the test ends (and expiring on their own if a run dies).
func RedisURL(t testing.TB) (string, int) {
	t.Helper()
	base := os.Getenv("TEST_REDIS_URL")
	if base == "" {
		base = DefaultRedisURL
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("TEST_REDIS_URL: %v", err)
	}
	ctx := context.Background()
	ctl := redis.NewClient(&redis.Options{Addr: u.Host, DB: 0})
	owner := fmt.Sprintf("%d:%s", os.Getpid(), t.Name())
	for attempt := 0; attempt < 600; attempt++ {
		for db := 1; db <= 15; db++ {
			key := fmt.Sprintf("parrain:test-redis-db:%d", db)
			ok, err := ctl.SetNX(ctx, key, owner, 30*time.Minute).Result()
			if err != nil {
				ctl.Close()
				t.Fatalf("redis at %s (make test starts it): %v", u.Host, err)
			}
			if !ok {
				continue
			}
			c := redis.NewClient(&redis.Options{Addr: u.Host, DB: db})
			err = c.FlushDB(ctx).Err()
			c.Close()
			if err != nil {
				ctl.Close()
				t.Fatalf("flush redis db %d: %v", db, err)
			}
			t.Cleanup(func() {
				// Release only our own lease.
				if v, _ := ctl.Get(ctx, key).Result(); v == owner {
					ctl.Del(ctx, key)
				}
				ctl.Close()
			})
			u.Path = fmt.Sprintf("/%d", db)
			return u.String(), db
		}
		time.Sleep(100 * time.Millisecond)
	}
	ctl.Close()
	t.Fatal("no free Redis test database (1-15) for a minute")
	return "", 0
}

// Redis returns a client of a Redis database of the test's own (RedisURL),
// closed when the test ends.
func Redis(t testing.TB) *redis.Client {
	t.Helper()
	raw, _ := RedisURL(t)
	opt, err := redis.ParseURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}
