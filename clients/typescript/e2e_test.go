package typescript_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"protocol/server/servertest"
)

// TestTypeScriptClient checks that src/schema.d.ts is what openapi-typescript makes of
// openapi.yaml today, compiles src/e2e.ts against it with tsc --strict, and runs it with Node
// against a real server. Without Node it skips, except in CI, where it fails.
func TestTypeScriptClient(t *testing.T) {
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is required in CI: %v", tool, err)
			}
			t.Skipf("%s not found, skipping the TypeScript client test (install Node.js 20 to run it): %v", tool, err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()

	if stale("node_modules/.package-lock.json", "package-lock.json") {
		run(ctx, t, "npm ci", nil, "npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts")
	}

	fresh := filepath.Join(t.TempDir(), "schema.d.ts")
	run(ctx, t, "openapi-typescript", nil, "node_modules/.bin/openapi-typescript", "../../openapi.yaml", "--output", fresh)
	want, err := os.ReadFile(fresh)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("src/schema.d.ts")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("src/schema.d.ts is stale: run 'make gen' and commit the result")
	}

	run(ctx, t, "tsc --strict", nil, "node_modules/.bin/tsc", "-p", ".", "--strict")

	s := servertest.New(t)
	out := run(ctx, t, "node dist/e2e.js", []string{"PROTOCOL_URL=" + s.URL, "PROTOCOL_KEY=" + s.Key}, "node", "dist/e2e.js")
	t.Logf("e2e.js:\n%s", out)
}

// run runs a command in this directory, logs how long it took, and fails the test with its
// output if it fails.
func run(ctx context.Context, t *testing.T, name string, env []string, args ...string) []byte {
	t.Helper()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "NPM_CONFIG_UPDATE_NOTIFIER=false")
	cmd.Env = append(cmd.Env, env...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("%s: %.1fs", name, time.Since(start).Seconds())
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
	return out
}

// stale reports whether target is missing or older than source.
func stale(target, source string) bool {
	ti, err := os.Stat(target)
	if err != nil {
		return true
	}
	si, err := os.Stat(source)
	return err != nil || si.ModTime().After(ti.ModTime())
}
