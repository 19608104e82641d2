// Package servertest runs the real server for tests: Echo on an httptest.Server, over a fresh
// database (a SQLite file in the test's temp dir, or a PostgreSQL schema of its own with
// PROTOCOL_TEST_STORE=postgres: see storetest), with every response validated against
// openapi.yaml.
package servertest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/labstack/echo/v4"

	"protocol/gen"
	"protocol/server"
	"protocol/store"
	"protocol/store/storetest"
)

// Server is a running server with one account and its key.
type Server struct {
	t       testing.TB
	URL     string
	Store   *store.Store
	Echo    *echo.Echo
	Key     string
	Account string
	// Log holds everything the server logged.
	Log    *SyncBuffer
	spec   *openapi3.T
	router routers.Router
}

// SyncBuffer is a bytes.Buffer safe for the server's concurrent writes.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// New starts a server on a fresh database, built with opts. Everything is torn down when the
// test ends.
func New(t testing.TB, opts ...server.Option) *Server {
	t.Helper()
	st, err := store.Open(storetest.DSN(t), store.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	logBuf := &SyncBuffer{}
	log := slog.New(slog.NewJSONHandler(logBuf, nil))
	e, err := server.New(st, log, opts...)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	hs := httptest.NewServer(e)
	t.Cleanup(func() {
		hs.Close()
		_ = st.Close()
	})
	spec, err := gen.GetSpec()
	if err != nil {
		t.Fatalf("load spec: %v", err)
	}
	spec.Servers = nil
	router, err := gorillamux.NewRouter(spec)
	if err != nil {
		t.Fatalf("spec router: %v", err)
	}
	s := &Server{t: t, URL: hs.URL, Store: st, Echo: e, Log: logBuf, spec: spec, router: router}
	s.Key, s.Account = s.NewAccount("test")
	return s
}

// NewAccount creates another account and returns its key and id.
func (s *Server) NewAccount(name string) (key, account string) {
	s.t.Helper()
	k, err := s.Store.CreateAccountWithKey(context.Background(), name)
	if err != nil {
		s.t.Fatalf("create account: %v", err)
	}
	return k.Key, k.AccountID
}

// Request describes one HTTP request. The zero value of each field means "the usual": the
// server's key, no body.
type Request struct {
	Method string
	Path   string // with the query string, if any
	// Key overrides the API key; NoAuth sends no Authorization header at all.
	Key    string
	NoAuth bool
	// JSON is marshalled as an application/json body; Form is sent as a URL-encoded form;
	// Body is sent as is with ContentType.
	JSON        any
	Form        url.Values
	Body        string
	ContentType string
	Header      http.Header
}

// Response is a received response whose body has been read and checked against the spec.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a generic map.
func (r *Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("response body is not a JSON object: %v\n%s", err, r.Body)
	}
	return m
}

// Decode decodes the body into v (a generated model, usually).
func (r *Response) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %T: %v\n%s", v, err, r.Body)
	}
}

// ErrorCode returns error.code of an error envelope, and checks the envelope's shape.
func (r *Response) ErrorCode(t testing.TB) string {
	t.Helper()
	var env gen.Error
	r.Decode(t, &env)
	return string(env.Error.Code)
}

// Do sends the request and validates the response against openapi.yaml.
func (s *Server) Do(req Request) *Response {
	s.t.Helper()
	var body io.Reader
	contentType := req.ContentType
	switch {
	case req.JSON != nil:
		b, err := json.Marshal(req.JSON)
		if err != nil {
			s.t.Fatalf("marshal request: %v", err)
		}
		body = bytes.NewReader(b)
		if contentType == "" {
			contentType = "application/json"
		}
	case req.Form != nil:
		body = strings.NewReader(req.Form.Encode())
		if contentType == "" {
			contentType = "application/x-www-form-urlencoded"
		}
	case req.Body != "":
		body = strings.NewReader(req.Body)
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	hr, err := http.NewRequest(method, s.URL+req.Path, body)
	if err != nil {
		s.t.Fatalf("new request: %v", err)
	}
	for k, vs := range req.Header {
		hr.Header[k] = vs
	}
	if contentType != "" {
		hr.Header.Set("Content-Type", contentType)
	}
	if !req.NoAuth {
		key := req.Key
		if key == "" {
			key = s.Key
		}
		hr.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, req.Path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatalf("read response: %v", err)
	}
	out := &Response{Status: resp.StatusCode, Header: resp.Header, Body: data}
	s.validate(hr, out)
	return out
}

// validate checks a response against the operation it answers, or, where the request matched
// no operation (unknown route, wrong method), against the error envelope. Any response with a
// 4xx or 5xx status must be the JSON error envelope.
func (s *Server) validate(req *http.Request, resp *Response) {
	s.t.Helper()
	if resp.Status >= 400 {
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			s.t.Errorf("%s %s: error response has Content-Type %q", req.Method, req.URL.Path, ct)
		}
		s.validateSchema(req, resp, "Error")
	}
	route, params, err := s.router.FindRoute(req)
	if err != nil {
		return // no operation: the envelope check above is all the spec says
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{IncludeResponseStatus: true},
		},
		Status:  resp.Status,
		Header:  resp.Header,
		Body:    io.NopCloser(bytes.NewReader(resp.Body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		s.t.Errorf("%s %s: response %d does not match openapi.yaml: %v\nbody: %s", req.Method, req.URL, resp.Status, err, resp.Body)
	}
}

func (s *Server) validateSchema(req *http.Request, resp *Response, name string) {
	s.t.Helper()
	var v any
	if err := json.Unmarshal(resp.Body, &v); err != nil {
		s.t.Errorf("%s %s: body is not JSON: %v\n%s", req.Method, req.URL.Path, err, resp.Body)
		return
	}
	if err := s.spec.Components.Schemas[name].Value.VisitJSON(v); err != nil {
		s.t.Errorf("%s %s: body does not match schema %s: %v\n%s", req.Method, req.URL.Path, name, err, resp.Body)
	}
}
