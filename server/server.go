// Package server serves the Protocol API over HTTP: the generated strict-server interface
// implemented over the store, behind authentication and request validation against openapi.yaml.
package server

import (
	"log/slog"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"protocol/gen"
	"protocol/store"
)

// API implements the generated strict-server interface.
type API struct {
	store *store.Store
}

var _ gen.StrictServerInterface = (*API)(nil)

// maxBody is the largest request body accepted, as the spec documents (413 beyond it).
const maxBody = "1M"

// Option changes a default of New.
type Option func(*options)

type options struct {
	rateLimit int
}

// WithRateLimit limits each API key to perSecond requests a second, with bursts of twice that;
// 0 turns the limit off.
func WithRateLimit(perSecond int) Option {
	return func(o *options) { o.rateLimit = perSecond }
}

// New builds the HTTP handler: routes from the spec, and for /v1 authentication, rate limits,
// validation and idempotency, in that order.
func New(st *store.Store, log *slog.Logger, opts ...Option) (*echo.Echo, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	spec, err := gen.GetSpec()
	if err != nil {
		return nil, err
	}
	v, err := newValidator(spec)
	if err != nil {
		return nil, err
	}

	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = errorHandler(log)
	m := newMetrics(spec)
	e.Use(requestLog(log), m.middleware)
	e.GET("/metrics", m.handler())
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		DisableErrorHandler: true, // the panic becomes an error for errorHandler: a bare 500
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			log.Error("panic", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err, "stack", string(stack))
			return err
		},
	}))
	e.Use(middleware.BodyLimit(maxBody))

	gen.RegisterHandlers(e, gen.NewStrictHandler(&API{store: st}, nil))
	if err := registerDocs(e); err != nil {
		return nil, err
	}

	// Authentication and validation run only on the spec's /v1 routes. Requests Echo could not
	// route fall through to its 404 and 405 handlers.
	apiRoutes := map[string]bool{}
	for _, r := range e.Routes() {
		if strings.HasPrefix(r.Path, "/v1/") {
			apiRoutes[r.Method+" "+r.Path] = true
		}
	}
	onlyAPI := func(mw echo.MiddlewareFunc) echo.MiddlewareFunc {
		return func(next echo.HandlerFunc) echo.HandlerFunc {
			guarded := mw(next)
			return func(c echo.Context) error {
				if apiRoutes[c.Request().Method+" "+c.Path()] {
					return guarded(c)
				}
				return next(c)
			}
		}
	}
	e.Use(onlyAPI(authenticate(newKeyCache(st))))
	if o.rateLimit > 0 {
		e.Use(onlyAPI(newRateLimiter(o.rateLimit).middleware))
	}
	idem := &idempotency{store: st, log: log}
	e.Use(onlyAPI(v.middleware), onlyAPI(idem.middleware))
	return e, nil
}
