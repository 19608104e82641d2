package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/labstack/echo/v4"

	"protocol/store"
)

// validator checks every /v1 request against openapi.yaml before a handler runs. It first
// refuses what kin-openapi would let through although the contract forbids it (duplicated or
// unknown parameters, trailing bytes after JSON, invalid UTF-8, unknown form fields, media types
// the operation does not declare), then lets kin-openapi validate path, query and body.
type validator struct {
	router  routers.Router
	options openapi3filter.Options
}

func newValidator(spec *openapi3.T) (*validator, error) {
	// The servers list is for clients. Left in, it would make route matching depend on the Host
	// header, and a server reached by another name would 404 everything.
	spec.Servers = nil
	router, err := gorillamux.NewRouter(spec)
	if err != nil {
		return nil, err
	}
	return &validator{
		router: router,
		options: openapi3filter.Options{
			// Defaults written into the request would look, to a partial update, like fields
			// the client sent.
			SkipSettingDefaults: true,
			// The authenticate middleware has already run; this only confirms it did.
			AuthenticationFunc: func(_ context.Context, in *openapi3filter.AuthenticationInput) error {
				if accountOf(in.RequestValidationInput.Request.Context()) == "" {
					return errors.New("no authenticated account")
				}
				return nil
			},
		},
	}, nil
}

func (v *validator) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		route, pathParams, err := v.router.FindRoute(req)
		switch {
		case errors.Is(err, routers.ErrPathNotFound):
			// Echo reports its nearest route for a path it cannot match, such as
			// /v1/contacts/{id}/more; the spec knows better.
			return echo.ErrNotFound
		case errors.Is(err, routers.ErrMethodNotAllowed):
			return echo.ErrMethodNotAllowed
		case err != nil:
			return fmt.Errorf("route %s %s: %w", req.Method, req.URL.Path, err)
		}
		for k, p := range pathParams {
			if unescaped, err := url.PathUnescape(p); err == nil {
				pathParams[k] = unescaped
			}
		}
		if err := checkQuery(req.URL.RawQuery, route); err != nil {
			return err
		}
		if route.Operation.RequestBody != nil {
			if err := checkBody(req, route.Operation.RequestBody.Value); err != nil {
				return err
			}
		}
		in := &openapi3filter.RequestValidationInput{Request: req, PathParams: pathParams, Route: route, Options: &v.options}
		if err := openapi3filter.ValidateRequest(req.Context(), in); err != nil {
			return translateValidation(err)
		}
		return next(c)
	}
}

// checkQuery refuses a malformed query string, a parameter given twice (kin-openapi would read
// only the first) and a parameter the operation does not declare.
func checkQuery(raw string, route *routers.Route) error {
	if raw == "" {
		return nil
	}
	values, err := url.ParseQuery(raw)
	if err != nil {
		return invalid("", "The query string is malformed.")
	}
	declared := map[string]bool{}
	for _, params := range []openapi3.Parameters{route.PathItem.Parameters, route.Operation.Parameters} {
		for _, p := range params {
			if p.Value != nil && p.Value.In == openapi3.ParameterInQuery {
				declared[p.Value.Name] = true
			}
		}
	}
	for name, vals := range values {
		if !declared[name] {
			return invalid(name, fmt.Sprintf("Unknown query parameter: %s.", printable(name)))
		}
		if len(vals) > 1 {
			return invalid(name, fmt.Sprintf("%s may be given only once.", name))
		}
		if !utf8.ValidString(vals[0]) {
			return invalid(name, fmt.Sprintf("%s must be valid UTF-8.", name))
		}
	}
	return nil
}

// checkBody reads the body (the body limit applies while reading), refuses media types the
// operation does not declare with 415, and checks the syntax rules kin-openapi is lenient about.
// It leaves the body in place for kin-openapi and the handler to read again.
func checkBody(req *http.Request, body *openapi3.RequestBody) error {
	data, err := io.ReadAll(req.Body)
	if err != nil {
		var he *echo.HTTPError
		if errors.As(err, &he) {
			return he // the body limit's 413
		}
		return invalid("", "The request body could not be read.")
	}
	_ = req.Body.Close()
	req.Body = io.NopCloser(bytes.NewReader(data))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }

	ct := req.Header.Get(echo.HeaderContentType)
	if len(data) == 0 && ct == "" {
		return nil // kin-openapi answers that the body is required
	}
	mediaType, params, err := mime.ParseMediaType(ct)
	if err != nil || body.Content.Get(mediaType) == nil {
		return errNoBody
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return errNoBody
	}
	// Media types are case-insensitive; the generated handler compares them as written.
	req.Header.Set(echo.HeaderContentType, mediaType)
	if !utf8.Valid(data) {
		return invalid("", "The request body must be valid UTF-8.")
	}
	switch mediaType {
	case echo.MIMEApplicationJSON:
		return checkJSON(data)
	case echo.MIMEApplicationForm:
		return checkForm(data, body.Content.Get(mediaType).Schema)
	}
	return nil
}

// checkJSON refuses anything but exactly one JSON value, and an object with a repeated key
// (which decoders resolve silently, each its own way).
func checkJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	var v json.RawMessage
	if err := dec.Decode(&v); err != nil {
		return invalid("", "The request body is not valid JSON.")
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalid("", "The request body must hold exactly one JSON value.")
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(v, &fields) != nil {
		return nil // not an object: the schema check names the problem
	}
	dec = json.NewDecoder(bytes.NewReader(v))
	_, _ = dec.Token() // {
	seen := make(map[string]bool, len(fields))
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return invalid("", "The request body is not valid JSON.")
		}
		key, _ := tok.(string)
		if seen[key] {
			return invalid(key, fmt.Sprintf("%s is given more than once.", printable(key)))
		}
		seen[key] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return invalid("", "The request body is not valid JSON.")
		}
	}
	return nil
}

// checkForm refuses a malformed form, a field given twice and a field the schema does not have:
// form decoding would otherwise drop or overwrite them without a word.
func checkForm(data []byte, schema *openapi3.SchemaRef) error {
	values, err := url.ParseQuery(string(data))
	if err != nil {
		return invalid("", "The request body is not a valid URL-encoded form.")
	}
	for name, vals := range values {
		if schema == nil || schema.Value == nil || schema.Value.Properties[name] == nil {
			return invalid(name, fmt.Sprintf("Unknown field: %s.", printable(name)))
		}
		if len(vals) > 1 {
			return invalid(name, fmt.Sprintf("%s is given more than once.", name))
		}
		if !utf8.ValidString(vals[0]) {
			return invalid(name, fmt.Sprintf("%s must be valid UTF-8.", name))
		}
	}
	return nil
}

// translateValidation turns a kin-openapi error into the envelope's words: one sentence naming
// the field and the rule, never kin-openapi's own message (it holds schema dumps).
func translateValidation(err error) error {
	var (
		re  *openapi3filter.RequestError
		sec *openapi3filter.SecurityRequirementsError
	)
	switch {
	case errors.As(err, &sec):
		return &apiError{Status: http.StatusUnauthorized, Code: codeUnauthorized, Message: "Invalid API key."}
	case !errors.As(err, &re):
		return invalid("", "The request is invalid.")
	case re.Parameter != nil:
		return parameterError(re)
	case re.RequestBody != nil:
		return bodyError(re)
	}
	return invalid("", "The request is invalid.")
}

func parameterError(re *openapi3filter.RequestError) error {
	p := re.Parameter
	if p.In == openapi3.ParameterInPath {
		return store.ErrNotFound // a malformed id names nothing, exactly like a missing one
	}
	var se *openapi3.SchemaError
	if errors.As(re.Err, &se) {
		return invalid(p.Name, schemaMessage(p.Name, se))
	}
	if p.Schema != nil && p.Schema.Value != nil {
		return invalid(p.Name, fmt.Sprintf("%s must be %s.", p.Name, typeName(p.Schema.Value)))
	}
	return invalid(p.Name, fmt.Sprintf("%s is invalid.", p.Name))
}

func bodyError(re *openapi3filter.RequestError) error {
	if errors.Is(re.Err, openapi3filter.ErrInvalidRequired) {
		return invalid("", "The request body is required.")
	}
	if strings.Contains(re.Reason, "Content-Type") {
		return errNoBody
	}
	var se *openapi3.SchemaError
	if errors.As(re.Err, &se) {
		name := strings.Join(se.JSONPointer(), ".")
		switch se.SchemaField {
		case "required", "properties", "additionalProperties":
			// The property is named only in the reason: `property "x" is missing`.
			name = quotedProperty(se.Reason)
		}
		if name == "" {
			return invalid("", "The request body must be a JSON object.")
		}
		return invalid(name, schemaMessage(name, se))
	}
	var pe *openapi3filter.ParseError
	if errors.As(re.Err, &pe) {
		var path []string
		for _, p := range pe.Path() {
			path = append(path, fmt.Sprint(p))
		}
		name := strings.Join(path, ".")
		if name != "" {
			if s := propertySchema(re.RequestBody, name); s != nil {
				return invalid(name, fmt.Sprintf("%s must be %s.", name, typeName(s)))
			}
			return invalid(name, fmt.Sprintf("%s is invalid.", name))
		}
	}
	return invalid("", "The request body is invalid.")
}

// propertySchema finds a top-level property's schema in any media type of a request body.
func propertySchema(body *openapi3.RequestBody, name string) *openapi3.Schema {
	for _, mt := range body.Content {
		if mt.Schema != nil && mt.Schema.Value != nil {
			if p := mt.Schema.Value.Properties[name]; p != nil && p.Value != nil {
				return p.Value
			}
		}
	}
	return nil
}

// schemaMessage says which rule of the schema the value broke, in one sentence.
func schemaMessage(name string, se *openapi3.SchemaError) string {
	s := se.Schema
	switch se.SchemaField {
	case "required":
		return fmt.Sprintf("%s is required.", name)
	case "properties", "additionalProperties": // kin-openapi reports an unknown property as either
		return fmt.Sprintf("Unknown field: %s.", printable(name))
	case "nullable":
		return fmt.Sprintf("%s must not be null.", name)
	case "type":
		return fmt.Sprintf("%s must be %s.", name, typeName(s))
	case "minLength":
		if s.MinLength == 1 {
			return fmt.Sprintf("%s must not be empty.", name)
		}
		return fmt.Sprintf("%s must be at least %d characters long.", name, s.MinLength)
	case "maxLength":
		if s.MaxLength != nil {
			return fmt.Sprintf("%s must be at most %d characters long.", name, *s.MaxLength)
		}
	case "minimum":
		if s.Min != nil {
			return fmt.Sprintf("%s must be at least %v.", name, *s.Min)
		}
	case "maximum":
		if s.Max != nil {
			return fmt.Sprintf("%s must be at most %v.", name, *s.Max)
		}
	case "pattern":
		if rule, ok := s.Extensions["x-rule"].(string); ok {
			return fmt.Sprintf("%s %s.", name, rule)
		}
		return fmt.Sprintf("%s has an invalid format.", name)
	case "enum":
		return fmt.Sprintf("%s must be one of %v.", name, s.Enum)
	}
	return fmt.Sprintf("%s is invalid.", name)
}

// typeName names a schema's type with its article, for messages.
func typeName(s *openapi3.Schema) string {
	switch {
	case s.Type.Is("string"):
		return "a string"
	case s.Type.Is("integer"):
		return "an integer"
	case s.Type.Is("number"):
		return "a number"
	case s.Type.Is("boolean"):
		return "a boolean (true or false)"
	case s.Type.Is("object"):
		return "an object"
	case s.Type.Is("array"):
		return "an array"
	}
	return "valid"
}

// quotedProperty takes the property name out of kin-openapi's `property "x" is missing`.
func quotedProperty(reason string) string {
	_, rest, ok := strings.Cut(reason, `"`)
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, `"`)
	return name
}

// printable keeps a client-chosen name from putting control characters or huge strings into a
// message.
func printable(s string) string {
	const maxLen = 64
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return -1
		}
		return r
	}, s)
	if utf8.RuneCountInString(s) > maxLen {
		s = string([]rune(s)[:maxLen]) + "…"
	}
	return s
}
