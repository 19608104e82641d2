// Package store keeps accounts, API keys, contacts and conversations in SQLite through GORM.
// It owns every SQL statement of the project; callers see Go values and the sentinel errors of
// errors.go, never driver errors.
package store

import (
	"context"
	"fmt"
	"net/url"
	"runtime"
	"time"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Store is the database. It is safe for concurrent use.
type Store struct {
	// writer is a single connection: SQLite allows one writer at a time, and funnelling every
	// write through one connection turns lock contention ("database is locked") into an orderly
	// queue inside database/sql.
	writer *gorm.DB
	// reader is a pool of read-only connections; in WAL mode they never block the writer.
	reader *gorm.DB
	// reads runs the hot read queries on the reader pool with prepared statements.
	reads *stmtCache
	// writes runs every write on the writer connection, with group commit.
	writes *groupCommitter
	now    func() time.Time
}

// Options tune Open. The zero value is what production uses.
type Options struct {
	// Now replaces the clock, for deterministic tests.
	Now func() time.Time
}

// Open opens (creating if needed) the SQLite database at path and brings its schema up to date.
func Open(path string, opts Options) (*Store, error) {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	writer, err := openSQLite(path, false)
	if err != nil {
		return nil, err
	}
	sqlWriter, _ := writer.DB()
	sqlWriter.SetMaxOpenConns(1)
	sqlWriter.SetMaxIdleConns(1)
	sqlWriter.SetConnMaxLifetime(0)
	if err := migrate(context.Background(), writer, now); err != nil {
		_ = sqlWriter.Close()
		return nil, err
	}
	reader, err := openSQLite(path, true)
	if err != nil {
		_ = sqlWriter.Close()
		return nil, err
	}
	sqlReader, _ := reader.DB()
	readers := max(4, 2*runtime.NumCPU())
	sqlReader.SetMaxOpenConns(readers)
	sqlReader.SetMaxIdleConns(readers)
	return &Store{writer: writer, reader: reader, reads: newStmtCache(sqlReader), writes: newGroupCommitter(writer), now: now}, nil
}

// openSQLite opens one connection pool on path with the pragmas every connection needs.
func openSQLite(path string, readOnly bool) (*gorm.DB, error) {
	q := url.Values{}
	q.Set("_foreign_keys", "on")
	// WAL lets readers run alongside the single writer.
	q.Set("_journal_mode", "WAL")
	// synchronous=FULL fsyncs the WAL at every commit: an acknowledged write survives a power
	// loss, not only a crash of the process.
	q.Set("_synchronous", "FULL")
	// A busy timeout makes a connection wait for a lock instead of failing at once; the reader
	// pool needs it while a checkpoint runs.
	q.Set("_busy_timeout", "10000")
	// BEGIN IMMEDIATE takes the write lock at the start of a transaction, so a transaction never
	// fails half-way when upgrading from a read lock.
	q.Set("_txlock", "immediate")
	if readOnly {
		q.Set("_query_only", "true")
	}
	dsn := "file:" + url.PathEscape(path) + "?" + q.Encode()
	db, err := gorm.Open(sqlite.Open(dsn), &gorm.Config{
		Logger:                 logger.Discard,
		TranslateError:         true,
		SkipDefaultTransaction: true,
		PrepareStmt:            true,
	})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	if err := sqlDB.Ping(); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

// Close closes both connection pools. The last close checkpoints the WAL into the main file.
func (s *Store) Close() error {
	s.writes.close()
	s.reads.close()
	var errs []error
	for _, db := range []*gorm.DB{s.reader, s.writer} {
		sqlDB, err := db.DB()
		if err == nil {
			err = sqlDB.Close()
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.reader.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// unix is the store's clock in Unix seconds, the API's timestamp unit.
func (s *Store) unix() int64 { return s.now().Unix() }
