package server_test

import (
	"net/http"
	"testing"
	"time"

	"protocol/server"
	"protocol/server/servertest"
)

// TestAccountsCannotSeeEachOther runs every operation with account B's key on account A's ids:
// each answers exactly as for a missing id, and A's data stays as it was.
func TestAccountsCannotSeeEachOther(t *testing.T) {
	s := servertest.New(t)
	a := createContact(t, s, frank)
	aConv, _ := a.ConversationId.Get()
	group := createConversation(t, s, map[string]any{"group_id": "hSIhXBhNe8X1d8Et"})
	keyB, _ := s.NewAccount("b")

	before := map[string]string{}
	for _, p := range []string{"/v1/contacts/" + a.Id, "/v1/conversations/" + aConv, "/v1/conversations/" + group.Id} {
		before[p] = string(s.Do(servertest.Request{Path: p}).Body)
	}

	for _, tc := range []servertest.Request{
		{Method: http.MethodGet, Path: "/v1/contacts/" + a.Id},
		{Method: http.MethodPut, Path: "/v1/contacts/" + a.Id, JSON: map[string]any{"display_name": "Mine now"}},
		{Method: http.MethodDelete, Path: "/v1/contacts/" + a.Id},
		{Method: http.MethodGet, Path: "/v1/conversations/" + aConv},
		{Method: http.MethodPut, Path: "/v1/conversations/" + aConv, JSON: map[string]any{"is_muted": true}},
		{Method: http.MethodDelete, Path: "/v1/conversations/" + aConv},
		{Method: http.MethodDelete, Path: "/v1/conversations/" + group.Id},
	} {
		tc.Key = keyB
		r := s.Do(tc)
		if r.Status != http.StatusNotFound || r.ErrorCode(t) != "not_found" {
			t.Errorf("B: %s %s = %d %s, want 404", tc.Method, tc.Path, r.Status, r.Body)
		}
	}

	for _, p := range []string{"/v1/contacts", "/v1/conversations"} {
		r := s.Do(servertest.Request{Path: p, Key: keyB})
		if got := r.JSON(t); r.Status != http.StatusOK || len(got["data"].([]any)) != 0 || got["has_more"] != false {
			t.Errorf("B lists %s: %d %s, want an empty list", p, r.Status, r.Body)
		}
	}

	// B cannot start a conversation with A's contact, nor use A's objects as cursors.
	r := s.Do(servertest.Request{Method: http.MethodPost, Path: "/v1/conversations", Key: keyB, JSON: map[string]any{"contact_id": a.Id}})
	if r.Status != http.StatusBadRequest || r.ErrorCode(t) != "invalid_request" {
		t.Errorf("B creates a conversation with A's contact: %d %s, want 400", r.Status, r.Body)
	}
	r = s.Do(servertest.Request{Path: "/v1/contacts?starting_after=" + a.Id, Key: keyB})
	if r.Status != http.StatusBadRequest {
		t.Errorf("B pages from A's contact: %d %s, want 400", r.Status, r.Body)
	}

	// B may hold a contact with the same username and a conversation for the same group.
	createdB := s.Do(servertest.Request{Method: http.MethodPost, Path: "/v1/contacts", Key: keyB, JSON: frank})
	if createdB.Status != http.StatusCreated {
		t.Errorf("B creates its own FrankMcCallister: %d %s", createdB.Status, createdB.Body)
	}
	groupB := s.Do(servertest.Request{Method: http.MethodPost, Path: "/v1/conversations", Key: keyB, JSON: map[string]any{"group_id": "hSIhXBhNe8X1d8Et"}})
	if groupB.Status != http.StatusCreated {
		t.Errorf("B creates its own group conversation: %d %s", groupB.Status, groupB.Body)
	}

	for p, want := range before {
		if got := string(s.Do(servertest.Request{Path: p}).Body); got != want {
			t.Errorf("A's %s changed:\nbefore %s\nafter  %s", p, want, got)
		}
	}
	if got := s.Do(servertest.Request{Path: "/v1/contacts"}).JSON(t); len(got["data"].([]any)) != 1 {
		t.Errorf("A's list changed: %v", got)
	}
}

// TestRevokedKeyIsRefusedAtOnce revokes a key between two requests.
func TestRevokedKeyIsRefusedAtOnce(t *testing.T) {
	s := servertest.New(t)
	if r := s.Do(servertest.Request{Path: "/v1/contacts"}); r.Status != http.StatusOK {
		t.Fatalf("before revoke: %d", r.Status)
	}
	keys, err := s.Store.Keys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k.AccountID == s.Account {
			if err := s.Store.RevokeKey(t.Context(), k.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A server trusts a checked key for KeyCacheTTL (`keys revoke` waits that long too).
	time.Sleep(server.KeyCacheTTL)
	r := s.Do(servertest.Request{Path: "/v1/contacts"})
	if r.Status != http.StatusUnauthorized || r.ErrorCode(t) != "unauthorized" {
		t.Errorf("after revoke: %d %s, want 401", r.Status, r.Body)
	}
}
