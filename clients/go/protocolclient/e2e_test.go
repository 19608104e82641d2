package protocolclient_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/oapi-codegen/nullable"

	"protocol/clients/go/protocolclient"
	"protocol/server/servertest"
)

// TestClient drives every operation of the API through the generated client against the real
// server on a real listener, reading only the client's typed results.
func TestClient(t *testing.T) {
	s := servertest.New(t)
	ctx := context.Background()
	c := newClient(t, s.URL, s.Key)

	t.Run("Health", func(t *testing.T) {
		r, err := c.GetHealthWithResponse(ctx)
		must(t, err, r.HTTPResponse, http.StatusOK)
		if r.JSON200 == nil || r.JSON200.Status != protocolclient.Ok {
			t.Errorf("health = %s", r.Body)
		}
	})

	t.Run("Unauthorized", func(t *testing.T) {
		anon := newClient(t, s.URL, "sk_not_a_key")
		r, err := anon.ListContactsWithResponse(ctx, nil)
		must(t, err, r.HTTPResponse, http.StatusUnauthorized)
		wantError(t, r.JSON401, protocolclient.ErrorErrorCodeUnauthorized, "")
	})

	// Frank is created from JSON, as the documentation's example; the others from forms.
	frankResp, err := c.CreateContactWithResponse(ctx, nil, protocolclient.CreateContactJSONRequestBody{
		Username:    "FrankMcCallister",
		PhoneNumber: "1-800-759-3000",
		AvatarUrl:   nullable.NewNullableWithValue("https://assets.protocol.chat/avatars/frank.jpg"),
	})
	must(t, err, frankResp.HTTPResponse, http.StatusCreated)
	frank := *frankResp.JSON201
	if frank.Username != "FrankMcCallister" || frank.PhoneNumber != "1-800-759-3000" ||
		frank.AvatarUrl.MustGet() != "https://assets.protocol.chat/avatars/frank.jpg" ||
		!frank.DisplayName.IsNull() || !frank.LastActiveAt.IsNull() || frank.ConversationId.IsNull() {
		t.Fatalf("created contact = %s", frankResp.Body)
	}
	if frankResp.Headers201 == nil || frankResp.Headers201.ETag == nil {
		t.Errorf("created contact has no ETag header")
	}
	created := []protocolclient.Contact{frank}
	for i := range 4 {
		empty := ""
		r, err := c.CreateContactWithFormdataBodyWithResponse(ctx, nil, protocolclient.CreateContactFormdataRequestBody{
			Username:    fmt.Sprintf("kevin%d", i),
			PhoneNumber: "555-0100",
			DisplayName: &empty, // in a form, empty means none
		})
		must(t, err, r.HTTPResponse, http.StatusCreated)
		if r.JSON201.Username != fmt.Sprintf("kevin%d", i) || !r.JSON201.DisplayName.IsNull() {
			t.Fatalf("created contact from a form = %s", r.Body)
		}
		created = append(created, *r.JSON201)
	}

	t.Run("CreateContactErrors", func(t *testing.T) {
		r, err := c.CreateContactWithResponse(ctx, nil, protocolclient.CreateContactJSONRequestBody{Username: "frankmccallister", PhoneNumber: "1-800-759-3000"})
		must(t, err, r.HTTPResponse, http.StatusConflict)
		wantError(t, r.JSON409, protocolclient.ErrorErrorCodeConflict, "username")

		r, err = c.CreateContactWithResponse(ctx, nil, protocolclient.CreateContactJSONRequestBody{Username: "Frank McCallister", PhoneNumber: "1-800-759-3000"})
		must(t, err, r.HTTPResponse, http.StatusBadRequest)
		wantError(t, r.JSON400, protocolclient.ErrorErrorCodeInvalidRequest, "username")
	})

	t.Run("ListContactsWalkingPages", func(t *testing.T) {
		newestFirst := ids(created)
		slices.Reverse(newestFirst)
		limit := 2
		var forward []string
		var pages int
		params := &protocolclient.ListContactsParams{Limit: &limit}
		for {
			r, err := c.ListContactsWithResponse(ctx, params)
			must(t, err, r.HTTPResponse, http.StatusOK)
			page := r.JSON200
			pages++
			if len(page.Data) == 0 || len(page.Data) > limit {
				t.Fatalf("page %d holds %d contacts", pages, len(page.Data))
			}
			forward = append(forward, ids(page.Data)...)
			if !page.HasMore {
				break
			}
			last := page.Data[len(page.Data)-1].Id
			params = &protocolclient.ListContactsParams{Limit: &limit, StartingAfter: &last}
		}
		if !slices.Equal(forward, newestFirst) || pages != 3 {
			t.Errorf("walking forward in %d pages gave %v, want %v in 3 pages", pages, forward, newestFirst)
		}

		// And back from the oldest, with ending_before.
		var backward []string
		before := newestFirst[len(newestFirst)-1]
		for {
			r, err := c.ListContactsWithResponse(ctx, &protocolclient.ListContactsParams{Limit: &limit, EndingBefore: &before})
			must(t, err, r.HTTPResponse, http.StatusOK)
			backward = append(ids(r.JSON200.Data), backward...)
			if !r.JSON200.HasMore {
				break
			}
			before = r.JSON200.Data[0].Id
		}
		if want := newestFirst[:len(newestFirst)-1]; !slices.Equal(backward, want) {
			t.Errorf("walking back gave %v, want %v", backward, want)
		}

		active := true
		r, err := c.ListContactsWithResponse(ctx, &protocolclient.ListContactsParams{Active: &active})
		must(t, err, r.HTTPResponse, http.StatusOK)
		if len(r.JSON200.Data) != 0 {
			t.Errorf("active=true lists %v, but no contact has been active", ids(r.JSON200.Data))
		}

		tooMany := 101
		bad, err := c.ListContactsWithResponse(ctx, &protocolclient.ListContactsParams{Limit: &tooMany})
		must(t, err, bad.HTTPResponse, http.StatusBadRequest)
		wantError(t, bad.JSON400, protocolclient.ErrorErrorCodeInvalidRequest, "limit")
	})

	t.Run("GetContact", func(t *testing.T) {
		r, err := c.GetContactWithResponse(ctx, frank.Id, nil)
		must(t, err, r.HTTPResponse, http.StatusOK)
		if r.JSON200.Id != frank.Id || r.JSON200.Username != frank.Username || r.JSON200.CreatedAt != frank.CreatedAt {
			t.Errorf("retrieved %s, want %+v", r.Body, frank)
		}
		etag := r.Headers200.ETag
		cached, err := c.GetContactWithResponse(ctx, frank.Id, &protocolclient.GetContactParams{IfNoneMatch: etag})
		must(t, err, cached.HTTPResponse, http.StatusNotModified)

		missing, err := c.GetContactWithResponse(ctx, "WAz8eIbvDR60rouK", nil)
		must(t, err, missing.HTTPResponse, http.StatusNotFound)
		wantError(t, missing.JSON404, protocolclient.ErrorErrorCodeNotFound, "id")
	})

	t.Run("UpdateContact", func(t *testing.T) {
		r, err := c.UpdateContactWithResponse(ctx, frank.Id, nil, protocolclient.UpdateContactJSONRequestBody{
			DisplayName: nullable.NewNullableWithValue("UncleFrank"),
		})
		must(t, err, r.HTTPResponse, http.StatusOK)
		if r.JSON200.DisplayName.MustGet() != "UncleFrank" || r.JSON200.Username != frank.Username {
			t.Errorf("after setting display_name: %s", r.Body)
		}
		stale := frankResp.Headers201.ETag
		conflict, err := c.UpdateContactWithResponse(ctx, frank.Id, &protocolclient.UpdateContactParams{IfMatch: stale},
			protocolclient.UpdateContactJSONRequestBody{DisplayName: nullable.NewNullNullable[string]()})
		must(t, err, conflict.HTTPResponse, http.StatusPreconditionFailed)
		wantError(t, conflict.JSON412, protocolclient.ErrorErrorCodePreconditionFailed, "If-Match")

		r, err = c.UpdateContactWithResponse(ctx, frank.Id, nil, protocolclient.UpdateContactJSONRequestBody{
			DisplayName: nullable.NewNullNullable[string](), // null clears it
		})
		must(t, err, r.HTTPResponse, http.StatusOK)
		if !r.JSON200.DisplayName.IsNull() {
			t.Errorf("display_name: null left %s", r.Body)
		}
		phone := "1-800-759-3001"
		f, err := c.UpdateContactWithFormdataBodyWithResponse(ctx, frank.Id, nil, protocolclient.UpdateContactFormdataRequestBody{PhoneNumber: &phone})
		must(t, err, f.HTTPResponse, http.StatusOK)
		if f.JSON200.PhoneNumber != phone || f.JSON200.AvatarUrl.MustGet() != "https://assets.protocol.chat/avatars/frank.jpg" {
			t.Errorf("form update of phone_number: %s", f.Body)
		}
		missing, err := c.UpdateContactWithResponse(ctx, "WAz8eIbvDR60rouK", nil, protocolclient.UpdateContactJSONRequestBody{})
		must(t, err, missing.HTTPResponse, http.StatusNotFound)
		wantError(t, missing.JSON404, protocolclient.ErrorErrorCodeNotFound, "id")
	})

	frankConv := frank.ConversationId.MustGet()

	t.Run("Conversations", func(t *testing.T) {
		r, err := c.GetConversationWithResponse(ctx, frankConv, nil)
		must(t, err, r.HTTPResponse, http.StatusOK)
		if r.JSON200.ContactId.MustGet() != frank.Id || !r.JSON200.GroupId.IsNull() || r.JSON200.IsMuted {
			t.Errorf("Frank's conversation = %s", r.Body)
		}

		group := "hSIhXBhNe8X1d8Et"
		g, err := c.CreateConversationWithResponse(ctx, nil, protocolclient.CreateConversationJSONRequestBody{GroupId: &group})
		must(t, err, g.HTTPResponse, http.StatusCreated)
		if g.JSON201.GroupId.MustGet() != group || !g.JSON201.ContactId.IsNull() {
			t.Errorf("group conversation = %s", g.Body)
		}
		other := "Xq8uv4PGgxU2yTz0"
		gf, err := c.CreateConversationWithFormdataBodyWithResponse(ctx, nil, protocolclient.CreateConversationFormdataRequestBody{GroupId: &other})
		must(t, err, gf.HTTPResponse, http.StatusCreated)
		dup, err := c.CreateConversationWithResponse(ctx, nil, protocolclient.CreateConversationJSONRequestBody{ContactId: &frank.Id})
		must(t, err, dup.HTTPResponse, http.StatusConflict)
		wantError(t, dup.JSON409, protocolclient.ErrorErrorCodeConflict, "contact_id")

		muted := true
		u, err := c.UpdateConversationWithResponse(ctx, frankConv, nil, protocolclient.UpdateConversationJSONRequestBody{IsMuted: &muted})
		must(t, err, u.HTTPResponse, http.StatusOK)
		if !u.JSON200.IsMuted {
			t.Errorf("is_muted: true gave %s", u.Body)
		}
		archivedAt := "705103200"
		pinned := true
		uf, err := c.UpdateConversationWithFormdataBodyWithResponse(ctx, g.JSON201.Id, nil, protocolclient.UpdateConversationFormdataRequestBody{
			ArchivedAt: &archivedAt, IsPinned: &pinned,
		})
		must(t, err, uf.HTTPResponse, http.StatusOK)
		if uf.JSON200.ArchivedAt.MustGet() != 705103200 || !uf.JSON200.IsPinned {
			t.Errorf("form update archived_at, is_pinned gave %s", uf.Body)
		}

		limit := 2
		var all []string
		params := &protocolclient.ListConversationsParams{Limit: &limit}
		for {
			l, err := c.ListConversationsWithResponse(ctx, params)
			must(t, err, l.HTTPResponse, http.StatusOK)
			all = append(all, convIDs(l.JSON200.Data)...)
			if !l.JSON200.HasMore {
				break
			}
			params = &protocolclient.ListConversationsParams{Limit: &limit, StartingAfter: &l.JSON200.Data[len(l.JSON200.Data)-1].Id}
		}
		if len(all) != len(created)+2 || all[0] != gf.JSON201.Id || all[1] != g.JSON201.Id {
			t.Errorf("all conversations, newest first: %v", all)
		}
		for name, p := range map[string]protocolclient.ListConversationsParams{
			"muted":    {Muted: ptr(true)},
			"archived": {Archived: ptr(true)},
			"pinned":   {Pinned: ptr(true)},
			"group_id": {GroupId: &group},
		} {
			l, err := c.ListConversationsWithResponse(ctx, &p)
			must(t, err, l.HTTPResponse, http.StatusOK)
			want := []string{g.JSON201.Id}
			if name == "muted" {
				want = []string{frankConv}
			}
			if got := convIDs(l.JSON200.Data); !slices.Equal(got, want) {
				t.Errorf("%s=...: %v, want %v", name, got, want)
			}
		}

		d, err := c.DeleteConversationWithResponse(ctx, frankConv, nil)
		must(t, err, d.HTTPResponse, http.StatusOK)
		if d.JSON200.Id != frankConv || !bool(d.JSON200.Deleted) {
			t.Errorf("delete conversation = %s", d.Body)
		}
		gone, err := c.GetConversationWithResponse(ctx, frankConv, nil)
		must(t, err, gone.HTTPResponse, http.StatusNotFound)
		wantError(t, gone.JSON404, protocolclient.ErrorErrorCodeNotFound, "id")
		fr, err := c.GetContactWithResponse(ctx, frank.Id, nil)
		must(t, err, fr.HTTPResponse, http.StatusOK)
		if !fr.JSON200.ConversationId.IsNull() {
			t.Errorf("after deleting the conversation the contact still has %s", fr.Body)
		}

		again, err := c.CreateConversationWithResponse(ctx, nil, protocolclient.CreateConversationJSONRequestBody{ContactId: &frank.Id})
		must(t, err, again.HTTPResponse, http.StatusCreated)
		frankConv = again.JSON201.Id
	})

	t.Run("DeleteContact", func(t *testing.T) {
		r, err := c.DeleteContactWithResponse(ctx, frank.Id, nil)
		must(t, err, r.HTTPResponse, http.StatusOK)
		if r.JSON200.Id != frank.Id || !bool(r.JSON200.Deleted) {
			t.Errorf("delete contact = %s", r.Body)
		}
		conv, err := c.GetConversationWithResponse(ctx, frankConv, nil)
		must(t, err, conv.HTTPResponse, http.StatusNotFound)
		wantError(t, conv.JSON404, protocolclient.ErrorErrorCodeNotFound, "id")
		again, err := c.DeleteContactWithResponse(ctx, frank.Id, nil)
		must(t, err, again.HTTPResponse, http.StatusNotFound)
		wantError(t, again.JSON404, protocolclient.ErrorErrorCodeNotFound, "id")
		gone, err := c.DeleteConversationWithResponse(ctx, frankConv, nil)
		must(t, err, gone.HTTPResponse, http.StatusNotFound)
		wantError(t, gone.JSON404, protocolclient.ErrorErrorCodeNotFound, "id")
	})
}

func newClient(t *testing.T, url, key string) *protocolclient.ClientWithResponses {
	t.Helper()
	c, err := protocolclient.NewClientWithResponses(url, protocolclient.WithRequestEditorFn(
		func(_ context.Context, req *http.Request) error {
			req.Header.Set("Authorization", "Bearer "+key)
			return nil
		}))
	if err != nil {
		t.Fatalf("new client: %v", err)
	}
	return c
}

// must stops the test unless the call succeeded with the wanted status.
func must(t *testing.T, err error, resp *http.Response, status int) {
	t.Helper()
	if err != nil {
		t.Fatalf("request failed: %v", err)
	}
	if resp.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d", resp.Request.Method, resp.Request.URL, resp.StatusCode, status)
	}
}

// wantError checks a typed error envelope; param "" means the envelope names no parameter.
func wantError(t *testing.T, e *protocolclient.Error, code protocolclient.ErrorErrorCode, param string) {
	t.Helper()
	if e == nil {
		t.Fatalf("no typed error body for %s", code)
	}
	got := ""
	if e.Error.Param != nil {
		got = *e.Error.Param
	}
	if e.Error.Code != code || got != param || e.Error.Message == "" {
		t.Errorf("error = %+v, want code %s, param %q and a message", e.Error, code, param)
	}
	wantType := protocolclient.ErrorErrorTypeInvalidRequest
	if code == protocolclient.ErrorErrorCodeInternalError {
		wantType = protocolclient.ErrorErrorTypeApiError
	}
	if e.Error.Type != wantType {
		t.Errorf("error type = %s, want %s", e.Error.Type, wantType)
	}
}

func ids(cs []protocolclient.Contact) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Id
	}
	return out
}

func convIDs(cs []protocolclient.Conversation) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Id
	}
	return out
}

func ptr[T any](v T) *T { return &v }
