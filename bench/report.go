package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Targets the server should meet, besides each scenario's MinRatio.
const (
	// maxGrowth bounds a read's p50 at a larger size against the smallest size, and the deep
	// page's p50 against the first page's.
	maxGrowth = 1.3
	// maxMixedRSSMiB bounds the server's peak RSS under the mixed load.
	maxMixedRSSMiB = 100
	// maxStartupMS bounds the time from starting `protocol serve` to its first healthy /healthz.
	maxStartupMS = 300
)

// report is one run of the harness, as printed and as written to JSON.
type report struct {
	StartedAt   time.Time `json:"started_at"`
	Commit      string    `json:"commit,omitempty"`
	GoVersion   string    `json:"go_version"`
	CPUs        int       `json:"cpus"`
	Concurrency int       `json:"concurrency"`
	DurationS   float64   `json:"duration_s,omitempty"` // per scenario
	Requests    int       `json:"requests,omitempty"`   // per scenario, instead of a duration
	Rounds      int       `json:"rounds"`               // each scenario is measured in rounds, each after a round of the floor
	WarmupS     float64   `json:"warmup_s"`
	TotalS      float64   `json:"total_s"`
	// PeakRSS says how peak_rss_mib is measured.
	PeakRSS   string           `json:"peak_rss"`
	Floor     floorResult      `json:"floor"`
	Sizes     []sizeResult     `json:"sizes"`
	Scenarios []scenarioResult `json:"scenarios"`
	Checks    []check          `json:"checks"`
}

// floorResult sums up the floor's slices, one before each round of each scenario.
type floorResult struct {
	Slices   int     `json:"slices"`
	Requests uint64  `json:"requests"`
	RPS      float64 `json:"rps"` // the mean of the slices'
	MinRPS   float64 `json:"min_rps"`
	MaxRPS   float64 `json:"max_rps"`
	P50ms    float64 `json:"p50_ms"` // over every request of every slice
	P99ms    float64 `json:"p99_ms"`
	Errors   uint64  `json:"errors"`
	// PeakRSSMiB is the floor process's VmHWM over the whole run.
	PeakRSSMiB float64 `json:"peak_rss_mib"`
	StartupMS  float64 `json:"startup_ms"`
}

type sizeResult struct {
	Contacts int     `json:"contacts"`
	SeedS    float64 `json:"seed_s"`
	// The times from starting `protocol serve` to its first healthy /healthz, one per scenario:
	// the first start on the new database, the median and the slowest.
	StartupFirstMS  float64 `json:"startup_first_ms"`
	StartupMedianMS float64 `json:"startup_median_ms"`
	StartupMaxMS    float64 `json:"startup_max_ms"`
	Starts          int     `json:"starts"` // server processes started, one per scenario
}

type scenarioResult struct {
	Size     int    `json:"size"`
	Scenario string `json:"scenario"`
	measurement
	// FloorRPS is the floor's throughput in the slice just before the scenario.
	FloorRPS float64 `json:"floor_rps"`
	Ratio    float64 `json:"ratio"` // RPS / FloorRPS
}

// check is one target: Pass is nil when the run did not measure it.
type check struct {
	Name   string `json:"name"`
	Size   int    `json:"size,omitempty"`
	Value  string `json:"value"`
	Target string `json:"target"`
	Pass   *bool  `json:"pass"`
}

func (r *report) result(size int, name string) *scenarioResult {
	for i := range r.Scenarios {
		if s := &r.Scenarios[i]; s.Size == size && s.Scenario == name {
			return s
		}
	}
	return nil
}

func scenarioByName(name string) scenario {
	for _, sc := range scenarios {
		if sc.Name == name {
			return sc
		}
	}
	return scenario{}
}

// evaluate fills Checks from the measurements.
func (r *report) evaluate() {
	r.Checks = nil
	add := func(name string, size int, value, target string, pass bool) {
		r.Checks = append(r.Checks, check{Name: name, Size: size, Value: value, Target: target, Pass: &pass})
	}
	smallest := 0
	for _, s := range r.Sizes {
		if smallest == 0 || s.Contacts < smallest {
			smallest = s.Contacts
		}
	}
	for _, size := range r.Sizes {
		n := size.Contacts
		for _, sc := range scenarios {
			res := r.result(n, sc.Name)
			if sc.MinRatio == 0 || res == nil {
				continue
			}
			target := fmt.Sprintf("≥ %.2f×", sc.MinRatio)
			value := fmt.Sprintf("%.2f×", res.Ratio)
			pass := res.Ratio >= sc.MinRatio
			if sc.ZeroErrors {
				target += ", 0 errors"
				value += fmt.Sprintf(", %d errors", res.Errors)
				pass = pass && res.Errors == 0
			}
			add(sc.Name+" throughput / floor", n, value, target, pass)
		}
		if first, deep := r.result(n, "list-first"), r.result(n, "list-deep"); first != nil && deep != nil && first.P50ms > 0 {
			g := deep.P50ms / first.P50ms
			add("list-deep p50 / list-first p50", n, fmt.Sprintf("%.2f× (%.2fms / %.2fms)", g, deep.P50ms, first.P50ms),
				fmt.Sprintf("≤ %.1f×", maxGrowth), g <= maxGrowth)
		}
		if n != smallest {
			for _, sc := range scenarios {
				big, small := r.result(n, sc.Name), r.result(smallest, sc.Name)
				if !sc.Read || big == nil || small == nil || small.P50ms == 0 {
					continue
				}
				g := big.P50ms / small.P50ms
				add(fmt.Sprintf("%s p50 / its p50 at %s", sc.Name, count(smallest)), n,
					fmt.Sprintf("%.2f× (%.2fms / %.2fms)", g, big.P50ms, small.P50ms), fmt.Sprintf("≤ %.1f×", maxGrowth), g <= maxGrowth)
			}
		}
		if mixed := r.result(n, "mixed"); mixed != nil {
			add("mixed peak RSS", n, fmt.Sprintf("%.1f MiB", mixed.PeakRSSMiB), fmt.Sprintf("< %d MiB", maxMixedRSSMiB),
				mixed.PeakRSSMiB < maxMixedRSSMiB)
		}
		// The median of the starts: one start slowed by other work on the machine is noise.
		add("start-up to healthy /healthz, median", n, fmt.Sprintf("%.0fms (slowest %.0fms)", size.StartupMedianMS, size.StartupMaxMS),
			fmt.Sprintf("< %dms", maxStartupMS), size.StartupMedianMS < maxStartupMS)
	}
	if len(r.Sizes) == 1 {
		r.Checks = append(r.Checks, check{Name: "read p50s at a larger size / at " + count(smallest),
			Value: "not measured: one size only (make bench-large)", Target: fmt.Sprintf("≤ %.1f×", maxGrowth)})
	}
}

// printTable writes the results table and the targets.
func (r *report) printTable(w io.Writer) {
	fmt.Fprintf(w, "\nProtocol benchmark, %s, commit %s, %s, %d CPUs\n", r.StartedAt.Format(time.RFC3339), orNone(r.Commit), r.GoVersion, r.CPUs)
	length := fmt.Sprintf("%gs", r.DurationS)
	if r.Requests > 0 {
		length = fmt.Sprintf("%d requests", r.Requests)
	}
	fmt.Fprintf(w, "%d workers, %s per scenario after a %gs warm-up, measured in %d round(s), each after a round of the floor, the sizes taking turns; a new server process per scenario and size; peak RSS is its VmHWM\n",
		r.Concurrency, length, r.WarmupS, r.Rounds)
	for _, s := range r.Sizes {
		fmt.Fprintf(w, "%s contacts: seeded in %.1fs; start-up to healthy: first %.0fms, median %.0fms, slowest %.0fms of %d starts\n",
			count(s.Contacts), s.SeedS, s.StartupFirstMS, s.StartupMedianMS, s.StartupMaxMS, s.Starts)
	}
	fmt.Fprintf(w, "floor: %.0f req/s, the mean of %d slices of the same load, one just before each round (%.0f to %.0f); each ratio is to the floor's slices of its own scenario\n\n",
		r.Floor.RPS, r.Floor.Slices, r.Floor.MinRPS, r.Floor.MaxRPS)

	const row = "%-10s %-11s %9s %8s %8s %7s %-11s %9s %9s %7s %9s %8s\n"
	fmt.Fprintf(w, row, "size", "scenario", "requests", "req/s", "floor/s", "×floor", "target", "p50", "p99", "errors", "peak RSS", "start-up")
	fmt.Fprintf(w, row, "-", "floor", strconv.FormatUint(r.Floor.Requests, 10), fmt.Sprintf("%.0f", r.Floor.RPS), "", "1.00×", "",
		fmt.Sprintf("%.2fms", r.Floor.P50ms), fmt.Sprintf("%.2fms", r.Floor.P99ms), strconv.FormatUint(r.Floor.Errors, 10),
		fmt.Sprintf("%.1fMiB", r.Floor.PeakRSSMiB), fmt.Sprintf("%.0fms", r.Floor.StartupMS))
	for _, s := range r.Scenarios {
		target := ""
		if sc := scenarioByName(s.Scenario); sc.MinRatio > 0 {
			target = fmt.Sprintf("≥%.2f %s", sc.MinRatio, passWord(s.Ratio >= sc.MinRatio && (!sc.ZeroErrors || s.Errors == 0)))
		}
		fmt.Fprintf(w, row, count(s.Size), s.Scenario, strconv.FormatUint(s.Requests, 10), fmt.Sprintf("%.0f", s.RPS),
			fmt.Sprintf("%.0f", s.FloorRPS), fmt.Sprintf("%.2f×", s.Ratio), target,
			fmt.Sprintf("%.2fms", s.P50ms), fmt.Sprintf("%.2fms", s.P99ms), strconv.FormatUint(s.Errors, 10),
			fmt.Sprintf("%.1fMiB", s.PeakRSSMiB), fmt.Sprintf("%.0fms", s.StartupMS))
	}

	for _, s := range r.Scenarios {
		if s.Errors > 0 {
			fmt.Fprintf(w, "%s %s: %d errors, status codes %v, e.g. %s\n", count(s.Size), s.Scenario, s.Errors, s.Status,
				strings.Join(s.ErrorSamples, "; "))
		}
	}

	fmt.Fprintf(w, "\ntargets\n")
	for _, c := range r.Checks {
		verdict := "n/a"
		if c.Pass != nil {
			verdict = passWord(*c.Pass)
		}
		at := ""
		if c.Size > 0 {
			at = " at " + count(c.Size)
		}
		fmt.Fprintf(w, "  %-4s  %-58s %s (target %s)\n", verdict, c.Name+at, c.Value, c.Target)
	}
}

// writeJSON writes the report to path, creating its directory.
func (r *report) writeJSON(path string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

func passWord(ok bool) string {
	if ok {
		return "pass"
	}
	return "FAIL"
}

func orNone(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// count writes n with thousands separators: 1,000,000.
func count(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
