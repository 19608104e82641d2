package server_test

import (
	"net/http"
	"net/url"
	"testing"

	"protocol/gen"
	"protocol/server/servertest"
)

// frank is the contact the API documentation uses in every example.
var frank = map[string]any{
	"username":     "FrankMcCallister",
	"phone_number": "1-800-759-3000",
	"avatar_url":   "https://assets.protocol.chat/avatars/frank.jpg",
}

// frankForm is the documentation's curl example: `-d username=... -d phone_number=...`.
var frankForm = url.Values{
	"username":     {"FrankMcCallister"},
	"phone_number": {"1-800-759-3000"},
	"avatar_url":   {"https://assets.protocol.chat/avatars/frank.jpg"},
}

func createContact(t *testing.T, s *servertest.Server, body map[string]any) gen.Contact {
	t.Helper()
	r := s.Do(servertest.Request{Method: http.MethodPost, Path: "/v1/contacts", JSON: body})
	if r.Status != http.StatusCreated {
		t.Fatalf("create contact: %d %s", r.Status, r.Body)
	}
	var c gen.Contact
	r.Decode(t, &c)
	return c
}

// putOK sends req as a PUT to path, requires 200 and returns the body.
func putOK(t *testing.T, s *servertest.Server, path string, req servertest.Request) map[string]any {
	t.Helper()
	req.Method, req.Path = http.MethodPut, path
	r := s.Do(req)
	if r.Status != http.StatusOK {
		t.Fatalf("PUT %s: %d %s", path, r.Status, r.Body)
	}
	return r.JSON(t)
}

func TestCreateContact(t *testing.T) {
	for name, req := range map[string]servertest.Request{
		"JSON":                   {Method: http.MethodPost, Path: "/v1/contacts", JSON: frank},
		"Form":                   {Method: http.MethodPost, Path: "/v1/contacts", Form: frankForm},
		"JSONMixedCaseMediaType": {Method: http.MethodPost, Path: "/v1/contacts", JSON: frank, ContentType: "Application/JSON; charset=UTF-8"},
	} {
		t.Run(name, func(t *testing.T) {
			s := servertest.New(t)
			r := s.Do(req)
			if r.Status != http.StatusCreated {
				t.Fatalf("status %d: %s", r.Status, r.Body)
			}
			got := r.JSON(t)
			for _, k := range []string{"username", "phone_number", "avatar_url"} {
				if got[k] != frank[k] {
					t.Errorf("%s = %v, want %v", k, got[k], frank[k])
				}
			}
			for _, k := range []string{"display_name", "last_active_at"} {
				if v, ok := got[k]; !ok || v != nil {
					t.Errorf("%s = %v (present %v), want null", k, v, ok)
				}
			}
			convID, _ := got["conversation_id"].(string)
			if len(convID) != 16 {
				t.Fatalf("conversation_id = %v, want a new conversation's id", got["conversation_id"])
			}
			conv := s.Do(servertest.Request{Path: "/v1/conversations/" + convID}).JSON(t)
			if conv["contact_id"] != got["id"] {
				t.Errorf("conversation's contact_id = %v, want %v", conv["contact_id"], got["id"])
			}
			again := s.Do(servertest.Request{Path: "/v1/contacts/" + got["id"].(string)})
			if again.Status != http.StatusOK || string(again.Body) != string(r.Body) {
				t.Errorf("retrieve after create = %d %s, want the created contact %s", again.Status, again.Body, r.Body)
			}
		})
	}
}

func TestCreateContactEmptyFormValuesMeanNull(t *testing.T) {
	s := servertest.New(t)
	form := url.Values{"username": {"kevin"}, "phone_number": {"555-0100"}, "avatar_url": {""}, "display_name": {""}}
	r := s.Do(servertest.Request{Method: http.MethodPost, Path: "/v1/contacts", Form: form})
	if r.Status != http.StatusCreated {
		t.Fatalf("status %d: %s", r.Status, r.Body)
	}
	got := r.JSON(t)
	if got["avatar_url"] != nil || got["display_name"] != nil {
		t.Errorf("empty form values gave avatar_url=%v display_name=%v, want null", got["avatar_url"], got["display_name"])
	}
}

func TestCreateContactConflict(t *testing.T) {
	s := servertest.New(t)
	createContact(t, s, frank)
	for _, username := range []string{"FrankMcCallister", "frankmccallister"} {
		r := s.Do(servertest.Request{Method: http.MethodPost, Path: "/v1/contacts",
			JSON: map[string]any{"username": username, "phone_number": "1-800-759-3000"}})
		if r.Status != http.StatusConflict || r.ErrorCode(t) != "conflict" {
			t.Errorf("duplicate username %q: %d %s, want 409 conflict", username, r.Status, r.Body)
		}
	}
	list := s.Do(servertest.Request{Path: "/v1/contacts"}).JSON(t)
	if n := len(list["data"].([]any)); n != 1 {
		t.Errorf("after refused duplicates the list holds %d contacts, want 1", n)
	}
}

func TestGetContact(t *testing.T) {
	s := servertest.New(t)
	c := createContact(t, s, frank)
	t.Run("OK", func(t *testing.T) {
		r := s.Do(servertest.Request{Path: "/v1/contacts/" + c.Id})
		var got gen.Contact
		r.Decode(t, &got)
		if r.Status != http.StatusOK || got.Id != c.Id || got.Username != "FrankMcCallister" {
			t.Errorf("got %d %s", r.Status, r.Body)
		}
	})
	for name, id := range map[string]string{
		"Missing":   "WAz8eIbvDR60rouK",
		"Malformed": "not-an-id",
		"TooLong":   c.Id + "x",
	} {
		t.Run(name, func(t *testing.T) {
			r := s.Do(servertest.Request{Path: "/v1/contacts/" + id})
			if r.Status != http.StatusNotFound || r.ErrorCode(t) != "not_found" {
				t.Errorf("got %d %s, want 404 not_found", r.Status, r.Body)
			}
		})
	}
}

func TestUpdateContact(t *testing.T) {
	s := servertest.New(t)
	c := createContact(t, s, frank)
	path := "/v1/contacts/" + c.Id
	put := func(t *testing.T, req servertest.Request) map[string]any { return putOK(t, s, path, req) }
	t.Run("FormDisplayName", func(t *testing.T) {
		got := put(t, servertest.Request{Form: url.Values{"display_name": {"UncleFrank"}}})
		if got["display_name"] != "UncleFrank" || got["avatar_url"] != frank["avatar_url"] || got["username"] != frank["username"] {
			t.Errorf("after display_name update: %v", got)
		}
	})
	t.Run("JSONAbsentFieldsStay", func(t *testing.T) {
		got := put(t, servertest.Request{JSON: map[string]any{"phone_number": "+1 (800) 759-3001"}})
		if got["phone_number"] != "+1 (800) 759-3001" || got["display_name"] != "UncleFrank" || got["avatar_url"] != frank["avatar_url"] {
			t.Errorf("partial update reset other fields: %v", got)
		}
	})
	t.Run("JSONNullClears", func(t *testing.T) {
		got := put(t, servertest.Request{JSON: map[string]any{"avatar_url": nil}})
		if got["avatar_url"] != nil || got["display_name"] != "UncleFrank" {
			t.Errorf("null avatar_url: %v", got)
		}
	})
	t.Run("FormEmptyClears", func(t *testing.T) {
		got := put(t, servertest.Request{Form: url.Values{"display_name": {""}}})
		if got["display_name"] != nil || got["username"] != frank["username"] {
			t.Errorf("empty display_name: %v", got)
		}
	})
	t.Run("Username", func(t *testing.T) {
		got := put(t, servertest.Request{JSON: map[string]any{"username": "Frank"}})
		if got["username"] != "Frank" {
			t.Errorf("username = %v", got["username"])
		}
		// Changing only the case of one's own username is not a conflict with oneself.
		got = put(t, servertest.Request{JSON: map[string]any{"username": "FRANK"}})
		if got["username"] != "FRANK" {
			t.Errorf("username = %v", got["username"])
		}
	})
	t.Run("ErrUsernameTaken", func(t *testing.T) {
		createContact(t, s, map[string]any{"username": "Kevin", "phone_number": "555-0100"})
		r := s.Do(servertest.Request{Method: http.MethodPut, Path: path, JSON: map[string]any{"username": "kevin"}})
		if r.Status != http.StatusConflict || r.ErrorCode(t) != "conflict" {
			t.Errorf("got %d %s, want 409", r.Status, r.Body)
		}
	})
	t.Run("ErrValidation", func(t *testing.T) {
		before := s.Do(servertest.Request{Path: path}).Body
		for _, body := range []map[string]any{
			{"username": ""},
			{"username": nil},
			{"phone_number": "call me"},
			{"avatar_url": "javascript:alert(1)"},
			{"display_name": string(make([]byte, 129))},
			{"last_active_at": 1},
			{"conversation_id": nil},
		} {
			r := s.Do(servertest.Request{Method: http.MethodPut, Path: path, JSON: body})
			if r.Status != http.StatusBadRequest || r.ErrorCode(t) != "invalid_request" {
				t.Errorf("PUT %v: %d %s, want 400", body, r.Status, r.Body)
			}
		}
		if after := s.Do(servertest.Request{Path: path}).Body; string(after) != string(before) {
			t.Errorf("refused updates changed the contact:\n%s\n%s", before, after)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		r := s.Do(servertest.Request{Method: http.MethodPut, Path: "/v1/contacts/WAz8eIbvDR60rouK", JSON: map[string]any{}})
		if r.Status != http.StatusNotFound {
			t.Errorf("got %d %s, want 404", r.Status, r.Body)
		}
	})
}

func TestDeleteContactDeletesItsConversation(t *testing.T) {
	s := servertest.New(t)
	c := createContact(t, s, frank)
	other := createContact(t, s, map[string]any{"username": "Kevin", "phone_number": "555-0100"})
	r := s.Do(servertest.Request{Method: http.MethodDelete, Path: "/v1/contacts/" + c.Id})
	if r.Status != http.StatusOK {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if got := r.JSON(t); got["id"] != c.Id || got["deleted"] != true {
		t.Errorf("delete answered %v", got)
	}
	convID, _ := c.ConversationId.Get()
	for _, p := range []string{"/v1/contacts/" + c.Id, "/v1/conversations/" + convID} {
		if r := s.Do(servertest.Request{Path: p}); r.Status != http.StatusNotFound {
			t.Errorf("GET %s after delete: %d, want 404", p, r.Status)
		}
	}
	if r := s.Do(servertest.Request{Method: http.MethodDelete, Path: "/v1/contacts/" + c.Id}); r.Status != http.StatusNotFound {
		t.Errorf("second delete: %d, want 404", r.Status)
	}
	otherConv, _ := other.ConversationId.Get()
	if r := s.Do(servertest.Request{Path: "/v1/conversations/" + otherConv}); r.Status != http.StatusOK {
		t.Errorf("another contact's conversation went too: %d", r.Status)
	}
}
