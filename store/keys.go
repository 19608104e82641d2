package store

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"
	"strings"

	"gorm.io/gorm"
)

// keyPrefix starts every API key, so a key is recognisable in a config file or a leak scan.
const keyPrefix = "sk_"

// keyRandomLength is the number of random characters after the prefix: 40 base62 characters
// carry about 238 bits.
const keyRandomLength = 40

// HashKey is the SHA-256 of a key, hex-encoded: the only form in which a key is stored.
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// CreatedKey is a new key's record and the key itself, which exists only in this value.
type CreatedKey struct {
	APIKey
	Key string
}

// CreateAccountWithKey creates an account named name and an API key for it.
func (s *Store) CreateAccountWithKey(ctx context.Context, name string) (CreatedKey, error) {
	acct, k := s.newAccountKey(name)
	err := s.writes.write(ctx, func(tx *gorm.DB) error { return insertAccountKey(tx, acct, k) })
	if err != nil {
		return CreatedKey{}, err
	}
	return k, nil
}

// CreateFirstKey creates an account named name and an API key for it if the database holds no
// key at all, and reports whether it did. Servers starting at once on an empty database create
// one key between them.
func (s *Store) CreateFirstKey(ctx context.Context, name string) (CreatedKey, bool, error) {
	acct, k := s.newAccountKey(name)
	created := false
	err := s.writes.write(ctx, func(tx *gorm.DB) error {
		created = false
		if lock := s.dialect.lock(firstKeyLock); lock != "" {
			if err := tx.Exec(lock).Error; err != nil {
				return err
			}
		}
		var n int64
		if err := tx.Model(&APIKey{}).Limit(1).Count(&n).Error; err != nil || n > 0 {
			return err
		}
		created = true
		return insertAccountKey(tx, acct, k)
	})
	if err != nil || !created {
		return CreatedKey{}, false, err
	}
	return k, true, nil
}

// newAccountKey makes a new account and its key, not stored yet.
func (s *Store) newAccountKey(name string) (Account, CreatedKey) {
	now := s.unix()
	acct := Account{ID: NewID(), Name: name, CreatedAt: now}
	key := keyPrefix + randomString(keyRandomLength)
	rec := APIKey{
		ID:        NewID(),
		AccountID: acct.ID,
		Name:      name,
		Hash:      HashKey(key),
		Hint:      key[:len(keyPrefix)+4],
		CreatedAt: now,
	}
	return acct, CreatedKey{APIKey: rec, Key: key}
}

func insertAccountKey(tx *gorm.DB, acct Account, k CreatedKey) error {
	if err := tx.Create(&acct).Error; err != nil {
		return err
	}
	return tx.Create(&k.APIKey).Error
}

// HasKeys reports whether the database holds any API key, revoked or not.
func (s *Store) HasKeys(ctx context.Context) (bool, error) {
	var n int64
	err := s.reader.WithContext(ctx).Model(&APIKey{}).Limit(1).Count(&n).Error
	return n > 0, err
}

// Keys lists every API key, oldest first.
func (s *Store) Keys(ctx context.Context) ([]APIKey, error) {
	var keys []APIKey
	err := s.reader.WithContext(ctx).Order("created_at, id").Find(&keys).Error
	return keys, err
}

// RevokeKey revokes a key by its id; requests with it are refused from then on.
func (s *Store) RevokeKey(ctx context.Context, id string) error {
	return s.writes.write(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&APIKey{}).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", s.unix())
		if res.Error != nil || res.RowsAffected > 0 {
			return res.Error
		}
		var n int64
		if err := tx.Model(&APIKey{}).Where("id = ?", id).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return ErrNotFound
		}
		return nil // already revoked
	})
}

// Authenticate returns the account id of a live key, or ErrNotFound for an unknown or revoked
// one.
func (s *Store) Authenticate(ctx context.Context, key string) (string, error) {
	if !strings.HasPrefix(key, keyPrefix) || len(key) != len(keyPrefix)+keyRandomLength {
		return "", ErrNotFound
	}
	hash := HashKey(key)
	var (
		account, stored string
		revokedAt       sql.NullInt64
	)
	err := s.reads.QueryRowContext(ctx, `SELECT account_id, hash, revoked_at FROM api_keys WHERE hash = ?`, hash).
		Scan(&account, &stored, &revokedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", err
	}
	// The index found the row; comparing in constant time as well keeps the check itself free of
	// timing differences.
	if subtle.ConstantTimeCompare([]byte(stored), []byte(hash)) != 1 || revokedAt.Valid {
		return "", ErrNotFound
	}
	return account, nil
}
