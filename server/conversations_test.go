package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"protocol/gen"
	"protocol/server/servertest"
)

func createConversation(t *testing.T, s *servertest.Server, body map[string]any) gen.Conversation {
	t.Helper()
	r := s.Do(servertest.Request{Method: http.MethodPost, Path: "/v1/conversations", JSON: body})
	if r.Status != http.StatusCreated {
		t.Fatalf("create conversation: %d %s", r.Status, r.Body)
	}
	var c gen.Conversation
	r.Decode(t, &c)
	return c
}

// contactWithoutConversation creates a contact and deletes the conversation that came with it.
func contactWithoutConversation(t *testing.T, s *servertest.Server) gen.Contact {
	t.Helper()
	c := createContact(t, s, frank)
	convID, _ := c.ConversationId.Get()
	if r := s.Do(servertest.Request{Method: http.MethodDelete, Path: "/v1/conversations/" + convID}); r.Status != http.StatusOK {
		t.Fatalf("delete conversation: %d %s", r.Status, r.Body)
	}
	return c
}

func TestCreateConversation(t *testing.T) {
	t.Run("ContactForm", func(t *testing.T) {
		// The documentation's curl: -d 'contact_id'="WAz8eIbvDR60rouK".
		s := servertest.New(t)
		c := contactWithoutConversation(t, s)
		r := s.Do(servertest.Request{Method: http.MethodPost, Path: "/v1/conversations", Form: url.Values{"contact_id": {c.Id}}})
		if r.Status != http.StatusCreated {
			t.Fatalf("status %d: %s", r.Status, r.Body)
		}
		got := r.JSON(t)
		want := map[string]any{"contact_id": c.Id, "group_id": nil, "pinned_message_id": nil, "is_pinned": false,
			"is_muted": false, "last_active_at": nil, "last_opened_at": nil, "archived_at": nil}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s = %v, want %v", k, got[k], v)
			}
		}
		contact := s.Do(servertest.Request{Path: "/v1/contacts/" + c.Id}).JSON(t)
		if contact["conversation_id"] != got["id"] {
			t.Errorf("contact's conversation_id = %v, want the new conversation %v", contact["conversation_id"], got["id"])
		}
	})
	t.Run("GroupJSON", func(t *testing.T) {
		s := servertest.New(t)
		c := createConversation(t, s, map[string]any{"group_id": "hSIhXBhNe8X1d8Et"})
		if g, _ := c.GroupId.Get(); g != "hSIhXBhNe8X1d8Et" || c.ContactId.IsSpecified() && !c.ContactId.IsNull() {
			t.Errorf("group conversation: %+v", c)
		}
		r := s.Do(servertest.Request{Method: http.MethodPost, Path: "/v1/conversations", JSON: map[string]any{"group_id": "hSIhXBhNe8X1d8Et"}})
		if r.Status != http.StatusConflict || !strings.Contains(string(r.Body), c.Id) {
			t.Errorf("second conversation for the group: %d %s, want 409 naming %s", r.Status, r.Body, c.Id)
		}
	})
	t.Run("ErrContactHasConversation", func(t *testing.T) {
		s := servertest.New(t)
		c := createContact(t, s, frank)
		convID, _ := c.ConversationId.Get()
		r := s.Do(servertest.Request{Method: http.MethodPost, Path: "/v1/conversations", JSON: map[string]any{"contact_id": c.Id}})
		if r.Status != http.StatusConflict || r.ErrorCode(t) != "conflict" || !strings.Contains(string(r.Body), convID) {
			t.Errorf("got %d %s, want 409 naming conversation %s", r.Status, r.Body, convID)
		}
	})
	t.Run("ErrBadRequest", func(t *testing.T) {
		s := servertest.New(t)
		c := createContact(t, s, frank)
		for name, tc := range map[string]struct {
			body  map[string]any
			param string
		}{
			"Neither":        {map[string]any{}, "contact_id"},
			"Both":           {map[string]any{"contact_id": c.Id, "group_id": "hSIhXBhNe8X1d8Et"}, "contact_id"},
			"UnknownContact": {map[string]any{"contact_id": "WAz8eIbvDR60rouK"}, "contact_id"},
			"MalformedGroup": {map[string]any{"group_id": "short"}, "group_id"},
			"NullContact":    {map[string]any{"contact_id": nil}, "contact_id"},
			"UnknownField":   {map[string]any{"group_id": "hSIhXBhNe8X1d8Et", "is_muted": true}, "is_muted"},
		} {
			t.Run(name, func(t *testing.T) {
				r := s.Do(servertest.Request{Method: http.MethodPost, Path: "/v1/conversations", JSON: tc.body})
				var env gen.Error
				r.Decode(t, &env)
				if r.Status != http.StatusBadRequest || env.Error.Code != "invalid_request" || env.Error.Param == nil || *env.Error.Param != tc.param {
					t.Errorf("got %d %s, want 400 about %s", r.Status, r.Body, tc.param)
				}
			})
		}
	})
}

func TestUpdateConversation(t *testing.T) {
	s := servertest.New(t)
	conv := createConversation(t, s, map[string]any{"group_id": "hSIhXBhNe8X1d8Et"})
	path := "/v1/conversations/" + conv.Id
	put := func(t *testing.T, req servertest.Request) map[string]any { return putOK(t, s, path, req) }
	t.Run("FormMuted", func(t *testing.T) {
		// The documentation's curl: -d 'is_muted'=true.
		got := put(t, servertest.Request{Form: url.Values{"is_muted": {"true"}}})
		if got["is_muted"] != true || got["is_pinned"] != false {
			t.Errorf("got %v", got)
		}
	})
	t.Run("JSONAll", func(t *testing.T) {
		got := put(t, servertest.Request{JSON: map[string]any{"is_pinned": true, "pinned_message_id": "Mn8dRQp0eN4kLq2Z", "archived_at": 705103200}})
		if got["is_pinned"] != true || got["pinned_message_id"] != "Mn8dRQp0eN4kLq2Z" || got["archived_at"] != float64(705103200) || got["is_muted"] != true {
			t.Errorf("got %v", got)
		}
	})
	t.Run("FormEmptyClears", func(t *testing.T) {
		got := put(t, servertest.Request{Form: url.Values{"archived_at": {""}, "pinned_message_id": {""}}})
		if got["archived_at"] != nil || got["pinned_message_id"] != nil || got["is_pinned"] != true {
			t.Errorf("got %v", got)
		}
	})
	t.Run("FormTimestamp", func(t *testing.T) {
		got := put(t, servertest.Request{Form: url.Values{"archived_at": {"705103200"}}})
		if got["archived_at"] != float64(705103200) {
			t.Errorf("got %v", got)
		}
	})
	t.Run("JSONNullClears", func(t *testing.T) {
		got := put(t, servertest.Request{JSON: map[string]any{"archived_at": nil}})
		if got["archived_at"] != nil || got["is_muted"] != true {
			t.Errorf("got %v", got)
		}
	})
	t.Run("ErrValidation", func(t *testing.T) {
		before := s.Do(servertest.Request{Path: path}).Body
		for _, req := range []servertest.Request{
			{JSON: map[string]any{"is_muted": "yes"}},
			{JSON: map[string]any{"is_muted": nil}},
			{JSON: map[string]any{"archived_at": -1}},
			{JSON: map[string]any{"archived_at": "soon"}},
			{JSON: map[string]any{"pinned_message_id": "x"}},
			{JSON: map[string]any{"contact_id": "WAz8eIbvDR60rouK"}},
			{Form: url.Values{"is_muted": {"notabool"}}},
			{Form: url.Values{"is_pinned": {""}}},
			{Form: url.Values{"archived_at": {"yesterday"}}},
			{Form: url.Values{"archived_at": {"999999999999"}}},
			{Form: url.Values{"group_id": {"hSIhXBhNe8X1d8Et"}}},
		} {
			req.Method, req.Path = http.MethodPut, path
			r := s.Do(req)
			if r.Status != http.StatusBadRequest || r.ErrorCode(t) != "invalid_request" {
				t.Errorf("PUT %v %v: %d %s, want 400", req.JSON, req.Form, r.Status, r.Body)
			}
		}
		if after := s.Do(servertest.Request{Path: path}).Body; string(after) != string(before) {
			t.Errorf("refused updates changed the conversation:\n%s\n%s", before, after)
		}
	})
}

func TestDeleteConversationClearsContact(t *testing.T) {
	s := servertest.New(t)
	c := createContact(t, s, frank)
	convID, _ := c.ConversationId.Get()
	r := s.Do(servertest.Request{Method: http.MethodDelete, Path: "/v1/conversations/" + convID})
	if got := r.JSON(t); r.Status != http.StatusOK || got["id"] != convID || got["deleted"] != true {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	contact := s.Do(servertest.Request{Path: "/v1/contacts/" + c.Id})
	if got := contact.JSON(t); contact.Status != http.StatusOK || got["conversation_id"] != nil {
		t.Errorf("contact after its conversation was deleted: %d %s, want conversation_id null", contact.Status, contact.Body)
	}
	if r := s.Do(servertest.Request{Path: "/v1/conversations/" + convID}); r.Status != http.StatusNotFound {
		t.Errorf("deleted conversation: %d, want 404", r.Status)
	}
	// The contact can have a conversation again.
	again := createConversation(t, s, map[string]any{"contact_id": c.Id})
	contact = s.Do(servertest.Request{Path: "/v1/contacts/" + c.Id})
	if got := contact.JSON(t); got["conversation_id"] != again.Id {
		t.Errorf("contact's conversation_id = %v, want %s", got["conversation_id"], again.Id)
	}
}
