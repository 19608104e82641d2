package store

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// In WAL mode SQLite copies committed pages back into the database file in a checkpoint, which
// by default the connection that commits runs itself once the WAL passes 1,000 pages: every
// few dozen group commits, the writer stopped to copy up to a thousand pages into the file and
// fsync it, while every write in the queue waited. On a large account, where each update
// changes a page of its own, that one commit took tens of milliseconds and set the writes'
// p99. A checkpointer runs that work beside the writer instead, on a connection of the reader
// pool (a query_only connection may still checkpoint), and a PASSIVE checkpoint neither waits
// for the writer nor makes it wait. The writer keeps its own automatic checkpoint only as a
// backstop, far beyond what the checkpointer lets the WAL reach (writerAutoCheckpointPages).

// checkpointEvery is how often the checkpointer copies the WAL back: often enough that the WAL
// stays a few MiB under a steady load of writes, and rarely enough that a page changed by
// many commits in a row is copied once for all of them.
const checkpointEvery = 100 * time.Millisecond

// writerAutoCheckpointPages is the writer's own automatic checkpoint threshold, in pages.
const writerAutoCheckpointPages = 16384

type checkpointer struct {
	db   *sql.DB
	stop chan struct{}
	once sync.Once
	done sync.WaitGroup
}

func startCheckpointer(db *sql.DB) *checkpointer {
	c := &checkpointer{db: db, stop: make(chan struct{})}
	c.done.Add(1)
	go c.loop()
	return c
}

func (c *checkpointer) loop() {
	defer c.done.Done()
	tick := time.NewTicker(checkpointEvery)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			// An error (a busy lock, a closing pool) leaves the pages in the WAL, where readers
			// find them; the next tick tries again.
			_, _ = c.db.ExecContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)")
		case <-c.stop:
			return
		}
	}
}

// close stops the checkpointer; closing a store twice closes it twice.
func (c *checkpointer) close() {
	c.once.Do(func() { close(c.stop) })
	c.done.Wait()
}
