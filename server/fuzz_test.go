package server_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"protocol/gen"
	"protocol/server/servertest"
)

// The fuzz targets push arbitrary bodies and query strings through the real handler (Echo with
// authentication, validation and the store over a SQLite file), one server per target. For every
// input the answer must be below 500 and match the spec: the error envelope for 4xx, the
// resource for 2xx. Beyond the shape, each target checks what the answer means: an accepted
// write stored exactly what was sent and reads back the same; a refused one changed nothing; a
// list honours its limit and filters.
//
// `go test` runs the seeds; `make fuzz` fuzzes each target in turn.

// fuzzServer is the server of one fuzz target, with the spec's schemas to check answers by.
type fuzzServer struct {
	*servertest.Server
	schemas openapi3.Schemas
}

func newFuzzServer(f *testing.F) *fuzzServer {
	s := servertest.New(f)
	spec, err := gen.GetSpec()
	if err != nil {
		f.Fatal(err)
	}
	return &fuzzServer{Server: s, schemas: spec.Components.Schemas}
}

// fuzzAnswer is a response, decoded.
type fuzzAnswer struct {
	status int
	raw    []byte
	body   map[string]any
}

// serve sends one request with the account's key straight to the handler.
func (fz *fuzzServer) serve(req *http.Request) fuzzAnswer {
	req.Header.Set("Authorization", "Bearer "+fz.Key)
	rec := httptest.NewRecorder()
	fz.Echo.ServeHTTP(rec, req)
	a := fuzzAnswer{status: rec.Code, raw: rec.Body.Bytes()}
	_ = json.Unmarshal(a.raw, &a.body)
	return a
}

// send sends a body as JSON or as a form.
func (fz *fuzzServer) send(method, path string, body []byte, form bool) fuzzAnswer {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	if form {
		req.Header.Set("Content-Type", mediaForm)
	} else {
		req.Header.Set("Content-Type", mediaJSON)
	}
	return fz.serve(req)
}

func (fz *fuzzServer) get(path string) fuzzAnswer {
	return fz.serve(httptest.NewRequest(http.MethodGet, path, nil))
}

// check fails the input unless the answer is one of the statuses allowed and matches the spec:
// okSchema for a 2xx, the error envelope for a 4xx.
func (fz *fuzzServer) check(t *testing.T, what string, a fuzzAnswer, okSchema string, allowed ...int) {
	t.Helper()
	if a.status >= 500 || !slicesContain(allowed, a.status) {
		t.Fatalf("%s: answered %d %s, want one of %v", what, a.status, a.raw, allowed)
	}
	var v any
	if err := json.Unmarshal(a.raw, &v); err != nil {
		t.Fatalf("%s: answer %d is not JSON: %v\n%s", what, a.status, err, a.raw)
	}
	schema := okSchema
	if a.status >= 400 {
		schema = "Error"
	}
	if err := fz.schemas[schema].Value.VisitJSON(v); err != nil {
		t.Fatalf("%s: answer %d does not match schema %s: %v\n%s", what, a.status, schema, err, a.raw)
	}
	if env, _ := a.body["error"].(map[string]any); a.status >= 400 && env["type"] != "invalid_request" {
		t.Errorf("%s: a %d of type %v", what, a.status, env["type"])
	}
}

func slicesContain(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// sentFields decodes a body the server accepted into field -> value: a JSON value as decoded, a
// form value as a string, with an empty form value read as null where nullable lists the field
// (a form cannot say null).
func sentFields(t *testing.T, body []byte, form bool, nullable ...string) map[string]any {
	t.Helper()
	out := map[string]any{}
	if !form {
		if err := json.Unmarshal(body, &out); err != nil {
			t.Fatalf("the server accepted %q, which is not a JSON object: %v", body, err)
		}
		return out
	}
	values, err := url.ParseQuery(string(body))
	if err != nil {
		t.Fatalf("the server accepted %q, which is not a form: %v", body, err)
	}
	for k, vs := range values {
		out[k] = vs[0]
		if vs[0] == "" && slicesContainString(nullable, k) {
			out[k] = nil
		}
	}
	return out
}

func slicesContainString(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// sameValue compares a field of an answer with what was sent, reading form strings as the
// answer's type.
func sameValue(got, sent any) bool {
	s, isString := sent.(string)
	switch g := got.(type) {
	case bool:
		if isString {
			b, err := strconv.ParseBool(s)
			return err == nil && b == g
		}
	case float64:
		if isString {
			n, err := strconv.ParseInt(s, 10, 64)
			return err == nil && float64(n) == g
		}
	}
	return reflect.DeepEqual(got, sent)
}

// checkStored checks an accepted write: every field sent reads back as sent, every other field
// as it was before (want; nil for a new object, whose fields need not be compared), and a GET of
// the object answers exactly the same bytes.
func (fz *fuzzServer) checkStored(t *testing.T, a fuzzAnswer, path string, sent, before map[string]any) {
	t.Helper()
	for k, v := range sent {
		if !sameValue(a.body[k], v) {
			t.Errorf("sent %s=%#v, stored %#v\nanswer %s", k, v, a.body[k], a.raw)
		}
	}
	for k, v := range before {
		if _, ok := sent[k]; !ok && !reflect.DeepEqual(a.body[k], v) {
			t.Errorf("%s was not sent but changed from %#v to %#v", k, v, a.body[k])
		}
	}
	again := fz.get(path)
	if again.status != http.StatusOK || !bytes.Equal(again.raw, a.raw) {
		t.Errorf("GET %s after the write = %d %s, want %s", path, again.status, again.raw, a.raw)
	}
}

// fuzzSetup creates what a target needs through the API, failing the target on any error.
func fuzzSetup(f *testing.F, fz *fuzzServer, method, path string, body any) map[string]any {
	f.Helper()
	r := fz.Do(servertest.Request{Method: method, Path: path, JSON: body})
	if r.Status >= 300 {
		f.Fatalf("%s %s: %d %s", method, path, r.Status, r.Body)
	}
	return r.JSON(f)
}

// contactSeeds are bodies worth starting from, each sent as JSON and as a form: the
// documentation's FrankMcCallister in both encodings and edge cases of every field.
var contactSeeds = []string{
	`{"username":"FrankMcCallister","phone_number":"1-800-759-3000","avatar_url":"https://assets.protocol.chat/avatars/frank.jpg"}`,
	"username=FrankMcCallister&phone_number=1-800-759-3000&avatar_url=https%3A%2F%2Fassets.protocol.chat%2Favatars%2Ffrank.jpg",
	`{"username":"KevinMcCallister","phone_number":"555-0100","display_name":null,"avatar_url":null}`,
	"username=Kevin&phone_number=555-0100&display_name=&avatar_url=",
	`{"display_name":"UncleFrank"}`,
	"display_name=UncleFrank",
	`{"username":"` + strings.Repeat("u", 64) + `","phone_number":"+1 (800) 759.3000","display_name":"` + strings.Repeat("d", 128) + `"}`,
	`{"username":"` + strings.Repeat("u", 65) + `","phone_number":"12"}`,
	`{"username":"Ünïcødé✓","phone_number":"555","display_name":"日本語 😀"}`,
	`{"username":"a\u0000b","phone_number":"555-0100"}`,
	"username=a%00b&phone_number=555-0100",
	"{\"username\":\"\xff\xfe\",\"phone_number\":\"555-0100\"}",
	"username=%FF&phone_number=555-0100",
	`{"username":"x","phone_number":"555-0100","avatar_url":"javascript:alert(1)"}`,
	"username=x&phone_number=555-0100&avatar_url=data%3Atext%2Fhtml%2C%3Cscript%3E",
	`{"username":"x","username":"y","phone_number":"555-0100"}`,
	`{"username":"x","phone_number":"555-0100"} trailing`,
	`{"username":"x","phone_number":"555-0100","is_admin":true}`,
	"username=x&phone_number=555-0100&is_admin=1",
	`{"username":123,"phone_number":["555"]}`,
	`[]`, `null`, `"str"`, `1e999`, `{}`, ``, `{`,
	"username=x&username=y",
	"%zz",
}

func FuzzCreateContact(f *testing.F) {
	fz := newFuzzServer(f)
	for _, s := range contactSeeds {
		f.Add([]byte(s), strings.HasPrefix(s, "username=") || strings.HasPrefix(s, "display_name="))
		f.Add([]byte(s), !(strings.HasPrefix(s, "username=") || strings.HasPrefix(s, "display_name=")))
	}
	f.Fuzz(func(t *testing.T, body []byte, form bool) {
		newest := fz.get("/v1/contacts?limit=1")
		a := fz.send(http.MethodPost, "/v1/contacts", body, form)
		fz.check(t, "POST /v1/contacts", a, "Contact", 201, 400, 409, 413, 415)
		if a.status != http.StatusCreated {
			if after := fz.get("/v1/contacts?limit=1"); !bytes.Equal(after.raw, newest.raw) {
				t.Errorf("a refused create (%d %s) changed the list:\n%s\n%s", a.status, a.raw, newest.raw, after.raw)
			}
			return
		}
		sent := sentFields(t, body, form, "avatar_url", "display_name")
		for _, k := range []string{"avatar_url", "display_name"} {
			if _, ok := sent[k]; !ok {
				sent[k] = nil // absent on create is none
			}
		}
		id, _ := a.body["id"].(string)
		fz.checkStored(t, a, "/v1/contacts/"+id, sent, nil)
		conv, _ := a.body["conversation_id"].(string)
		if c := fz.get("/v1/conversations/" + conv); c.status != http.StatusOK || c.body["contact_id"] != id {
			t.Errorf("the new contact's conversation %s: %d %s", conv, c.status, c.raw)
		}
	})
}

func FuzzUpdateContact(f *testing.F) {
	fz := newFuzzServer(f)
	c := fuzzSetup(f, fz, http.MethodPost, "/v1/contacts", map[string]any{"username": "FrankMcCallister", "phone_number": "1-800-759-3000"})
	fuzzSetup(f, fz, http.MethodPost, "/v1/contacts", map[string]any{"username": "KevinMcCallister", "phone_number": "555-0100"})
	path := "/v1/contacts/" + c["id"].(string)
	for _, s := range contactSeeds {
		f.Add([]byte(s), strings.Contains(s, "=") && !strings.HasPrefix(s, "{"))
	}
	f.Add([]byte(`{"username":"kevinmccallister"}`), false) // taken by the other contact
	f.Add([]byte("avatar_url=&display_name="), true)
	f.Add([]byte(`{"conversation_id":null,"last_active_at":1}`), false)
	f.Fuzz(func(t *testing.T, body []byte, form bool) {
		before := fz.get(path)
		a := fz.send(http.MethodPut, path, body, form)
		fz.check(t, "PUT "+path, a, "Contact", 200, 400, 409, 413, 415)
		if a.status != http.StatusOK {
			if after := fz.get(path); !bytes.Equal(after.raw, before.raw) {
				t.Errorf("a refused update (%d %s) changed the contact:\n%s\n%s", a.status, a.raw, before.raw, after.raw)
			}
			return
		}
		fz.checkStored(t, a, path, sentFields(t, body, form, "avatar_url", "display_name"), before.body)
	})
}

func FuzzCreateConversation(f *testing.F) {
	fz := newFuzzServer(f)
	frankC := fuzzSetup(f, fz, http.MethodPost, "/v1/contacts", map[string]any{"username": "FrankMcCallister", "phone_number": "1-800-759-3000"})
	loner := fuzzSetup(f, fz, http.MethodPost, "/v1/contacts", map[string]any{"username": "KevinMcCallister", "phone_number": "555-0100"})
	fuzzSetup(f, fz, http.MethodDelete, "/v1/conversations/"+loner["conversation_id"].(string), nil)
	for _, s := range []string{
		`{"contact_id":"` + loner["id"].(string) + `"}`,
		"contact_id=" + loner["id"].(string),
		`{"contact_id":"` + frankC["id"].(string) + `"}`, // has one
		`{"group_id":"hSIhXBhNe8X1d8Et"}`,
		"group_id=hSIhXBhNe8X1d8Eu",
		`{"contact_id":"WAz8eIbvDR60rouK"}`, // no such contact
		`{"contact_id":"` + frankC["id"].(string) + `","group_id":"hSIhXBhNe8X1d8Et"}`,
		`{"group_id":null}`, `{"group_id":"short"}`, `{"group_id":"' OR 1=1 --"}`,
		"group_id=%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00", "group_id=",
		`{}`, `[]`, `null`, ``, "group_id=a&group_id=b", `{"is_muted":true}`,
	} {
		f.Add([]byte(s), !strings.HasPrefix(s, "{") && !strings.HasPrefix(s, "[") && s != "null")
	}
	f.Fuzz(func(t *testing.T, body []byte, form bool) {
		newest := fz.get("/v1/conversations?limit=1")
		a := fz.send(http.MethodPost, "/v1/conversations", body, form)
		fz.check(t, "POST /v1/conversations", a, "Conversation", 201, 400, 409, 413, 415)
		if a.status != http.StatusCreated {
			if after := fz.get("/v1/conversations?limit=1"); !bytes.Equal(after.raw, newest.raw) {
				t.Errorf("a refused create (%d %s) changed the list:\n%s\n%s", a.status, a.raw, newest.raw, after.raw)
			}
			return
		}
		id, _ := a.body["id"].(string)
		fz.checkStored(t, a, "/v1/conversations/"+id, sentFields(t, body, form), nil)
		if a.body["is_muted"] != false || a.body["is_pinned"] != false || a.body["archived_at"] != nil {
			t.Errorf("a new conversation is not in its initial state: %s", a.raw)
		}
	})
}

func FuzzUpdateConversation(f *testing.F) {
	fz := newFuzzServer(f)
	c := fuzzSetup(f, fz, http.MethodPost, "/v1/contacts", map[string]any{"username": "FrankMcCallister", "phone_number": "1-800-759-3000"})
	path := "/v1/conversations/" + c["conversation_id"].(string)
	for _, s := range []string{
		`{"is_muted":true}`, "is_muted=true", `{"is_pinned":true,"pinned_message_id":"hSIhXBhNe8X1d8Et"}`,
		"is_pinned=false&pinned_message_id=", `{"archived_at":705103200}`, "archived_at=705103200",
		`{"archived_at":null,"pinned_message_id":null}`, "archived_at=", `{"archived_at":253402300799}`,
		`{"archived_at":253402300800}`, "archived_at=253402300800", "archived_at=999999999999",
		`{"archived_at":-1}`, `{"archived_at":1.5}`, `{"archived_at":1e3}`, "archived_at=0001",
		`{"is_muted":"yes"}`, "is_muted=maybe", "is_muted=", "is_muted=1", `{"is_muted":null}`,
		`{"pinned_message_id":"../../etc/passwd"}`, "pinned_message_id=%00", `{"contact_id":"WAz8eIbvDR60rouK"}`,
		`{}`, `[]`, `null`, ``, "is_muted=true&is_muted=false",
	} {
		f.Add([]byte(s), !strings.HasPrefix(s, "{") && !strings.HasPrefix(s, "[") && s != "null")
	}
	f.Fuzz(func(t *testing.T, body []byte, form bool) {
		before := fz.get(path)
		a := fz.send(http.MethodPut, path, body, form)
		fz.check(t, "PUT "+path, a, "Conversation", 200, 400, 413, 415)
		if a.status != http.StatusOK {
			if after := fz.get(path); !bytes.Equal(after.raw, before.raw) {
				t.Errorf("a refused update (%d %s) changed the conversation:\n%s\n%s", a.status, a.raw, before.raw, after.raw)
			}
			return
		}
		sent := sentFields(t, body, form, "pinned_message_id", "archived_at")
		if form {
			// In a form an empty boolean is no value at all, so it changes nothing.
			for _, k := range []string{"is_muted", "is_pinned"} {
				if sent[k] == "" {
					delete(sent, k)
				}
			}
		}
		fz.checkStored(t, a, path, sent, before.body)
	})
}

func FuzzListQuery(f *testing.F) {
	fz := newFuzzServer(f)
	var contactIDs []string
	for i := range 12 {
		c := fuzzSetup(f, fz, http.MethodPost, "/v1/contacts", map[string]any{"username": fmt.Sprintf("Contact%02d", i), "phone_number": "555-0100"})
		contactIDs = append(contactIDs, c["id"].(string))
		if i%3 == 0 {
			fuzzSetup(f, fz, http.MethodPut, "/v1/conversations/"+c["conversation_id"].(string), map[string]any{"is_muted": true, "archived_at": 705103200})
		}
	}
	g := fuzzSetup(f, fz, http.MethodPost, "/v1/conversations", map[string]any{"group_id": "hSIhXBhNe8X1d8Et"})
	fuzzSetup(f, fz, http.MethodPut, "/v1/conversations/"+g["id"].(string), map[string]any{"is_pinned": true})
	for _, q := range []string{
		"", "limit=100", "limit=1", "limit=0", "limit=-1", "limit=101", "limit=1e3", "limit=abc", "limit=",
		"limit=1&limit=2", "starting_after=" + contactIDs[5], "ending_before=" + contactIDs[5] + "&limit=3",
		"starting_after=" + contactIDs[1] + "&ending_before=" + contactIDs[2], "starting_after=x'%20OR%20'1'='1",
		"active=true", "active=false", "active=maybe", "muted=true&archived=true", "pinned=false&muted=false&limit=5",
		"group_id=hSIhXBhNe8X1d8Et", "group_id=%27%3B%20DROP%20TABLE%20contacts;--", "group_id=hSIhXBhNe8X1d8Et&pinned=true",
		"%zz", "=&&=", "sort=asc", "limit=%00", "starting_after=%FF%FE",
	} {
		f.Add(q, false)
		f.Add(q, true)
	}
	f.Fuzz(func(t *testing.T, query string, conversations bool) {
		path, schema := "/v1/contacts", "ContactList"
		if conversations {
			path, schema = "/v1/conversations", "ConversationList"
		}
		if strings.ContainsAny(query, " \r\n") {
			return // not a request line a server would read
		}
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader("GET " + path + "?" + query + " HTTP/1.1\r\nHost: protocol.test\r\n\r\n")))
		if err != nil {
			return // nor is this
		}
		a := fz.serve(req)
		fz.check(t, "GET "+req.RequestURI, a, schema, 200, 400)
		if a.status != http.StatusOK {
			return
		}
		q, err := url.ParseQuery(req.URL.RawQuery)
		if err != nil {
			t.Fatalf("GET %s: the server accepted a query Go cannot parse: %v", req.RequestURI, err)
		}
		limit := 10
		if v := q.Get("limit"); v != "" {
			if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 100 {
				t.Fatalf("GET %s: the server accepted limit %q", req.RequestURI, v)
			}
		}
		data, _ := a.body["data"].([]any)
		if len(data) > limit {
			t.Errorf("GET %s: %d objects, limit %d", req.RequestURI, len(data), limit)
		}
		for _, item := range data {
			obj := item.(map[string]any)
			for name, field := range map[string]string{"active": "last_active_at", "archived": "archived_at"} {
				if b, err := strconv.ParseBool(q.Get(name)); err == nil && (obj[field] != nil) != b {
					t.Errorf("GET %s: %s = %v in %v", req.RequestURI, name, b, obj)
				}
			}
			for name, field := range map[string]string{"muted": "is_muted", "pinned": "is_pinned"} {
				if b, err := strconv.ParseBool(q.Get(name)); err == nil && obj[field] != b {
					t.Errorf("GET %s: %s = %v in %v", req.RequestURI, name, b, obj)
				}
			}
			if g := q.Get("group_id"); g != "" && obj["group_id"] != g {
				t.Errorf("GET %s: group_id = %s in %v", req.RequestURI, g, obj)
			}
		}
	})
}
