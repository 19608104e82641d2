package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
)

// seedRowsPerStatement is how many rows one INSERT of SeedContacts carries: far below SQLite's
// limit of 32766 bound parameters (6 per contact row), and enough rows to spread the cost of a
// statement and of a cgo call over hundreds of rows.
const seedRowsPerStatement = 500

// seedRowsPerTx is how many contacts SeedContacts commits at once. Each commit writes every
// index page it touched, and random ids touch nearly all of them: fewer, larger transactions
// write less, while a bound keeps the WAL from growing to the size of the whole seed.
const seedRowsPerTx = 250_000

// seedCacheKiB is SQLite's page cache while seeding (a negative cache_size counts KiB): enough
// for the indexes on random ids of a million contacts, where the default 2 MiB would read
// nearly every page back in.
const seedCacheKiB = 256 << 10

// SeedContacts adds n contacts to the account, each with its one-to-one conversation, as fast
// as SQLite takes them. It is for load tests and benchmarks, which need large accounts quickly,
// and it skips what protects clients: the checks of CreateContact, and foreign keys while it
// runs (the rows it writes are consistent by construction, and a foreign key check on a
// multi-row INSERT would keep a statement journal of every page it changes). The usernames it
// makes are unique per call. The ids come back oldest first: seq grows in that order. It speaks
// SQLite (its PRAGMAs and INSERT OR FAIL), the database the benchmark runs on.
func (s *Store) SeedContacts(ctx context.Context, accountID string, n int) (ids []string, err error) {
	if s.dialect != sqliteDialect {
		return nil, errors.New("SeedContacts runs on SQLite only: it sets SQLite pragmas")
	}
	db, err := s.writer.DB()
	if err != nil {
		return nil, err
	}
	// One connection from first to last: the pragmas below are per connection, and are put back
	// on the same one.
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	restore, err := setPragmas(ctx, conn, map[string]int64{"cache_size": -seedCacheKiB, "foreign_keys": 0})
	if err != nil {
		return nil, err
	}
	defer func() {
		if rerr := restore(); rerr != nil {
			// The connection must not go back to the pool without its foreign keys: drop it.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			if err == nil {
				ids, err = nil, rerr
			}
		}
	}()

	now := s.unix()
	prefix := "seed" + randomString(6) + "-" // keeps the usernames of two calls apart
	ids = make([]string, 0, n)
	for done := 0; done < n; {
		size := min(seedRowsPerTx, n-done)
		batch, err := seedTx(ctx, conn, accountID, prefix, now, done, size)
		if err != nil {
			return nil, fmt.Errorf("seed contacts %d to %d: %w", done, done+size, err)
		}
		ids = append(ids, batch...)
		done += size
	}
	return ids, nil
}

// setPragmas sets integer pragmas on conn and returns a function that sets them back.
func setPragmas(ctx context.Context, conn *sql.Conn, values map[string]int64) (restore func() error, err error) {
	old := map[string]int64{}
	restore = func() error {
		for name, v := range old {
			if _, err := conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf("PRAGMA %s = %d", name, v)); err != nil {
				return fmt.Errorf("restore PRAGMA %s: %w", name, err)
			}
		}
		return nil
	}
	for name, v := range values {
		var was int64
		if err := conn.QueryRowContext(ctx, "PRAGMA "+name).Scan(&was); err != nil {
			return nil, fmt.Errorf("PRAGMA %s: %w", name, err)
		}
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA %s = %d", name, v)); err != nil {
			_ = restore()
			return nil, fmt.Errorf("PRAGMA %s: %w", name, err)
		}
		old[name] = was
	}
	return restore, nil
}

// seedTx inserts contacts first..first+size-1 and their conversations in one transaction.
func seedTx(ctx context.Context, conn *sql.Conn, accountID, prefix string, now int64, first, size int) (ids []string, err error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	var full [2]*sql.Stmt // the statements for a whole batch, prepared once per transaction
	ids = make([]string, 0, size)
	for off := 0; off < size; off += seedRowsPerStatement {
		rows := min(seedRowsPerStatement, size-off)
		contacts, conversations, err := seedStatements(ctx, tx, rows, &full)
		if err != nil {
			return nil, err
		}
		contactArgs := make([]any, 0, 6*rows)
		conversationArgs := make([]any, 0, 4*rows)
		for i := range rows {
			id, num := NewID(), first+off+i
			ids = append(ids, id)
			conv := NewID()
			contactArgs = append(contactArgs, id, accountID, fmt.Sprintf("%s%07d", prefix, num),
				fmt.Sprintf("555-%07d", num%10_000_000), now, conv)
			conversationArgs = append(conversationArgs, conv, accountID, id, now)
		}
		if _, err := contacts.ExecContext(ctx, contactArgs...); err != nil {
			return nil, err
		}
		if _, err := conversations.ExecContext(ctx, conversationArgs...); err != nil {
			return nil, err
		}
	}
	return ids, tx.Commit()
}

// seedStatements returns the contact and conversation INSERTs for rows rows: for a whole batch
// the ones in full (prepared on first use), for a shorter last batch new ones. The transaction
// closes them all when it ends.
//
// OR FAIL stops at a conflict without undoing the statement's earlier rows, so SQLite keeps no
// statement journal; the caller rolls back the whole transaction instead.
func seedStatements(ctx context.Context, tx *sql.Tx, rows int, full *[2]*sql.Stmt) (contacts, conversations *sql.Stmt, err error) {
	if rows == seedRowsPerStatement && full[0] != nil {
		return full[0], full[1], nil
	}
	contacts, err = tx.PrepareContext(ctx, `INSERT OR FAIL INTO contacts (id, account_id, username, phone_number, created_at, conversation_id) VALUES `+
		placeholders(rows, 6))
	if err != nil {
		return nil, nil, err
	}
	conversations, err = tx.PrepareContext(ctx, `INSERT OR FAIL INTO conversations (id, account_id, contact_id, created_at) VALUES `+
		placeholders(rows, 4))
	if err != nil {
		return nil, nil, err
	}
	if rows == seedRowsPerStatement {
		full[0], full[1] = contacts, conversations
	}
	return contacts, conversations, nil
}

// placeholders is "(?, ?), (?, ?)" for rows rows of cols columns.
func placeholders(rows, cols int) string {
	row := "(" + strings.Repeat("?, ", cols-1) + "?)"
	return strings.Repeat(row+", ", rows-1) + row
}
