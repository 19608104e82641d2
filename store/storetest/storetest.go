// Package storetest gives each test a fresh, empty database of the kind the test run asks for:
// a SQLite file in the test's temp dir by default, or, with PROTOCOL_TEST_STORE=postgres, a
// schema of its own in the PostgreSQL database that PROTOCOL_TEST_POSTGRES names. Tests on
// either stay independent and may run in parallel.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	// The database/sql driver "pgx", for creating and dropping the tests' schemas.
	_ "github.com/jackc/pgx/v5/stdlib"
)

const (
	// StoreEnv selects the database the tests run on: "sqlite" (the default) or "postgres".
	StoreEnv = "PROTOCOL_TEST_STORE"
	// PostgresEnv is a postgres:// URL of a database in which the tests may create and drop
	// schemas, e.g. postgres://user@127.0.0.1:5432/protocol_test?sslmode=disable.
	PostgresEnv = "PROTOCOL_TEST_POSTGRES"
)

// Postgres reports whether this test run is on PostgreSQL.
func Postgres() bool { return os.Getenv(StoreEnv) == "postgres" }

// DSN returns a fresh, empty database for the test, to pass to store.Open. It is dropped when
// the test ends, after every cleanup registered later (such as closing the store) has run.
func DSN(tb testing.TB) string {
	tb.Helper()
	switch kind := os.Getenv(StoreEnv); kind {
	case "", "sqlite":
		return filepath.Join(tb.TempDir(), "protocol.db")
	case "postgres":
		if os.Getenv(PostgresEnv) == "" {
			tb.Fatalf("%s=postgres needs %s: a postgres:// URL of a database the tests may create schemas in", StoreEnv, PostgresEnv)
		}
		return PostgresDSN(tb)
	default:
		tb.Fatalf("%s=%q: want sqlite or postgres", StoreEnv, kind)
		return ""
	}
}

// PostgresDSN returns a fresh, empty PostgreSQL schema for the test, whatever database the run
// is on, as a URL whose search_path is that schema. Without PROTOCOL_TEST_POSTGRES the test is
// skipped, and fails when CI is set: CI always provides a PostgreSQL server.
func PostgresDSN(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		msg := fmt.Sprintf("no PostgreSQL to test against: set %s to a postgres:// URL, or run the tests under scripts/with-postgres", PostgresEnv)
		if os.Getenv("CI") != "" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	admin, err := adminDB(base)
	if err != nil {
		tb.Fatalf("%s: %v", PostgresEnv, err)
	}
	schema := "test_" + randomHex(8)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("create schema %s in %s: %v", schema, redacted(base), err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("%s: %v", PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema) // a run-time parameter of every connection
	u.RawQuery = q.Encode()
	return u.String()
}

var (
	adminMu sync.Mutex
	admins  = map[string]*sql.DB{}
)

// adminDB is the pool that creates and drops schemas, one per test process.
func adminDB(dsn string) (*sql.DB, error) {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return nil, fmt.Errorf("%q is not a postgres:// URL", redacted(dsn))
	}
	adminMu.Lock()
	defer adminMu.Unlock()
	if db, ok := admins[dsn]; ok {
		return db, nil
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(2)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("connect to %s: %w", redacted(dsn), err)
	}
	admins[dsn] = db
	return db, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// redacted is a URL without its password, for messages.
func redacted(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
