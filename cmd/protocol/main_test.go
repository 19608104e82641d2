package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// waitLimit bounds every wait of these tests: a server start, a shutdown, a response.
const waitLimit = 5 * time.Second

// pollEvery is the polling interval while waiting for a server to come up or go down.
const pollEvery = 5 * time.Millisecond

var (
	keyLine = regexp.MustCompile(`^sk_[A-Za-z0-9]{40}$`)
	anyKey  = regexp.MustCompile(`sk_[A-Za-z0-9]{40}`)
	idShape = regexp.MustCompile(`^[A-Za-z0-9]{16}$`)
)

// syncBuffer is a bytes.Buffer that a running server and the test may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// client never keeps connections alive, so no idle connection outlives a test's server.
var client = &http.Client{Timeout: waitLimit, Transport: &http.Transport{DisableKeepAlives: true}}

// runCmd runs a command that returns by itself (not serve).
func runCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr syncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	err := run(ctx, args, &stdout, &stderr)
	return stdout.String(), err
}

// runOK runs a command that must succeed and returns its stdout.
func runOK(t *testing.T, args ...string) string {
	t.Helper()
	out, err := runCmd(t, args...)
	if err != nil {
		t.Fatalf("protocol %s: %v\nstdout: %s", strings.Join(args, " "), err, out)
	}
	return out
}

// createKey runs `keys create` and returns the key, which must be the last line of stdout.
func createKey(t *testing.T, db, name string) (key, out string) {
	t.Helper()
	out = runOK(t, "keys", "create", "--db", db, "--name", name)
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	key = lines[len(lines)-1]
	if !keyLine.MatchString(key) {
		t.Fatalf("last line of `keys create` is %q, want the key alone (sk_ and 40 letters and digits)\nstdout: %s", key, out)
	}
	if !strings.HasSuffix(out, key+"\n") {
		t.Errorf("`keys create` output does not end with the key and a newline: %q", out)
	}
	return key, out
}

// listedKey is one row of `keys list`.
type listedKey struct {
	ID, Account, Name, Hint, Created, Revoked string
}

// listKeys runs `keys list` and parses its table.
func listKeys(t *testing.T, args ...string) []listedKey {
	t.Helper()
	out := runOK(t, append([]string{"keys", "list"}, args...)...)
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "KEY_ID") {
		t.Fatalf("`keys list` has no header line:\n%s", out)
	}
	if m := anyKey.FindString(out); m != "" {
		t.Errorf("`keys list` shows a whole key %s:\n%s", m, out)
	}
	var keys []listedKey
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		if len(f) != 6 {
			t.Fatalf("`keys list` row %q has %d columns, want 6:\n%s", line, len(f), out)
		}
		keys = append(keys, listedKey{f[0], f[1], f[2], f[3], f[4], f[5]})
	}
	return keys
}

// keyNamed returns the listed key with that name, which must be the only one.
func keyNamed(t *testing.T, keys []listedKey, name string) listedKey {
	t.Helper()
	var found []listedKey
	for _, k := range keys {
		if k.Name == name {
			found = append(found, k)
		}
	}
	if len(found) != 1 {
		t.Fatalf("`keys list` has %d keys named %q, want 1: %+v", len(found), name, keys)
	}
	if !idShape.MatchString(found[0].ID) {
		t.Fatalf("key id %q is not 16 letters and digits", found[0].ID)
	}
	return found[0]
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// serveRun is `protocol serve` running in a goroutine.
type serveRun struct {
	addr           string
	stdout, stderr *syncBuffer
	cancel         context.CancelFunc
	done           chan error // receives run's result once

	stopOnce sync.Once
	stopErr  error
}

// startServe runs `serve args...` and waits until addr answers /healthz. The server is stopped
// when the test ends, if the test has not stopped it.
func startServe(t *testing.T, addr string, args ...string) *serveRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &serveRun{addr: addr, stdout: &syncBuffer{}, stderr: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- run(ctx, append([]string{"serve"}, args...), s.stdout, s.stderr) }()
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("serve at cleanup: %v\nstderr: %s", err, s.stderr)
		}
	})
	s.waitHealthy(t)
	return s
}

// waitHealthy polls GET /healthz until it answers 200.
func (s *serveRun) waitHealthy(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		select {
		case err := <-s.done:
			s.done <- err // keep it for stop
			t.Fatalf("serve returned before it was healthy: %v\nstderr: %s", err, s.stderr)
		default:
		}
		resp, err := client.Get("http://" + s.addr + "/healthz")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve at %s not healthy after %s (last: %v)\nstderr: %s", s.addr, waitLimit, err, s.stderr)
		}
		time.Sleep(pollEvery)
	}
}

// stop cancels serve's context and returns what run returned; it is safe to call again.
func (s *serveRun) stop() error {
	s.stopOnce.Do(func() {
		s.cancel()
		select {
		case s.stopErr = <-s.done:
		case <-time.After(waitLimit):
			s.stopErr = fmt.Errorf("run did not return within %s of cancellation", waitLimit)
		}
	})
	return s.stopErr
}

// running reports whether run has not returned yet.
func (s *serveRun) running() bool {
	select {
	case err := <-s.done:
		s.done <- err
		return false
	default:
		return true
	}
}

// response is a received response with its body read.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, r.Body)
	}
	return m
}

// do sends a request to the server with the key (none if empty) and an optional form body.
func (s *serveRun) do(t *testing.T, method, path, key string, form url.Values) response {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, "http://"+s.addr+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: data}
}

var frankForm = url.Values{"username": {"FrankMcCallister"}, "phone_number": {"1-800-759-3000"}}

// assertEmptyList checks the answer of a list of nothing: exactly {"has_more":false,"data":[]}.
func assertEmptyList(t *testing.T, r response) {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("GET /v1/contacts: %d %s, want 200", r.Status, r.Body)
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(r.Body, &got); err != nil {
		t.Fatalf("GET /v1/contacts: %v\n%s", err, r.Body)
	}
	if len(got) != 2 || string(got["has_more"]) != "false" || string(got["data"]) != "[]" {
		t.Errorf("GET /v1/contacts = %s, want {\"has_more\":false,\"data\":[]}", r.Body)
	}
}

// assertCleanlyClosed checks what a clean shutdown leaves: the WAL checkpointed into the
// database file and removed.
func assertCleanlyClosed(t *testing.T, db string) {
	t.Helper()
	if _, err := os.Stat(db); err != nil {
		t.Errorf("database file: %v", err)
	}
	if fi, err := os.Stat(db + "-wal"); err == nil && fi.Size() > 0 {
		t.Errorf("%s-wal still holds %d bytes after shutdown: the database was not closed", db, fi.Size())
	}
}

func TestKeysCreateServeAndRevoke(t *testing.T) {
	db := filepath.Join(t.TempDir(), "protocol.db")
	key, createOut := createKey(t, db, "acme")

	keys := listKeys(t, "--db", db)
	if len(keys) != 1 {
		t.Fatalf("`keys list` shows %d keys, want 1: %+v", len(keys), keys)
	}
	k := keyNamed(t, keys, "acme")
	if !strings.Contains(createOut, k.ID) || !strings.Contains(createOut, k.Account) {
		t.Errorf("`keys create` output does not name key id %s and account %s:\n%s", k.ID, k.Account, createOut)
	}
	if k.Hint != key[:7]+"…" || k.Revoked != "-" {
		t.Errorf("listed key %+v, want hint %s… and not revoked", k, key[:7])
	}

	addr := freeAddr(t)
	s := startServe(t, addr, "--db", db, "--addr", addr)
	if out := s.stdout.String(); anyKey.MatchString(out) {
		t.Errorf("serve on a database with a key printed a key:\n%s", out)
	}

	assertEmptyList(t, s.do(t, http.MethodGet, "/v1/contacts", key, nil))
	r := s.do(t, http.MethodPost, "/v1/contacts", key, frankForm)
	if r.Status != http.StatusCreated {
		t.Fatalf("POST /v1/contacts (form): %d %s, want 201", r.Status, r.Body)
	}
	if c := r.json(t); c["username"] != "FrankMcCallister" || c["phone_number"] != "1-800-759-3000" {
		t.Errorf("created contact = %s", r.Body)
	}
	list := s.do(t, http.MethodGet, "/v1/contacts", key, nil)
	if data, _ := list.json(t)["data"].([]any); list.Status != http.StatusOK || len(data) != 1 {
		t.Errorf("list after create: %d %s, want one contact", list.Status, list.Body)
	}

	// Revoke while the server runs: the next request with the key is refused.
	out := runOK(t, "keys", "revoke", "--db", db, k.ID)
	if !strings.Contains(out, k.ID) {
		t.Errorf("`keys revoke` said %q, want the key id", out)
	}
	r = s.do(t, http.MethodGet, "/v1/contacts", key, nil)
	if r.Status != http.StatusUnauthorized {
		t.Fatalf("request with a revoked key: %d %s, want 401", r.Status, r.Body)
	}
	if h := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer") {
		t.Errorf("401 has WWW-Authenticate %q, want a Bearer challenge", h)
	}
	if e, _ := r.json(t)["error"].(map[string]any); e["code"] != "unauthorized" {
		t.Errorf("401 body = %s, want error code unauthorized", r.Body)
	}
	if !s.running() {
		t.Fatal("serve stopped after a revocation")
	}
	if r := s.do(t, http.MethodGet, "/healthz", "", nil); r.Status != http.StatusOK {
		t.Errorf("healthz after revocation: %d", r.Status)
	}
	if k := keyNamed(t, listKeys(t, "--db", db), "acme"); k.Revoked == "-" {
		t.Errorf("`keys list` after revoke shows %+v, want a revocation time", k)
	}

	if err := s.stop(); err != nil {
		t.Fatalf("serve after cancel: %v, want nil\nstderr: %s", err, s.stderr)
	}
	if !strings.Contains(s.stderr.String(), "stopped") {
		t.Errorf("serve's log does not say it stopped:\n%s", s.stderr)
	}
	assertCleanlyClosed(t, db)
}

func TestServeCreatesFirstKeyOnce(t *testing.T) {
	db := filepath.Join(t.TempDir(), "protocol.db")
	addr := freeAddr(t)
	s := startServe(t, addr, "--db", db, "--addr", addr)
	out := s.stdout.String()

	keys := anyKey.FindAllString(out, -1)
	if len(keys) == 0 {
		t.Fatalf("first serve on an empty database printed no key:\n%s", out)
	}
	key := keys[0]
	for _, k := range keys {
		if k != key {
			t.Fatalf("first serve printed two different keys %s and %s:\n%s", key, k, out)
		}
	}
	var keyAlone, curl bool
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if line == key {
			keyAlone = true
		}
		if strings.HasPrefix(line, "curl ") {
			curl = true
			want := fmt.Sprintf(`curl http://%s/v1/contacts -H "Authorization: Bearer %s"`, addr, key)
			if line != want {
				t.Errorf("curl line is\n  %s\nwant\n  %s", line, want)
			}
		}
	}
	if !keyAlone || !curl {
		t.Errorf("output lacks the key on a line of its own (%v) or a curl line (%v):\n%s", keyAlone, curl, out)
	}
	assertEmptyList(t, s.do(t, http.MethodGet, "/v1/contacts", key, nil))
	if err := s.stop(); err != nil {
		t.Fatalf("first serve: %v", err)
	}

	addr2 := freeAddr(t)
	s2 := startServe(t, addr2, "--db", db, "--addr", addr2)
	if out := s2.stdout.String(); anyKey.MatchString(out) || strings.Contains(out, "curl") {
		t.Errorf("second serve on the same database printed a key:\n%s", out)
	}
	if r := s2.do(t, http.MethodGet, "/v1/contacts", key, nil); r.Status != http.StatusOK {
		t.Errorf("the first key on the second start: %d %s", r.Status, r.Body)
	}
	if err := s2.stop(); err != nil {
		t.Fatalf("second serve: %v", err)
	}
	if keys := listKeys(t, "--db", db); len(keys) != 1 || keys[0].Name != "default" {
		t.Errorf("after two starts `keys list` = %+v, want one key named default", keys)
	}
}

func TestEnvironmentDefaults(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "env.db")
	addr := freeAddr(t)
	t.Setenv("PROTOCOL_DB", db)
	t.Setenv("PROTOCOL_ADDR", addr)

	out := runOK(t, "keys", "create", "--name", "envy")
	if _, err := os.Stat(db); err != nil {
		t.Fatalf("keys create without --db did not use PROTOCOL_DB: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	envKey := lines[len(lines)-1]
	if !keyLine.MatchString(envKey) {
		t.Fatalf("last line of `keys create` is %q, want the key", envKey)
	}
	if keys := listKeys(t); len(keys) != 1 || keys[0].Name != "envy" {
		t.Errorf("`keys list` (PROTOCOL_DB) = %+v, want only envy", keys)
	}

	// Flags win over the environment.
	other := filepath.Join(dir, "other.db")
	flagKey, _ := createKey(t, other, "flagged")
	if keys := listKeys(t, "--db", other); len(keys) != 1 || keys[0].Name != "flagged" {
		t.Errorf("`keys list --db other` = %+v, want only flagged", keys)
	}

	s := startServe(t, addr)
	assertEmptyList(t, s.do(t, http.MethodGet, "/v1/contacts", envKey, nil))
	if r := s.do(t, http.MethodGet, "/v1/contacts", flagKey, nil); r.Status != http.StatusUnauthorized {
		t.Errorf("a key of another database: %d, want 401", r.Status)
	}
	if err := s.stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}
	assertCleanlyClosed(t, db)
}

func TestServeDrainsInFlightRequestOnCancel(t *testing.T) {
	db := filepath.Join(t.TempDir(), "protocol.db")
	key, _ := createKey(t, db, "acme")
	addr := freeAddr(t)
	s := startServe(t, addr, "--db", db, "--addr", addr)

	conn, err := net.DialTimeout("tcp", addr, waitLimit)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(waitLimit)); err != nil {
		t.Fatal(err)
	}
	body := "username=KevinMcCallister&phone_number=555-0100"
	// Expect: 100-continue makes the server say when the handler starts reading the body: from
	// then on the request is in flight, and the body is held back until after the cancel.
	fmt.Fprintf(conn, "POST /v1/contacts HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n",
		addr, key, len(body))
	br := bufio.NewReader(conn)
	cont, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("waiting for 100 Continue: %v", err)
	}
	if cont.StatusCode != http.StatusContinue {
		b, _ := io.ReadAll(cont.Body)
		t.Fatalf("got %d %s before sending the body, want 100 Continue", cont.StatusCode, b)
	}

	s.cancel()
	// The listener closes once shutdown has begun.
	deadline := time.Now().Add(waitLimit)
	for {
		c, err := net.DialTimeout("tcp", addr, waitLimit)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the listener still accepts connections after cancel")
		}
		time.Sleep(pollEvery)
	}
	if !s.running() {
		t.Fatalf("run returned while a request was in flight: %v", s.stop())
	}

	if _, err := io.WriteString(conn, body); err != nil {
		t.Fatalf("send body: %v", err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("in-flight request's response: %v", err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || !bytes.Contains(got, []byte("KevinMcCallister")) {
		t.Errorf("in-flight request answered %d %s, want 201 with the contact", resp.StatusCode, got)
	}
	if err := s.stop(); err != nil {
		t.Fatalf("serve after draining: %v, want nil\nstderr: %s", err, s.stderr)
	}
	assertCleanlyClosed(t, db)
}

func TestServeAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	db := filepath.Join(t.TempDir(), "protocol.db")
	out, err := runCmd(t, "serve", "--db", db, "--addr", ln.Addr().String())
	if err == nil {
		t.Fatal("serve on an address in use returned nil")
	}
	if anyKey.MatchString(out) {
		t.Errorf("serve that could not listen printed a key:\n%s", out)
	}
}

func TestCommandErrors(t *testing.T) {
	db := filepath.Join(t.TempDir(), "protocol.db")
	createKey(t, db, "acme")
	for _, c := range []struct {
		name   string
		args   []string
		is     error  // errors.Is target, if any
		text   string // in the message, if set
		hidden string // never in the message, if set
		usage  bool
	}{
		{name: "UnknownCommand", args: []string{"bogus"}, is: errUsage},
		{name: "KeysAlone", args: []string{"keys"}, is: errUsage},
		{name: "UnknownKeysCommand", args: []string{"keys", "bogus"}, is: errUsage},
		{name: "Misspelt", args: []string{"key", "list"}, is: errUsage},
		{name: "RevokeUnknownID", args: []string{"keys", "revoke", "--db", db, "AAAAAAAAAAAAAAAA"}, text: "no key with id AAAAAAAAAAAAAAAA"},
		{name: "RevokeMalformedID", args: []string{"keys", "revoke", "--db", db, "not-an-id"}, text: "no key with id"},
		{name: "RevokeNoID", args: []string{"keys", "revoke", "--db", db}, text: "exactly one KEY_ID"},
		{name: "RevokeTwoIDs", args: []string{"keys", "revoke", "--db", db, "a", "b"}, text: "exactly one KEY_ID"},
		{name: "ListUnknownFlag", args: []string{"keys", "list", "--db", db, "--bogus"}},
		{name: "ServeUnknownFlag", args: []string{"serve", "--db", db, "--bogus"}},
		{name: "ServeNoReadConns", args: []string{"serve", "--db", db, "--db-max-open-conns", "0"}, text: "--db-max-open-conns"},
		{name: "ServeNoWriteConns", args: []string{"serve", "--db", db, "--db-write-conns", "0"}, text: "--db-write-conns"},
		{name: "ServeNegativeLifetime", args: []string{"serve", "--db", db, "--db-conn-max-lifetime", "-1s"}, text: "--db-conn-max-lifetime"},
		// The message names the server, never the password.
		{name: "PostgresUnreachable", args: []string{"keys", "list", "--db", "postgres://acme:hunter2@127.0.0.1:1/protocol?connect_timeout=2"},
			text: "PostgreSQL database protocol at 127.0.0.1:1", hidden: "hunter2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := runCmd(t, c.args...)
			if err == nil {
				t.Fatal("succeeded, want an error")
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("error %v, want %v", err, c.is)
			}
			if c.text != "" && !strings.Contains(err.Error(), c.text) {
				t.Errorf("error %q does not say %q", err, c.text)
			}
			if c.hidden != "" && strings.Contains(err.Error(), c.hidden) {
				t.Errorf("error %q gives away %q", err, c.hidden)
			}
		})
	}
	if k := keyNamed(t, listKeys(t, "--db", db), "acme"); k.Revoked != "-" {
		t.Errorf("failed revocations revoked the key: %+v", k)
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{nil, {"help"}, {"-h"}, {"--help"}} {
		out, err := runCmd(t, args...)
		if err != nil || !strings.HasPrefix(out, "Usage:") || !strings.Contains(out, "PROTOCOL_DB") {
			t.Errorf("protocol %v = %v, %q; want the usage", args, err, out)
		}
	}
}
