package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"protocol/gen"
	"protocol/server/servertest"
)

// TestErrorCodes sends one request for every error code the API has, and checks status, code,
// type and param of the envelope. The harness checks the envelope against the spec.
func TestErrorCodes(t *testing.T) {
	s := servertest.New(t)
	c := createContact(t, s, frank)
	big := `{"username":"` + strings.Repeat("a", 1<<20) + `","phone_number":"123"}`
	for _, tc := range []struct {
		name   string
		req    servertest.Request
		status int
		code   string
		param  string
	}{
		{"InvalidRequest", servertest.Request{Method: http.MethodPost, Path: "/v1/contacts", JSON: map[string]any{"username": strings.Repeat("x", 65), "phone_number": "123"}},
			400, "invalid_request", "username"},
		{"MissingKey", servertest.Request{Path: "/v1/contacts", NoAuth: true}, 401, "unauthorized", ""},
		{"UnknownKey", servertest.Request{Path: "/v1/contacts", Key: "sk_" + strings.Repeat("A", 40)}, 401, "unauthorized", ""},
		{"MalformedKey", servertest.Request{Path: "/v1/contacts", Key: "not a key"}, 401, "unauthorized", ""},
		{"BasicAuth", servertest.Request{Path: "/v1/contacts", NoAuth: true, Header: http.Header{"Authorization": {"Basic Zm9vOmJhcg=="}}}, 401, "unauthorized", ""},
		{"NotFoundID", servertest.Request{Path: "/v1/contacts/WAz8eIbvDR60rouK"}, 404, "not_found", "id"},
		{"NotFoundRoute", servertest.Request{Path: "/v1/messages"}, 404, "not_found", ""},
		{"NotFoundRouteNoAuth", servertest.Request{Path: "/nothing/here", NoAuth: true}, 404, "not_found", ""},
		{"MethodNotAllowed", servertest.Request{Method: http.MethodPatch, Path: "/v1/contacts/" + c.Id, JSON: map[string]any{}}, 405, "method_not_allowed", ""},
		{"MethodNotAllowedCollection", servertest.Request{Method: http.MethodDelete, Path: "/v1/contacts"}, 405, "method_not_allowed", ""},
		{"Conflict", servertest.Request{Method: http.MethodPost, Path: "/v1/contacts", JSON: frank}, 409, "conflict", "username"},
		{"PayloadTooLarge", servertest.Request{Method: http.MethodPost, Path: "/v1/contacts", Body: big, ContentType: "application/json"}, 413, "payload_too_large", ""},
		{"UnsupportedMediaType", servertest.Request{Method: http.MethodPost, Path: "/v1/contacts", Body: "username=x", ContentType: "text/plain"}, 415, "unsupported_media_type", ""},
		{"MissingContentType", servertest.Request{Method: http.MethodPost, Path: "/v1/contacts", Body: `{"username":"x","phone_number":"123"}`}, 415, "unsupported_media_type", ""},
		{"MultipartNotDeclared", servertest.Request{Method: http.MethodPost, Path: "/v1/contacts", Body: "--x--", ContentType: "multipart/form-data; boundary=x"}, 415, "unsupported_media_type", ""},
		{"Latin1", servertest.Request{Method: http.MethodPost, Path: "/v1/contacts", Body: `{}`, ContentType: "application/json; charset=latin1"}, 415, "unsupported_media_type", ""},
		{"EmptyBody", servertest.Request{Method: http.MethodPost, Path: "/v1/contacts"}, 400, "invalid_request", ""},
		{"MalformedJSON", servertest.Request{Method: http.MethodPost, Path: "/v1/contacts", Body: `{"username":`, ContentType: "application/json"}, 400, "invalid_request", ""},
		{"TrailingJSON", servertest.Request{Method: http.MethodPost, Path: "/v1/contacts", Body: `{"username":"a","phone_number":"123"} {}`, ContentType: "application/json"}, 400, "invalid_request", ""},
		{"DuplicateJSONKey", servertest.Request{Method: http.MethodPost, Path: "/v1/contacts", Body: `{"username":"a","username":"b","phone_number":"123"}`, ContentType: "application/json"}, 400, "invalid_request", "username"},
		{"NotAnObject", servertest.Request{Method: http.MethodPost, Path: "/v1/contacts", Body: `["username"]`, ContentType: "application/json"}, 400, "invalid_request", ""},
		{"InvalidUTF8", servertest.Request{Method: http.MethodPost, Path: "/v1/contacts", Body: "{\"username\":\"a\xff\",\"phone_number\":\"123\"}", ContentType: "application/json"}, 400, "invalid_request", ""},
		{"UnknownFormField", servertest.Request{Method: http.MethodPost, Path: "/v1/contacts", Body: "username=a&phone_number=123&admin=1", ContentType: "application/x-www-form-urlencoded"}, 400, "invalid_request", "admin"},
		{"DuplicateFormField", servertest.Request{Method: http.MethodPost, Path: "/v1/contacts", Body: "username=a&username=b&phone_number=123", ContentType: "application/x-www-form-urlencoded"}, 400, "invalid_request", "username"},
		{"DuplicateQuery", servertest.Request{Path: "/v1/contacts?limit=1&limit=2"}, 400, "invalid_request", "limit"},
		{"UnknownQuery", servertest.Request{Path: "/v1/contacts?sort=asc"}, 400, "invalid_request", "sort"},
		{"BothCursors", servertest.Request{Path: "/v1/contacts?starting_after=" + c.Id + "&ending_before=" + c.Id}, 400, "invalid_request", "ending_before"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.Do(tc.req)
			var env gen.Error
			r.Decode(t, &env)
			param := ""
			if env.Error.Param != nil {
				param = *env.Error.Param
			}
			wantType := gen.ErrorErrorTypeInvalidRequest
			if tc.status >= 500 {
				wantType = gen.ErrorErrorTypeApiError
			}
			if r.Status != tc.status || string(env.Error.Code) != tc.code || param != tc.param || env.Error.Type != wantType {
				t.Errorf("got %d %s, want %d %s param %q", r.Status, r.Body, tc.status, tc.code, tc.param)
			}
			if tc.status == http.StatusUnauthorized && !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("401 without WWW-Authenticate: Bearer (got %q)", r.Header.Get("WWW-Authenticate"))
			}
			if tc.status == http.StatusMethodNotAllowed && r.Header.Get("Allow") == "" {
				t.Errorf("405 without Allow")
			}
		})
	}
	if got := s.Do(servertest.Request{Path: "/v1/contacts"}).JSON(t); len(got["data"].([]any)) != 1 {
		t.Errorf("refused requests changed the data: %v", got)
	}
}

// TestValidationMessagesNameFieldAndRule checks the wording: one sentence with the field and
// the rule, never a schema dump.
func TestValidationMessagesNameFieldAndRule(t *testing.T) {
	s := servertest.New(t)
	for body, want := range map[string]string{
		`{"phone_number":"123"}`:                                       "username is required.",
		`{"username":"","phone_number":"123"}`:                         "username must not be empty.",
		`{"username":"a b","phone_number":"123"}`:                      "username must not contain white space or control characters.",
		`{"username":"ab","phone_number":"12"}`:                        "phone_number must be at least 3 characters long.",
		`{"username":"ab","phone_number":"123","avatar_url":"file:/"}`: "avatar_url must be an http or https URL.",
		`{"username":"ab","phone_number":true}`:                        "phone_number must be a string.",
		`{"username":"ab","phone_number":"123","nickname":"x"}`:        "Unknown field: nickname.",
	} {
		r := s.Do(servertest.Request{Method: http.MethodPost, Path: "/v1/contacts", Body: body, ContentType: "application/json"})
		var env gen.Error
		r.Decode(t, &env)
		if r.Status != http.StatusBadRequest || env.Error.Message != want {
			t.Errorf("%s: got %d %q, want 400 %q", body, r.Status, env.Error.Message, want)
		}
		if strings.Contains(env.Error.Message, "#/components") || strings.Contains(env.Error.Message, "Schema") {
			t.Errorf("%s: message leaks the schema: %q", body, env.Error.Message)
		}
	}
}

// TestInternalErrorsSayNothing breaks the database under a running server: the client gets a
// bare 500 envelope with no detail of the cause.
func TestInternalErrorsSayNothing(t *testing.T) {
	s := servertest.New(t)
	createContact(t, s, frank)
	// Keys resolve before the database goes away, so the request gets as far as the store.
	if err := s.Store.Close(); err != nil {
		t.Fatal(err)
	}
	r := s.Do(servertest.Request{Path: "/v1/contacts"})
	var env gen.Error
	r.Decode(t, &env)
	if r.Status == http.StatusUnauthorized {
		// Authentication reads the database too; either way the answer must say nothing.
		t.Logf("authentication failed first: %s", r.Body)
	}
	if r.Status != http.StatusInternalServerError || env.Error.Code != "internal_error" || env.Error.Type != gen.ErrorErrorTypeApiError {
		t.Fatalf("got %d %s, want 500 internal_error", r.Status, r.Body)
	}
	if strings.Contains(strings.ToLower(string(r.Body)), "sql") || strings.Contains(string(r.Body), "closed") {
		t.Errorf("500 leaks its cause: %s", r.Body)
	}
}

// TestPanicsBecome500 checks the recovery wiring: a handler that panics answers the envelope
// without a stack trace, and the server keeps serving.
func TestPanicsBecome500(t *testing.T) {
	s := servertest.New(t)
	s.Echo.GET("/panic", func(echo.Context) error { panic("boom: secret detail") })
	r := s.Do(servertest.Request{Path: "/panic"})
	if r.Status != http.StatusInternalServerError || r.ErrorCode(t) != "internal_error" {
		t.Fatalf("got %d %s, want 500 internal_error", r.Status, r.Body)
	}
	if strings.Contains(string(r.Body), "boom") || strings.Contains(string(r.Body), "goroutine") {
		t.Errorf("500 leaks the panic: %s", r.Body)
	}
	if r := s.Do(servertest.Request{Path: "/healthz", NoAuth: true}); r.Status != http.StatusOK {
		t.Errorf("after a panic /healthz answers %d", r.Status)
	}
}
