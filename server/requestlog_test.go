package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"protocol/server/servertest"
)

func TestRequestIDsAndLogs(t *testing.T) {
	s := servertest.New(t)
	secretName := "SecretUsername42"
	r := s.Do(servertest.Request{Method: http.MethodPost, Path: "/v1/contacts", Header: http.Header{"X-Request-Id": {"client-chosen-1"}},
		JSON: map[string]any{"username": secretName, "phone_number": "555-0199"}})
	if r.Header.Get("X-Request-Id") != "client-chosen-1" {
		t.Errorf("X-Request-Id = %q, want the client's", r.Header.Get("X-Request-Id"))
	}
	generated := s.Do(servertest.Request{Path: "/v1/contacts/nonexistent0000x"}).Header.Get("X-Request-Id")
	forged := s.Do(servertest.Request{Path: "/v1/contacts", Header: http.Header{"X-Request-Id": {"bad id\" injected=1"}}}).Header.Get("X-Request-Id")
	if generated == "" || forged == "" || strings.Contains(forged, " ") {
		t.Errorf("generated ids: %q and %q (for a malformed client id)", generated, forged)
	}
	for _, resp := range []*servertest.Response{r, s.Do(servertest.Request{Path: "/healthz", NoAuth: true}), s.Do(servertest.Request{Path: "/nope", NoAuth: true})} {
		if resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%d response has Cache-Control %q, want no-store", resp.Status, resp.Header.Get("Cache-Control"))
		}
	}

	logs := s.Log.String()
	if strings.Contains(logs, s.Key) || strings.Contains(logs, secretName) || strings.Contains(logs, "555-0199") {
		t.Errorf("logs contain a key or a request body:\n%s", logs)
	}
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not structured: %q", l)
		}
		if m["msg"] == "request" {
			lines = append(lines, m)
		}
	}
	if len(lines) != 5 {
		t.Fatalf("%d request lines for 5 requests:\n%s", len(lines), logs)
	}
	first := lines[0]
	if first["request_id"] != "client-chosen-1" || first["status"] != float64(201) || first["method"] != "POST" || first["duration_ms"] == nil {
		t.Errorf("log line = %v", first)
	}
	if lines[1]["request_id"] != generated || lines[1]["status"] != float64(404) {
		t.Errorf("log line = %v, want request id %s and status 404", lines[1], generated)
	}
}
