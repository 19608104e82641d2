package server_test

import (
	"net/http"
	"net/url"
	"sync"
	"testing"

	"protocol/server/servertest"
)

func withIdempotencyKey(key string) http.Header { return http.Header{"Idempotency-Key": {key}} }

func countContacts(t *testing.T, s *servertest.Server, key string) int {
	t.Helper()
	r := s.Do(servertest.Request{Path: "/v1/contacts?limit=100", Key: key})
	return len(r.JSON(t)["data"].([]any))
}

func TestIdempotencyKeyReplaysTheFirstResponse(t *testing.T) {
	s := servertest.New(t)
	req := servertest.Request{Method: http.MethodPost, Path: "/v1/contacts", JSON: frank, Header: withIdempotencyKey("create-frank-1")}
	first := s.Do(req)
	if first.Status != http.StatusCreated || first.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("first: %d %s (replayed=%q)", first.Status, first.Body, first.Header.Get("Idempotent-Replayed"))
	}
	second := s.Do(req)
	if second.Status != http.StatusCreated || string(second.Body) != string(first.Body) {
		t.Errorf("retry: %d %s, want the first response %s", second.Status, second.Body, first.Body)
	}
	if second.Header.Get("Idempotent-Replayed") != "true" || second.Header.Get("ETag") != first.Header.Get("ETag") {
		t.Errorf("retry headers: replayed=%q etag=%q, want true and %q", second.Header.Get("Idempotent-Replayed"), second.Header.Get("ETag"), first.Header.Get("ETag"))
	}
	if n := countContacts(t, s, ""); n != 1 {
		t.Errorf("%d contacts after a retried create, want 1", n)
	}

	t.Run("ErrDifferentBody", func(t *testing.T) {
		r := s.Do(servertest.Request{Method: http.MethodPost, Path: "/v1/contacts", Header: withIdempotencyKey("create-frank-1"),
			JSON: map[string]any{"username": "Kevin", "phone_number": "555-0100"}})
		if r.Status != http.StatusConflict || r.ErrorCode(t) != "conflict" {
			t.Errorf("same key, other body: %d %s, want 409", r.Status, r.Body)
		}
		if n := countContacts(t, s, ""); n != 1 {
			t.Errorf("%d contacts, want 1", n)
		}
	})
	t.Run("PerAccount", func(t *testing.T) {
		keyB, _ := s.NewAccount("b")
		r := s.Do(servertest.Request{Method: http.MethodPost, Path: "/v1/contacts", JSON: frank, Key: keyB, Header: withIdempotencyKey("create-frank-1")})
		if r.Status != http.StatusCreated || r.Header.Get("Idempotent-Replayed") != "" || string(r.Body) == string(first.Body) {
			t.Errorf("B with A's key: %d %s, want a new 201 of its own", r.Status, r.Body)
		}
	})
	t.Run("ConflictIsReplayedToo", func(t *testing.T) {
		// A request that ran and failed on the client's side is stored like a success.
		dup := servertest.Request{Method: http.MethodPost, Path: "/v1/contacts", JSON: frank, Header: withIdempotencyKey("dup-1")}
		a, b := s.Do(dup), s.Do(dup)
		if a.Status != http.StatusConflict || b.Status != http.StatusConflict || b.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("got %d then %d (replayed=%q)", a.Status, b.Status, b.Header.Get("Idempotent-Replayed"))
		}
	})
	t.Run("ValidationFailureIsNotStored", func(t *testing.T) {
		bad := s.Do(servertest.Request{Method: http.MethodPost, Path: "/v1/contacts", Header: withIdempotencyKey("fix-me"),
			JSON: map[string]any{"username": "Marv"}})
		good := s.Do(servertest.Request{Method: http.MethodPost, Path: "/v1/contacts", Header: withIdempotencyKey("fix-me"),
			JSON: map[string]any{"username": "Marv", "phone_number": "555-0101"}})
		if bad.Status != http.StatusBadRequest || good.Status != http.StatusCreated {
			t.Errorf("got %d then %d, want 400 then 201", bad.Status, good.Status)
		}
	})
	t.Run("Form", func(t *testing.T) {
		form := servertest.Request{Method: http.MethodPost, Path: "/v1/conversations", Header: withIdempotencyKey("group-1"),
			Form: url.Values{"group_id": {"hSIhXBhNe8X1d8Et"}}}
		a, b := s.Do(form), s.Do(form)
		if a.Status != http.StatusCreated || b.Status != http.StatusCreated || string(a.Body) != string(b.Body) || b.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("got %d %s then %d %s", a.Status, a.Body, b.Status, b.Body)
		}
	})
	t.Run("ErrMalformedKey", func(t *testing.T) {
		r := s.Do(servertest.Request{Method: http.MethodPost, Path: "/v1/contacts", JSON: frank, Header: withIdempotencyKey("has space")})
		if r.Status != http.StatusBadRequest {
			t.Errorf("got %d %s, want 400", r.Status, r.Body)
		}
	})
}

// TestIdempotencyKeyConcurrent sends the same request with the same key from many clients at
// once: exactly one contact is created, and every client gets its response.
func TestIdempotencyKeyConcurrent(t *testing.T) {
	s := servertest.New(t)
	const clients = 16
	bodies := make([]string, clients)
	statuses := make([]int, clients)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := s.Do(servertest.Request{Method: http.MethodPost, Path: "/v1/contacts", JSON: frank, Header: withIdempotencyKey("same-for-all")})
			statuses[i], bodies[i] = r.Status, string(r.Body)
		}()
	}
	wg.Wait()
	for i := range clients {
		if statuses[i] != http.StatusCreated || bodies[i] != bodies[0] {
			t.Errorf("client %d: %d %s, want 201 %s", i, statuses[i], bodies[i], bodies[0])
		}
	}
	if n := countContacts(t, s, ""); n != 1 {
		t.Errorf("%d contacts, want 1", n)
	}
}
