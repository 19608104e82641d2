package server_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"protocol/server"
	"protocol/server/servertest"
)

func TestRateLimit(t *testing.T) {
	const perSecond = 3
	s := servertest.New(t, server.WithRateLimit(perSecond))
	var last *servertest.Response
	allowed := 0
	for range 3 * perSecond {
		last = s.Do(servertest.Request{Path: "/v1/contacts"})
		if last.Header.Get("X-RateLimit-Limit") != strconv.Itoa(perSecond) || last.Header.Get("X-RateLimit-Remaining") == "" || last.Header.Get("X-RateLimit-Reset") == "" {
			t.Errorf("response %d lacks the rate limit headers: %v", last.Status, last.Header)
		}
		if last.Status == http.StatusOK {
			allowed++
		}
		if last.Status == http.StatusTooManyRequests {
			break
		}
	}
	// The burst is twice the rate; a little more may pass as tokens refill during the loop.
	if allowed < 2*perSecond || allowed > 2*perSecond+1 {
		t.Errorf("%d requests passed before the limit, want about %d", allowed, 2*perSecond)
	}
	if last.Status != http.StatusTooManyRequests || last.ErrorCode(t) != "rate_limited" {
		t.Fatalf("beyond the limit: %d %s, want 429 rate_limited", last.Status, last.Body)
	}
	if ra, err := strconv.Atoi(last.Header.Get("Retry-After")); err != nil || ra < 1 {
		t.Errorf("Retry-After = %q, want whole seconds", last.Header.Get("Retry-After"))
	}
	if reset, _ := strconv.ParseInt(last.Header.Get("X-RateLimit-Reset"), 10, 64); reset < time.Now().Unix() {
		t.Errorf("X-RateLimit-Reset = %d is in the past", reset)
	}

	// Keys are limited separately.
	keyB, _ := s.NewAccount("b")
	if r := s.Do(servertest.Request{Path: "/v1/contacts", Key: keyB}); r.Status != http.StatusOK {
		t.Errorf("another key: %d, want 200", r.Status)
	}
	time.Sleep(time.Second / perSecond * 2)
	if r := s.Do(servertest.Request{Path: "/v1/contacts"}); r.Status != http.StatusOK {
		t.Errorf("after waiting: %d, want 200", r.Status)
	}
}

func TestRateLimitOffByDefault(t *testing.T) {
	s := servertest.New(t)
	for range 50 {
		r := s.Do(servertest.Request{Path: "/v1/contacts"})
		if r.Status != http.StatusOK || r.Header.Get("X-RateLimit-Limit") != "" {
			t.Fatalf("got %d with X-RateLimit-Limit %q, want 200 and no limit headers", r.Status, r.Header.Get("X-RateLimit-Limit"))
		}
	}
}
