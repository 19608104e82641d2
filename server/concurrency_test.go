package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"protocol/gen"
	"protocol/server/servertest"
)

// The load test runs three crowds of clients against one account at once: creators, updaters and
// listers. SQLite has one writer; the store queues writes on one connection, so no request may
// fail with "database is locked", and no write may be lost or doubled.
const (
	loadClients  = 64   // clients of each kind
	loadCreates  = 2000 // contacts the creators make in all
	loadPageSize = 100
	// loadDeadline bounds the whole run, race detector included.
	loadDeadline = 4 * time.Minute
	// loadShownFailures is how many failures are quoted; the rest are only counted.
	loadShownFailures = 20
)

// loadFailures collects what went wrong in the clients' goroutines, which must not stop the test
// themselves: the first few in full, the rest counted.
type loadFailures struct {
	mu    sync.Mutex
	n     int
	shown []string
}

func (f *loadFailures) add(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	if len(f.shown) < loadShownFailures {
		f.shown = append(f.shown, fmt.Sprintf(format, args...))
	}
}

func (f *loadFailures) report(t *testing.T) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n > 0 {
		t.Errorf("%d requests failed under load; the first %d:\n  %s", f.n, len(f.shown), strings.Join(f.shown, "\n  "))
	}
}

// loadClient sends requests with the account's key over one shared pool of kept-alive
// connections, large enough for every client at once.
type loadClient struct {
	ctx      context.Context
	http     *http.Client
	base     string
	key      string
	failures *loadFailures
}

// do sends one request and returns its status and body, or ok=false after recording why the
// answer is unacceptable whatever the request: a transport error, a 5xx, or a word of a locked
// database.
func (c *loadClient) do(method, path, contentType, body string) (status int, data []byte, ok bool) {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(c.ctx, method, c.base+path, r)
	if err != nil {
		c.failures.add("%s %s: %v", method, path, err)
		return 0, nil, false
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.failures.add("%s %s: %v", method, path, err)
		return 0, nil, false
	}
	defer resp.Body.Close()
	data, err = io.ReadAll(resp.Body)
	if err != nil {
		c.failures.add("%s %s: reading the body: %v", method, path, err)
		return 0, nil, false
	}
	if resp.StatusCode >= 500 || bytes.Contains(bytes.ToLower(data), []byte("locked")) {
		c.failures.add("%s %s: %d %s", method, path, resp.StatusCode, data)
		return resp.StatusCode, data, false
	}
	return resp.StatusCode, data, true
}

// decodeStrict decodes a response body, refusing fields the type does not have.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// TestConcurrentCreatesUpdatesAndLists: 64 clients create 2,000 contacts while 64 others keep
// renaming the contacts the account started with and 64 more keep listing contacts and
// conversations. Every create answers 201, nothing answers 5xx or says "locked", and afterwards
// the lists hold exactly the contacts made, once each, with their conversations, and each
// renamed contact has the last name it was given.
func TestConcurrentCreatesUpdatesAndLists(t *testing.T) {
	s := servertest.New(t)
	// One contact per updater, so that each updater knows what its contact must end up as.
	seeded := make([]gen.Contact, loadClients)
	for i := range seeded {
		seeded[i] = createContact(t, s, map[string]any{"username": fmt.Sprintf("seed-%02d", i), "phone_number": "555-0100"})
	}

	ctx, cancel := context.WithTimeout(context.Background(), loadDeadline)
	defer cancel()
	transport := &http.Transport{MaxIdleConns: 4 * loadClients, MaxIdleConnsPerHost: 4 * loadClients}
	defer transport.CloseIdleConnections()
	failures := &loadFailures{}
	c := &loadClient{ctx: ctx, http: &http.Client{Transport: transport}, base: s.URL, key: s.Key, failures: failures}

	created := make([]string, loadCreates) // the 201 body of create i, in order of i
	lastName := make([]string, loadClients)
	var next, updates, lists atomic.Int64
	done := make(chan struct{}) // closed when the creators are through
	var creators, others sync.WaitGroup
	start := time.Now()

	for range loadClients {
		creators.Add(1)
		go func() {
			defer creators.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= loadCreates || ctx.Err() != nil {
					return
				}
				username := fmt.Sprintf("load-%04d", i)
				// Half the creates are JSON and half forms: both ways in.
				ct, body := "application/json", fmt.Sprintf(`{"username":%q,"phone_number":"555-%04d"}`, username, i)
				if i%2 == 1 {
					ct, body = "application/x-www-form-urlencoded", url.Values{"username": {username}, "phone_number": {fmt.Sprintf("555-%04d", i)}}.Encode()
				}
				status, data, ok := c.do(http.MethodPost, "/v1/contacts", ct, body)
				if !ok {
					continue
				}
				var got gen.Contact
				if status != http.StatusCreated {
					failures.add("create %s: %d %s, want 201", username, status, data)
				} else if err := decodeStrict(data, &got); err != nil || got.Username != username || !got.ConversationId.IsSpecified() || got.ConversationId.IsNull() {
					failures.add("create %s: answer %s (%v), want the contact with its conversation", username, data, err)
				} else {
					created[i] = string(data)
				}
			}
		}()
	}
	for w := range loadClients {
		others.Add(2)
		go func() { // an updater: renames its own contact again and again
			defer others.Done()
			path := "/v1/contacts/" + seeded[w].Id
			for n := 0; ; n++ {
				if n > 0 && stopped(ctx, done) {
					return
				}
				name := fmt.Sprintf("Renamed %02d-%d", w, n)
				ct, body := "application/json", fmt.Sprintf(`{"display_name":%q}`, name)
				if n%2 == 1 {
					ct, body = "application/x-www-form-urlencoded", url.Values{"display_name": {name}}.Encode()
				}
				status, data, ok := c.do(http.MethodPut, path, ct, body)
				if !ok {
					continue
				}
				var got gen.Contact
				if status != http.StatusOK {
					failures.add("PUT %s: %d %s, want 200", path, status, data)
				} else if err := decodeStrict(data, &got); err != nil || !sameString(got.DisplayName.Get, name) {
					failures.add("PUT %s display_name=%q: answer %s (%v)", path, name, data, err)
				} else {
					lastName[w] = name
					updates.Add(1)
				}
			}
		}()
		go func() { // a lister: first pages of both lists, by turns
			defer others.Done()
			for n := 0; ; n++ {
				if n > 0 && stopped(ctx, done) {
					return
				}
				path, page := "/v1/contacts?limit=100", any(&gen.ContactList{})
				if n%2 == 1 {
					path, page = "/v1/conversations?limit=100", any(&gen.ConversationList{})
				}
				status, data, ok := c.do(http.MethodGet, path, "", "")
				if !ok {
					continue
				}
				if status != http.StatusOK {
					failures.add("GET %s: %d %s, want 200", path, status, data)
					continue
				}
				if err := decodeStrict(data, page); err != nil {
					failures.add("GET %s: %v\n%s", path, err, data)
					continue
				}
				if size := pageLen(page); size == 0 || size > loadPageSize {
					failures.add("GET %s: %d objects, want 1 to %d", path, size, loadPageSize)
				}
				lists.Add(1)
			}
		}()
	}
	creators.Wait()
	createTime := time.Since(start)
	close(done)
	others.Wait()
	elapsed := time.Since(start)
	failures.report(t)
	if ctx.Err() != nil {
		t.Fatalf("the load did not finish within %s", loadDeadline)
	}
	acknowledged := 0
	for _, body := range created {
		if body != "" {
			acknowledged++
		}
	}
	t.Logf("%d clients: %d creates (%d answered 201) in %s (%.0f/s), alongside %d updates and %d list pages; all done in %s",
		3*loadClients, loadCreates, acknowledged, createTime.Round(time.Millisecond), float64(acknowledged)/createTime.Seconds(),
		updates.Load(), lists.Load(), elapsed.Round(time.Millisecond))
	if t.Failed() {
		return
	}

	// The whole list, page by page: each contact made exactly once, and nothing else.
	want := map[string]string{} // id -> username
	for i, body := range created {
		var c gen.Contact
		if err := json.Unmarshal([]byte(body), &c); err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
		want[c.Id] = c.Username
	}
	for _, c := range seeded {
		want[c.Id] = c.Username
	}
	if len(want) != loadCreates+len(seeded) {
		t.Fatalf("the creates answered %d distinct ids, want %d", len(want)-len(seeded), loadCreates)
	}
	contacts := walkPages(t, s, "/v1/contacts", func(c gen.Contact) string { return c.Id })
	seen := map[string]bool{}
	conversationOf := map[string]string{}
	for _, c := range contacts {
		if seen[c.Id] {
			t.Errorf("contact %s (%s) is listed twice", c.Id, c.Username)
		}
		seen[c.Id] = true
		if want[c.Id] != c.Username {
			t.Errorf("listed contact %s %q, want %q", c.Id, c.Username, want[c.Id])
		}
		conversationOf[c.Id], _ = c.ConversationId.Get()
	}
	if len(contacts) != len(want) || len(seen) != len(want) {
		t.Errorf("the list holds %d contacts (%d distinct), want %d: %d made under load and %d before",
			len(contacts), len(seen), len(want), loadCreates, len(seeded))
	}
	for i, body := range created {
		var c gen.Contact
		_ = json.Unmarshal([]byte(body), &c)
		if !seen[c.Id] {
			t.Errorf("contact %d %s (%s) was acknowledged but is not listed", i, c.Id, c.Username)
		}
	}

	conversations := walkPages(t, s, "/v1/conversations", func(c gen.Conversation) string { return c.Id })
	convSeen := map[string]bool{}
	for _, cv := range conversations {
		contactID, _ := cv.ContactId.Get()
		if convSeen[cv.Id] || conversationOf[contactID] != cv.Id {
			t.Errorf("conversation %s of contact %s is listed twice or is not its contact's conversation %q", cv.Id, contactID, conversationOf[contactID])
		}
		convSeen[cv.Id] = true
	}
	if len(conversations) != len(want) {
		t.Errorf("the list holds %d conversations, want %d, one per contact", len(conversations), len(want))
	}

	for w, c := range seeded {
		r := s.Do(servertest.Request{Path: "/v1/contacts/" + c.Id})
		var got gen.Contact
		r.Decode(t, &got)
		if name, _ := got.DisplayName.Get(); r.Status != http.StatusOK || name != lastName[w] {
			t.Errorf("contact %s after its updates: %d display_name %q, want %q, the last name acknowledged", c.Id, r.Status, name, lastName[w])
		}
	}
	if log := s.Log.String(); strings.Contains(strings.ToLower(log), "locked") || strings.Contains(log, `"level":"ERROR"`) {
		t.Errorf("the server logged errors under load:\n%s", firstLines(log, `"level":"ERROR"`, 10))
	}
}

// stopped reports whether the run is over: the creators are through or time is up.
func stopped(ctx context.Context, done <-chan struct{}) bool {
	select {
	case <-done:
		return true
	case <-ctx.Done():
		return true
	default:
		return false
	}
}

// sameString reports whether a nullable field holds want.
func sameString(get func() (string, error), want string) bool {
	v, err := get()
	return err == nil && v == want
}

func pageLen(page any) int {
	switch p := page.(type) {
	case *gen.ContactList:
		return len(p.Data)
	case *gen.ConversationList:
		return len(p.Data)
	}
	return -1
}

// walkPages reads a whole list of T, 100 at a time, following starting_after to the end.
func walkPages[T any](t *testing.T, s *servertest.Server, path string, idOf func(T) string) []T {
	t.Helper()
	var all []T
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > loadCreates {
			t.Fatalf("GET %s: still has_more after %d pages", path, pages)
		}
		target := fmt.Sprintf("%s?limit=%d", path, loadPageSize)
		if cursor != "" {
			target += "&starting_after=" + cursor
		}
		r := s.Do(servertest.Request{Path: target})
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", target, r.Status, r.Body)
		}
		var page struct {
			HasMore bool `json:"has_more"`
			Data    []T  `json:"data"`
		}
		r.Decode(t, &page)
		all = append(all, page.Data...)
		if !page.HasMore {
			return all
		}
		if len(page.Data) == 0 {
			t.Fatalf("GET %s: an empty page with has_more", target)
		}
		cursor = idOf(page.Data[len(page.Data)-1])
	}
}

// firstLines returns up to n lines of text that contain substr.
func firstLines(text, substr string, n int) string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, substr) && len(out) < n {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
