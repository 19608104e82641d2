package server

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"gopkg.in/yaml.v3"

	"protocol"
)

// docsFiles is the documentation page: index.html and init.js of our own, and under swagger-ui/
// the Swagger UI files copied from the swagger-ui-dist npm package (scripts/swagger-ui), so the
// page works offline.
//
//go:embed docs
var docsFiles embed.FS

// docsPolicy lets the page load only its own scripts, styles and images, and talk only to this
// server. Swagger UI sets inline styles, and its icons are data: URLs.
const docsPolicy = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// docAsset is one embedded file, ready to serve.
type docAsset struct {
	data        []byte
	contentType string
	etag        string
}

// registerDocs serves the spec at /openapi.yaml and /openapi.json, and Swagger UI at /docs. None
// of them needs a key: they are outside /v1.
func registerDocs(e *echo.Echo) error {
	spec, err := parseSpecDoc(protocol.OpenAPI)
	if err != nil {
		return err
	}
	assets, err := loadDocAssets()
	if err != nil {
		return err
	}
	// The Swagger UI bundle is 1.7 MB, a quarter of that compressed.
	gzip := middleware.GzipWithConfig(middleware.GzipConfig{MinLength: 1024})

	methods := []string{http.MethodGet, http.MethodHead}
	e.Match(methods, "/openapi.yaml", serveSpec(spec, "application/yaml", yamlBytes), gzip)
	e.Match(methods, "/openapi.json", serveSpec(spec, echo.MIMEApplicationJSON, jsonBytes), gzip)
	e.Match(methods, "/docs", func(c echo.Context) error {
		c.Response().Header().Set("Content-Security-Policy", docsPolicy)
		return serveAsset(c, assets["index.html"])
	})
	e.Match(methods, "/docs/*", func(c echo.Context) error {
		name := c.Param("*")
		if name == "" {
			// Relative, so that it also works behind a proxy that adds a path prefix.
			return c.Redirect(http.StatusMovedPermanently, "../docs")
		}
		a, ok := assets[name]
		if !ok {
			return echo.ErrNotFound
		}
		return serveAsset(c, a)
	}, gzip)
	return nil
}

// serveSpec answers with the spec whose servers entry is the address the request came to, so
// that generated clients and Swagger UI's "Try it out" talk to this server.
func serveSpec(spec *specDoc, contentType string, encode func(*yaml.Node) ([]byte, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		body, err := encode(spec.withServer(origin(c.Request())))
		if err != nil {
			return err
		}
		h := c.Response().Header()
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		return c.Blob(http.StatusOK, contentType, body)
	}
}

// origin is the scheme and host the client used to reach the server: https when the connection
// is TLS or a proxy in front says so in X-Forwarded-Proto. Without a Host (HTTP/1.0) it is "/",
// which OpenAPI resolves against the document's own URL.
func origin(r *http.Request) string {
	if r.Host == "" {
		return "/"
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	proto, _, _ := strings.Cut(r.Header.Get(echo.HeaderXForwardedProto), ",")
	switch p := strings.ToLower(strings.TrimSpace(proto)); p {
	case "http", "https":
		scheme = p
	}
	return scheme + "://" + r.Host
}

func loadDocAssets() (map[string]docAsset, error) {
	assets := map[string]docAsset{}
	root, err := fs.Sub(docsFiles, "docs")
	if err != nil {
		return nil, err
	}
	err = fs.WalkDir(root, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(root, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		assets[name] = docAsset{
			data:        data,
			contentType: contentTypeOf(name),
			etag:        `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`,
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if _, ok := assets["index.html"]; !ok {
		return nil, fmt.Errorf("docs/index.html is not embedded")
	}
	return assets, nil
}

func contentTypeOf(name string) string {
	switch path.Ext(name) {
	case ".html":
		return echo.MIMETextHTMLCharsetUTF8
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".png":
		return "image/png"
	}
	return echo.MIMETextPlainCharsetUTF8 // LICENSE, NOTICE
}

// serveAsset answers with an embedded file, or 304 when the client's copy is current. The files
// change only with the binary, so clients revalidate (no-cache) and the ETag makes that cheap.
func serveAsset(c echo.Context, a docAsset) error {
	h := c.Response().Header()
	h.Set("ETag", a.etag)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	if etagMatches(c.Request().Header.Get("If-None-Match"), a.etag) {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, a.contentType, a.data)
}

// etagMatches reports whether an If-None-Match header names the ETag (weak comparison, RFC 9110).
func etagMatches(header, etag string) bool {
	for _, candidate := range strings.Split(header, ",") {
		candidate = strings.TrimPrefix(strings.TrimSpace(candidate), "W/")
		if candidate == "*" || candidate == etag {
			return true
		}
	}
	return false
}
