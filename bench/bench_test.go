package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSmoke runs the whole harness on two tiny accounts with a few hundred requests per
// scenario, so that `make test` notices when it stops working. The numbers mean nothing here.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server binaries")
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	const requests, rounds = 300, 2
	cfg := config{
		Sizes:       []int{200, 400},
		Requests:    requests,
		Rounds:      rounds,
		Concurrency: 32,
		Out:         filepath.Join(t.TempDir(), "results.json"),
		Root:        root,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var progress bytes.Buffer
	rep, err := run(ctx, cfg, &progress)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, progress.String())
	}
	var table bytes.Buffer
	rep.printTable(&table)
	if err := rep.writeJSON(cfg.Out); err != nil {
		t.Fatal(err)
	}

	if f := rep.Floor; f.Slices != rounds*len(scenarios) || f.Requests != requests*uint64(len(scenarios)) || f.Errors != 0 || f.RPS <= 0 {
		// One floor slice per round of a scenario: the sizes take turns after it.
		t.Errorf("floor: %+v, want %d slices of %d requests without errors", f, rounds*len(scenarios), requests/rounds)
	}
	if len(rep.Scenarios) != 2*len(scenarios) {
		t.Fatalf("%d scenario results, want %d:\n%s", len(rep.Scenarios), 2*len(scenarios), table.String())
	}
	for i, s := range rep.Scenarios {
		want, size := scenarios[i%len(scenarios)].Name, cfg.Sizes[i/len(scenarios)]
		if s.Scenario != want || s.Size != size {
			t.Errorf("result %d is %s at %d, want %s at %d", i, s.Scenario, s.Size, want, size)
		}
		if s.Requests != requests || s.Errors != 0 {
			t.Errorf("%s: %d requests, %d errors (%v, %v), want %d without errors",
				s.Scenario, s.Requests, s.Errors, s.Status, s.ErrorSamples, requests)
		}
		if s.RPS <= 0 || s.FloorRPS <= 0 || s.Ratio <= 0 || s.P50ms <= 0 || s.P99ms < s.P50ms || s.PeakRSSMiB <= 0 || s.StartupMS <= 0 {
			t.Errorf("%s: implausible measurement %+v", s.Scenario, s)
		}
		if !strings.Contains(table.String(), s.Scenario) {
			t.Errorf("the table has no row for %s:\n%s", s.Scenario, table.String())
		}
	}
	if len(rep.Sizes) != 2 {
		t.Errorf("sizes = %+v, want two", rep.Sizes)
	}
	for _, size := range rep.Sizes {
		if size.SeedS <= 0 || size.StartupMaxMS <= 0 || size.Starts != len(scenarios) {
			t.Errorf("size %+v, want its seeding time and the start-ups of %d servers", size, len(scenarios))
		}
	}
	growth := 0
	for _, c := range rep.Checks {
		if strings.Contains(c.Name, "p50 / its p50 at 200") {
			growth++
		}
	}
	if growth != 3 {
		t.Errorf("%d read latency growth checks, want one for each read scenario:\n%s", growth, table.String())
	}

	data, err := os.ReadFile(cfg.Out)
	if err != nil {
		t.Fatal(err)
	}
	var written struct {
		Floor     struct{ RPS float64 }
		Scenarios []map[string]any
	}
	if err := json.Unmarshal(data, &written); err != nil {
		t.Fatalf("results JSON: %v\n%s", err, data)
	}
	if written.Floor.RPS <= 0 || len(written.Scenarios) != 2*len(scenarios) {
		t.Fatalf("results JSON has floor %v and %d scenarios, want %d:\n%s", written.Floor.RPS, len(written.Scenarios), 2*len(scenarios), data)
	}
	for _, s := range written.Scenarios {
		for _, field := range []string{"size", "scenario", "rps", "p50_ms", "p99_ms", "errors", "peak_rss_mib", "floor_rps", "ratio"} {
			if _, ok := s[field]; !ok {
				t.Errorf("results JSON scenario %v has no %s", s["scenario"], field)
			}
		}
	}
}
