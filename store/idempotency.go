package store

import (
	"context"
	"errors"

	"gorm.io/gorm"
)

// IdempotencyWindow is how long, in seconds, a stored response answers retries of its request.
const IdempotencyWindow = 24 * 60 * 60

// ErrIdempotencyInProgress means another request with the same key has not finished yet.
var ErrIdempotencyInProgress = errors.New("a request with this idempotency key is in progress")

// ErrIdempotencyMismatch means the key was used before with a different request.
var ErrIdempotencyMismatch = errors.New("the idempotency key was used with a different request")

// StoredResponse is the response a finished request with an idempotency key answered.
type StoredResponse struct {
	Status int
	ETag   string
	Body   []byte
}

type idempotencyKey struct {
	AccountID   string  `gorm:"column:account_id;primaryKey"`
	Key         string  `gorm:"column:key;primaryKey"`
	RequestHash string  `gorm:"column:request_hash"`
	Status      *int    `gorm:"column:status"`
	ETag        *string `gorm:"column:etag"`
	Body        []byte  `gorm:"column:body"`
	CreatedAt   int64   `gorm:"column:created_at;autoCreateTime:false"`
}

func (idempotencyKey) TableName() string { return "idempotency_keys" }

// ClaimIdempotencyKey starts a request with an idempotency key. It returns (nil, nil) when the
// caller now holds the key and must run the request, then SaveIdempotentResponse or
// ReleaseIdempotencyKey; the stored response when the same request already finished;
// ErrIdempotencyMismatch when the key was used for a different request; and
// ErrIdempotencyInProgress while the first request still runs. The claim is a row in the
// database, so it holds across every server process sharing it.
func (s *Store) ClaimIdempotencyKey(ctx context.Context, accountID, key, requestHash string) (*StoredResponse, error) {
	now := s.unix()
	var stored *StoredResponse
	err := s.writes.write(ctx, func(tx *gorm.DB) error {
		// Expired responses are deleted here rather than by a job of their own; the index on
		// created_at makes the usual case, nothing to delete, one index probe.
		err := tx.Where("created_at <= ?", now-IdempotencyWindow).Delete(&idempotencyKey{}).Error
		if err != nil {
			return err
		}
		var row idempotencyKey
		err = tx.Where("account_id = ? AND key = ?", accountID, key).Take(&row).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
		case err != nil:
			return err
		case row.RequestHash != requestHash:
			return ErrIdempotencyMismatch
		case row.Status == nil:
			return ErrIdempotencyInProgress
		default:
			stored = &StoredResponse{Status: *row.Status, ETag: derefOr(row.ETag, ""), Body: row.Body}
			return nil
		}
		err = tx.Create(&idempotencyKey{AccountID: accountID, Key: key, RequestHash: requestHash, CreatedAt: now}).Error
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return ErrIdempotencyInProgress // another server process claimed it first
		}
		return err
	})
	return stored, err
}

// SaveIdempotentResponse records the response of a claimed request, for its retries.
func (s *Store) SaveIdempotentResponse(ctx context.Context, accountID, key string, resp StoredResponse) error {
	var etag *string
	if resp.ETag != "" {
		etag = &resp.ETag
	}
	return s.writes.write(ctx, func(tx *gorm.DB) error {
		return tx.Model(&idempotencyKey{}).Where("account_id = ? AND key = ?", accountID, key).
			Updates(map[string]any{"status": resp.Status, "etag": etag, "body": resp.Body}).Error
	})
}

// ReleaseIdempotencyKey gives up a claim whose request failed on the server's side, so that a
// retry runs the request again.
func (s *Store) ReleaseIdempotencyKey(ctx context.Context, accountID, key string) error {
	return s.writes.write(ctx, func(tx *gorm.DB) error {
		return tx.Where("account_id = ? AND key = ? AND status IS NULL", accountID, key).Delete(&idempotencyKey{}).Error
	})
}
