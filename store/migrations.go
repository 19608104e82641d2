package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// migration is one versioned schema change. Versions only grow; a released migration is never
// edited, so a newer binary can bring any older database up to date without losing data. The
// statements are shared by both dialects: the few words they spell differently are written
// {{like_this}} and filled in by dialect.ddl.
type migration struct {
	version int
	name    string
	sql     []string
}

var migrations = []migration{
	{1, "accounts, api keys, contacts and conversations", []string{
		`CREATE TABLE accounts (
			id         TEXT PRIMARY KEY,
			name       TEXT NOT NULL,
			created_at BIGINT NOT NULL
		)`,
		`CREATE TABLE api_keys (
			id         TEXT PRIMARY KEY,
			account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
			name       TEXT NOT NULL,
			hash       TEXT NOT NULL UNIQUE,
			hint       TEXT NOT NULL,
			created_at BIGINT NOT NULL,
			revoked_at BIGINT
		)`,
		// seq orders a list newest first and is the keyset cursor's position; it never reuses
		// a value, so a position stays meaningful after deletes.
		`CREATE TABLE contacts (
			seq            {{seq}},
			id             TEXT NOT NULL UNIQUE,
			account_id     TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
			username       TEXT NOT NULL,
			phone_number   TEXT NOT NULL,
			avatar_url     TEXT,
			display_name   TEXT,
			last_active_at BIGINT,
			created_at     BIGINT NOT NULL
		)`,
		// Usernames are unique per account regardless of letter case, as people type them.
		// lower() is what both databases can index; this index is what refuses a taken username.
		`CREATE UNIQUE INDEX contacts_account_username ON contacts(account_id, lower(username))`,
		`CREATE INDEX contacts_account_seq ON contacts(account_id, seq)`,
		`CREATE INDEX contacts_account_active_seq ON contacts(account_id, (last_active_at IS NOT NULL), seq)`,
		`CREATE TABLE conversations (
			seq               {{seq}},
			id                TEXT NOT NULL UNIQUE,
			account_id        TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
			contact_id        TEXT UNIQUE REFERENCES contacts(id) ON DELETE CASCADE,
			group_id          TEXT,
			pinned_message_id TEXT,
			is_pinned         BOOLEAN NOT NULL DEFAULT FALSE,
			is_muted          BOOLEAN NOT NULL DEFAULT FALSE,
			last_active_at    BIGINT,
			last_opened_at    BIGINT,
			created_at        BIGINT NOT NULL,
			archived_at       BIGINT
		)`,
		`CREATE UNIQUE INDEX conversations_account_group ON conversations(account_id, group_id) WHERE group_id IS NOT NULL`,
		`CREATE INDEX conversations_account_seq ON conversations(account_id, seq)`,
		`CREATE INDEX conversations_account_muted_seq ON conversations(account_id, is_muted, seq)`,
		`CREATE INDEX conversations_account_pinned_seq ON conversations(account_id, is_pinned, seq)`,
		`CREATE INDEX conversations_account_archived_seq ON conversations(account_id, (archived_at IS NOT NULL), seq)`,
	}},
	{2, "idempotency keys", []string{
		// status is NULL while the first request with the key is still running.
		`CREATE TABLE idempotency_keys (
			account_id   TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
			key          TEXT NOT NULL,
			request_hash TEXT NOT NULL,
			status       INTEGER,
			etag         TEXT,
			body         {{bytes}},
			created_at   BIGINT NOT NULL,
			PRIMARY KEY (account_id, key)
		)`,
		`CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at)`,
	}},
	// A contact's conversation_id was read through a join with its conversation, which on a
	// large account doubled the pages a retrieve or a list reads (the conversations' contact_id
	// index, then their table). The contact row now carries it, kept by the writes that make or
	// remove the link: CreateContact, CreateConversation and DeleteConversation.
	{3, "contacts carry their conversation's id", []string{
		`ALTER TABLE contacts ADD COLUMN conversation_id TEXT`,
		`UPDATE contacts SET conversation_id = (SELECT v.id FROM conversations v WHERE v.contact_id = contacts.id)`,
	}},
}

// schemaMigration records that a migration was applied.
type schemaMigration struct {
	Version   int    `gorm:"column:version;primaryKey;autoIncrement:false"`
	Name      string `gorm:"column:name"`
	AppliedAt int64  `gorm:"column:applied_at;autoCreateTime:false"`
}

func (schemaMigration) TableName() string { return "schema_migrations" }

// migrate applies the migrations the database has not seen yet, all in one transaction: a
// failed migration leaves the schema as it was. The transaction starts with the migration
// lock, so servers starting at once against one database wait for each other, and the later
// ones find the work done.
func migrate(ctx context.Context, db *gorm.DB, d dialect, now func() time.Time) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if lock := d.lock(migrationLock); lock != "" {
			if err := tx.Exec(lock).Error; err != nil {
				return fmt.Errorf("migrate: lock: %w", err)
			}
		}
		err := tx.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			name       TEXT NOT NULL,
			applied_at BIGINT NOT NULL
		)`).Error
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		var applied []int
		if err := tx.Model(&schemaMigration{}).Pluck("version", &applied).Error; err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		done := make(map[int]bool, len(applied))
		latest := 0
		for _, v := range applied {
			done[v] = true
			latest = max(latest, v)
		}
		if known := migrations[len(migrations)-1].version; latest > known {
			return fmt.Errorf("migrate: the database is at schema version %d, newer than this binary knows (%d)", latest, known)
		}
		for _, m := range migrations {
			if done[m.version] {
				continue
			}
			for _, stmt := range m.sql {
				if err := tx.Exec(d.ddl(stmt)).Error; err != nil {
					return fmt.Errorf("migrate to version %d (%s): %w", m.version, m.name, err)
				}
			}
			err := tx.Create(&schemaMigration{Version: m.version, Name: m.name, AppliedAt: now().Unix()}).Error
			if err != nil {
				return fmt.Errorf("migrate to version %d (%s): %w", m.version, m.name, err)
			}
		}
		return nil
	})
}
