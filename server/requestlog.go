package server

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"
)

// requestIDHeader carries the request's id both ways: a client may choose it, else the server
// makes one, and the response always names it.
const requestIDHeader = "X-Request-Id"

// requestLog gives every request an id, marks every response uncacheable, and writes one log
// line per request. The line holds no key, no query string and no body: those may carry
// secrets or personal data.
func requestLog(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			req, res := c.Request(), c.Response()
			id := req.Header.Get(requestIDHeader)
			if !validRequestID(id) {
				id = newRequestID()
			}
			res.Header().Set(requestIDHeader, id)
			// Every answer is about one account's private data: no cache may keep it.
			res.Header().Set(echo.HeaderCacheControl, "no-store")
			if err := next(c); err != nil {
				c.Error(err)
			}
			log.LogAttrs(req.Context(), slog.LevelInfo, "request",
				slog.String("request_id", id),
				slog.String("method", req.Method),
				slog.String("path", req.URL.Path),
				slog.Int("status", res.Status),
				slog.Int64("bytes", res.Size),
				slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			)
			return nil
		}
	}
}

// validRequestID accepts a client's id only if it is short and plain, so it cannot forge log
// lines or bloat them.
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "req_" + hex.EncodeToString(b[:])
}
