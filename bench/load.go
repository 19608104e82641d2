package main

import (
	"context"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// scenario is one kind of load.
type scenario struct {
	Name string
	// Read marks the scenarios whose latency must not grow with the account's size.
	Read bool
	// MinRatio is the least throughput, as a fraction of the floor's, the server should reach;
	// 0 for none.
	MinRatio float64
	// ZeroErrors says the target also asks for no errors at all.
	ZeroErrors bool
	next       func(*api, *vegeta.Target)
}

// scenarios run in this order on each size: the reads first, so that they all see the account
// exactly as seeded; the writes then add contacts (create, mixed) and change display names.
var scenarios = []scenario{
	{Name: "retrieve", Read: true, MinRatio: 0.45, next: (*api).retrieve},
	{Name: "list-first", Read: true, MinRatio: 0.30, next: (*api).listFirst},
	{Name: "list-deep", Read: true, next: (*api).listDeep},
	{Name: "create", MinRatio: 0.15, ZeroErrors: true, next: (*api).create},
	{Name: "update", MinRatio: 0.15, ZeroErrors: true, next: (*api).update},
	{Name: "mixed", next: (*api).mixed},
}

// api makes the requests of the scenarios against one server. Its methods are called by many
// vegeta workers at once.
type api struct {
	base     string
	get      http.Header   // the key
	send     http.Header   // the key and a JSON body
	ids      []string      // existing contacts, oldest first
	deep     string        // the cursor of the deep page: a contact near the oldest
	requests atomic.Uint64 // mixed's turn
	updates  atomic.Uint64 // update's turn
}

// created numbers the contacts the benchmark creates, so that every username is new.
var created atomic.Uint64

func newAPI(base, key string, ids []string) *api {
	return &api{
		base: base,
		get:  http.Header{"Authorization": {"Bearer " + key}},
		send: http.Header{"Authorization": {"Bearer " + key}, "Content-Type": {"application/json"}},
		ids:  ids,
		// The page after the 20th oldest contact: nearly the last page of the list.
		deep: ids[min(19, len(ids)-1)],
	}
}

func (a *api) targeter(next func(*api, *vegeta.Target)) vegeta.Targeter {
	return func(t *vegeta.Target) error {
		next(a, t)
		return nil
	}
}

func (a *api) anyID() string { return a.ids[rand.IntN(len(a.ids))] }

func (a *api) retrieve(t *vegeta.Target) {
	t.Method, t.URL, t.Header = http.MethodGet, a.base+"/v1/contacts/"+a.anyID(), a.get
}

func (a *api) listFirst(t *vegeta.Target) {
	t.Method, t.URL, t.Header = http.MethodGet, a.base+"/v1/contacts?limit=10", a.get
}

func (a *api) listDeep(t *vegeta.Target) {
	t.Method, t.URL, t.Header = http.MethodGet, a.base+"/v1/contacts?limit=10&starting_after="+a.deep, a.get
}

func (a *api) create(t *vegeta.Target) {
	n := created.Add(1)
	t.Method, t.URL, t.Header = http.MethodPost, a.base+"/v1/contacts", a.send
	t.Body = []byte(`{"username":"bench-` + strconv.FormatUint(n, 10) + `","phone_number":"555-0100"}`)
}

// updateBodies alternate, so that every update changes the contact it hits half the time.
var updateBodies = [2][]byte{[]byte(`{"display_name":"Bench A"}`), []byte(`{"display_name":"Bench B"}`)}

func (a *api) update(t *vegeta.Target) {
	n := a.updates.Add(1)
	t.Method, t.URL, t.Header = http.MethodPut, a.base+"/v1/contacts/"+a.anyID(), a.send
	t.Body = updateBodies[n%2]
}

// mixed is 80% reads and 20% writes: of every ten requests six retrieve a contact, two list the
// first page, one creates a contact and one updates one.
func (a *api) mixed(t *vegeta.Target) {
	switch a.requests.Add(1) % 10 {
	case 0, 1, 2, 3, 4, 5:
		a.retrieve(t)
	case 6, 7:
		a.listFirst(t)
	case 8:
		a.create(t)
	default:
		a.update(t)
	}
}

// measurement is what one load did to one server.
type measurement struct {
	Requests   uint64         `json:"requests"`
	RPS        float64        `json:"rps"`
	P50ms      float64        `json:"p50_ms"`
	P99ms      float64        `json:"p99_ms"`
	Errors     uint64         `json:"errors"`
	PeakRSSMiB float64        `json:"peak_rss_mib"`
	StartupMS  float64        `json:"startup_ms"`
	Status     map[string]int `json:"status_codes"`
	// ErrorSamples are a few of the distinct errors, when there were any.
	ErrorSamples []string `json:"error_samples,omitempty"`
}

// load is how hard and how long to drive a server.
type load struct {
	Concurrency int
	Requests    int           // a fixed count; 0 means Duration
	Duration    time.Duration // used when Requests is 0
}

// newClient is the HTTP client of the loads against one server: at most one connection per
// worker, kept alive across the warm-up and the measurement.
func newClient(concurrency int) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			Proxy:               nil, // loopback: never through a proxy from the environment
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConnsPerHost: concurrency,
			MaxConnsPerHost:     concurrency,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// countPacer sends requests as fast as the workers take them and stops after a number of them.
type countPacer uint64

func (n countPacer) Pace(_ time.Duration, hits uint64) (time.Duration, bool) {
	return 0, hits >= uint64(n)
}

func (countPacer) Rate(time.Duration) float64 { return 0 }

// drive runs one load through client with a fixed number of vegeta workers and no rate limit:
// each worker sends its next request as soon as its last one is answered. Any response other
// than 2xx, and any transport error, counts as an error. each, if not nil, sees every result.
func drive(ctx context.Context, client *http.Client, tr vegeta.Targeter, l load, name string, each func(*vegeta.Result)) measurement {
	workers := uint64(l.Concurrency)
	atk := vegeta.NewAttacker(vegeta.Client(client), vegeta.Workers(workers), vegeta.MaxWorkers(workers))
	var pacer vegeta.Pacer = vegeta.ConstantPacer{} // the zero pacer: no rate limit
	duration := l.Duration
	if l.Requests > 0 {
		pacer, duration = countPacer(l.Requests), 0
	}
	stop := context.AfterFunc(ctx, func() { atk.Stop() })
	defer stop()

	var m vegeta.Metrics
	var errs uint64
	for res := range atk.Attack(tr, pacer, duration, name) {
		m.Add(res)
		if each != nil {
			each(res)
		}
		if res.Error != "" {
			errs++
		}
	}
	m.Close()
	out := measurement{
		Requests: m.Requests,
		P50ms:    ms(m.Latencies.P50),
		P99ms:    ms(m.Latencies.P99),
		Errors:   errs,
		Status:   m.StatusCodes,
	}
	// From the first request sent to the last answer received.
	if wall := (m.Duration + m.Wait).Seconds(); wall > 0 {
		out.RPS = float64(m.Requests) / wall
	}
	if errs > 0 {
		out.ErrorSamples = m.Errors[:min(3, len(m.Errors))]
	}
	return out
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
