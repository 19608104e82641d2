package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"protocol/gen"
	"protocol/store"
)

// The envelope's codes, named by the spec's Error schema.
const (
	codeInvalidRequest       = gen.ErrorErrorCodeInvalidRequest
	codeUnauthorized         = gen.ErrorErrorCodeUnauthorized
	codeNotFound             = gen.ErrorErrorCodeNotFound
	codeMethodNotAllowed     = gen.ErrorErrorCodeMethodNotAllowed
	codeConflict             = gen.ErrorErrorCodeConflict
	codePayloadTooLarge      = gen.ErrorErrorCodePayloadTooLarge
	codeUnsupportedMediaType = gen.ErrorErrorCodeUnsupportedMediaType
	codePreconditionFailed   = gen.ErrorErrorCodePreconditionFailed
	codeRateLimited          = gen.ErrorErrorCodeRateLimited
	codeInternal             = gen.ErrorErrorCodeInternalError
)

// apiError is an error that already knows its place in the envelope.
type apiError struct {
	Status  int
	Code    gen.ErrorErrorCode
	Message string
	Param   string
}

func (e *apiError) Error() string { return e.Message }

// invalid is a 400 about one field or parameter.
func invalid(param, message string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: codeInvalidRequest, Message: message, Param: param}
}

// errNoBody answers a request whose body the generated handler could not place under either
// declared media type.
var errNoBody = &apiError{Status: http.StatusUnsupportedMediaType, Code: codeUnsupportedMediaType, Message: mediaTypeMessage}

const mediaTypeMessage = "Content-Type must be application/json or application/x-www-form-urlencoded (in UTF-8)."

// errorHandler is Echo's HTTPErrorHandler and so the one writer of error responses: handler
// errors, store sentinels, validation failures, routing errors and recovered panics all end here.
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		e := classify(err, c)
		if errors.Is(err, context.Canceled) && c.Request().Context().Err() != nil {
			// The client went away before the answer; nobody reads this response.
			log.Info("client closed the request", "request_id", c.Response().Header().Get(requestIDHeader),
				"method", c.Request().Method, "path", c.Request().URL.Path)
		} else if e.Status >= 500 {
			log.Error("request failed", "request_id", c.Response().Header().Get(requestIDHeader),
				"method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
		}
		if e.Status == http.StatusUnauthorized {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="protocol"`)
		}
		env := gen.Error{}
		env.Error.Type = gen.ErrorErrorTypeInvalidRequest
		if e.Status >= 500 {
			env.Error.Type = gen.ErrorErrorTypeApiError
		}
		env.Error.Code, env.Error.Message = e.Code, e.Message
		if e.Param != "" {
			param := printable(e.Param)
			env.Error.Param = &param
		}
		var body bytes.Buffer
		enc := json.NewEncoder(&body)
		enc.SetEscapeHTML(false) // messages quote "<key>"; they are JSON, not HTML
		_ = enc.Encode(env)
		if c.Request().Method == http.MethodHead {
			err = c.NoContent(e.Status)
		} else {
			err = c.JSONBlob(e.Status, body.Bytes())
		}
		if err != nil {
			log.Error("writing error response", "err", err)
		}
	}
}

// classify maps any error to its envelope fields. Anything unrecognised is a 500 whose message
// says nothing about the cause; the cause goes to the log.
func classify(err error, c echo.Context) *apiError {
	var (
		ae       *apiError
		conflict *store.ConflictError
		ref      *store.ReferenceError
		he       *echo.HTTPError
	)
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, store.ErrNotFound):
		return &apiError{Status: http.StatusNotFound, Code: codeNotFound,
			Message: fmt.Sprintf("No such %s: %s.", resourceOf(c), c.Param("id")), Param: "id"}
	case errors.As(err, &conflict):
		return conflictError(conflict)
	case errors.As(err, &ref):
		return referenceError(ref, c)
	case errors.As(err, &he):
		return httpError(he, c)
	default:
		return &apiError{Status: http.StatusInternalServerError, Code: codeInternal, Message: "Internal error."}
	}
}

func conflictError(e *store.ConflictError) *apiError {
	out := &apiError{Status: http.StatusConflict, Code: codeConflict, Param: e.Field}
	switch e.Field {
	case "username":
		out.Message = fmt.Sprintf("A contact with username %s already exists.", e.Value)
	case "contact_id":
		out.Message = fmt.Sprintf("Contact %s already has a conversation: %s.", e.Value, e.ExistingID)
	case "group_id":
		out.Message = fmt.Sprintf("Group %s already has a conversation: %s.", e.Value, e.ExistingID)
	default:
		out.Message = fmt.Sprintf("%s %s is already taken.", e.Field, e.Value)
	}
	return out
}

func referenceError(e *store.ReferenceError, c echo.Context) *apiError {
	switch e.Field {
	case "contact_id":
		return invalid(e.Field, fmt.Sprintf("contact_id must name one of your contacts; there is no contact %s.", e.ID))
	default: // a cursor
		return invalid(e.Field, fmt.Sprintf("%s must name one of your %ss; there is no %s %s.", e.Field, resourceOf(c), resourceOf(c), e.ID))
	}
}

// httpError maps Echo's own errors: routing, body limit, binding.
func httpError(he *echo.HTTPError, c echo.Context) *apiError {
	req := c.Request()
	switch he.Code {
	case http.StatusNotFound:
		return &apiError{Status: he.Code, Code: codeNotFound, Message: fmt.Sprintf("No such route: %s %s.", req.Method, req.URL.Path)}
	case http.StatusMethodNotAllowed:
		return &apiError{Status: he.Code, Code: codeMethodNotAllowed, Message: fmt.Sprintf("%s is not allowed on %s.", req.Method, req.URL.Path)}
	case http.StatusRequestEntityTooLarge:
		return &apiError{Status: he.Code, Code: codePayloadTooLarge, Message: "The request body must be at most 1 MiB."}
	case http.StatusUnsupportedMediaType:
		return &apiError{Status: he.Code, Code: codeUnsupportedMediaType, Message: mediaTypeMessage}
	case http.StatusUnauthorized:
		return &apiError{Status: he.Code, Code: codeUnauthorized, Message: "Invalid API key."}
	}
	if he.Code >= 400 && he.Code < 500 {
		// Binding errors carry Go type names in their messages; say what is wrong in our words.
		return &apiError{Status: http.StatusBadRequest, Code: codeInvalidRequest, Message: "The request could not be read."}
	}
	return &apiError{Status: http.StatusInternalServerError, Code: codeInternal, Message: "Internal error."}
}

// resourceOf names the resource of the route, for messages: "contact" or "conversation".
func resourceOf(c echo.Context) string {
	p := strings.TrimPrefix(c.Path(), "/v1/")
	p, _, _ = strings.Cut(p, "/")
	return strings.TrimSuffix(p, "s")
}
