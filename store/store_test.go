package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"protocol/store/storetest"
)

// openTestStore opens a store on a fresh database of the kind the test run asks for (see
// storetest) and closes it when the test ends.
func openTestStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(storetest.DSN(t), Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// openTest opens a store on a fresh SQLite file in the test's temp dir and closes it when the
// test ends. It is for tests of SQLite itself (pragmas, query plans), which a PostgreSQL run
// skips.
func openTest(t *testing.T) (*Store, string) {
	t.Helper()
	if storetest.Postgres() {
		t.Skip("a test of the SQLite store; this run is on PostgreSQL")
	}
	path := filepath.Join(t.TempDir(), "protocol.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, path
}

// fixedClock returns a clock stuck at unix seconds.
func fixedClock(unix int64) func() time.Time {
	return func() time.Time { return time.Unix(unix, 0) }
}

func newAccount(t *testing.T, s *Store, name string) CreatedKey {
	t.Helper()
	k, err := s.CreateAccountWithKey(context.Background(), name)
	if err != nil {
		t.Fatalf("CreateAccountWithKey: %v", err)
	}
	return k
}

type appliedMigration struct {
	Version   int
	Name      string
	AppliedAt int64
}

func appliedMigrations(t *testing.T, s *Store) []appliedMigration {
	t.Helper()
	var rows []appliedMigration
	err := s.reader.Raw(`SELECT version, name, applied_at FROM schema_migrations ORDER BY version`).Scan(&rows).Error
	if err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	return rows
}

func TestReopenKeepsDataAndDoesNotReapplyMigrations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := storetest.DSN(t)

	s, err := Open(path, Options{Now: fixedClock(1_000_000)})
	if err != nil {
		t.Fatalf("first Open: %v", err)
	}
	k := newAccount(t, s, "acme")
	c, err := s.CreateContact(ctx, k.AccountID, NewContact{Username: "FrankMcCallister", PhoneNumber: "1-800-759-3000"})
	if err != nil {
		t.Fatalf("CreateContact: %v", err)
	}
	first := appliedMigrations(t, s)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	// A later clock: a re-applied migration would show a new applied_at (or fail outright on
	// CREATE TABLE contacts).
	s, err = Open(path, Options{Now: fixedClock(2_000_000)})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()

	got, err := s.Contact(ctx, k.AccountID, c.ID)
	if err != nil {
		t.Fatalf("contact after reopen: %v", err)
	}
	if got.Username != "FrankMcCallister" || got.ConversationID == nil || *got.ConversationID != *c.ConversationID {
		t.Errorf("contact after reopen = %+v, want the one created before", got)
	}
	if acct, err := s.Authenticate(ctx, k.Key); err != nil || acct != k.AccountID {
		t.Errorf("key after reopen: account %q, err %v; want %q", acct, err, k.AccountID)
	}

	again := appliedMigrations(t, s)
	if len(again) != len(migrations) {
		t.Fatalf("schema_migrations holds %d rows after reopen, want %d (one per migration): %+v", len(again), len(migrations), again)
	}
	for i, m := range migrations {
		if again[i].Version != m.version || again[i].Name != m.name {
			t.Errorf("schema_migrations row %d = %+v, want version %d %q", i, again[i], m.version, m.name)
		}
		if again[i].AppliedAt != 1_000_000 {
			t.Errorf("version %d applied_at = %d, want 1000000 (the first open): it was re-applied", m.version, again[i].AppliedAt)
		}
	}
	if fmt.Sprint(first) != fmt.Sprint(again) {
		t.Errorf("schema_migrations changed on reopen:\nbefore %+v\nafter  %+v", first, again)
	}
	var perVersion []struct {
		Version int
		N       int
	}
	if err := s.reader.Raw(`SELECT version, COUNT(*) AS n FROM schema_migrations GROUP BY version HAVING COUNT(*) > 1`).Scan(&perVersion).Error; err != nil {
		t.Fatal(err)
	}
	if len(perVersion) > 0 {
		t.Errorf("versions recorded more than once: %+v", perVersion)
	}
}

// TestConversationIDMigration opens a database as migration 3 found it, contacts without a
// conversation_id column, and checks that the migration fills the column in from the
// conversations: a contact with its conversation, one whose conversation was deleted, and a
// group conversation that belongs to no contact.
func TestConversationIDMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := storetest.DSN(t)
	s, err := Open(dsn, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	k := newAccount(t, s, "acme")
	with, err := s.CreateContact(ctx, k.AccountID, NewContact{Username: "with", PhoneNumber: "555"})
	if err != nil {
		t.Fatal(err)
	}
	without, err := s.CreateContact(ctx, k.AccountID, NewContact{Username: "without", PhoneNumber: "555"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteConversation(ctx, k.AccountID, *without.ConversationID, nil); err != nil {
		t.Fatal(err)
	}
	group := "g1"
	if _, err := s.CreateConversation(ctx, k.AccountID, NewConversation{GroupID: &group}); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{`ALTER TABLE contacts DROP COLUMN conversation_id`, `DELETE FROM schema_migrations WHERE version = 3`} {
		if err := s.writer.Exec(stmt).Error; err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(dsn, Options{})
	if err != nil {
		t.Fatalf("Open after the rollback to version 2: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	for _, want := range []Contact{with, {ID: without.ID}} {
		got, err := s.Contact(ctx, k.AccountID, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		if derefOr(got.ConversationID, "<nil>") != derefOr(want.ConversationID, "<nil>") {
			t.Errorf("contact %s: conversation_id %s after the migration, want %s", want.ID,
				derefOr(got.ConversationID, "<nil>"), derefOr(want.ConversationID, "<nil>"))
		}
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	path := storetest.DSN(t)
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	known := migrations[len(migrations)-1].version
	future := known + 1
	if err := s.writer.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'from the future', 0)`, future).Error; err != nil {
		t.Fatalf("insert future version: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(path, Options{})
	if err == nil {
		_ = s.Close()
		t.Fatalf("Open of a database at schema version %d succeeded; want a refusal (binary knows %d)", future, known)
	}
	msg := err.Error()
	for _, want := range []string{"newer", fmt.Sprint(future), fmt.Sprint(known)} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
}

// eachConn runs f on n connections of pool held at the same time, so f sees n distinct
// connections rather than the same idle one n times.
func eachConn(t *testing.T, pool *gorm.DB, n int, f func(conn *sql.Conn)) {
	t.Helper()
	sqlDB, err := pool.DB()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conns := make([]*sql.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	for range n {
		c, err := sqlDB.Conn(ctx)
		if err != nil {
			t.Fatalf("get connection: %v", err)
		}
		conns = append(conns, c)
	}
	for _, c := range conns {
		f(c)
	}
}

func TestPragmas(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := context.Background()
	for _, pool := range []struct {
		name      string
		db        *gorm.DB
		conns     int
		queryOnly int
	}{
		{"writer", s.writer, 1, 0},
		{"reader", s.reader, 4, 1},
	} {
		t.Run(pool.name, func(t *testing.T) {
			eachConn(t, pool.db, pool.conns, func(conn *sql.Conn) {
				var fk, synchronous, busy, queryOnly int
				var journal string
				for _, p := range []struct {
					pragma string
					dst    any
				}{
					{"foreign_keys", &fk},
					{"journal_mode", &journal},
					{"synchronous", &synchronous},
					{"busy_timeout", &busy},
					{"query_only", &queryOnly},
				} {
					if err := conn.QueryRowContext(ctx, "PRAGMA "+p.pragma).Scan(p.dst); err != nil {
						t.Fatalf("PRAGMA %s: %v", p.pragma, err)
					}
				}
				if fk != 1 {
					t.Errorf("foreign_keys = %d, want 1", fk)
				}
				if !strings.EqualFold(journal, "wal") {
					t.Errorf("journal_mode = %q, want wal", journal)
				}
				if synchronous != 2 {
					t.Errorf("synchronous = %d, want 2 (FULL)", synchronous)
				}
				if busy != 10000 {
					t.Errorf("busy_timeout = %d, want 10000", busy)
				}
				if queryOnly != pool.queryOnly {
					t.Errorf("query_only = %d, want %d", queryOnly, pool.queryOnly)
				}
			})
		})
	}
}

func TestForeignKeysAreEnforced(t *testing.T) {
	t.Parallel()
	s := openTestStore(t)
	err := s.writer.Exec(`INSERT INTO contacts (id, account_id, username, phone_number, created_at) VALUES (?, ?, 'ghost', '555', 0)`,
		NewID(), NewID()).Error
	if err == nil {
		t.Fatal("a contact of a missing account was inserted; foreign keys are not enforced")
	}
	if !strings.Contains(strings.ToUpper(err.Error()), "FOREIGN KEY") {
		t.Errorf("insert failed, but not on the foreign key: %v", err)
	}
}

func TestNewID(t *testing.T) {
	t.Parallel()
	shape := regexp.MustCompile(`^[A-Za-z0-9]{16}$`)
	seen := make(map[string]bool, 10_000)
	for range 10_000 {
		id := NewID()
		if !shape.MatchString(id) {
			t.Fatalf("NewID() = %q, want 16 letters and digits", id)
		}
		if !ValidID(id) {
			t.Fatalf("ValidID(%q) = false for a NewID", id)
		}
		if seen[id] {
			t.Fatalf("NewID repeated %q within 10k draws", id)
		}
		seen[id] = true
	}
}

// Ids sort in the order they were made, a millisecond apart or more, so that indexes on ids grow
// at their end; within a millisecond they differ in their random part.
func TestNewIDSortsByTime(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	prev := newIDAt(start)
	for _, later := range []time.Time{start.Add(time.Millisecond), start.Add(62 * time.Millisecond), start.Add(time.Second),
		start.Add(time.Minute), start.Add(time.Hour), start.AddDate(0, 0, 1), start.AddDate(1, 0, 0), start.AddDate(100, 0, 0)} {
		next := newIDAt(later)
		if next <= prev {
			t.Errorf("id made at %v, %q, sorts before or at %q", later, next, prev)
		}
		if !ValidID(next) {
			t.Errorf("ValidID(%q) = false", next)
		}
		prev = next
	}
	a, b := newIDAt(start), newIDAt(start)
	if a[:idTimeLength] != b[:idTimeLength] || a == b {
		t.Errorf("two ids of one millisecond: %q and %q, want the same time and different random parts", a, b)
	}
	if old := newIDAt(time.Unix(0, 0)); old[:idTimeLength] != "0000000" {
		t.Errorf("an id from before the epoch starts %q, want 0000000", old[:idTimeLength])
	}
}

func TestValidID(t *testing.T) {
	t.Parallel()
	for id, want := range map[string]bool{
		"WAz8eIbvDR60rouK":  true,
		"":                  false,
		"WAz8eIbvDR60rou":   false,
		"WAz8eIbvDR60rouKx": false,
		"WAz8eIbvDR60rou-":  false,
		"WAz8eIbvDR60rou_":  false,
		"WAz8eIbvDR60rou ":  false,
		"WAz8eIbvDR60roué":  false, // 16 bytes, but not 16 ASCII letters
	} {
		if got := ValidID(id); got != want {
			t.Errorf("ValidID(%q) = %v, want %v", id, got, want)
		}
	}
}

func TestHashKey(t *testing.T) {
	t.Parallel()
	// The SHA-256 test vector of FIPS 180-2.
	if got, want := HashKey("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; got != want {
		t.Errorf(`HashKey("abc") = %s, want %s`, got, want)
	}
	key := "sk_" + strings.Repeat("a", 40)
	sum := sha256.Sum256([]byte(key))
	if got, want := HashKey(key), hex.EncodeToString(sum[:]); got != want {
		t.Errorf("HashKey(%q) = %s, want %s", key, got, want)
	}
}

func TestCreatedKeyIsStoredOnlyAsHash(t *testing.T) {
	t.Parallel()
	s := openTestStore(t)
	k := newAccount(t, s, "acme")
	if !regexp.MustCompile(`^sk_[A-Za-z0-9]{40}$`).MatchString(k.Key) {
		t.Errorf("key %q is not sk_ and 40 letters and digits", k.Key)
	}
	if k.Hash != HashKey(k.Key) || k.Hint != k.Key[:7] {
		t.Errorf("record hash %q hint %q, want HashKey(key) and the key's first 7 characters", k.Hash, k.Hint)
	}
	var n int64
	if err := s.reader.Raw(`SELECT COUNT(*) FROM api_keys WHERE hash = ? OR hash = ? OR hint = ?`, k.Key, HashKey(k.Key), k.Key).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d api_keys rows match the key or its hash, want exactly the one matching the hash", n)
	}
}

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	s := openTestStore(t)
	ctx := context.Background()
	k := newAccount(t, s, "acme")
	other := newAccount(t, s, "other")

	if acct, err := s.Authenticate(ctx, k.Key); err != nil || acct != k.AccountID {
		t.Fatalf("Authenticate(live key) = %q, %v; want %q", acct, err, k.AccountID)
	}
	for name, key := range map[string]string{
		"Unknown":      "sk_" + strings.Repeat("A", 40),
		"Empty":        "",
		"PrefixOnly":   "sk_",
		"Short":        k.Key[:len(k.Key)-1],
		"Long":         k.Key + "x",
		"NoPrefix":     k.Key[3:],
		"WrongPrefix":  "pk_" + k.Key[3:],
		"Hash":         k.Hash,
		"BearerPrefix": "Bearer " + k.Key,
		"Spaces":       " " + k.Key + " ",
		"Uppercase":    strings.ToUpper(k.Key),
	} {
		t.Run(name, func(t *testing.T) {
			acct, err := s.Authenticate(ctx, key)
			if !errors.Is(err, ErrNotFound) || acct != "" {
				t.Errorf("Authenticate(%q) = %q, %v; want ErrNotFound", key, acct, err)
			}
		})
	}

	if err := s.RevokeKey(ctx, k.ID); err != nil {
		t.Fatalf("RevokeKey: %v", err)
	}
	if acct, err := s.Authenticate(ctx, k.Key); !errors.Is(err, ErrNotFound) {
		t.Errorf("Authenticate(revoked key) = %q, %v; want ErrNotFound", acct, err)
	}
	if acct, err := s.Authenticate(ctx, other.Key); err != nil || acct != other.AccountID {
		t.Errorf("revoking one key touched another: %q, %v", acct, err)
	}
	// Revoking again is not an error and keeps the first revocation time.
	if err := s.RevokeKey(ctx, k.ID); err != nil {
		t.Errorf("second RevokeKey: %v", err)
	}
	if err := s.RevokeKey(ctx, NewID()); !errors.Is(err, ErrNotFound) {
		t.Errorf("RevokeKey(unknown id) = %v, want ErrNotFound", err)
	}
	keys, err := s.Keys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	revoked := map[string]bool{}
	for _, key := range keys {
		revoked[key.ID] = key.RevokedAt != nil
	}
	if len(keys) != 2 || !revoked[k.ID] || revoked[other.ID] {
		t.Errorf("Keys() revocation state = %v, want %s revoked and %s live", revoked, k.ID, other.ID)
	}
}

func TestConcurrentCreateContact(t *testing.T) {
	t.Parallel()
	s := openTestStore(t)
	ctx := context.Background()
	k := newAccount(t, s, "acme")
	const workers, each = 16, 25

	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				_, err := s.CreateContact(ctx, k.AccountID, NewContact{
					Username:    fmt.Sprintf("user-%02d-%02d", w, i),
					PhoneNumber: "555-0100",
				})
				if err != nil {
					errs <- fmt.Errorf("worker %d contact %d: %w", w, i, err)
				}
				// Reads run alongside the writes on the reader pool.
				if _, _, err := s.ListContacts(ctx, k.AccountID, Page{Limit: 10}, ContactFilter{}); err != nil {
					errs <- fmt.Errorf("worker %d list %d: %w", w, i, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	n := 0
	for err := range errs {
		if n++; n <= 10 {
			t.Error(err)
		}
	}
	if n > 0 {
		t.Fatalf("%d of %d operations failed", n, 2*workers*each)
	}

	var contacts, convs int64
	if err := s.reader.Table("contacts").Where("account_id = ?", k.AccountID).Count(&contacts).Error; err != nil {
		t.Fatal(err)
	}
	if err := s.reader.Table("conversations").Where("account_id = ? AND contact_id IS NOT NULL", k.AccountID).Count(&convs).Error; err != nil {
		t.Fatal(err)
	}
	if contacts != workers*each || convs != workers*each {
		t.Errorf("%d contacts and %d conversations, want %d of each", contacts, convs, workers*each)
	}
}

// capturedQuery is one statement the store ran, with its arguments.
type capturedQuery struct {
	SQL  string
	Vars []any
}

// captureQueries records every query run on the store's reader pool while f runs.
func captureQueries(t *testing.T, s *Store, f func()) []capturedQuery {
	t.Helper()
	var mu sync.Mutex
	var got []capturedQuery
	recording := false
	trace := func(query string, args []any) {
		mu.Lock()
		defer mu.Unlock()
		if recording {
			got = append(got, capturedQuery{SQL: query, Vars: append([]any(nil), args...)})
		}
	}
	s.reads.trace.Store(&trace)
	defer s.reads.trace.Store(nil)
	mu.Lock()
	recording = true
	mu.Unlock()
	f()
	mu.Lock()
	recording = false
	defer mu.Unlock()
	return got
}

// queryPlan returns the plan of q on a reader connection: the detail lines of SQLite's EXPLAIN
// QUERY PLAN, or on PostgreSQL the lines of EXPLAIN EXECUTE of q prepared, which shows the
// generic plan the reader's prepared statements run with. Sequential scans, bitmap scans and
// sorts are turned off there, so that the plan shows the index the query can use rather than
// what is cheapest on a small test table: a Sort or Seq Scan left in it means no index serves.
func queryPlan(t *testing.T, s *Store, q capturedQuery) []string {
	t.Helper()
	sqlDB, err := s.reader.DB()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	explain, args := "EXPLAIN QUERY PLAN "+q.SQL, q.Vars
	if s.dialect == postgresDialect {
		for _, stmt := range []string{"SET enable_seqscan = off", "SET enable_bitmapscan = off", "SET enable_sort = off",
			"PREPARE plan_test AS " + s.dialect.rebind(q.SQL)} {
			if _, err := conn.ExecContext(ctx, stmt); err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
		defer func() { // the connection goes back to the pool as it came
			for _, stmt := range []string{"DEALLOCATE plan_test", "RESET enable_seqscan", "RESET enable_bitmapscan", "RESET enable_sort"} {
				if _, err := conn.ExecContext(ctx, stmt); err != nil {
					t.Errorf("%s: %v", stmt, err)
				}
			}
		}()
		explain, args = "EXPLAIN EXECUTE plan_test("+sqlLiterals(t, q.Vars)+")", nil
	}
	rows, err := conn.QueryContext(ctx, explain, args...)
	if err != nil {
		t.Fatalf("%s: %v", explain, err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var id, parent, notUsed int
		var detail string
		dest := []any{&id, &parent, &notUsed, &detail}
		if s.dialect == postgresDialect {
			dest = []any{&detail}
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// sqlLiterals writes the arguments of a query as SQL literals, for EXECUTE.
func sqlLiterals(t *testing.T, vars []any) string {
	t.Helper()
	out := make([]string, len(vars))
	for i, v := range vars {
		switch v := v.(type) {
		case string:
			out[i] = "'" + strings.ReplaceAll(v, "'", "''") + "'"
		case bool, int, int64:
			out[i] = fmt.Sprint(v)
		default:
			t.Fatalf("no SQL literal for %T", v)
		}
	}
	return strings.Join(out, ", ")
}

// planProblems lists what is wrong with a plan: a step on contacts or conversations that reads
// the table without an index, or a sort (SQLite's temporary B-tree, PostgreSQL's Sort node).
func planProblems(plan []string) []string {
	var bad []string
	for _, line := range plan {
		fields := strings.Fields(strings.TrimLeft(line, " ->"))
		if strings.Contains(line, "TEMP B-TREE") || slices.Contains(fields, "Sort") {
			bad = append(bad, line)
			continue
		}
		if len(fields) >= 4 && fields[0] == "Seq" && fields[1] == "Scan" && (fields[3] == "contacts" || fields[3] == "conversations") {
			bad = append(bad, line)
			continue
		}
		if len(fields) < 2 || (fields[0] != "SCAN" && fields[0] != "SEARCH") {
			continue
		}
		if fields[1] != "contacts" && fields[1] != "conversations" {
			continue
		}
		if !strings.Contains(line, "INDEX") && !strings.Contains(line, "PRIMARY KEY") {
			bad = append(bad, line)
		}
	}
	return bad
}

// TestListQueryPlans checks, with EXPLAIN on the very statements the store runs, that every list
// query reads contacts and conversations through an index and gets its order from that index
// rather than sorting, on SQLite and on PostgreSQL.
func TestListQueryPlans(t *testing.T) {
	t.Parallel()
	s := openTestStore(t)
	ctx := context.Background()
	acme := newAccount(t, s, "acme")
	other := newAccount(t, s, "other")

	// Some data in two accounts, so the plans are not those of empty tables.
	var contactIDs, convIDs []string
	for _, acct := range []string{acme.AccountID, other.AccountID} {
		for i := range 30 {
			c, err := s.CreateContact(ctx, acct, NewContact{Username: fmt.Sprintf("user%d", i), PhoneNumber: "555-0100"})
			if err != nil {
				t.Fatal(err)
			}
			if i%3 == 0 {
				if err := s.MarkContactActive(ctx, acct, c.ID, 1_700_000_000); err != nil {
					t.Fatal(err)
				}
			}
			g := fmt.Sprintf("group%d", i)
			conv, err := s.CreateConversation(ctx, acct, NewConversation{GroupID: &g})
			if err != nil {
				t.Fatal(err)
			}
			ch := ConversationChanges{IsMuted: SetTo(i%2 == 0), IsPinned: SetTo(i%5 == 0)}
			if i%4 == 0 {
				ch.ArchivedAt = SetTo[int64](1_700_000_000)
			}
			if _, err := s.UpdateConversation(ctx, acct, conv.ID, ch, nil); err != nil {
				t.Fatal(err)
			}
			if acct == acme.AccountID {
				contactIDs = append(contactIDs, c.ID)
				convIDs = append(convIDs, conv.ID)
			}
		}
	}

	yes, no := true, false
	group := "group7"
	contactCursor, convCursor := contactIDs[15], convIDs[15]
	type listCase struct {
		name string
		list func() error
	}
	contactList := func(p Page, f ContactFilter) func() error {
		return func() error { _, _, err := s.ListContacts(ctx, acme.AccountID, p, f); return err }
	}
	convList := func(p Page, f ConversationFilter) func() error {
		return func() error { _, _, err := s.ListConversations(ctx, acme.AccountID, p, f); return err }
	}
	cases := []listCase{
		{"contacts", contactList(Page{Limit: 10}, ContactFilter{})},
		{"contacts/active=true", contactList(Page{Limit: 10}, ContactFilter{Active: &yes})},
		{"contacts/active=false", contactList(Page{Limit: 10}, ContactFilter{Active: &no})},
		{"contacts/starting_after", contactList(Page{Limit: 10, StartingAfter: contactCursor}, ContactFilter{})},
		{"contacts/ending_before", contactList(Page{Limit: 10, EndingBefore: contactCursor}, ContactFilter{})},
		{"contacts/active=true&starting_after", contactList(Page{Limit: 10, StartingAfter: contactCursor}, ContactFilter{Active: &yes})},
		{"contacts/active=false&ending_before", contactList(Page{Limit: 10, EndingBefore: contactCursor}, ContactFilter{Active: &no})},
		{"conversations", convList(Page{Limit: 10}, ConversationFilter{})},
		{"conversations/muted=true", convList(Page{Limit: 10}, ConversationFilter{Muted: &yes})},
		{"conversations/muted=false", convList(Page{Limit: 10}, ConversationFilter{Muted: &no})},
		{"conversations/pinned=true", convList(Page{Limit: 10}, ConversationFilter{Pinned: &yes})},
		{"conversations/pinned=false", convList(Page{Limit: 10}, ConversationFilter{Pinned: &no})},
		{"conversations/archived=true", convList(Page{Limit: 10}, ConversationFilter{Archived: &yes})},
		{"conversations/archived=false", convList(Page{Limit: 10}, ConversationFilter{Archived: &no})},
		{"conversations/group_id", convList(Page{Limit: 10}, ConversationFilter{GroupID: &group})},
		{"conversations/starting_after", convList(Page{Limit: 10, StartingAfter: convCursor}, ConversationFilter{})},
		{"conversations/ending_before", convList(Page{Limit: 10, EndingBefore: convCursor}, ConversationFilter{})},
		{"conversations/muted=true&starting_after", convList(Page{Limit: 10, StartingAfter: convCursor}, ConversationFilter{Muted: &yes})},
		{"conversations/pinned=true&starting_after", convList(Page{Limit: 10, StartingAfter: convCursor}, ConversationFilter{Pinned: &yes})},
		{"conversations/archived=false&starting_after", convList(Page{Limit: 10, StartingAfter: convCursor}, ConversationFilter{Archived: &no})},
		{"conversations/group_id&starting_after", convList(Page{Limit: 10, StartingAfter: convCursor}, ConversationFilter{GroupID: &group})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var listErr error
			queries := captureQueries(t, s, func() { listErr = c.list() })
			if listErr != nil {
				t.Fatalf("list: %v", listErr)
			}
			sawList := false
			for _, q := range queries {
				if strings.Contains(q.SQL, " LIMIT ") && !strings.HasPrefix(q.SQL, "SELECT 1 ") {
					sawList = true // the page query, not the cursor look-up
				}
				plan := queryPlan(t, s, q)
				if bad := planProblems(plan); len(bad) > 0 {
					t.Errorf("query plan reads without an index or sorts (%s):\n  SQL:  %s\n  vars: %v\n  plan:\n    %s",
						strings.Join(bad, "; "), q.SQL, q.Vars, strings.Join(plan, "\n    "))
				} else {
					t.Logf("%s\n    %s", q.SQL, strings.Join(plan, "\n    "))
				}
			}
			if !sawList {
				t.Fatalf("captured no page query among %d: %+v", len(queries), queries)
			}
		})
	}
}

// TestPanickingWriteFailsAlone checks that a write that panics fails with an error, its changes
// rolled back, while the writes batched with it commit and later writes still run.
func TestPanickingWriteFailsAlone(t *testing.T) {
	s := openTestStore(t)
	acct := newAccount(t, s, "acme").AccountID
	ctx := context.Background()
	err := s.writes.write(ctx, func(tx *gorm.DB) error {
		if err := tx.Exec(`INSERT INTO contacts (id, account_id, username, phone_number, created_at) VALUES (?, ?, 'ghost', '555', 1)`, NewID(), acct).Error; err != nil {
			return err
		}
		panic("boom")
	})
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("panicking write returned %v, want an error", err)
	}
	if _, err := s.CreateContact(ctx, acct, NewContact{Username: "after", PhoneNumber: "555"}); err != nil {
		t.Fatalf("a write after the panic: %v", err)
	}
	page, _, err := s.ListContacts(ctx, acct, Page{Limit: 10}, ContactFilter{})
	if err != nil || len(page) != 1 || page[0].Username != "after" {
		t.Errorf("contacts after a panicking write: %+v, %v; want only the later one", page, err)
	}
}

// TestCheckpointerCopiesTheWAL writes a few hundred pages, far fewer than the writer's own
// automatic checkpoint waits for, and checks that the database file catches up with the WAL
// anyway: the checkpointer copied them, beside the writer.
func TestCheckpointerCopiesTheWAL(t *testing.T) {
	t.Parallel()
	s, path := openTest(t)
	ctx := context.Background()
	acme := newAccount(t, s, "acme")
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := size()
	if _, err := s.SeedContacts(ctx, acme.AccountID, 5000); err != nil {
		t.Fatal(err)
	}
	const grown = 1 << 20 // 5,000 contacts and their conversations take well over 1 MiB
	deadline := time.Now().Add(10 * time.Second)
	for size() < before+grown {
		if time.Now().After(deadline) {
			t.Fatalf("database file is %d bytes, %d before 5,000 contacts: the WAL was not checkpointed", size(), before)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
