package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the database/sql driver "pgx"

	"protocol/store/storetest"
)

// TestServersShareOnePostgres runs the production layout in small: two protocol server
// processes on their own ports over one PostgreSQL database. Whatever one server does, the other
// sees, because no state lives in a process: contacts, usernames and idempotency keys are all
// rows of the one database.
func TestServersShareOnePostgres(t *testing.T) {
	dsn := storetest.PostgresDSN(t) // a fresh, empty schema
	exe := buildProtocol(t)

	// Both start at the same instant on the empty database: both must migrate it (once) and
	// come up, and only one may make the first key.
	a, b := startProcess(t, exe, dsn), startProcess(t, exe, dsn)
	a.waitHealthy(t)
	b.waitHealthy(t)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var versions, distinct int
	if err := db.QueryRow(`SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_migrations`).Scan(&versions, &distinct); err != nil {
		t.Fatalf("schema_migrations: %v", err)
	}
	if versions == 0 || versions != distinct {
		t.Errorf("schema_migrations holds %d rows for %d versions, want each version once", versions, distinct)
	}
	if printed := anyKey.FindAllString(a.stdout.String()+b.stdout.String(), -1); len(printed) != 2 { // the key and the curl line
		t.Errorf("the two servers printed %d keys on their first start, want one key (twice, with its curl line):\n%s\n%s",
			len(printed), a.stdout, b.stdout)
	}

	key, _ := createKey(t, dsn, "shared")

	t.Run("ContactsAcrossServers", func(t *testing.T) {
		r := a.do(t, http.MethodPost, "/v1/contacts", key, frankForm)
		if r.Status != http.StatusCreated {
			t.Fatalf("create through A: %d %s", r.Status, r.Body)
		}
		id := r.json(t)["id"].(string)
		if r := b.do(t, http.MethodGet, "/v1/contacts?limit=10", key, nil); r.Status != http.StatusOK || !strings.Contains(string(r.Body), id) {
			t.Fatalf("list through B: %d %s, want the contact %s", r.Status, r.Body, id)
		}
		r = b.do(t, http.MethodPut, "/v1/contacts/"+id, key, url.Values{"display_name": {"UncleFrank"}})
		if r.Status != http.StatusOK || r.json(t)["display_name"] != "UncleFrank" {
			t.Fatalf("update through B: %d %s", r.Status, r.Body)
		}
		if r := a.do(t, http.MethodGet, "/v1/contacts/"+id, key, nil); r.Status != http.StatusOK || r.json(t)["display_name"] != "UncleFrank" {
			t.Fatalf("read through A after the update through B: %d %s", r.Status, r.Body)
		}
		if r := b.do(t, http.MethodDelete, "/v1/contacts/"+id, key, nil); r.Status != http.StatusOK {
			t.Fatalf("delete through B: %d %s", r.Status, r.Body)
		}
		if r := a.do(t, http.MethodGet, "/v1/contacts/"+id, key, nil); r.Status != http.StatusNotFound {
			t.Fatalf("read through A after the delete through B: %d %s, want 404", r.Status, r.Body)
		}
	})

	t.Run("SameUsernameThroughBothAtOnce", func(t *testing.T) {
		// Each round sends one username to both servers at the same moment, and the rounds run
		// together, so that the servers' transactions overlap: then the second insert is
		// stopped by the unique index, not by the check before it.
		const rounds = 20
		got := make([][2]response, rounds)
		var wg sync.WaitGroup
		for round := range rounds {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Letter case differs, and still only one may have it.
				username := fmt.Sprintf("Kevin%02d", round)
				forms := []url.Values{
					{"username": {username}, "phone_number": {"555-0100"}},
					{"username": {strings.ToUpper(username)}, "phone_number": {"555-0101"}},
				}
				got[round] = atOnce(func(i int) response { return postContact(t, []*serveRun{a, b}[i], key, forms[i], "") })
			}()
		}
		wg.Wait()
		for round, r := range got {
			statuses := []int{r[0].Status, r[1].Status}
			slices.Sort(statuses)
			if statuses[0] != http.StatusCreated || statuses[1] != http.StatusConflict {
				t.Errorf("round %d: A answered %d %s, B %d %s; want one 201 and one 409",
					round, r[0].Status, r[0].Body, r[1].Status, r[1].Body)
			}
			for _, r := range r {
				if r.Status == http.StatusConflict && !strings.Contains(string(r.Body), `"param":"username"`) {
					t.Errorf("round %d: the 409 does not name username: %s", round, r.Body)
				}
			}
		}
		if n := countContacts(t, db, "lower(username) LIKE 'kevin%'"); n != rounds {
			t.Errorf("%d contacts named Kevin.. in the database, want %d", n, rounds)
		}
	})

	t.Run("IdempotencyKeyThroughBothAtOnce", func(t *testing.T) {
		const rounds = 10
		for round := range rounds {
			username := fmt.Sprintf("Marv%02d", round)
			form := url.Values{"username": {username}, "phone_number": {"555-0102"}}
			idemKey := fmt.Sprintf("create-marv-%02d", round)
			got := atOnce(func(i int) response { return postContact(t, []*serveRun{a, b}[i], key, form, idemKey) })
			if got[0].Status != http.StatusCreated || got[1].Status != http.StatusCreated || string(got[0].Body) != string(got[1].Body) {
				t.Fatalf("round %d: A answered %d %s, B %d %s; want the same 201 from both",
					round, got[0].Status, got[0].Body, got[1].Status, got[1].Body)
			}
			replayed := []string{got[0].Header.Get("Idempotent-Replayed"), got[1].Header.Get("Idempotent-Replayed")}
			slices.Sort(replayed)
			if replayed[0] != "" || replayed[1] != "true" {
				t.Errorf("round %d: Idempotent-Replayed headers %q, want one answer replayed", round, replayed)
			}
			if n := countContacts(t, db, "username = '"+username+"'"); n != 1 {
				t.Fatalf("round %d: %d contacts named %s, want exactly 1", round, n, username)
			}
		}
	})

	for _, s := range []*serveRun{a, b} {
		if err := s.stop(); err != nil {
			t.Errorf("server at %s after SIGTERM: %v, want exit 0\nstderr: %s", s.addr, err, s.stderr)
		}
	}
}

// buildProtocol builds the protocol binary from this package's sources into the test's temp
// dir, with the race detector when this test binary has it (so the build reuses its packages).
func buildProtocol(t *testing.T) string {
	t.Helper()
	exe := filepath.Join(t.TempDir(), "protocol")
	args := []string{"build", "-o", exe}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "-race" && s.Value == "true" {
				args = append(args, "-race")
			}
		}
	}
	cmd := exec.Command("go", append(args, ".")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return exe
}

// startProcess starts `exe serve --db dsn` on a free port, as a serveRun whose stop sends
// SIGTERM and waits for the exit. It does not wait for the server to come up: waitHealthy does.
func startProcess(t *testing.T, exe, dsn string) *serveRun {
	t.Helper()
	s := &serveRun{addr: freeAddr(t), stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan error, 1)}
	cmd := exec.Command(exe, "serve", "--db", dsn, "--addr", s.addr)
	cmd.Env = os.Environ()
	cmd.Stdout, cmd.Stderr = s.stdout, s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- cmd.Wait() }()
	s.cancel = func() { _ = cmd.Process.Signal(syscall.SIGTERM) }
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			_ = cmd.Process.Kill()
		}
	})
	return s
}

// atOnce runs f(0) and f(1) in two goroutines released at the same moment.
func atOnce(f func(i int) response) [2]response {
	var (
		out   [2]response
		ready sync.WaitGroup
		done  sync.WaitGroup
	)
	start := make(chan struct{})
	for i := range 2 {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			out[i] = f(i)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	return out
}

// postContact creates a contact from a form, with an Idempotency-Key unless idemKey is empty.
// Unlike serveRun.do it may run outside the test's goroutine: a failure is an error, not fatal.
func postContact(t *testing.T, s *serveRun, key string, form url.Values, idemKey string) response {
	req, err := http.NewRequest(http.MethodPost, "http://"+s.addr+"/v1/contacts", strings.NewReader(form.Encode()))
	if err != nil {
		t.Error(err)
		return response{}
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if idemKey != "" {
		req.Header.Set("Idempotency-Key", idemKey)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Errorf("POST /v1/contacts: %v", err)
		return response{}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Errorf("POST /v1/contacts: %v", err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: data}
}

func countContacts(t *testing.T, db *sql.DB, where string) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM contacts WHERE "+where).Scan(&n); err != nil {
		t.Fatalf("count contacts: %v", err)
	}
	return n
}
