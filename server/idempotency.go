package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"protocol/store"
)

const (
	idempotencyKeyHeader = "Idempotency-Key"
	replayedHeader       = "Idempotent-Replayed"
	// idempotencyWait is how long a request waits for an earlier one with the same key to
	// finish before it gives up with 409.
	idempotencyWait = 10 * time.Second
	idempotencyPoll = 20 * time.Millisecond
)

// idempotency makes a POST with an Idempotency-Key safe to retry, with Stripe's semantics: the
// first request runs; a retry with the same body gets the stored response again, marked
// Idempotent-Replayed; the same key with another body is a 409. Requests that fail validation
// never get here, so they store nothing; 5xx answers are not stored, so a retry runs again.
type idempotency struct {
	store *store.Store
	log   *slog.Logger
}

func (m *idempotency) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		key := req.Header.Get(idempotencyKeyHeader)
		if req.Method != http.MethodPost || key == "" {
			return next(c)
		}
		body, err := io.ReadAll(req.Body) // already read once and held in memory by the validator
		if err != nil {
			return err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		sum := sha256.New()
		for _, part := range []string{req.Method, req.URL.Path, req.Header.Get(echo.HeaderContentType)} {
			sum.Write([]byte(part))
			sum.Write([]byte{0})
		}
		sum.Write(body)
		hash := hex.EncodeToString(sum.Sum(nil))
		account := accountOf(req.Context())

		stored, err := m.claim(req.Context(), account, key, hash)
		if err != nil {
			return err
		}
		if stored != nil {
			return replay(c, stored)
		}

		rec := &recorder{ResponseWriter: c.Response().Writer}
		c.Response().Writer = rec
		if err := next(c); err != nil {
			c.Error(err)
		}
		// The request has run; record its outcome even if the client has gone away.
		ctx := context.WithoutCancel(req.Context())
		status := c.Response().Status
		if status >= 500 {
			err = m.store.ReleaseIdempotencyKey(ctx, account, key)
		} else {
			err = m.store.SaveIdempotentResponse(ctx, account, key, store.StoredResponse{
				Status: status, ETag: c.Response().Header().Get("ETag"), Body: rec.body.Bytes()})
		}
		if err != nil {
			m.log.Error("recording an idempotent response", "err", err)
		}
		return nil
	}
}

// claim takes the key, waiting while an earlier request with it is still running.
func (m *idempotency) claim(ctx context.Context, account, key, hash string) (*store.StoredResponse, error) {
	deadline := time.Now().Add(idempotencyWait)
	for {
		stored, err := m.store.ClaimIdempotencyKey(ctx, account, key, hash)
		switch {
		case errors.Is(err, store.ErrIdempotencyMismatch):
			return nil, &apiError{Status: http.StatusConflict, Code: codeConflict, Param: idempotencyKeyHeader,
				Message: "This Idempotency-Key was already used with a different request; use a new key for a new request."}
		case errors.Is(err, store.ErrIdempotencyInProgress) && time.Now().Before(deadline):
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(idempotencyPoll):
			}
		case errors.Is(err, store.ErrIdempotencyInProgress):
			return nil, &apiError{Status: http.StatusConflict, Code: codeConflict, Param: idempotencyKeyHeader,
				Message: "A request with this Idempotency-Key is still running; retry later."}
		default:
			return stored, err
		}
	}
}

func replay(c echo.Context, r *store.StoredResponse) error {
	h := c.Response().Header()
	h.Set(replayedHeader, "true")
	if r.ETag != "" {
		h.Set("ETag", r.ETag)
	}
	return c.Blob(r.Status, echo.MIMEApplicationJSON, r.Body)
}

// recorder keeps a copy of the response body as it is written.
type recorder struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (r *recorder) Write(b []byte) (int, error) {
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}
