package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"gorm.io/gorm"
)

// ErrClosed is returned for writes sent after Close.
var ErrClosed = errors.New("store is closed")

// maxBatch bounds how many writes share one transaction on SQLite, so one commit never waits on
// a long queue.
const maxBatch = 128

// maxAttempts bounds how often one write runs when the database aborts it for a conflict with
// another transaction (dialect.retryable).
const maxAttempts = 4

// Writes go through group commit. SQLite has one writer at a time, and with synchronous=FULL
// every commit waits for an fsync, which costs far more than the writes themselves. So one
// goroutine owns the writer connection: it takes every write queued at that moment, runs each
// in a savepoint of one transaction (a failed write rolls back only itself), commits once, and
// only then answers each caller. A caller is never told its write succeeded before that write is
// on disk.
//
// On PostgreSQL several loops, each with a connection of its own, take writes from the one
// queue, and each write is a transaction of its own (dialect.batchSize). A write that the
// database aborts for a conflict with another transaction is rolled back to its savepoint and
// run again, so its function must not depend on anything an earlier run of it left behind.
type groupCommitter struct {
	db      *gorm.DB
	sqlDB   *sql.DB
	stmts   *writeStmts
	dialect dialect
	batch   int // most writes in one transaction
	jobs    chan *writeJob
	closed  chan struct{}
	done    sync.WaitGroup
	once    sync.Once
}

type writeJob struct {
	ctx    context.Context
	fn     func(tx *gorm.DB) error
	result chan error
}

// newGroupCommitter starts loops loops, each writing on a connection of db of its own.
func newGroupCommitter(db *gorm.DB, d dialect, loops int) (*groupCommitter, error) {
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	g := &groupCommitter{db: db, sqlDB: sqlDB, stmts: newWriteStmts(sqlDB), dialect: d, batch: d.batchSize(),
		jobs: make(chan *writeJob, maxBatch), closed: make(chan struct{})}
	for range loops {
		g.done.Add(1)
		go g.loop()
	}
	return g, nil
}

// write runs fn in a transaction shared with other writes and returns once that transaction has
// committed (nil) or fn's changes were rolled back (fn's error, or the commit's).
func (g *groupCommitter) write(ctx context.Context, fn func(tx *gorm.DB) error) error {
	j := &writeJob{ctx: ctx, fn: fn, result: make(chan error, 1)}
	select {
	case <-g.closed:
		return ErrClosed
	default:
	}
	select {
	case g.jobs <- j:
	case <-ctx.Done():
		return ctx.Err()
	case <-g.closed:
		return ErrClosed
	}
	// Once queued, the write may commit: wait for the outcome even if ctx ends.
	return <-j.result
}

func (g *groupCommitter) loop() {
	defer g.done.Done()
	for {
		select {
		case j := <-g.jobs:
			g.runBatch(g.collect(j))
		case <-g.closed:
			// Finish what was queued before Close, then stop.
			for {
				select {
				case j := <-g.jobs:
					g.runBatch(g.collect(j))
				default:
					return
				}
			}
		}
	}
}

// collect takes first and whatever else is already queued, up to g.batch.
func (g *groupCommitter) collect(first *writeJob) []*writeJob {
	batch := []*writeJob{first}
	for len(batch) < g.batch {
		select {
		case j := <-g.jobs:
			batch = append(batch, j)
		default:
			return batch
		}
	}
	return batch
}

// begin starts a transaction whose statements run on txConn.
func (g *groupCommitter) begin() (*gorm.DB, *sql.Tx, error) {
	sqlTx, err := g.sqlDB.BeginTx(context.Background(), nil)
	if err != nil {
		return nil, nil, err
	}
	// A Session with a Context gets a Statement of its own (as GORM's Begin does), so setting its
	// ConnPool leaves the pool's own Statement alone.
	tx := g.db.Session(&gorm.Session{NewDB: true, Context: context.Background()})
	tx.Statement.ConnPool = txConn{tx: sqlTx, stmts: g.stmts}
	return tx, sqlTx, nil
}

func (g *groupCommitter) runBatch(batch []*writeJob) {
	results := make([]error, len(batch))
	tx, sqlTx, err := g.begin()
	if err != nil {
		g.answer(batch, results, err)
		return
	}
	for i, j := range batch {
		if err := j.ctx.Err(); err != nil {
			results[i] = err // the caller gave up before its write started
			continue
		}
		if err := execWrite(tx, "SAVEPOINT write"); err != nil {
			_ = sqlTx.Rollback()
			g.answer(batch, results, err)
			return
		}
		for attempt := 1; ; attempt++ {
			results[i] = runJob(j, tx)
			if results[i] == nil {
				break
			}
			if err := execWrite(tx, "ROLLBACK TO write"); err != nil {
				_ = sqlTx.Rollback()
				g.answer(batch, results, err)
				return
			}
			if attempt == maxAttempts || !g.dialect.retryable(results[i]) {
				break
			}
		}
		if err := execWrite(tx, "RELEASE write"); err != nil {
			_ = sqlTx.Rollback()
			g.answer(batch, results, err)
			return
		}
	}
	g.answer(batch, results, sqlTx.Commit())
}

// runJob runs one write. A panic in it fails that write alone, like an error: it must not take
// down the goroutine every write of the process goes through.
func runJob(j *writeJob, tx *gorm.DB) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("write panicked: %v", r)
		}
	}()
	return j.fn(tx.WithContext(context.WithoutCancel(j.ctx)))
}

// answer tells each caller its outcome: its own error, or else the batch's (a failed commit
// fails every write in it). It is called once the transaction is over, which is when the
// statements it used for the first time can be prepared on the pool; not after a failed
// transaction, which may mean the database is unreachable, and preparing would only delay the
// bad news.
func (g *groupCommitter) answer(batch []*writeJob, results []error, batchErr error) {
	if batchErr == nil {
		g.stmts.prepareMissing(context.Background())
	}
	for i, j := range batch {
		err := results[i]
		if err == nil {
			err = batchErr
		}
		j.result <- err
	}
}

// close stops taking writes, finishes those already queued and waits for the last commit.
func (g *groupCommitter) close() {
	g.once.Do(func() { close(g.closed) })
	g.done.Wait()
	g.stmts.close()
}
