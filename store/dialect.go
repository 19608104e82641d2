package store

import (
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Everything that differs between SQLite and PostgreSQL lives in this file: how a connection
// pool is opened, the few DDL words the two spell differently, placeholders, the migration lock
// and which errors are worth a retry. The models, queries and migrations above it are shared.

// dialect is the kind of database a Store runs on.
type dialect int

const (
	sqliteDialect dialect = iota
	postgresDialect
)

// dialectOf picks the database from the DSN: a postgres:// or postgresql:// URL is PostgreSQL,
// anything else is the path of a SQLite file.
func dialectOf(dsn string) dialect {
	lower := strings.ToLower(dsn)
	if strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://") {
		return postgresDialect
	}
	return sqliteDialect
}

func (d dialect) String() string {
	if d == postgresDialect {
		return "postgres"
	}
	return "sqlite"
}

// ddlWords are the words of a migration that each dialect spells its own way.
var ddlWords = map[dialect]*strings.Replacer{
	sqliteDialect: strings.NewReplacer(
		// AUTOINCREMENT never reuses a value, so a keyset position stays meaningful after
		// deletes; a plain INTEGER PRIMARY KEY could hand out a deleted row's seq again.
		"{{seq}}", "INTEGER PRIMARY KEY AUTOINCREMENT",
		"{{bytes}}", "BLOB",
	),
	postgresDialect: strings.NewReplacer(
		// An identity column draws from a sequence, which never goes back either.
		"{{seq}}", "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
		"{{bytes}}", "BYTEA",
	),
}

// ddl spells a migration statement for the dialect.
func (d dialect) ddl(stmt string) string { return ddlWords[d].Replace(stmt) }

// Locks that serialize a transaction with the same one in other server processes.
const (
	migrationLock int64 = 7013388263617459761 // "protocol" in ASCII
	firstKeyLock  int64 = migrationLock + 1
)

// lock is the statement that, run first in a transaction, makes the same transaction of every
// other server process wait for this one to end. On SQLite it is "": every write transaction
// starts with BEGIN IMMEDIATE, which already holds the database's one write lock. On
// PostgreSQL it is an advisory lock, released at commit or rollback.
func (d dialect) lock(key int64) string {
	if d == postgresDialect {
		return fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", key)
	}
	return ""
}

// retryable reports whether a write failed only because of another transaction running at the
// same time, so that running it again will most likely succeed. PostgreSQL aborts one of two
// transactions that wait on each other's row locks (another server's batch, or another writer
// connection's); SQLite has a single writer and never does.
func (d dialect) retryable(err error) bool {
	var pgErr *pgconn.PgError
	if d != postgresDialect || !errors.As(err, &pgErr) {
		return false
	}
	return pgErr.Code == "40P01" || pgErr.Code == "40001" // deadlock_detected, serialization_failure
}

// rebinds caches rebind's results: the store runs a small, fixed set of query strings.
var rebinds sync.Map // string -> string

// rebind writes a query's ? placeholders as PostgreSQL's $1, $2, ... It is meant for the
// store's own query strings, whose only ? characters are placeholders.
func (d dialect) rebind(query string) string {
	if d != postgresDialect || !strings.Contains(query, "?") {
		return query
	}
	if q, ok := rebinds.Load(query); ok {
		return q.(string)
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	rebinds.Store(query, b.String())
	return b.String()
}

// gormConfig is the same for both dialects.
func gormConfig() *gorm.Config {
	return &gorm.Config{
		Logger: logger.Discard,
		// Unique violations come back as gorm.ErrDuplicatedKey from either driver.
		TranslateError:         true,
		SkipDefaultTransaction: true,
		PrepareStmt:            true,
	}
}

// open opens one connection pool. readOnly pools refuse every write, so that a write can only
// happen on the writer.
func (d dialect) open(dsn string, readOnly bool) (*gorm.DB, error) {
	var (
		dialector gorm.Dialector
		name      string
	)
	switch d {
	case postgresDialect:
		u, err := url.Parse(dsn)
		if err != nil {
			return nil, fmt.Errorf("open PostgreSQL: bad URL: %w", err)
		}
		name = "PostgreSQL database " + strings.TrimPrefix(u.Path, "/") + " at " + u.Host
		if readOnly {
			// Run-time parameters, set as each connection starts.
			q := u.Query()
			q.Set("default_transaction_read_only", "on")
			// The reader's prepared statements are planned once, for any arguments. A plan for
			// particular arguments folds "(last_active_at IS NOT NULL) = false" into
			// "last_active_at IS NULL", which no longer matches the expression indexes that
			// serve the list filters; the generic plan keeps the expression, and the index.
			q.Set("plan_cache_mode", "force_generic_plan")
			u.RawQuery = q.Encode()
		}
		dialector = postgres.Open(u.String())
	default:
		name = dsn
		dialector = sqlite.Dialector{DriverName: sqliteDriver, DSN: sqliteDSN(dsn, readOnly)}
	}
	db, err := gorm.Open(dialector, gormConfig())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	if err := sqlDB.Ping(); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	return db, nil
}

// sqliteDriver is mattn's driver with the pragmas the DSN cannot set, run on every new
// connection.
const sqliteDriver = "sqlite3_protocol"

func init() {
	sql.Register(sqliteDriver, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		// Each write runs in a savepoint (group commit), whose journal of changed pages would
		// otherwise spill to a temporary file once it passes 64 KiB: a file write inside
		// every INSERT. In memory it costs no system call.
		if _, err := c.Exec("PRAGMA temp_store = MEMORY", nil); err != nil {
			return err
		}
		// The store's checkpointer copies the WAL back while the writer goes on; the writer's
		// own automatic checkpoint is only a backstop (checkpoint.go). Readers never commit a
		// write, so the setting only ever matters on the writer.
		_, err := c.Exec(fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", writerAutoCheckpointPages), nil)
		return err
	}})
}

// sqliteDSN is the file's DSN with the pragmas every connection needs.
func sqliteDSN(path string, readOnly bool) string {
	q := url.Values{}
	q.Set("_foreign_keys", "on")
	// WAL lets readers run alongside the single writer.
	q.Set("_journal_mode", "WAL")
	// synchronous=FULL fsyncs the WAL at every commit: an acknowledged write survives a power
	// loss, not only a crash of the process.
	q.Set("_synchronous", "FULL")
	// A busy timeout makes a connection wait for a lock instead of failing at once; the reader
	// pool needs it while a checkpoint runs, and a second server starting on the same file
	// needs it while the first migrates.
	q.Set("_busy_timeout", "10000")
	// BEGIN IMMEDIATE takes the write lock at the start of a transaction, so a transaction never
	// fails half-way when upgrading from a read lock.
	q.Set("_txlock", "immediate")
	if readOnly {
		q.Set("_query_only", "true")
	} else {
		// The writer touches every index of the rows it inserts, at random places for the
		// random ids; a larger page cache than the 2 MiB default keeps more of those pages
		// between commits. Readers keep the default, to keep memory small with many of them.
		q.Set("_cache_size", "-16384")
	}
	return "file:" + url.PathEscape(path) + "?" + q.Encode()
}

// writerConns is how many connections write: SQLite has one writer at a time, so more would
// only queue on its lock; PostgreSQL runs that many write transactions at once.
func (d dialect) writerConns(asked int) int {
	if d == sqliteDialect || asked < 1 {
		return 1
	}
	return asked
}

// batchSize is how many writes may share one transaction. SQLite's single writer commits
// queued writes together (group commit), so that they share one fsync. PostgreSQL gives each
// write its own transaction: it already shares WAL flushes between concurrent commits, and a
// transaction that held the locks of many writes could wait on another server's transaction
// that waits on it in turn, a deadlock PostgreSQL breaks only after deadlock_timeout.
func (d dialect) batchSize() int {
	if d == postgresDialect {
		return 1
	}
	return maxBatch
}
