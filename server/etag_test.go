package server_test

import (
	"net/http"
	"testing"

	"protocol/server/servertest"
)

func TestETags(t *testing.T) {
	s := servertest.New(t)
	c := createContact(t, s, frank)
	path := "/v1/contacts/" + c.Id
	get := s.Do(servertest.Request{Path: path})
	tag := get.Header.Get("ETag")
	if len(tag) < 3 || tag[0] != '"' || tag[len(tag)-1] != '"' {
		t.Fatalf("ETag = %q, want a strong entity tag", tag)
	}
	t.Run("NotModified", func(t *testing.T) {
		r := s.Do(servertest.Request{Path: path, Header: http.Header{"If-None-Match": {tag}}})
		if r.Status != http.StatusNotModified || len(r.Body) != 0 || r.Header.Get("ETag") != tag {
			t.Errorf("got %d %q etag %q, want 304 with the same ETag", r.Status, r.Body, r.Header.Get("ETag"))
		}
		r = s.Do(servertest.Request{Path: path, Header: http.Header{"If-None-Match": {`"other", ` + tag}}})
		if r.Status != http.StatusNotModified {
			t.Errorf("tag in a list: %d, want 304", r.Status)
		}
		r = s.Do(servertest.Request{Path: path, Header: http.Header{"If-None-Match": {`"other"`}}})
		if r.Status != http.StatusOK {
			t.Errorf("other tag: %d, want 200", r.Status)
		}
	})
	t.Run("ChangesWithTheObject", func(t *testing.T) {
		r := s.Do(servertest.Request{Method: http.MethodPut, Path: path, JSON: map[string]any{"display_name": "UncleFrank"}})
		if newTag := r.Header.Get("ETag"); newTag == "" || newTag == tag {
			t.Errorf("ETag after an update = %q, was %q", newTag, tag)
		}
		if again := s.Do(servertest.Request{Path: path}).Header.Get("ETag"); again != r.Header.Get("ETag") {
			t.Errorf("GET ETag %q differs from PUT's %q for the same state", again, r.Header.Get("ETag"))
		}
		// Deleting the conversation changes the contact's conversation_id, so its ETag too.
		before := s.Do(servertest.Request{Path: path}).Header.Get("ETag")
		convID, _ := c.ConversationId.Get()
		s.Do(servertest.Request{Method: http.MethodDelete, Path: "/v1/conversations/" + convID})
		if after := s.Do(servertest.Request{Path: path}).Header.Get("ETag"); after == before {
			t.Errorf("ETag did not change with conversation_id")
		}
	})
}

// TestLostUpdateIsRefused has two clients read the same contact, then both write with the ETag
// they read: the second write is refused and changes nothing.
func TestLostUpdateIsRefused(t *testing.T) {
	s := servertest.New(t)
	c := createContact(t, s, frank)
	path := "/v1/contacts/" + c.Id
	tagA := s.Do(servertest.Request{Path: path}).Header.Get("ETag")
	tagB := s.Do(servertest.Request{Path: path}).Header.Get("ETag")

	a := s.Do(servertest.Request{Method: http.MethodPut, Path: path, JSON: map[string]any{"display_name": "Frank (A)"}, Header: http.Header{"If-Match": {tagA}}})
	if a.Status != http.StatusOK {
		t.Fatalf("first write: %d %s", a.Status, a.Body)
	}
	b := s.Do(servertest.Request{Method: http.MethodPut, Path: path, JSON: map[string]any{"display_name": "Frank (B)"}, Header: http.Header{"If-Match": {tagB}}})
	if b.Status != http.StatusPreconditionFailed || b.ErrorCode(t) != "precondition_failed" {
		t.Errorf("second write: %d %s, want 412 precondition_failed", b.Status, b.Body)
	}
	if got := s.Do(servertest.Request{Path: path}).JSON(t); got["display_name"] != "Frank (A)" {
		t.Errorf("display_name = %v, want the first write's", got["display_name"])
	}
	del := s.Do(servertest.Request{Method: http.MethodDelete, Path: path, Header: http.Header{"If-Match": {tagB}}})
	if del.Status != http.StatusPreconditionFailed {
		t.Errorf("delete with a stale ETag: %d %s, want 412", del.Status, del.Body)
	}
	if r := s.Do(servertest.Request{Path: path}); r.Status != http.StatusOK {
		t.Errorf("contact gone after a refused delete: %d", r.Status)
	}
	del = s.Do(servertest.Request{Method: http.MethodDelete, Path: path, Header: http.Header{"If-Match": {a.Header.Get("ETag")}}})
	if del.Status != http.StatusOK {
		t.Errorf("delete with the current ETag: %d %s, want 200", del.Status, del.Body)
	}

	conv := createConversation(t, s, map[string]any{"group_id": "hSIhXBhNe8X1d8Et"})
	cpath := "/v1/conversations/" + conv.Id
	r := s.Do(servertest.Request{Method: http.MethodPut, Path: cpath, JSON: map[string]any{"is_muted": true}, Header: http.Header{"If-Match": {`"stale"`}}})
	if r.Status != http.StatusPreconditionFailed {
		t.Errorf("conversation update with a stale ETag: %d, want 412", r.Status)
	}
	r = s.Do(servertest.Request{Method: http.MethodPut, Path: cpath, JSON: map[string]any{"is_muted": true}, Header: http.Header{"If-Match": {"*"}}})
	if r.Status != http.StatusOK {
		t.Errorf("conversation update with If-Match: *: %d, want 200", r.Status)
	}
}
