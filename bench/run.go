package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"protocol/store"
)

// run builds the binaries, starts the floor, measures every scenario at every size, each next
// to a slice of the floor, and returns the report. Progress goes to progress.
func run(ctx context.Context, cfg config, progress io.Writer) (*report, error) {
	work, err := os.MkdirTemp("", "protocol-bench-")
	if err != nil {
		return nil, err
	}
	if cfg.Keep {
		fmt.Fprintln(progress, "work directory:", work)
	} else {
		defer os.RemoveAll(work)
	}
	if cfg.Scenarios == nil {
		cfg.Scenarios = scenarios
	}
	cfg.Rounds = max(cfg.Rounds, 1)
	r := &runner{cfg: cfg, work: work, progress: progress}
	rep := &report{
		StartedAt:   time.Now().UTC().Truncate(time.Second),
		Commit:      describeCommit(cfg.Root),
		GoVersion:   runtime.Version(),
		CPUs:        runtime.NumCPU(),
		Concurrency: cfg.Concurrency,
		Requests:    cfg.Requests,
		Rounds:      cfg.Rounds,
		PeakRSS:     "VmHWM of a server process started for the scenario alone, read after its load",
	}
	if cfg.Requests == 0 {
		rep.DurationS = cfg.Duration.Seconds()
	}
	rep.WarmupS = cfg.Warmup.Seconds()

	start := time.Now()
	r.logf("building protocol and floor")
	bins, err := build(ctx, cfg.Root, work, "./cmd/protocol", "./bench/floor")
	if err != nil {
		return nil, err
	}
	r.protocol, r.floor.bin = bins[0], bins[1]
	r.logf("built in %s", since(start))

	if err := r.startFloor(ctx); err != nil {
		return nil, err
	}
	for _, n := range cfg.Sizes {
		size, results, err := r.measureSize(ctx, n)
		if err != nil {
			_ = r.floor.p.stop()
			return nil, err
		}
		rep.Sizes = append(rep.Sizes, size)
		rep.Scenarios = append(rep.Scenarios, results...)
	}
	if rep.Floor, err = r.stopFloor(); err != nil {
		return nil, err
	}
	rep.evaluate()
	rep.TotalS = since(start).Seconds()
	return rep, nil
}

// runner holds what the measurements of one run share.
type runner struct {
	cfg      config
	work     string
	progress io.Writer
	protocol string // the binary
	floor    floorServer
}

// floorServer is the floor's process, running for the whole run. Each scenario is measured in
// rounds, and before each round the floor is driven with the same load for the same time: a
// scenario's ratio is to the floor measured in between its own rounds, so that the machine's
// drift during a run (other work starting or stopping, for seconds or minutes) moves both
// sides of a ratio alike.
type floorServer struct {
	bin       string
	p         *process
	api       *api
	client    *http.Client
	slices    []measurement
	latencies vegeta.LatencyMetrics // of every slice
}

func (r *runner) logf(format string, args ...any) {
	fmt.Fprintf(r.progress, format+"\n", args...)
}

// round is the load of one round of a scenario, or of the floor.
func (r *runner) round() load {
	l := load{Concurrency: r.cfg.Concurrency, Duration: r.cfg.Duration / time.Duration(r.cfg.Rounds)}
	if r.cfg.Requests > 0 {
		l.Requests = max(1, r.cfg.Requests/r.cfg.Rounds)
	}
	return l
}

// startFloor starts the floor and warms it up.
func (r *runner) startFloor(ctx context.Context) error {
	f := &r.floor
	p, err := startServer(ctx, f.bin, nil, filepath.Join(r.work, "floor.log"))
	if err != nil {
		return err
	}
	// The floor answers every id alike; random ones keep its URLs as varied as retrieve's.
	ids := make([]string, 1000)
	for i := range ids {
		ids[i] = store.NewID()
	}
	f.p, f.api, f.client = p, newAPI(p.base, "none", ids), newClient(r.cfg.Concurrency)
	if r.cfg.Warmup > 0 {
		drive(ctx, f.client, f.api.targeter(scenarios[0].next), load{Concurrency: r.cfg.Concurrency, Duration: r.cfg.Warmup}, "floor (warm-up)", nil)
	}
	return ctx.Err()
}

// floorSlice drives the floor with the retrieve load for one round.
func (r *runner) floorSlice(ctx context.Context, name string) (measurement, error) {
	f := &r.floor
	if !f.p.Running() {
		return measurement{}, fmt.Errorf("floor exited: %s", f.p.logTail())
	}
	m := drive(ctx, f.client, f.api.targeter(scenarios[0].next), r.round(), name, func(res *vegeta.Result) { f.latencies.Add(res.Latency) })
	f.slices = append(f.slices, m)
	return m, ctx.Err()
}

// stopFloor reads the floor's peak RSS, stops it, and sums up its slices.
func (r *runner) stopFloor() (floorResult, error) {
	f := &r.floor
	f.client.CloseIdleConnections()
	rss, rssErr := f.p.PeakRSS()
	if err := f.p.stop(); err != nil {
		return floorResult{}, fmt.Errorf("floor: %w", err)
	}
	if rssErr != nil {
		return floorResult{}, fmt.Errorf("floor: peak RSS: %w", rssErr)
	}
	out := floorResult{
		Slices:     len(f.slices),
		P50ms:      ms(f.latencies.Quantile(0.50)),
		P99ms:      ms(f.latencies.Quantile(0.99)),
		PeakRSSMiB: float64(rss) / (1 << 20),
		StartupMS:  ms(f.p.Startup),
	}
	for i, m := range f.slices {
		out.Requests += m.Requests
		out.Errors += m.Errors
		out.RPS += m.RPS / float64(len(f.slices))
		if i == 0 || m.RPS < out.MinRPS {
			out.MinRPS = m.RPS
		}
		out.MaxRPS = max(out.MaxRPS, m.RPS)
	}
	return out, nil
}

// measureSize seeds an account of n contacts, then runs every scenario against it, each on a
// server process of its own.
func (r *runner) measureSize(ctx context.Context, n int) (sizeResult, []scenarioResult, error) {
	db := filepath.Join(r.work, fmt.Sprintf("contacts-%d.db", n))
	if !r.cfg.Keep {
		defer func() {
			for _, suffix := range []string{"", "-wal", "-shm"} {
				_ = os.Remove(db + suffix)
			}
		}()
	}
	r.logf("%s contacts: seeding", count(n))
	start := time.Now()
	key, ids, err := seed(ctx, db, n)
	if err != nil {
		return sizeResult{}, nil, err
	}
	size := sizeResult{Contacts: n, SeedS: since(start).Seconds()}
	r.logf("%s contacts: seeded in %.1fs", count(n), size.SeedS)

	var results []scenarioResult
	var startups []float64 // of each scenario's server, in ms
	for _, sc := range r.cfg.Scenarios {
		name := fmt.Sprintf("%s %s", count(n), sc.Name)
		args := []string{"serve", "--db", db}
		p, err := startServer(ctx, r.protocol, args, filepath.Join(r.work, fmt.Sprintf("serve-%d-%s.log", n, sc.Name)))
		if err != nil {
			return sizeResult{}, nil, err
		}
		m, floor, err := r.measure(ctx, p, newAPI(p.base, key, ids), sc, name)
		if err != nil {
			return sizeResult{}, nil, err
		}
		res := scenarioResult{Size: n, Scenario: sc.Name, measurement: m, FloorRPS: floor.RPS}
		if floor.RPS > 0 {
			res.Ratio = m.RPS / floor.RPS
		}
		results = append(results, res)
		startups = append(startups, m.StartupMS)
	}
	size.StartupFirstMS = startups[0]
	slices.Sort(startups)
	size.StartupMedianMS = startups[len(startups)/2]
	size.StartupMaxMS = startups[len(startups)-1]
	size.Starts = len(startups)
	return size, results, nil
}

// measure warms p up with the scenario's load, then measures it in rounds, each after a round
// of the floor. It returns both sums, reads p's peak RSS and stops p.
func (r *runner) measure(ctx context.Context, p *process, a *api, sc scenario, name string) (m, floor measurement, err error) {
	client := newClient(r.cfg.Concurrency)
	defer client.CloseIdleConnections()
	tr := a.targeter(sc.next)
	if r.cfg.Warmup > 0 {
		drive(ctx, client, tr, load{Concurrency: r.cfg.Concurrency, Duration: r.cfg.Warmup}, name+" (warm-up)", nil)
	}
	var server, base rounds
	for range r.cfg.Rounds {
		f, err := r.floorSlice(ctx, name+" floor")
		if err != nil {
			_ = p.stop()
			return m, floor, err
		}
		base.add(f)
		server.add(drive(ctx, client, tr, r.round(), name, func(res *vegeta.Result) { server.latencies.Add(res.Latency) }))
	}
	m, floor = server.sum(), base.sum()
	m.StartupMS = ms(p.Startup)
	rss, rssErr := p.PeakRSS()
	m.PeakRSSMiB = float64(rss) / (1 << 20)
	if err := p.stop(); err != nil {
		return m, floor, fmt.Errorf("%s: server %w", name, err)
	}
	if rssErr != nil {
		return m, floor, fmt.Errorf("%s: peak RSS: %w", name, rssErr)
	}
	if err := ctx.Err(); err != nil {
		return m, floor, err
	}
	r.logf("%-22s %8d requests %9.0f req/s  p50 %7.2fms  p99 %7.2fms  errors %d  peak RSS %.1f MiB  start-up %.0fms  (floor %.0f req/s)",
		name, m.Requests, m.RPS, m.P50ms, m.P99ms, m.Errors, m.PeakRSSMiB, m.StartupMS, floor.RPS)
	return m, floor, nil
}

// rounds adds up the rounds of one load.
type rounds struct {
	m         measurement
	wall      float64 // seconds, the rounds' own: not the time between them
	latencies vegeta.LatencyMetrics
}

func (t *rounds) add(m measurement) {
	t.m.Requests += m.Requests
	t.m.Errors += m.Errors
	if m.RPS > 0 {
		t.wall += float64(m.Requests) / m.RPS
	}
	for code, n := range m.Status {
		if t.m.Status == nil {
			t.m.Status = map[string]int{}
		}
		t.m.Status[code] += n
	}
	for _, e := range m.ErrorSamples {
		if len(t.m.ErrorSamples) < 3 {
			t.m.ErrorSamples = append(t.m.ErrorSamples, e)
		}
	}
}

// sum is the rounds as one measurement: throughput over their own time, and quantiles of the
// latencies added to t.latencies (none for the floor, whose latencies the run keeps).
func (t *rounds) sum() measurement {
	m := t.m
	if t.wall > 0 {
		m.RPS = float64(m.Requests) / t.wall
	}
	m.P50ms, m.P99ms = ms(t.latencies.Quantile(0.50)), ms(t.latencies.Quantile(0.99))
	return m
}

// seed creates the database at path with one account of n contacts, straight through the
// store, and returns the account's key and the contacts' ids, oldest first.
func seed(ctx context.Context, path string, n int) (key string, ids []string, err error) {
	st, err := store.Open(path, store.Options{})
	if err != nil {
		return "", nil, err
	}
	defer func() {
		if cerr := st.Close(); err == nil {
			err = cerr
		}
	}()
	k, err := st.CreateAccountWithKey(ctx, "bench")
	if err != nil {
		return "", nil, err
	}
	ids, err = st.SeedContacts(ctx, k.AccountID, n)
	return k.Key, ids, err
}

func since(t time.Time) time.Duration { return time.Since(t).Round(time.Millisecond) }
