package server

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"
)

// keyHashKey carries the hash of the request's API key in the request context: the rate limit
// is per key, and the key itself is not kept.
type keyHashKey struct{}

func keyHashOf(ctx context.Context) string {
	h, _ := ctx.Value(keyHashKey{}).(string)
	return h
}

// rateLimiter allows each API key perSecond requests a second, with bursts of twice that. Its
// state is in this process's memory: behind a load balancer, each server process counts alone.
type rateLimiter struct {
	perSecond int
	mu        sync.Mutex
	keys      map[string]*rate.Limiter
}

func newRateLimiter(perSecond int) *rateLimiter {
	return &rateLimiter{perSecond: perSecond, keys: map[string]*rate.Limiter{}}
}

func (rl *rateLimiter) limiter(key string) *rate.Limiter {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	l, ok := rl.keys[key]
	if !ok {
		l = rate.NewLimiter(rate.Limit(rl.perSecond), 2*rl.perSecond)
		rl.keys[key] = l
	}
	return l
}

func (rl *rateLimiter) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		l := rl.limiter(keyHashOf(c.Request().Context()))
		now := time.Now()
		allowed := l.AllowN(now, 1)
		tokens := l.TokensAt(now)
		h := c.Response().Header()
		h.Set("X-RateLimit-Limit", strconv.Itoa(rl.perSecond))
		h.Set("X-RateLimit-Remaining", strconv.Itoa(max(0, int(math.Floor(tokens)))))
		full := now.Add(time.Duration((float64(l.Burst()) - tokens) / float64(rl.perSecond) * float64(time.Second)))
		h.Set("X-RateLimit-Reset", strconv.FormatInt(int64(math.Ceil(float64(full.UnixNano())/1e9)), 10))
		if !allowed {
			wait := int(math.Ceil((1 - tokens) / float64(rl.perSecond)))
			wait = max(wait, 1)
			h.Set("Retry-After", strconv.Itoa(wait))
			return &apiError{Status: http.StatusTooManyRequests, Code: codeRateLimited,
				Message: fmt.Sprintf("Too many requests for this API key (limit %d a second); retry in %d s.", rl.perSecond, wait)}
		}
		return next(c)
	}
}
