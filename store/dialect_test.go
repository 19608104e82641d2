package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"gorm.io/gorm"

	"protocol/store/storetest"
)

func TestDialectOf(t *testing.T) {
	t.Parallel()
	for dsn, want := range map[string]dialect{
		"protocol.db":                        sqliteDialect,
		"/var/lib/protocol/protocol.db":      sqliteDialect,
		"postgres.db":                        sqliteDialect,
		"postgres://u@db:5432/protocol":      postgresDialect,
		"postgresql://u@db/protocol":         postgresDialect,
		"POSTGRES://u@db/protocol?sslmode=1": postgresDialect,
	} {
		if got := dialectOf(dsn); got != want {
			t.Errorf("dialectOf(%q) = %s, want %s", dsn, got, want)
		}
	}
}

func TestRebind(t *testing.T) {
	t.Parallel()
	q := "SELECT id FROM contacts WHERE account_id = ? AND seq < (SELECT seq FROM contacts WHERE account_id = ? AND id = ?) LIMIT ?"
	want := "SELECT id FROM contacts WHERE account_id = $1 AND seq < (SELECT seq FROM contacts WHERE account_id = $2 AND id = $3) LIMIT $4"
	for range 2 { // the second answer comes from the cache
		if got := postgresDialect.rebind(q); got != want {
			t.Errorf("rebind:\n got %s\nwant %s", got, want)
		}
	}
	if got := sqliteDialect.rebind(q); got != q {
		t.Errorf("SQLite rebind changed the query: %s", got)
	}
}

func TestDDLIsSpelledForEachDialect(t *testing.T) {
	t.Parallel()
	for _, d := range []dialect{sqliteDialect, postgresDialect} {
		for _, m := range migrations {
			for _, stmt := range m.sql {
				if got := d.ddl(stmt); strings.Contains(got, "{{") {
					t.Errorf("%s: migration %d leaves a word unspelled: %s", d, m.version, got)
				}
			}
		}
	}
}

// TestServersStartingAtOnceMigrateOnce opens several stores on one empty database at the same
// moment, as servers started together would: each must come up, each migration must be
// recorded once, and of their first keys only one must be made.
func TestServersStartingAtOnceMigrateOnce(t *testing.T) {
	t.Parallel()
	dsn := storetest.DSN(t)
	const servers = 4
	stores := make([]*Store, servers)
	errs := make([]error, servers)
	created := make([]bool, servers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			stores[i], errs[i] = Open(dsn, Options{})
			if errs[i] == nil {
				_, created[i], errs[i] = stores[i].CreateFirstKey(context.Background(), "default")
			}
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if stores[i] != nil {
			defer stores[i].Close()
		}
		if err != nil {
			t.Errorf("store %d: %v", i, err)
		}
	}
	if t.Failed() {
		return
	}
	rows := appliedMigrations(t, stores[0])
	if len(rows) != len(migrations) {
		t.Fatalf("schema_migrations holds %+v, want each of %d migrations once", rows, len(migrations))
	}
	for i, m := range migrations {
		if rows[i].Version != m.version {
			t.Errorf("schema_migrations row %d is version %d, want %d", i, rows[i].Version, m.version)
		}
	}
	if n := strings.Count(fmt.Sprint(created), "true"); n != 1 {
		t.Errorf("CreateFirstKey made %d keys (%v), want 1", n, created)
	}
	if keys, err := stores[0].Keys(context.Background()); err != nil || len(keys) != 1 {
		t.Errorf("Keys() = %d keys, %v; want 1", len(keys), err)
	}
	// Every store works on the one database.
	k := newAccount(t, stores[1], "acme")
	for i, s := range stores {
		if acct, err := s.Authenticate(context.Background(), k.Key); err != nil || acct != k.AccountID {
			t.Errorf("store %d: Authenticate = %q, %v; want %q", i, acct, err, k.AccountID)
		}
	}
}

func TestUsernamesAreUniqueRegardlessOfCase(t *testing.T) {
	t.Parallel()
	s := openTestStore(t)
	ctx := context.Background()
	acme := newAccount(t, s, "acme")
	other := newAccount(t, s, "other")
	frank, err := s.CreateContact(ctx, acme.AccountID, NewContact{Username: "FrankMcCallister", PhoneNumber: "555"})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("OtherCase", func(t *testing.T) {
		_, err := s.CreateContact(ctx, acme.AccountID, NewContact{Username: "FRANKmccallister", PhoneNumber: "555"})
		var conflict *ConflictError
		if !errors.As(err, &conflict) || conflict.Field != "username" {
			t.Fatalf("second create with another case = %v, want a conflict on username", err)
		}
		if got, err := s.Contact(ctx, acme.AccountID, frank.ID); err != nil || got.Username != "FrankMcCallister" {
			t.Errorf("the first contact after the refused create: %+v, %v", got, err)
		}
	})

	t.Run("OtherAccount", func(t *testing.T) {
		if _, err := s.CreateContact(ctx, other.AccountID, NewContact{Username: "frankmccallister", PhoneNumber: "555"}); err != nil {
			t.Fatalf("the same username in another account: %v", err)
		}
	})

	// The unique index is what refuses a taken username, on every server sharing the database:
	// the driver's error must come back as gorm.ErrDuplicatedKey for translateConflict.
	t.Run("IndexBackstop", func(t *testing.T) {
		dup := Contact{ID: NewID(), AccountID: acme.AccountID, Username: "frankMcCALLISTER", PhoneNumber: "555", CreatedAt: 1}
		err := s.writes.write(ctx, func(tx *gorm.DB) error {
			return tx.Omit("conversation_id").Create(&dup).Error
		})
		if !errors.Is(err, gorm.ErrDuplicatedKey) {
			t.Fatalf("insert of a duplicate username = %v, want gorm.ErrDuplicatedKey", err)
		}
		var conflict *ConflictError
		if !errors.As(translateConflict(err, "username", dup.Username), &conflict) {
			t.Errorf("translateConflict(%v) is not a *ConflictError", err)
		}
	})
}

// TestFailedWriteRollsBackOnlyItself runs one batch of three writes whose middle one breaks a
// unique index: the other two must commit, and the failed one must leave nothing behind.
func TestFailedWriteRollsBackOnlyItself(t *testing.T) {
	t.Parallel()
	s := openTestStore(t)
	ctx := context.Background()
	acme := newAccount(t, s, "acme")
	if _, err := s.CreateContact(ctx, acme.AccountID, NewContact{Username: "taken", PhoneNumber: "555"}); err != nil {
		t.Fatal(err)
	}
	insert := func(username string) func(tx *gorm.DB) error {
		return func(tx *gorm.DB) error {
			conv := NewID()
			c := Contact{ID: NewID(), AccountID: acme.AccountID, Username: username, PhoneNumber: "555", CreatedAt: 1, ConversationID: &conv}
			if err := tx.Create(&c).Error; err != nil {
				return err
			}
			// A second statement after the first succeeded: its row must go too if this write
			// fails later.
			return tx.Create(&Conversation{ID: conv, AccountID: acme.AccountID, ContactID: &c.ID, CreatedAt: 1}).Error
		}
	}
	batch := []*writeJob{
		{ctx: ctx, fn: insert("before"), result: make(chan error, 1)},
		{ctx: ctx, fn: insert("TAKEN"), result: make(chan error, 1)},
		{ctx: ctx, fn: insert("after"), result: make(chan error, 1)},
	}
	s.writes.runBatch(batch)
	for i, want := range []error{nil, gorm.ErrDuplicatedKey, nil} {
		if got := <-batch[i].result; !errors.Is(got, want) {
			t.Errorf("write %d: %v, want %v", i, got, want)
		}
	}
	page, _, err := s.ListContacts(ctx, acme.AccountID, Page{Limit: 10}, ContactFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range page {
		names = append(names, fmt.Sprintf("%s/%v", c.Username, c.ConversationID != nil))
	}
	if got, want := strings.Join(names, " "), "after/true before/true taken/true"; got != want {
		t.Errorf("contacts after the batch: %s, want %s", got, want)
	}
}

// TestWritesReusePreparedStatements checks that a write's statements are prepared once, on the
// writer pool, and that later transactions use those rather than preparing their own.
func TestWritesReusePreparedStatements(t *testing.T) {
	t.Parallel()
	s := openTestStore(t)
	ctx := context.Background()
	acme := newAccount(t, s, "acme")
	create := func(name string) {
		t.Helper()
		if _, err := s.CreateContact(ctx, acme.AccountID, NewContact{Username: name, PhoneNumber: "555"}); err != nil {
			t.Fatal(err)
		}
	}
	snapshot := func() map[string]*sql.Stmt {
		w := s.writes.stmts
		w.mu.Lock()
		defer w.mu.Unlock()
		if len(w.missing) != 0 {
			t.Errorf("statements still waiting to be prepared after a write: %v", w.missing)
		}
		return maps.Clone(w.stmts)
	}
	create("first")
	prepared := snapshot()
	var inserts int
	for query := range prepared {
		if strings.HasPrefix(query, "INSERT INTO contacts") || strings.HasPrefix(query, "INSERT INTO conversations") {
			inserts++
		}
	}
	if inserts != 2 {
		t.Fatalf("prepared after a create: %d INSERTs, want the contact's and the conversation's: %v", inserts, slices.Collect(maps.Keys(prepared)))
	}
	create("second")
	create("third")
	if again := snapshot(); !maps.Equal(again, prepared) {
		t.Errorf("more creates prepared statements again:\nbefore %v\nafter  %v", slices.Collect(maps.Keys(prepared)), slices.Collect(maps.Keys(again)))
	}
}

// TestConcurrentDeletesOfOneConversation deletes one conversation from two goroutines at once:
// one delete succeeds, the other finds nothing to delete, on either database, and the contact
// is left with no conversation.
func TestConcurrentDeletesOfOneConversation(t *testing.T) {
	t.Parallel()
	s := openTestStore(t)
	ctx := context.Background()
	acme := newAccount(t, s, "acme")
	c, err := s.CreateContact(ctx, acme.AccountID, NewContact{Username: "frank", PhoneNumber: "555"})
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 2)
	start := make(chan struct{})
	for range 2 {
		go func() {
			<-start
			errs <- s.DeleteConversation(ctx, acme.AccountID, *c.ConversationID, nil)
		}()
	}
	close(start)
	got := []error{<-errs, <-errs}
	if !(got[0] == nil && errors.Is(got[1], ErrNotFound) || got[1] == nil && errors.Is(got[0], ErrNotFound)) {
		t.Errorf("two deletes of one conversation: %v, want one success and one ErrNotFound", got)
	}
	after, err := s.Contact(ctx, acme.AccountID, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after.ConversationID != nil {
		t.Errorf("contact's conversation_id = %s after its conversation was deleted, want null", *after.ConversationID)
	}
}
