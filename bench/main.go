// Command bench measures the Protocol server under load. It builds the real binary, seeds an
// account of each size straight through the store, starts `protocol serve` on loopback once per
// scenario and drives it with vegeta at a fixed concurrency. In the same run it drives the floor
// (bench/floor: bare Echo, a fixed contact, no database) with the same load, and prints every
// throughput as a ratio to the floor's, beside the targets the server should meet.
//
//	go run ./bench                          # 10,000 contacts (make bench)
//	go run ./bench -sizes 10000,1000000     # and 1,000,000 (make bench-large)
//	go run ./bench -smoke                   # a few seconds, to see that the harness works
//
// The table goes to stdout, progress to stderr, and the results as JSON to
// bench/results/latest.json (-out).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	cfg := defaultConfig()
	var sizes, only string
	var smoke bool
	flag.StringVar(&sizes, "sizes", "10000", "account sizes to measure, in contacts, comma-separated")
	flag.DurationVar(&cfg.Duration, "duration", cfg.Duration, "how long each scenario is measured, after its warm-up")
	flag.IntVar(&cfg.Requests, "requests", 0, "measure each scenario over this many requests instead of -duration")
	flag.IntVar(&cfg.Rounds, "rounds", cfg.Rounds, "measure each scenario in this many rounds, each after a round of the floor")
	flag.DurationVar(&cfg.Warmup, "warmup", cfg.Warmup, "load before each measurement, not counted")
	flag.IntVar(&cfg.Concurrency, "concurrency", cfg.Concurrency, "requests in flight at once")
	flag.StringVar(&cfg.Out, "out", "", "write the results as JSON here (default bench/results/latest.json; - for nowhere)")
	flag.BoolVar(&smoke, "smoke", false, "check the harness in seconds: 200 contacts, 300 requests per scenario, no warm-up")
	flag.StringVar(&only, "scenarios", "", "run only these scenarios, comma-separated (default all)")
	flag.BoolVar(&cfg.Keep, "keep", false, "keep the work directory: binaries, databases and server logs")
	flag.Parse()

	if smoke {
		sizes, cfg.Requests, cfg.Warmup, cfg.Rounds = "200", 300, 0, 1
	}
	var err error
	if cfg.Sizes, err = parseSizes(sizes); err != nil {
		fail(err)
	}
	if cfg.Scenarios, err = pickScenarios(only); err != nil {
		fail(err)
	}
	if cfg.Concurrency < 1 || cfg.Rounds < 1 || cfg.Requests < 0 || (cfg.Requests == 0 && cfg.Duration <= 0) {
		fail(fmt.Errorf("need -concurrency ≥ 1, -rounds ≥ 1 and a positive -duration or -requests"))
	}
	if cfg.Root, err = moduleRoot(); err != nil {
		fail(err)
	}
	switch cfg.Out {
	case "":
		cfg.Out = cfg.Root + "/bench/results/latest.json"
	case "-":
		cfg.Out = ""
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := run(ctx, cfg, os.Stderr)
	if err != nil {
		fail(err)
	}
	rep.printTable(os.Stdout)
	if cfg.Out != "" {
		if err := rep.writeJSON(cfg.Out); err != nil {
			fail(err)
		}
		fmt.Fprintln(os.Stderr, "results written to", cfg.Out)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

func parseSizes(s string) ([]int, error) {
	var sizes []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.ReplaceAll(strings.TrimSpace(f), "_", ""))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-sizes: %q is not a positive number of contacts", f)
		}
		sizes = append(sizes, n)
	}
	return sizes, nil
}

// pickScenarios returns the scenarios named in the comma-separated list, in their usual order;
// all of them for an empty list.
func pickScenarios(list string) ([]scenario, error) {
	if list == "" {
		return scenarios, nil
	}
	want := map[string]bool{}
	for _, name := range strings.Split(list, ",") {
		want[strings.TrimSpace(name)] = true
	}
	var picked []scenario
	for _, sc := range scenarios {
		if want[sc.Name] {
			picked = append(picked, sc)
			delete(want, sc.Name)
		}
	}
	for name := range want {
		return nil, fmt.Errorf("-scenarios: no scenario is called %q", name)
	}
	return picked, nil
}

// config is one run of the harness.
type config struct {
	Sizes       []int
	Scenarios   []scenario    // in the order they run
	Duration    time.Duration // per scenario, when Requests is 0
	Requests    int           // per scenario; 0 means Duration
	Rounds      int           // the scenario's Duration or Requests is split into this many rounds
	Warmup      time.Duration
	Concurrency int
	Out         string // the JSON file; empty for none
	Root        string // the module's root directory
	Keep        bool   // keep the work directory
}

func defaultConfig() config {
	return config{Sizes: []int{10_000}, Scenarios: scenarios, Rounds: 5, Duration: 5 * time.Second, Warmup: time.Second, Concurrency: 32}
}
