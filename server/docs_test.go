package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"protocol"
	"protocol/gen"
	"protocol/server/servertest"
)

// TestOpenAPIServed checks that /openapi.yaml and /openapi.json serve, without a key, the very
// contract the server was generated from, pointing at the address the client used.
func TestOpenAPIServed(t *testing.T) {
	s := servertest.New(t)
	want := specJSON(t, nil)
	for path, contentType := range map[string]string{
		"/openapi.yaml": "application/yaml",
		"/openapi.json": "application/json",
	} {
		t.Run(path, func(t *testing.T) {
			r := s.Do(servertest.Request{Path: path, NoAuth: true})
			if r.Status != http.StatusOK || r.Header.Get("Content-Type") != contentType {
				t.Fatalf("GET %s = %d %q, want 200 %s", path, r.Status, r.Header.Get("Content-Type"), contentType)
			}
			doc, err := openapi3.NewLoader().LoadFromData(r.Body)
			if err != nil {
				t.Fatalf("served spec does not load: %v", err)
			}
			if err := doc.Validate(context.Background()); err != nil {
				t.Errorf("served spec is not valid OpenAPI: %v", err)
			}
			if len(doc.Servers) != 1 || doc.Servers[0].URL != s.URL {
				t.Errorf("servers = %v, want the one entry %s", serverURLs(doc), s.URL)
			}
			if got := specJSON(t, doc); !bytes.Equal(got, want) {
				t.Errorf("served spec differs from the embedded one (servers aside)")
			}
			// Swagger UI lists operations in document order: the author's, not an alphabetical one.
			if got, want := operationIDs(r.Body), operationIDs(protocol.OpenAPI); !slices.Equal(got, want) {
				t.Errorf("operations in the order %v, want openapi.yaml's %v", got, want)
			}
		})
	}
}

func TestOpenAPIServerURL(t *testing.T) {
	s := servertest.New(t)
	for name, tc := range map[string]struct {
		host, proto, want string
	}{
		"RequestHost":       {host: "api.example.com:8443", want: "http://api.example.com:8443"},
		"ForwardedHTTPS":    {host: "api.example.com", proto: "https", want: "https://api.example.com"},
		"ForwardedList":     {host: "api.example.com", proto: "HTTPS, http", want: "https://api.example.com"},
		"ForwardedNonsense": {host: "api.example.com", proto: "gopher", want: "http://api.example.com"},
	} {
		t.Run(name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, s.URL+"/openapi.json", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = tc.host
			if tc.proto != "" {
				req.Header.Set("X-Forwarded-Proto", tc.proto)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var doc struct {
				Servers []struct{ URL string } `json:"servers"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
				t.Fatal(err)
			}
			if len(doc.Servers) != 1 || doc.Servers[0].URL != tc.want {
				t.Errorf("servers = %+v, want %s", doc.Servers, tc.want)
			}
		})
	}
}

// TestDocsPage checks the page and every file it loads, all embedded and served without a key.
func TestDocsPage(t *testing.T) {
	s := servertest.New(t)
	page := s.Do(servertest.Request{Path: "/docs", NoAuth: true})
	if page.Status != http.StatusOK || !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /docs = %d %q", page.Status, page.Header.Get("Content-Type"))
	}
	if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("Content-Security-Policy = %q, want scripts from this server only", csp)
	}
	refs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllSubmatch(page.Body, -1)
	if len(refs) < 4 {
		t.Fatalf("the page loads %d files, want the stylesheet, the icon and two scripts", len(refs))
	}
	for _, ref := range refs {
		path := "/" + string(ref[1]) // relative to /docs
		t.Run(path, func(t *testing.T) {
			r := s.Do(servertest.Request{Path: path, NoAuth: true})
			etag := r.Header.Get("ETag")
			if r.Status != http.StatusOK || len(r.Body) == 0 || etag == "" {
				t.Fatalf("GET %s = %d, %d bytes, ETag %q", path, r.Status, len(r.Body), etag)
			}
			ext := path[strings.LastIndex(path, "."):]
			if ct, want := r.Header.Get("Content-Type"), map[string]string{
				".js": "text/javascript", ".css": "text/css", ".png": "image/png",
			}[ext]; !strings.HasPrefix(ct, want) {
				t.Errorf("Content-Type = %q, want %s", ct, want)
			}
			again := s.Do(servertest.Request{Path: path, NoAuth: true, Header: http.Header{"If-None-Match": {etag}}})
			if again.Status != http.StatusNotModified || len(again.Body) != 0 {
				t.Errorf("GET with If-None-Match: %d, %d bytes, want 304 and no body", again.Status, len(again.Body))
			}
		})
	}

	t.Run("Compressed", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/docs/swagger-ui/swagger-ui-bundle.js", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		n, _ := io.Copy(io.Discard, resp.Body)
		if resp.Header.Get("Content-Encoding") != "gzip" || n > 1<<20 {
			t.Errorf("bundle sent with Content-Encoding %q, %d bytes; want gzip, under 1 MiB", resp.Header.Get("Content-Encoding"), n)
		}
	})
	t.Run("Head", func(t *testing.T) {
		r := s.Do(servertest.Request{Method: http.MethodHead, Path: "/docs", NoAuth: true})
		if r.Status != http.StatusOK || len(r.Body) != 0 {
			t.Errorf("HEAD /docs = %d with %d bytes", r.Status, len(r.Body))
		}
	})
	t.Run("TrailingSlash", func(t *testing.T) {
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Get(s.URL + "/docs/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "../docs" {
			t.Errorf("GET /docs/ = %d to %q, want 301 to ../docs", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	for name, req := range map[string]servertest.Request{
		"UnknownFile": {Path: "/docs/swagger-ui/nope.js", NoAuth: true},
		"OutsideDocs": {Path: "/docs/../go.mod", NoAuth: true},
		"Post":        {Method: http.MethodPost, Path: "/docs", NoAuth: true},
	} {
		t.Run(name, func(t *testing.T) {
			r := s.Do(req) // the harness checks that it is the error envelope
			if r.Status != http.StatusNotFound && r.Status != http.StatusMethodNotAllowed {
				t.Errorf("%s %s = %d %s", req.Method, req.Path, r.Status, r.Body)
			}
		})
	}
}

// specJSON is the spec with its servers left out, as JSON: doc, or when nil the one gen/ embeds.
// The generator capitalises operationIds in its copy (ListContacts), so they are compared in
// lower case.
func specJSON(t *testing.T, doc *openapi3.T) []byte {
	t.Helper()
	if doc == nil {
		var err error
		if doc, err = gen.GetSpec(); err != nil {
			t.Fatal(err)
		}
	}
	doc.Servers = nil
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			op.OperationID = strings.ToLower(op.OperationID)
		}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func serverURLs(doc *openapi3.T) []string {
	var urls []string
	for _, s := range doc.Servers {
		urls = append(urls, s.URL)
	}
	return urls
}

// operationIDs lists the operationIds of a spec, YAML or JSON, in the order they are written.
func operationIDs(spec []byte) []string {
	var ids []string
	for _, m := range regexp.MustCompile(`"?operationId"?:\s*"?(\w+)`).FindAllSubmatch(spec, -1) {
		ids = append(ids, string(m[1]))
	}
	return ids
}
