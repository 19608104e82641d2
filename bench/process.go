package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// healthyWithin bounds the wait for a started server's first healthy /healthz.
const healthyWithin = 60 * time.Second

// pollEvery is how often /healthz is asked while a server starts: the resolution of the
// start-up time.
const pollEvery = time.Millisecond

// moduleRoot is the directory of the go.mod that the working directory belongs to.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the module: run from the repository")
	}
	return filepath.Dir(gomod), nil
}

// build compiles main packages of the module into dir, in one go command so that they build
// in parallel, and returns the binaries' paths. It never passes -race: the harness measures the
// server as it ships.
func build(ctx context.Context, root, dir string, pkgs ...string) ([]string, error) {
	cmd := exec.CommandContext(ctx, "go", append([]string{"build", "-o", dir + string(filepath.Separator)}, pkgs...)...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build %s: %w\n%s", strings.Join(pkgs, " "), err, out)
	}
	bins := make([]string, len(pkgs))
	for i, pkg := range pkgs {
		bins[i] = filepath.Join(dir, filepath.Base(pkg))
	}
	return bins, nil
}

// describeCommit names the checked-out commit, with -dirty for uncommitted changes; "" if git
// cannot tell.
func describeCommit(root string) string {
	cmd := exec.Command("git", "describe", "--always", "--dirty")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// process is a server started for one measurement.
type process struct {
	cmd     *exec.Cmd
	base    string // http://host:port
	logPath string
	exited  chan struct{}
	waitErr error
	// Startup is the time from starting the process to its first healthy /healthz.
	Startup time.Duration
}

// startServer starts bin with args plus --addr on a free loopback port, and waits for its
// first healthy /healthz. Its output goes to logPath. A port taken by someone else between
// choosing it and binding it is tried again with another.
func startServer(ctx context.Context, bin string, args []string, logPath string) (*process, error) {
	var err error
	for range 3 {
		var p *process
		if p, err = startOnce(ctx, bin, args, logPath); err == nil {
			return p, nil
		}
		if !errors.Is(err, errExitedEarly) {
			return nil, err
		}
	}
	return nil, err
}

var errExitedEarly = errors.New("exited before it was healthy")

func startOnce(ctx context.Context, bin string, args []string, logPath string) (*process, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child has its own copy
	cmd := exec.Command(bin, append(slices.Clone(args), "--addr", addr)...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	p := &process{cmd: cmd, base: "http://" + addr, logPath: logPath, exited: make(chan struct{})}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() { p.waitErr = cmd.Wait(); close(p.exited) }()

	poll := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}}
	deadline := start.Add(healthyWithin)
	for {
		resp, err := poll.Get(p.base + "/healthz")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				p.Startup = time.Since(start)
				return p, nil
			}
		}
		select {
		case <-p.exited:
			return nil, fmt.Errorf("%s %w (%v): %s", filepath.Base(bin), errExitedEarly, p.waitErr, p.logTail())
		case <-ctx.Done():
			p.stop()
			return nil, ctx.Err()
		case <-time.After(pollEvery):
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("%s not healthy within %s: %s", filepath.Base(bin), healthyWithin, p.logTail())
		}
	}
}

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}

// PeakRSS is the process's resident-set high-water mark (VmHWM) in bytes: the most memory it
// has held at once since it started.
func (p *process) PeakRSS() (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmHWM in /proc/PID/status")
}

// Running reports whether the process has not exited.
func (p *process) Running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// stop asks the process to shut down (SIGTERM), kills it if it has not within 30 s, and
// returns an error if it did not exit cleanly.
func (p *process) stop() error {
	if !p.Running() {
		return fmt.Errorf("exited during the run (%v): %s", p.waitErr, p.logTail())
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
		return errors.New("did not stop within 30 s of SIGTERM; killed")
	}
	if p.waitErr != nil {
		return fmt.Errorf("stopped with %v: %s", p.waitErr, p.logTail())
	}
	return nil
}

// logTail is the end of the process's output, for error messages.
func (p *process) logTail() string {
	data, _ := os.ReadFile(p.logPath)
	const keep = 2000
	if len(data) > keep {
		data = data[len(data)-keep:]
	}
	return strings.TrimSpace(string(data))
}
