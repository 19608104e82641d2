// Package store keeps accounts, API keys, contacts and conversations in SQLite or PostgreSQL
// through GORM. It owns every SQL statement of the project; callers see Go values and the
// sentinel errors of errors.go, never driver errors. What differs between the two databases is
// in dialect.go.
package store

import (
	"cmp"
	"context"
	"runtime"
	"time"

	"gorm.io/gorm"
)

// Store is the database. It is safe for concurrent use.
type Store struct {
	dialect dialect
	// writer holds the connections that write. On SQLite it is a single connection: SQLite
	// allows one writer at a time, and funnelling every write through one connection turns
	// lock contention ("database is locked") into an orderly queue inside database/sql.
	writer *gorm.DB
	// reader is a pool of read-only connections; in WAL mode they never block the writer.
	reader *gorm.DB
	// reads runs the hot read queries on the reader pool with prepared statements.
	reads *stmtCache
	// writes runs every write on the writer connections, with group commit.
	writes *groupCommitter
	// checkpoints copies SQLite's WAL back into the database file beside the writer; nil on
	// PostgreSQL.
	checkpoints *checkpointer
	now         func() time.Time
}

// Options tune Open. The zero value of each field picks its default.
type Options struct {
	// Now replaces the clock, for deterministic tests.
	Now func() time.Time
	// MaxOpenConns bounds the reader pool; 0 means DefaultMaxOpenConns.
	MaxOpenConns int
	// MaxIdleConns is how many reader connections stay open while idle; 0 means MaxOpenConns.
	MaxIdleConns int
	// ConnMaxLifetime closes a reader or PostgreSQL writer connection once it has been open
	// that long; 0 keeps connections for as long as the pool likes.
	ConnMaxLifetime time.Duration
	// WriteConns is how many group-commit transactions run at once on PostgreSQL; 0 means
	// DefaultWriteConns. SQLite always writes on one connection.
	WriteConns int
}

// DefaultMaxOpenConns is the reader pool's default size: twice the CPUs, at least 4.
func DefaultMaxOpenConns() int { return max(4, 2*runtime.NumCPU()) }

// DefaultWriteConns is how many transactions write at once on PostgreSQL by default.
const DefaultWriteConns = 4

// Open opens the database named by dsn and brings its schema up to date: a postgres:// or
// postgresql:// URL is a PostgreSQL database, anything else the path of a SQLite file (created
// if absent).
func Open(dsn string, opts Options) (*Store, error) {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	d := dialectOf(dsn)
	writer, err := d.open(dsn, false)
	if err != nil {
		return nil, err
	}
	sqlWriter, _ := writer.DB()
	writers := d.writerConns(cmp.Or(opts.WriteConns, DefaultWriteConns))
	sqlWriter.SetMaxOpenConns(writers)
	sqlWriter.SetMaxIdleConns(writers)
	if d == postgresDialect {
		sqlWriter.SetConnMaxLifetime(opts.ConnMaxLifetime)
	}
	if err := migrate(context.Background(), writer, d, now); err != nil {
		_ = sqlWriter.Close()
		return nil, err
	}
	reader, err := d.open(dsn, true)
	if err != nil {
		_ = sqlWriter.Close()
		return nil, err
	}
	sqlReader, _ := reader.DB()
	readers := cmp.Or(opts.MaxOpenConns, DefaultMaxOpenConns())
	sqlReader.SetMaxOpenConns(readers)
	sqlReader.SetMaxIdleConns(cmp.Or(opts.MaxIdleConns, readers))
	sqlReader.SetConnMaxLifetime(opts.ConnMaxLifetime)
	writes, err := newGroupCommitter(writer, d, writers)
	if err != nil {
		_ = sqlWriter.Close()
		_ = sqlReader.Close()
		return nil, err
	}
	s := &Store{
		dialect: d,
		writer:  writer,
		reader:  reader,
		reads:   newStmtCache(sqlReader, d),
		writes:  writes,
		now:     now,
	}
	if d == sqliteDialect {
		s.checkpoints = startCheckpointer(sqlReader)
	}
	return s, nil
}

// Close closes both connection pools. On SQLite the last close checkpoints the WAL into the
// main file.
func (s *Store) Close() error {
	s.writes.close()
	if s.checkpoints != nil {
		s.checkpoints.close()
	}
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
