package store

import (
	"context"
	"database/sql"
	"sync"
)

// GORM's prepared statement mode does not survive a transaction: it caches each statement bound
// to the transaction that first prepared it, and database/sql re-prepares a statement bound to
// another transaction on every use. Every write then paid for compiling its INSERT or UPDATE
// again, about a tenth of the CPU an update costs. The writers run their transactions through
// txConn instead, which uses statements prepared on the writer pool: database/sql lends a
// transaction the copy already prepared on its connection.

// maxWriteStmts bounds the statements kept prepared; the store's writes use a few dozen.
const maxWriteStmts = 256

// writeStmts holds the statements prepared on the writer pool.
type writeStmts struct {
	db *sql.DB
	mu sync.Mutex
	// stmts are ready for any transaction. A statement first seen inside a transaction cannot be
	// prepared on the pool there and then: on SQLite the transaction holds the pool's one
	// connection. It runs unprepared in the transaction and is queued in missing; prepareMissing
	// puts it on the pool once the transaction has ended.
	stmts   map[string]*sql.Stmt
	missing map[string]bool
}

func newWriteStmts(db *sql.DB) *writeStmts {
	return &writeStmts{db: db, stmts: map[string]*sql.Stmt{}, missing: map[string]bool{}}
}

// get returns the statement for query, or nil if it is not prepared on the pool yet.
func (w *writeStmts) get(query string) *sql.Stmt {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := w.stmts[query]
	if st == nil && len(w.stmts)+len(w.missing) < maxWriteStmts {
		w.missing[query] = true
	}
	return st
}

// prepareMissing prepares on the pool the statements transactions asked for and did not find.
// It is called between transactions. A statement that fails to prepare stays unprepared: the
// transaction that uses it next prepares it itself, and reports the error if there is one.
func (w *writeStmts) prepareMissing(ctx context.Context) {
	w.mu.Lock()
	queries := make([]string, 0, len(w.missing))
	for query := range w.missing {
		queries = append(queries, query)
	}
	clear(w.missing)
	w.mu.Unlock()
	// Not under the lock: preparing waits for a free connection, and on PostgreSQL other
	// writers' transactions, holding theirs, may be asking for statements meanwhile.
	for _, query := range queries {
		st, err := w.db.PrepareContext(ctx, query)
		if err != nil {
			continue
		}
		w.mu.Lock()
		if w.stmts[query] == nil {
			w.stmts[query], st = st, nil
		}
		w.mu.Unlock()
		if st != nil {
			_ = st.Close() // another writer prepared it first
		}
	}
}

func (w *writeStmts) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, st := range w.stmts {
		_ = st.Close()
	}
	w.stmts = map[string]*sql.Stmt{}
}

// txConn is the connection GORM runs a write transaction's statements on. Queries arrive with
// their placeholders already spelled for the database.
type txConn struct {
	tx    *sql.Tx
	stmts *writeStmts
}

// The methods use the pool's statement when there is one. A statement not prepared on the pool
// yet runs on the transaction as database/sql runs any query, and get has queued it to be
// prepared once the transaction is over. (Preparing it separately here would, on PostgreSQL,
// turn a failure into an aborted transaction that hides the failure's own error.)

func (c txConn) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	if st := c.stmts.get(query); st != nil {
		return c.tx.StmtContext(ctx, st), nil
	}
	return c.tx.PrepareContext(ctx, query) // closed with the transaction
}

func (c txConn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := c.stmts.get(query); st != nil {
		return c.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return c.tx.ExecContext(ctx, query, args...)
}

func (c txConn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := c.stmts.get(query); st != nil {
		return c.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return c.tx.QueryContext(ctx, query, args...)
}

func (c txConn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := c.stmts.get(query); st != nil {
		return c.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return c.tx.QueryRowContext(ctx, query, args...)
}
