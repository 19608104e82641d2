package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"protocol/server"
	"protocol/store"
)

// The tests of this file run protocol as a process of its own and treat it as an operator
// would: start it, load it, kill it or stop it with a signal, start it again on the same file.
// The process is this test binary: with runMainEnv set, TestMain runs main() and nothing else,
// so the process is the real command, built from the same sources.

// runMainEnv makes the test binary run main() instead of the tests.
const runMainEnv = "PROTOCOL_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// proc is a protocol process.
type proc struct {
	cmd            *exec.Cmd
	addr           string
	stdout, stderr *syncBuffer
	exited         chan struct{} // closed once the process has exited; then waitErr is set
	waitErr        error
}

// startProc starts `protocol serve --db db --addr <free port>` and waits until it answers
// /healthz. The process is killed when the test ends, if it still runs.
func startProc(t *testing.T, db string) *proc {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{addr: freeAddr(t), stdout: &syncBuffer{}, stderr: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(exe, "serve", "--db", db, "--addr", p.addr)
	p.cmd.Env = append(os.Environ(), runMainEnv+"=1")
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
	deadline := time.Now().Add(waitLimit)
	for {
		select {
		case <-p.exited:
			t.Fatalf("protocol serve exited before it was healthy: %v\nstderr: %s", p.waitErr, p.stderr)
		default:
		}
		resp, err := client.Get("http://" + p.addr + "/healthz")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("protocol serve at %s not healthy after %s (last: %v)\nstderr: %s", p.addr, waitLimit, err, p.stderr)
		}
		time.Sleep(pollEvery)
	}
}

// wait waits for the process to exit and returns how it ended.
func (p *proc) wait(t *testing.T) error {
	t.Helper()
	select {
	case <-p.exited:
		return p.waitErr
	case <-time.After(waitLimit):
		t.Fatalf("protocol serve did not exit within %s\nstderr: %s", waitLimit, p.stderr)
		return nil
	}
}

// get sends GET path with the key over a fresh connection.
func (p *proc) get(t *testing.T, path, key string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+p.addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, body
}

// listAll reads a whole list from the process, 100 at a time.
func (p *proc) listAll(t *testing.T, path, key string) []map[string]any {
	t.Helper()
	var all []map[string]any
	target := path + "?limit=100"
	for range 1000 {
		status, body := p.get(t, target, key)
		if status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", target, status, body)
		}
		var page struct {
			HasMore bool             `json:"has_more"`
			Data    []map[string]any `json:"data"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatalf("GET %s: %v\n%s", target, err, body)
		}
		all = append(all, page.Data...)
		if !page.HasMore || len(page.Data) == 0 {
			return all
		}
		target = path + "?limit=100&starting_after=" + page.Data[len(page.Data)-1]["id"].(string)
	}
	t.Fatalf("GET %s: more than 1000 pages", path)
	return nil
}

// assertIntegrity runs SQLite's own check of the whole file, which must say "ok".
func assertIntegrity(t *testing.T, db string) {
	t.Helper()
	conn, err := sql.Open("sqlite3", db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var result string
	if err := conn.QueryRow("PRAGMA integrity_check").Scan(&result); err != nil || result != "ok" {
		t.Errorf("integrity_check of %s: %q %v, want ok", db, result, err)
	}
}

// TestProcessKilledMidWriteKeepsAcknowledgedCreates kills protocol with SIGKILL while clients
// are creating contacts, restarts it on the same file, and checks that every create it had
// answered 201 is there, byte for byte, with its conversation. Creates that were not answered
// may or may not be there, but never half: a contact without its conversation.
func TestProcessKilledMidWriteKeepsAcknowledgedCreates(t *testing.T) {
	const (
		writers   = 12
		killAfter = 300 // acknowledged creates before the kill
	)
	db := filepath.Join(t.TempDir(), "protocol.db")
	key, _ := createKey(t, db, "crash")
	p := startProc(t, db)

	hc := &http.Client{Timeout: waitLimit, Transport: &http.Transport{MaxIdleConnsPerHost: writers}}
	defer hc.CloseIdleConnections()
	var (
		mu       sync.Mutex
		acked    = map[string][]byte{} // id -> the 201 body
		problems []string
		sent     atomic.Int64 // requests sent
		inFlight atomic.Int64 // requests sent and not answered yet
		killed   atomic.Bool
	)
	enough := make(chan struct{})
	var enoughOnce sync.Once
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !killed.Load(); i++ {
				username := fmt.Sprintf("crash-%02d-%04d", w, i)
				form := url.Values{"username": {username}, "phone_number": {fmt.Sprintf("+1 555-%02d-%04d", w, i)},
					"avatar_url": {"https://assets.protocol.chat/avatars/" + username + ".jpg"}, "display_name": {"Crash " + username}}
				ct, body := "application/x-www-form-urlencoded", form.Encode()
				if i%2 == 0 {
					b, _ := json.Marshal(map[string]string{"username": username, "phone_number": form.Get("phone_number"),
						"avatar_url": form.Get("avatar_url"), "display_name": form.Get("display_name")})
					ct, body = "application/json", string(b)
				}
				req, _ := http.NewRequest(http.MethodPost, "http://"+p.addr+"/v1/contacts", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+key)
				req.Header.Set("Content-Type", ct)
				sent.Add(1)
				inFlight.Add(1)
				resp, err := hc.Do(req)
				var data []byte
				if err == nil {
					data, err = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				inFlight.Add(-1)
				if err != nil {
					if !killed.Load() {
						mu.Lock()
						problems = append(problems, fmt.Sprintf("create %s before the kill: %v", username, err))
						mu.Unlock()
					}
					return
				}
				var c struct{ ID string }
				if resp.StatusCode != http.StatusCreated || json.Unmarshal(data, &c) != nil || c.ID == "" {
					mu.Lock()
					problems = append(problems, fmt.Sprintf("create %s: %d %s, want 201", username, resp.StatusCode, data))
					mu.Unlock()
					return
				}
				mu.Lock()
				acked[c.ID] = data
				n := len(acked)
				mu.Unlock()
				if n >= killAfter {
					enoughOnce.Do(func() { close(enough) })
				}
			}
		}()
	}
	writersDone := make(chan struct{})
	go func() {
		wg.Wait()
		close(writersDone)
	}()
	select {
	case <-enough:
	case <-writersDone: // they all gave up: problems says why
	case <-time.After(30 * time.Second):
	}
	atKill := inFlight.Load()
	killed.Store(true)
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("SIGKILL: %v", err)
	}
	waitErr := p.wait(t)
	<-writersDone // each request ends within the client's timeout
	if len(problems) > 0 {
		t.Fatalf("%d creates failed while the server ran:\n%s\nstderr: %s", len(problems), strings.Join(problems, "\n"), p.stderr)
	}
	var ee *exec.ExitError
	if !errors.As(waitErr, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("the server ended with %v, want death by SIGKILL", waitErr)
	}
	if len(acked) < killAfter {
		t.Fatalf("only %d creates were acknowledged in 30 s, want %d before the kill", len(acked), killAfter)
	}
	if atKill == 0 {
		t.Errorf("no create was in flight at the kill: the test did not kill mid-write")
	}

	p2 := startProc(t, db)
	if out := p2.stdout.String(); anyKey.MatchString(out) {
		t.Errorf("the restart printed a new key: the database lost its keys\n%s", out)
	}
	for id, want := range acked {
		status, got := p2.get(t, "/v1/contacts/"+id, key)
		if status != http.StatusOK || !bytes.Equal(got, want) {
			t.Errorf("acknowledged contact %s after the kill: %d %s, want 200 %s", id, status, got, want)
			continue
		}
		var c struct {
			ConversationID string `json:"conversation_id"`
		}
		_ = json.Unmarshal(got, &c)
		status, conv := p2.get(t, "/v1/conversations/"+c.ConversationID, key)
		var cv struct {
			ContactID string `json:"contact_id"`
		}
		if status != http.StatusOK || json.Unmarshal(conv, &cv) != nil || cv.ContactID != id {
			t.Errorf("conversation %s of acknowledged contact %s after the kill: %d %s", c.ConversationID, id, status, conv)
		}
	}
	contacts := p2.listAll(t, "/v1/contacts", key)
	conversations := p2.listAll(t, "/v1/conversations", key)
	for _, c := range contacts {
		if c["conversation_id"] == nil || !strings.HasPrefix(fmt.Sprint(c["username"]), "crash-") {
			t.Errorf("after the kill the list holds %v: not one of the creates, or without its conversation", c)
		}
	}
	survived := len(contacts)
	if survived < len(acked) || int64(survived) > sent.Load() || len(conversations) != survived {
		t.Errorf("after the kill: %d contacts and %d conversations; want from %d (acknowledged) to %d (sent), one conversation each",
			survived, len(conversations), len(acked), sent.Load())
	}
	t.Logf("%d writers sent %d creates: %d acknowledged, %d in flight at the SIGKILL; after the restart %d contacts: all %d acknowledged intact, %d unacknowledged whole",
		writers, sent.Load(), len(acked), atKill, survived, len(acked), survived-len(acked))

	if err := p2.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p2.wait(t); err != nil {
		t.Errorf("the restarted server after SIGTERM: %v, want exit 0\nstderr: %s", err, p2.stderr)
	}
	assertCleanlyClosed(t, db)
	assertIntegrity(t, db)
}

// TestProcessSIGTERMFinishesInFlightRequest sends SIGTERM while a create is half sent: the
// server stops accepting connections, answers the create once its body arrives, exits 0, and
// leaves a cleanly closed database that holds the contact.
func TestProcessSIGTERMFinishesInFlightRequest(t *testing.T) {
	db := filepath.Join(t.TempDir(), "protocol.db")
	key, _ := createKey(t, db, "graceful")
	p := startProc(t, db)

	conn, err := net.DialTimeout("tcp", p.addr, waitLimit)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(2 * waitLimit)); err != nil {
		t.Fatal(err)
	}
	body := "username=KevinMcCallister&phone_number=555-0100&display_name=Kevin"
	half := len(body) / 2
	// The server answers 100 Continue when the handler starts reading the body: from then on the
	// request is in flight. Half the body follows at once, the rest only after the signal.
	fmt.Fprintf(conn, "POST /v1/contacts HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n",
		p.addr, key, len(body))
	br := bufio.NewReader(conn)
	cont, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("waiting for 100 Continue: %v", err)
	}
	if cont.StatusCode != http.StatusContinue {
		b, _ := io.ReadAll(cont.Body)
		t.Fatalf("got %d %s before the body, want 100 Continue", cont.StatusCode, b)
	}
	if _, err := io.WriteString(conn, body[:half]); err != nil {
		t.Fatal(err)
	}

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(waitLimit)
	for {
		c, err := net.DialTimeout("tcp", p.addr, waitLimit)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the server still accepts connections after SIGTERM")
		}
		time.Sleep(pollEvery)
	}
	select {
	case <-p.exited:
		t.Fatalf("the server exited with a request in flight: %v\nstderr: %s", p.waitErr, p.stderr)
	default:
	}

	if _, err := io.WriteString(conn, body[half:]); err != nil {
		t.Fatalf("sending the rest of the body: %v", err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("the in-flight request's response: %v\nstderr: %s", err, p.stderr)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var created struct{ ID, Username string }
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(got, &created) != nil || created.Username != "KevinMcCallister" {
		t.Fatalf("the in-flight request answered %d %s, want 201 with the contact", resp.StatusCode, got)
	}
	if err := p.wait(t); err != nil {
		t.Fatalf("the server after SIGTERM: %v, want exit status 0\nstderr: %s", err, p.stderr)
	}
	if !strings.Contains(p.stderr.String(), "stopped") {
		t.Errorf("the server's log does not say it stopped:\n%s", p.stderr)
	}
	assertCleanlyClosed(t, db)
	assertIntegrity(t, db)

	st, err := store.Open(db, store.Options{})
	if err != nil {
		t.Fatalf("reopening the database: %v", err)
	}
	defer st.Close()
	ctx := context.Background()
	account, err := st.Authenticate(ctx, key)
	if err != nil {
		t.Fatalf("the key after the restart: %v", err)
	}
	c, err := st.Contact(ctx, account, created.ID)
	if err != nil || c.Username != "KevinMcCallister" || c.DisplayName == nil || *c.DisplayName != "Kevin" {
		t.Errorf("the contact created during shutdown: %+v %v", c, err)
	}
}

// slowTimeouts are short versions of the serve timeouts, so that slow clients show in a test.
var slowTimeouts = timeouts{readHeader: 300 * time.Millisecond, read: time.Second, write: time.Second, idle: time.Second}

// trickleEvery is how fast a slow client sends: one byte at a time.
const trickleEvery = 50 * time.Millisecond

// TestSlowClientsAreCutOff serves the API with short timeouts and checks that a client cannot
// hold a connection by sending slowly or by idling.
func TestSlowClientsAreCutOff(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "protocol.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	k, err := st.CreateAccountWithKey(context.Background(), "slow")
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	h, err := server.New(st, log)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := newHTTPServer(h, slowTimeouts, log)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	addr := ln.Addr().String()

	t.Run("HeaderOneByteAtATime", func(t *testing.T) {
		header := fmt.Sprintf("GET /v1/contacts HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nAccept: application/json\r\n\r\n", addr, k.Key)
		sentBytes, elapsed, why := trickle(t, addr, []byte(header))
		if sentBytes == len(header) {
			t.Fatalf("the server waited %s for the whole header of %d bytes, sent a byte every %s; readHeader is %s",
				elapsed, len(header), trickleEvery, slowTimeouts.readHeader)
		}
		// The server's clock starts as it accepts the connection, a moment before the first byte.
		if elapsed < slowTimeouts.readHeader-100*time.Millisecond || elapsed > 2*time.Second {
			t.Errorf("the connection was closed after %s (%s), want after the header timeout of %s and within 2s", elapsed, why, slowTimeouts.readHeader)
		}
		t.Logf("closed after %d of %d header bytes, %s: %s", sentBytes, len(header), elapsed.Round(time.Millisecond), why)
	})

	t.Run("BodyOneByteAtATime", func(t *testing.T) {
		body := "username=SlowLoris&phone_number=555-0100&display_name=Slow"
		head := fmt.Sprintf("POST /v1/contacts HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"+
			"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n", addr, k.Key, len(body))
		sentBytes, elapsed, why := trickle(t, addr, append([]byte(head), body...), len(head))
		if sentBytes == len(head)+len(body) {
			t.Fatalf("the server waited %s for the whole body of %d bytes, sent a byte every %s; read is %s",
				elapsed, len(body), trickleEvery, slowTimeouts.read)
		}
		if elapsed < slowTimeouts.read-slowTimeouts.readHeader || elapsed > 2500*time.Millisecond {
			t.Errorf("the connection was closed after %s (%s), want after the read timeout of %s and within 2.5s", elapsed, why, slowTimeouts.read)
		}
		if strings.Contains(why, " 201 ") {
			t.Errorf("a body cut off by the read timeout was accepted: %s", why)
		}
		if rows, _, err := st.ListContacts(context.Background(), k.AccountID, store.Page{Limit: 10}, store.ContactFilter{}); err != nil || len(rows) != 0 {
			t.Errorf("after the cut-off body the account holds %d contacts (%v), want none", len(rows), err)
		}
		t.Logf("closed after %d of %d body bytes, %s: %s", sentBytes-len(head), len(body), elapsed.Round(time.Millisecond), why)
	})

	t.Run("IdleKeptAliveConnection", func(t *testing.T) {
		conn, err := net.DialTimeout("tcp", addr, waitLimit)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if err := conn.SetDeadline(time.Now().Add(waitLimit)); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Close {
			t.Fatalf("GET /healthz: %d (close %v), want 200 on a kept-alive connection", resp.StatusCode, resp.Close)
		}
		idleSince := time.Now()
		n, err := br.Read(make([]byte, 1))
		idle := time.Since(idleSince)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("the server kept an idle connection open for %s; idle is %s", idle, slowTimeouts.idle)
		}
		if n != 0 || err == nil {
			t.Fatalf("an idle connection received %d bytes (%v), want it closed", n, err)
		}
		// The server starts the idle clock as it finishes the response, a moment before the
		// client has read it.
		if idle < slowTimeouts.idle-100*time.Millisecond || idle > 2*slowTimeouts.idle {
			t.Errorf("the idle connection was closed after %s (%v), want after about %s", idle, err, slowTimeouts.idle)
		}
		t.Logf("idle connection closed after %s: %v", idle.Round(time.Millisecond), err)
	})
}

// trickle opens a connection and sends data one byte every trickleEvery, the first fast bytes
// at once, until the server closes the connection or all is sent. It returns how many bytes
// went out, the time from the first slow byte until the connection was found closed, and how it
// was found closed (with anything the server answered).
func trickle(t *testing.T, addr string, data []byte, fast ...int) (sent int, elapsed time.Duration, why string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, waitLimit)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if len(fast) > 0 {
		if _, err := conn.Write(data[:fast[0]]); err != nil {
			t.Fatal(err)
		}
		sent = fast[0]
	}
	start := time.Now()
	// The reader sees the server close the connection, or an answer followed by the close.
	closed := make(chan string, 1)
	go func() {
		_ = conn.SetReadDeadline(time.Now().Add(2 * waitLimit))
		got, err := io.ReadAll(conn)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			closed <- "" // still open when the test gave up
			return
		}
		closed <- fmt.Sprintf("read %q, then %v", firstLine(got), errOrEOF(err))
	}()
	tick := time.NewTicker(trickleEvery)
	defer tick.Stop()
	for sent < len(data) {
		select {
		case why := <-closed:
			return sent, time.Since(start), why
		case <-tick.C:
		}
		if _, err := conn.Write(data[sent : sent+1]); err != nil {
			return sent, time.Since(start), fmt.Sprintf("write failed: %v", err)
		}
		sent++
	}
	return sent, time.Since(start), "everything sent"
}

func firstLine(b []byte) string {
	line, _, _ := strings.Cut(string(b), "\r\n")
	return line
}

func errOrEOF(err error) string {
	if err == nil {
		return "EOF"
	}
	return err.Error()
}
