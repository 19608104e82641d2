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
		PeakRSS:     "VmHWM of a server process started for the scenario and size alone, read after its load",
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
	if err := r.measureAll(ctx, rep); err != nil {
		_ = r.floor.p.stop()
		return nil, err
	}
	if rep.Floor, err = r.stopFloor(); err != nil {
		return nil, err
	}
	rep.evaluate()
	rep.TotalS = since(start).Seconds()
	return rep, nil
}

// measureAll seeds every size, then runs each scenario at every size, into rep.
func (r *runner) measureAll(ctx context.Context, rep *report) error {
	var accounts []*account
	if !r.cfg.Keep {
		defer func() {
			for _, a := range accounts {
				a.remove()
			}
		}()
	}
	for _, n := range r.cfg.Sizes {
		a, err := r.seedSize(ctx, n)
		if err != nil {
			return err
		}
		accounts = append(accounts, a)
	}
	for _, sc := range r.cfg.Scenarios {
		results, err := r.measureScenario(ctx, sc, accounts)
		if err != nil {
			return err
		}
		rep.Scenarios = append(rep.Scenarios, results...)
	}
	// The table lists a size's scenarios together, in the order they ran.
	slices.SortStableFunc(rep.Scenarios, func(a, b scenarioResult) int { return a.Size - b.Size })
	for _, a := range accounts {
		rep.Sizes = append(rep.Sizes, a.summary())
	}
	return nil
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

// account is one size's database, seeded once for every scenario.
type account struct {
	n        int
	db       string
	key      string
	ids      []string
	size     sizeResult
	startups []float64 // of each scenario's server, in ms
}

// seedSize seeds an account of n contacts in a database of its own.
func (r *runner) seedSize(ctx context.Context, n int) (*account, error) {
	a := &account{n: n, db: filepath.Join(r.work, fmt.Sprintf("contacts-%d.db", n))}
	r.logf("%s contacts: seeding", count(n))
	start := time.Now()
	var err error
	if a.key, a.ids, err = seed(ctx, a.db, n); err != nil {
		return nil, err
	}
	a.size = sizeResult{Contacts: n, SeedS: since(start).Seconds()}
	r.logf("%s contacts: seeded in %.1fs", count(n), a.size.SeedS)
	return a, nil
}

// remove deletes the account's database files.
func (a *account) remove() {
	for _, suffix := range []string{"", "-wal", "-shm"} {
		_ = os.Remove(a.db + suffix)
	}
}

// summary is the account's size result, with the start-ups of its servers.
func (a *account) summary() sizeResult {
	s := a.size
	if len(a.startups) == 0 {
		return s
	}
	s.StartupFirstMS = a.startups[0]
	sorted := slices.Sorted(slices.Values(a.startups))
	s.StartupMedianMS = sorted[len(sorted)/2]
	s.StartupMaxMS = sorted[len(sorted)-1]
	s.Starts = len(sorted)
	return s
}

// subject is one server under a scenario's load: one size of the account.
type subject struct {
	a      *account
	name   string
	p      *process
	client *http.Client
	tr     vegeta.Targeter
	rounds rounds
}

// measureScenario runs one scenario at every size, each size on a server process of its own.
// The sizes take turns within each round, right after the floor's slice, so that the machine's
// drift reaches every size alike, and a read's latency at one size compares fairly with its
// latency at another. It returns the peak RSS of each server and stops them.
func (r *runner) measureScenario(ctx context.Context, sc scenario, accounts []*account) (results []scenarioResult, err error) {
	var subjects []*subject
	defer func() {
		for _, s := range subjects {
			s.client.CloseIdleConnections()
			if s.p != nil && s.p.Running() {
				_ = s.p.stop()
			}
		}
	}()
	for _, a := range accounts {
		s := &subject{a: a, name: fmt.Sprintf("%s %s", count(a.n), sc.Name), client: newClient(r.cfg.Concurrency)}
		subjects = append(subjects, s)
		args := []string{"serve", "--db", a.db}
		if s.p, err = startServer(ctx, r.protocol, args, filepath.Join(r.work, fmt.Sprintf("serve-%d-%s.log", a.n, sc.Name))); err != nil {
			return nil, err
		}
		s.tr = newAPI(s.p.base, a.key, a.ids).targeter(sc.next)
		if r.cfg.Warmup > 0 {
			drive(ctx, s.client, s.tr, load{Concurrency: r.cfg.Concurrency, Duration: r.cfg.Warmup}, s.name+" (warm-up)", nil)
		}
	}
	var floor rounds
	for range r.cfg.Rounds {
		f, err := r.floorSlice(ctx, sc.Name+" floor")
		if err != nil {
			return nil, err
		}
		floor.add(f)
		for _, s := range subjects {
			s.rounds.add(drive(ctx, s.client, s.tr, r.round(), s.name, func(res *vegeta.Result) { s.rounds.latencies.Add(res.Latency) }))
		}
	}
	floorRPS := floor.sum().RPS
	for _, s := range subjects {
		m := s.rounds.sum()
		m.StartupMS = ms(s.p.Startup)
		rss, rssErr := s.p.PeakRSS()
		m.PeakRSSMiB = float64(rss) / (1 << 20)
		if err := s.p.stop(); err != nil {
			return nil, fmt.Errorf("%s: server %w", s.name, err)
		}
		if rssErr != nil {
			return nil, fmt.Errorf("%s: peak RSS: %w", s.name, rssErr)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		res := scenarioResult{Size: s.a.n, Scenario: sc.Name, measurement: m, FloorRPS: floorRPS}
		if floorRPS > 0 {
			res.Ratio = m.RPS / floorRPS
		}
		results = append(results, res)
		s.a.startups = append(s.a.startups, m.StartupMS)
		r.logf("%-22s %8d requests %9.0f req/s  p50 %7.2fms  p99 %7.2fms  errors %d  peak RSS %.1f MiB  start-up %.0fms  (floor %.0f req/s)",
			s.name, m.Requests, m.RPS, m.P50ms, m.P99ms, m.Errors, m.PeakRSSMiB, m.StartupMS, floorRPS)
	}
	return results, nil
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
