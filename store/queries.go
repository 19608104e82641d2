package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"sync/atomic"

	"gorm.io/gorm"
)

// Reads that every request makes (a key, an object, a page) go straight to database/sql with
// prepared statements and scan into the models by hand: GORM's statement building and
// reflective scanning cost more than the SQLite query itself on these paths. Writes keep GORM.
// The queries are written once, with ? placeholders, for both dialects.

// querier runs a query: the reader pool's statement cache, or a GORM transaction's connection.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// These queries run to the end even when the request that asked for them is gone. They take
// microseconds (a few index probes, at most a page of rows), and a context that can be
// cancelled costs more than that: database/sql watches it from a goroutine of its own for each
// query, and the SQLite driver steps each row in a new goroutine so that it can interrupt it.
// detach is where that choice is made.
func detach(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }

// txQuerier is the connection a GORM transaction runs on, taking the store's ? placeholders.
func txQuerier(tx *gorm.DB) querier {
	var q querier = detaching{tx.Statement.ConnPool}
	if tx.Dialector.Name() == postgresDialect.String() {
		return rebinding{q}
	}
	return q
}

// detaching runs queries with their context detached.
type detaching struct{ q querier }

func (d detaching) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return d.q.QueryContext(detach(ctx), query, args...)
}

func (d detaching) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return d.q.QueryRowContext(detach(ctx), query, args...)
}

// rebinding passes queries on with their placeholders spelled for PostgreSQL.
type rebinding struct{ q querier }

func (r rebinding) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return r.q.QueryContext(ctx, postgresDialect.rebind(query), args...)
}

func (r rebinding) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return r.q.QueryRowContext(ctx, postgresDialect.rebind(query), args...)
}

// stmtCache prepares each distinct query once and reuses it on every connection of the pool.
// Queries are written with ? placeholders and rebound for the dialect once, when prepared.
type stmtCache struct {
	db      *sql.DB
	dialect dialect
	mu      sync.RWMutex
	stmts   map[string]*sql.Stmt
	// trace, when set, sees every query run; tests read query plans with it.
	trace atomic.Pointer[func(query string, args []any)]
}

func newStmtCache(db *sql.DB, d dialect) *stmtCache {
	return &stmtCache{db: db, dialect: d, stmts: map[string]*sql.Stmt{}}
}

func (c *stmtCache) stmt(ctx context.Context, query string, args []any) (*sql.Stmt, error) {
	if trace := c.trace.Load(); trace != nil {
		(*trace)(query, args)
	}
	c.mu.RLock()
	st, ok := c.stmts[query]
	c.mu.RUnlock()
	if ok {
		return st, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.stmts[query]; ok {
		return st, nil
	}
	st, err := c.db.PrepareContext(ctx, c.dialect.rebind(query))
	if err != nil {
		return nil, err
	}
	c.stmts[query] = st
	return st, nil
}

func (c *stmtCache) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := c.stmt(ctx, query, args)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(detach(ctx), args...)
}

func (c *stmtCache) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := c.stmt(ctx, query, args)
	if err != nil {
		// sql.Row cannot be made with an error; run the query unprepared so the error surfaces
		// from Scan as usual.
		return c.db.QueryRowContext(detach(ctx), c.dialect.rebind(query), args...)
	}
	return st.QueryRowContext(detach(ctx), args...)
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.stmts {
		_ = st.Close()
	}
	c.stmts = map[string]*sql.Stmt{}
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

const contactColumns = `c.seq, c.id, c.account_id, c.username, c.phone_number, c.avatar_url,
	c.display_name, c.last_active_at, c.created_at, c.conversation_id`

const contactFrom = ` FROM contacts c`

// contactRow is contactColumns without the table's alias, for RETURNING.
var contactRow = strings.ReplaceAll(contactColumns, "c.", "")

func scanContact(row scanner) (Contact, error) {
	var (
		c                      Contact
		avatar, display, convo sql.NullString
		lastActive             sql.NullInt64
	)
	err := row.Scan(&c.Seq, &c.ID, &c.AccountID, &c.Username, &c.PhoneNumber, &avatar, &display, &lastActive, &c.CreatedAt, &convo)
	c.AvatarURL, c.DisplayName, c.ConversationID = nullString(avatar), nullString(display), nullString(convo)
	c.LastActiveAt = nullInt64(lastActive)
	return c, err
}

const conversationColumns = `seq, id, account_id, contact_id, group_id, pinned_message_id,
	is_pinned, is_muted, last_active_at, last_opened_at, created_at, archived_at`

func scanConversation(row scanner) (Conversation, error) {
	var (
		c                                Conversation
		contact, group, pinned           sql.NullString
		lastActive, lastOpened, archived sql.NullInt64
	)
	err := row.Scan(&c.Seq, &c.ID, &c.AccountID, &contact, &group, &pinned, &c.IsPinned, &c.IsMuted,
		&lastActive, &lastOpened, &c.CreatedAt, &archived)
	c.ContactID, c.GroupID, c.PinnedMessageID = nullString(contact), nullString(group), nullString(pinned)
	c.LastActiveAt, c.LastOpenedAt, c.ArchivedAt = nullInt64(lastActive), nullInt64(lastOpened), nullInt64(archived)
	return c, err
}

func nullString(n sql.NullString) *string {
	if !n.Valid {
		return nil
	}
	return &n.String
}

func nullInt64(n sql.NullInt64) *int64 {
	if !n.Valid {
		return nil
	}
	return &n.Int64
}

func getContact(ctx context.Context, q querier, accountID, id string) (Contact, error) {
	if !ValidID(id) {
		return Contact{}, ErrNotFound
	}
	c, err := scanContact(q.QueryRowContext(ctx,
		`SELECT `+contactColumns+contactFrom+` WHERE c.account_id = ? AND c.id = ?`, accountID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Contact{}, ErrNotFound
	}
	return c, err
}

func getConversation(ctx context.Context, q querier, accountID, id string) (Conversation, error) {
	if !ValidID(id) {
		return Conversation{}, ErrNotFound
	}
	c, err := scanConversation(q.QueryRowContext(ctx,
		`SELECT `+conversationColumns+` FROM conversations WHERE account_id = ? AND id = ?`, accountID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Conversation{}, ErrNotFound
	}
	return c, err
}

// pageQuery is one keyset page of a table, built from its parts.
type pageQuery struct {
	table      string // "contacts" or "conversations"
	alias      string // the table's alias in selectFrom
	selectFrom string
	where      []string // conditions after the account's, each with its own ?s
	args       []any
	// unique says the conditions match at most one row: no ORDER BY, which SQLite would
	// otherwise satisfy with a temporary B-tree for that single row.
	unique bool
}

// runPage returns the page and whether more objects lie beyond it in the direction paged. It never
// uses OFFSET: the cursor's seq bounds the index range, so any page costs what the first one
// does. A cursor must name an object of the same account and table, but it need not match the
// filters: it is only a position.
func runPage[T any](ctx context.Context, q querier, p pageQuery, accountID string, page Page, scan func(scanner) (T, error)) ([]T, bool, error) {
	var b strings.Builder
	b.WriteString(p.selectFrom)
	b.WriteString(" WHERE " + p.alias + ".account_id = ?")
	args := append([]any{accountID}, p.args...)
	for _, w := range p.where {
		b.WriteString(" AND " + w)
	}
	seq := p.alias + ".seq"
	cursor, param, descending := page.StartingAfter, "starting_after", true
	if page.EndingBefore != "" {
		cursor, param, descending = page.EndingBefore, "ending_before", false
	}
	if cursor != "" {
		if !ValidID(cursor) {
			return nil, false, &ReferenceError{Field: param, ID: cursor}
		}
		op := " < "
		if !descending {
			op = " > "
		}
		b.WriteString(" AND " + seq + op + "(SELECT seq FROM " + p.table + " WHERE account_id = ? AND id = ?)")
		args = append(args, accountID, cursor)
	}
	if !p.unique {
		if descending {
			b.WriteString(" ORDER BY " + seq + " DESC")
		} else {
			b.WriteString(" ORDER BY " + seq + " ASC")
		}
	}
	b.WriteString(" LIMIT ?")
	args = append(args, page.Limit+1)

	rows, err := q.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	out := make([]T, 0, page.Limit+1)
	for rows.Next() {
		r, err := scan(rows)
		if err != nil {
			return nil, false, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	if len(out) == 0 && cursor != "" {
		// An empty page may mean the cursor names nothing: that is the client's error.
		var one int
		err := q.QueryRowContext(ctx, "SELECT 1 FROM "+p.table+" WHERE account_id = ? AND id = ?", accountID, cursor).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, false, &ReferenceError{Field: param, ID: cursor}
		}
		if err != nil {
			return nil, false, err
		}
	}
	hasMore := len(out) > page.Limit
	if hasMore {
		out = out[:page.Limit]
	}
	if !descending {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out, hasMore, nil
}

// execWrite runs one of the store's own statements inside a write transaction, straight on the
// transaction's connection (txConn, with its prepared statements). GORM's Exec would add only
// the work of building the same statement again through its callbacks, in the goroutine that
// every write of the process waits for. Errors come back as GORM's do: a unique violation is
// gorm.ErrDuplicatedKey.
func execWrite(tx *gorm.DB, query string, args ...any) error {
	_, err := execWriteRows(tx, query, args...)
	return err
}

// execWriteRows is execWrite, returning how many rows the statement changed.
func execWriteRows(tx *gorm.DB, query string, args ...any) (int64, error) {
	if tx.Dialector.Name() == postgresDialect.String() {
		query = postgresDialect.rebind(query)
	}
	res, err := tx.Statement.ConnPool.ExecContext(tx.Statement.Context, query, args...)
	if err != nil {
		return 0, translate(tx, err)
	}
	return res.RowsAffected()
}

// translate turns a driver's error into GORM's, as GORM's own calls do.
func translate(tx *gorm.DB, err error) error {
	if t, ok := tx.Dialector.(gorm.ErrorTranslator); ok && err != nil {
		return t.Translate(err)
	}
	return err
}

// assignments is the SET clause of an UPDATE of one row, built from the fields a partial update
// sends. A plain UPDATE, as GORM's Updates would reflect over a map for the same statement.
type assignments struct {
	columns []string
	args    []any
}

func (a *assignments) add(column string, value any) {
	a.columns = append(a.columns, column+" = ?")
	a.args = append(a.args, value)
}

// returning updates the row of table with this account and id, and scans the row as it now
// is, in one statement: on a large table the lookup of a random id is the costly part of an
// update, and this makes it once. columns are the row's, without a table alias. It must
// have something to set.
func (a *assignments) returning(ctx context.Context, tx *gorm.DB, table, columns, accountID, id string, scan func(scanner) error) error {
	query := "UPDATE " + table + " SET " + strings.Join(a.columns, ", ") + " WHERE account_id = ? AND id = ? RETURNING " + columns
	err := scan(txQuerier(tx).QueryRowContext(ctx, query, append(a.args, accountID, id)...))
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return translate(tx, err)
}

// exec updates the row of table at seq; with nothing to set it does nothing.
func (a *assignments) exec(tx *gorm.DB, table string, seq int64) error {
	if len(a.columns) == 0 {
		return nil
	}
	return execWrite(tx, "UPDATE "+table+" SET "+strings.Join(a.columns, ", ")+" WHERE seq = ?", append(a.args, seq)...)
}
