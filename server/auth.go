package server

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"protocol/store"
)

// accountKey carries the authenticated account's id in the request context: strict handlers get
// a context.Context, not the echo.Context.
type accountKey struct{}

// accountOf returns the account the request was authenticated as, or "".
func accountOf(ctx context.Context) string {
	id, _ := ctx.Value(accountKey{}).(string)
	return id
}

// Authenticator resolves an API key to its account; store.ErrNotFound means no such live key.
type Authenticator interface {
	Authenticate(ctx context.Context, key string) (string, error)
}

func unauthorized(message string) *apiError {
	return &apiError{Status: http.StatusUnauthorized, Code: codeUnauthorized, Message: message}
}

// authenticate resolves the Bearer key before anything else looks at the request, so a request
// without a valid key learns nothing but 401.
func authenticate(keys Authenticator) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			header := req.Header.Get(echo.HeaderAuthorization)
			if header == "" {
				return unauthorized("No API key provided. Send it as Authorization: Bearer <key>.")
			}
			scheme, key, ok := strings.Cut(header, " ")
			if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(key) == "" {
				return unauthorized("The Authorization header must be Bearer <key>.")
			}
			account, err := keys.Authenticate(req.Context(), strings.TrimSpace(key))
			if errors.Is(err, store.ErrNotFound) {
				return unauthorized("Invalid API key.")
			}
			if err != nil {
				return err
			}
			ctx := context.WithValue(req.Context(), accountKey{}, account)
			ctx = context.WithValue(ctx, keyHashKey{}, store.HashKey(strings.TrimSpace(key)))
			c.SetRequest(req.WithContext(ctx))
			return next(c)
		}
	}
}
