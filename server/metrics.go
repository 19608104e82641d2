package server

import (
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics counts requests and times them per operation (the spec's operationId), for
// Prometheus at GET /metrics. Each server has its own registry, so tests can run many servers in
// one process.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// operations maps "METHOD /echo/:path" to the operationId.
	operations map[string]string
}

func newMetrics(spec *openapi3.T) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "protocol_http_requests_total",
			Help: "HTTP requests answered, by operation and status code.",
		}, []string{"operation", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "protocol_http_request_duration_seconds",
			Help:    "Time from the request's arrival to its answer, by operation.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"operation"}),
		operations: map[string]string{},
	}
	m.registry.MustRegister(m.requests, m.duration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for path, item := range spec.Paths.Map() {
		// The spec's /v1/contacts/{id} is Echo's /v1/contacts/:id.
		echoPath := strings.NewReplacer("{", ":", "}", "").Replace(path)
		for method, op := range item.Operations() {
			// The generator's embedded copy capitalises operationIds (GetContact); the spec and
			// every client spell them as written (getContact).
			id := op.OperationID
			if id != "" {
				id = strings.ToLower(id[:1]) + id[1:]
			}
			m.operations[method+" "+echoPath] = id
		}
	}
	return m
}

// middleware records every request; routes outside the spec count under their path, and
// requests that matched no route under "unmatched", so a scan cannot blow up the label set.
func (m *metrics) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		op, ok := m.operations[c.Request().Method+" "+c.Path()]
		if !ok {
			op = "unmatched"
			if c.Path() == "/metrics" || c.Path() == "/docs" || strings.HasPrefix(c.Path(), "/openapi") {
				op = c.Path()
			}
		}
		m.requests.WithLabelValues(op, strconv.Itoa(c.Response().Status)).Inc()
		m.duration.WithLabelValues(op).Observe(time.Since(start).Seconds())
		return nil
	}
}

func (m *metrics) handler() echo.HandlerFunc {
	return echo.WrapHandler(promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{}))
}
