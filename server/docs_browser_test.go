package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"protocol/server/servertest"
)

// TestSwaggerUIInChromium opens /docs in headless Chromium, authorizes with an API key and runs
// every operation with "Try it out", as a reader of the documentation would. It fails on any
// console error or uncaught exception of the page. Without Chromium it skips, except in CI,
// where it fails.
func TestSwaggerUIInChromium(t *testing.T) {
	chromium := findChromium(t)
	start := time.Now()
	s := servertest.New(t)
	dir := t.TempDir()

	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox, // tests run as root in CI
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(filepath.Join(dir, "profile")),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	defer cancelTab()

	var (
		mu       sync.Mutex
		problems []string
		readers  sync.WaitGroup
	)
	console := chromedp.Console(ctx)
	failures := chromedp.Events(ctx, network.LoadingFailed)
	readers.Go(func() {
		for m, err := range console {
			if err != nil {
				return
			}
			t.Logf("console %s (%s:%d)", m, m.URL, m.Line+1)
			if m.Type == chromedp.ConsoleError || m.IsException() {
				mu.Lock()
				problems = append(problems, m.String())
				mu.Unlock()
			}
		}
	})
	readers.Go(func() {
		for ev, err := range failures {
			if err != nil {
				return
			}
			t.Logf("network failure: %s %s (blocked: %s)", ev.ErrorText, ev.RequestID, ev.BlockedReason)
		}
	})
	// On every way out, close the page first: that ends the readers, which log to t.
	defer func() {
		cancelTab()
		readers.Wait()
	}()

	ui := &swaggerUI{t: t, ctx: ctx}
	ui.do("open /docs", chromedp.EmulateViewport(1280, 1024), chromedp.Navigate(s.URL+"/docs"),
		chromedp.WaitVisible(chromedp.ID("operations-Contacts-listContacts")))
	t.Logf("browser started and page loaded in %.1fs", time.Since(start).Seconds())
	ui.authorize(s.Key)

	health := ui.execute("Health", "getHealth", nil, "")
	health.want(t, "200", `"status": "ok"`)

	created := ui.execute("Contacts", "createContact", nil, "") // the example body: Frank
	created.want(t, "201", `"username": "FrankMcCallister"`)
	var frank struct {
		ID             string `json:"id"`
		ConversationID string `json:"conversation_id"`
	}
	created.decode(t, &frank)

	list := ui.execute("Contacts", "listContacts", nil, "", keepOpen)
	list.want(t, "200", `"id": "`+frank.ID+`"`, `"username": "FrankMcCallister"`, `"has_more": false`)
	if want := s.URL + "/v1/contacts?limit=10"; list.URL != want {
		t.Errorf("Request URL = %q, want %q: the served spec must name this server", list.URL, want)
	}
	// What a reader sees: the request and the server's answer, in a 1280x1024 window.
	ui.do("scroll to the response", chromedp.ScrollIntoView(chromedp.CSS("#operations-Contacts-listContacts .live-responses-table")))
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	saveScreenshot(t, filepath.Join(dir, "list-contacts.png"), shot)
	ui.close("Contacts", "listContacts")

	ui.execute("Contacts", "getContact", map[string]string{"id": frank.ID}, "").
		want(t, "200", `"id": "`+frank.ID+`"`)
	// The example body sets display_name.
	ui.execute("Contacts", "updateContact", map[string]string{"id": frank.ID}, "").
		want(t, "200", `"display_name": "UncleFrank"`)

	ui.execute("Conversations", "listConversations", nil, "").
		want(t, "200", `"id": "`+frank.ConversationID+`"`)
	ui.execute("Conversations", "getConversation", map[string]string{"id": frank.ConversationID}, "").
		want(t, "200", `"contact_id": "`+frank.ID+`"`)
	// The example body sets is_muted.
	ui.execute("Conversations", "updateConversation", map[string]string{"id": frank.ConversationID}, "").
		want(t, "200", `"is_muted": true`)
	group := ui.execute("Conversations", "createConversation", nil, `{"group_id": "hSIhXBhNe8X1d8Et"}`)
	group.want(t, "201", `"group_id": "hSIhXBhNe8X1d8Et"`)
	var conv struct {
		ID string `json:"id"`
	}
	group.decode(t, &conv)
	ui.execute("Conversations", "deleteConversation", map[string]string{"id": conv.ID}, "").
		want(t, "200", `"deleted": true`)
	ui.execute("Contacts", "deleteContact", map[string]string{"id": frank.ID}, "").
		want(t, "200", `"deleted": true`)

	cancelTab()
	readers.Wait()
	for _, p := range problems {
		t.Errorf("console error on /docs: %s", p)
	}
	t.Logf("all operations run through Swagger UI in %.1fs", time.Since(start).Seconds())
}

// findChromium returns Chromium's path, or skips the test when it is missing (fails in CI).
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("Chromium is required in CI: apt-get install -y chromium")
	}
	t.Skip("Chromium not found, skipping the Swagger UI browser test (apt-get install -y chromium to run it)")
	return ""
}

func saveScreenshot(t *testing.T, path string, data []byte) {
	t.Helper()
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%dx%d pixels)", path, cfg.Width, cfg.Height)
	// The temp dir goes with the test; to keep a copy (in CI, say) name a directory.
	if keep := os.Getenv("PROTOCOL_SCREENSHOT_DIR"); keep != "" {
		if err := os.WriteFile(filepath.Join(keep, filepath.Base(path)), data, 0o644); err != nil {
			t.Errorf("keep screenshot: %v", err)
		}
	}
}

// swaggerUI drives the Swagger UI page as a person would: clicks, and keys typed into fields.
type swaggerUI struct {
	t   *testing.T
	ctx context.Context
}

func (u *swaggerUI) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	u.t.Helper()
	if err := chromedp.Do(u.ctx, actions...); err != nil {
		u.t.Fatalf("%s: %v", step, err)
	}
}

// authorize enters the key in the "Authorize" dialog, as its bearerAuth value.
func (u *swaggerUI) authorize(key string) {
	u.t.Helper()
	u.do("authorize",
		chromedp.Click(chromedp.CSS(".auth-wrapper button.authorize")),
		chromedp.WaitVisible(chromedp.CSS(".modal-ux input")),
		chromedp.SendKeys(chromedp.CSS(".modal-ux input"), key),
		chromedp.Click(chromedp.CSS(".modal-ux .auth-btn-wrapper button.authorize")),
		chromedp.WaitVisible(chromedp.CSS(".modal-ux button.btn-done")),
		chromedp.Click(chromedp.CSS(".modal-ux button.btn-done")),
		chromedp.WaitNotPresent(chromedp.CSS(".modal-ux")),
	)
}

// liveResponse is what Swagger UI shows under "Server response" after "Execute".
type liveResponse struct {
	Status string `json:"status"`
	Body   string `json:"body"`
	URL    string `json:"url"`
}

func (r liveResponse) want(t *testing.T, status string, contains ...string) {
	t.Helper()
	if r.Status != status {
		t.Errorf("%s: status %s, want %s\n%s", r.URL, r.Status, status, r.Body)
	}
	for _, c := range contains {
		if !strings.Contains(r.Body, c) {
			t.Errorf("%s: the page shows no %s in\n%s", r.URL, c, r.Body)
		}
	}
}

func (r liveResponse) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.Body), v); err != nil {
		t.Fatalf("%s: response body on the page is not JSON: %v\n%s", r.URL, err, r.Body)
	}
}

// readResponse finds the server response Swagger UI shows in an operation, or null.
const readResponse = `(id) => {
  const row = document.getElementById(id)?.querySelector(".live-responses-table tr.response");
  if (!row) return null;
  return {
    status: row.querySelector(".response-col_status")?.innerText.trim() ?? "",
    body: row.querySelector(".response-col_description .highlight-code pre")?.innerText ?? "",
    url: document.getElementById(id).querySelector(".request-url pre")?.innerText.trim() ?? "",
  };
}`

// selectText selects the whole value of a field, so that the keys typed next replace it.
const selectText = `(sel) => { const el = document.querySelector(sel); el.focus(); el.select(); return true; }`

// keepOpen tells execute to leave the operation open, to look at it.
const keepOpen = true

// execute opens an operation, presses "Try it out", fills in the path parameters and, when body
// is not empty, replaces the example body, presses "Execute" and returns the response shown.
// Then it closes the operation again, unless asked to keep it open: every open operation makes
// the page slower to render.
func (u *swaggerUI) execute(tag, operationID string, params map[string]string, body string, keep ...bool) liveResponse {
	u.t.Helper()
	start := time.Now()
	id := fmt.Sprintf("operations-%s-%s", tag, operationID)
	op := "#" + id
	u.do(operationID+": open",
		chromedp.ScrollIntoView(chromedp.CSS(op+" .opblock-summary")),
		chromedp.Click(chromedp.CSS(op+" .opblock-summary-control")),
		chromedp.Click(chromedp.CSS(op+" button.try-out__btn")),
		chromedp.WaitVisible(chromedp.CSS(op+" button.execute")),
	)
	replace := func(sel, text string) {
		u.do(operationID+": type into "+sel,
			chromedp.PollFunction[chromedp.Void](selectText, chromedp.WithPollingArgs(sel)),
			insertText(text),
		)
	}
	for name, value := range params {
		replace(fmt.Sprintf(`%s tr[data-param-name="%s"] input`, op, name), value)
	}
	if body != "" {
		replace(op+" textarea.body-param__text", body)
	}
	u.do(operationID+": execute", chromedp.Click(chromedp.CSS(op+" button.execute")))
	resp, err := chromedp.Run(u.ctx, chromedp.PollFunction[liveResponse](readResponse,
		chromedp.WithPollingArgs(id), chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		u.t.Fatalf("%s: no response shown: %v", operationID, err)
	}
	if len(keep) == 0 || !keep[0] {
		u.close(tag, operationID)
	}
	u.t.Logf("%s: %s in %.1fs", operationID, resp.Status, time.Since(start).Seconds())
	return resp
}

// close collapses an open operation.
func (u *swaggerUI) close(tag, operationID string) {
	u.t.Helper()
	op := fmt.Sprintf("#operations-%s-%s", tag, operationID)
	u.do(operationID+": close", chromedp.Click(chromedp.CSS(op+" .opblock-summary-control")),
		chromedp.WaitNotPresent(chromedp.CSS(op+" button.execute")))
}

// insertText types text into the focused field in one input event, as a paste or an input
// method does: the page sees the same change events as for keys, without a round trip per key.
func insertText(text string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, input.InsertText, input.InsertTextParams{Text: text})
		return err
	})
}
