package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"protocol/server/servertest"
)

// The tests of this file page through lists over HTTP and compare every page with a model of
// the list: the objects the fixture created, newest first, with the attributes the filters look
// at. The model answers what any page must hold (expectPage); the server must agree on each
// page, on has_more, and on walks across whole lists in both directions.

const (
	contactsPath      = "/v1/contacts"
	conversationsPath = "/v1/conversations"
	defaultPageSize   = 10
	fixtureTime       = 705103200 // 1992-05-05, a Unix time the documentation uses
)

// item is what the model knows of a listed object: its id and what the filters look at. The
// zero value of a field is right for a resource that has no such field (a contact is never
// muted), so one decoder serves both lists.
type item struct {
	id       string
	active   bool // last_active_at is set
	muted    bool
	pinned   bool
	archived bool // archived_at is set
	group    string
}

// listFilter is a filter's query string and the model's version of it.
type listFilter struct {
	query string
	keep  func(item) bool
}

func (f listFilter) name() string {
	if f.query == "" {
		return "no filter"
	}
	return f.query
}

func everything(item) bool { return true }

// groupID is the group id of the fixture's group conversation at creation position i.
func groupID(i int) string { return fmt.Sprintf("Group%011d", i) }

// fixture is one account with objects on both lists, created in a known order, plus ids that
// must not work as cursors.
type fixture struct {
	s             *servertest.Server
	contacts      []item // newest first
	conversations []item // newest first
	// Ids of deleted objects: a contact, its conversation, and a group conversation.
	deletedContact, deletedContactConv, deletedGroupConv string
}

const fixtureObjects = 34 // creation positions: 27 contacts and 7 group conversations

// newFixture creates, in this order, 34 conversations: a group conversation at every position
// i with i%5 == 2 and a contact (with its conversation) at every other one, 27 contacts in all.
// A contact and a group conversation are created and deleted along the way. Then every third
// contact becomes active, and conversations get muted (i%2 == 0), pinned (i%3 == 0) and
// archived (i%4 < 2), so every combination of the three occurs; those at i%7 == 3 are first
// set all three ways and then set to their final state, so that a cleared flag must read as
// cleared to the filters.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{s: servertest.New(t)}
	var contacts, convs []item // in creation order
	for i := range fixtureObjects {
		if i%5 == 2 {
			convs = append(convs, item{id: createGroupConversation(t, f.s, groupID(i)), group: groupID(i)})
		} else {
			c := createContact(t, f.s, map[string]any{
				"username":     fmt.Sprintf("contact%02d", i),
				"phone_number": fmt.Sprintf("555-01%02d", i),
			})
			convID, err := c.ConversationId.Get()
			if err != nil {
				t.Fatalf("contact %s has no conversation_id: %v", c.Id, err)
			}
			contacts = append(contacts, item{id: c.Id})
			convs = append(convs, item{id: convID})
		}
		switch i {
		case 16:
			c := createContact(t, f.s, map[string]any{"username": "doomed", "phone_number": "555-0199"})
			f.deletedContact = c.Id
			f.deletedContactConv, _ = c.ConversationId.Get()
			mustDelete(t, f.s, contactsPath+"/"+c.Id)
		case 20:
			f.deletedGroupConv = createGroupConversation(t, f.s, "DoomedGroup00000")
			mustDelete(t, f.s, conversationsPath+"/"+f.deletedGroupConv)
		}
	}
	for k := range contacts {
		if k%3 != 1 {
			continue
		}
		if err := f.s.Store.MarkContactActive(context.Background(), f.s.Account, contacts[k].id, int64(fixtureTime+k)); err != nil {
			t.Fatalf("mark contact %s active: %v", contacts[k].id, err)
		}
		contacts[k].active = true
	}
	for i := range convs {
		c := &convs[i]
		c.muted, c.pinned, c.archived = i%2 == 0, i%3 == 0, i%4 < 2
		if i%7 == 3 {
			updateConversation(t, f.s, c.id, map[string]any{"is_muted": true, "is_pinned": true, "archived_at": 1})
		}
		var archivedAt any // null
		if c.archived {
			archivedAt = fixtureTime + i
		}
		if c.muted || c.pinned || c.archived || i%7 == 3 {
			updateConversation(t, f.s, c.id, map[string]any{"is_muted": c.muted, "is_pinned": c.pinned, "archived_at": archivedAt})
		}
	}
	slices.Reverse(contacts)
	slices.Reverse(convs)
	f.contacts, f.conversations = contacts, convs
	return f
}

func createGroupConversation(t *testing.T, s *servertest.Server, group string) string {
	t.Helper()
	r := s.Do(servertest.Request{Method: http.MethodPost, Path: conversationsPath, JSON: map[string]any{"group_id": group}})
	if r.Status != http.StatusCreated {
		t.Fatalf("create conversation for group %s: %d %s", group, r.Status, r.Body)
	}
	id, _ := r.JSON(t)["id"].(string)
	return id
}

// updateConversation PUTs body, which sets is_muted, is_pinned and archived_at, and checks that
// the answer shows them set.
func updateConversation(t *testing.T, s *servertest.Server, id string, body map[string]any) {
	t.Helper()
	r := s.Do(servertest.Request{Method: http.MethodPut, Path: conversationsPath + "/" + id, JSON: body})
	if r.Status != http.StatusOK {
		t.Fatalf("update conversation %s with %v: %d %s", id, body, r.Status, r.Body)
	}
	got := r.JSON(t)
	if got["is_muted"] != body["is_muted"] || got["is_pinned"] != body["is_pinned"] || (got["archived_at"] == nil) != (body["archived_at"] == nil) {
		t.Fatalf("update conversation %s with %v answered %s", id, body, r.Body)
	}
}

func mustDelete(t *testing.T, s *servertest.Server, path string) {
	t.Helper()
	if r := s.Do(servertest.Request{Method: http.MethodDelete, Path: path}); r.Status != http.StatusOK {
		t.Fatalf("DELETE %s: %d %s", path, r.Status, r.Body)
	}
}

// listBody decodes a page of either list; see item.
type listBody struct {
	HasMore *bool `json:"has_more"`
	Data    []struct {
		ID           string  `json:"id"`
		LastActiveAt *int64  `json:"last_active_at"`
		IsMuted      bool    `json:"is_muted"`
		IsPinned     bool    `json:"is_pinned"`
		ArchivedAt   *int64  `json:"archived_at"`
		GroupID      *string `json:"group_id"`
	} `json:"data"`
}

// list GETs one page and returns it as the model's items, with has_more.
func list(t *testing.T, s *servertest.Server, path string, q url.Values) ([]item, bool) {
	t.Helper()
	target := path
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	r := s.Do(servertest.Request{Path: target})
	if r.Status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", target, r.Status, r.Body)
	}
	var body listBody
	r.Decode(t, &body)
	if body.HasMore == nil || body.Data == nil {
		t.Fatalf("GET %s: body lacks has_more or data: %s", target, r.Body)
	}
	out := make([]item, len(body.Data))
	for i, d := range body.Data {
		out[i] = item{
			id:       d.ID,
			active:   d.LastActiveAt != nil && path == contactsPath,
			muted:    d.IsMuted,
			pinned:   d.IsPinned,
			archived: d.ArchivedAt != nil,
			group:    derefString(d.GroupID),
		}
	}
	return out, *body.HasMore
}

func derefString(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// pageQuery is the filter's query with limit (0: none, for the default) and a cursor, if any.
func pageQuery(t *testing.T, f listFilter, limit int, cursorParam, cursor string) url.Values {
	t.Helper()
	q, err := url.ParseQuery(f.query)
	if err != nil {
		t.Fatalf("bad filter query %q: %v", f.query, err)
	}
	if limit != 0 {
		q.Set("limit", fmt.Sprint(limit))
	}
	if cursor != "" {
		q.Set(cursorParam, cursor)
	}
	return q
}

// expectPage is the model's answer to a page request: of all (newest first), the objects keep
// accepts that come after the cursor (starting_after) or before it (ending_before), at most
// size of them, the ones nearest the cursor; and whether more remain in that direction. The
// cursor itself need not pass keep: it is only a position.
func expectPage(t *testing.T, all []item, keep func(item) bool, cursorParam, cursor string, size int) ([]item, bool) {
	t.Helper()
	at := slices.IndexFunc(all, func(it item) bool { return it.id == cursor })
	if cursor != "" && at < 0 {
		t.Fatalf("cursor %s is not in the model", cursor)
	}
	span := all
	switch {
	case cursor == "":
	case cursorParam == "starting_after":
		span = all[at+1:]
	case cursorParam == "ending_before":
		span = all[:at]
	}
	var kept []item
	for _, it := range span {
		if keep(it) {
			kept = append(kept, it)
		}
	}
	if len(kept) <= size {
		return kept, false
	}
	if cursorParam == "ending_before" && cursor != "" {
		return kept[len(kept)-size:], true
	}
	return kept[:size], true
}

func filterItems(all []item, keep func(item) bool) []item {
	var out []item
	for _, it := range all {
		if keep(it) {
			out = append(out, it)
		}
	}
	return out
}

// checkPage fails the test unless a page is what the model says.
func checkPage(t *testing.T, what string, got []item, gotMore bool, want []item, wantMore bool) {
	t.Helper()
	if !slices.Equal(got, want) || gotMore != wantMore {
		t.Fatalf("%s:\n got  %v has_more=%v\n want %v has_more=%v", what, ids(got), gotMore, ids(want), wantMore)
	}
}

func ids(items []item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.id
		if it.muted {
			out[i] += "/muted"
		}
		if it.pinned {
			out[i] += "/pinned"
		}
		if it.archived {
			out[i] += "/archived"
		}
		if it.active {
			out[i] += "/active"
		}
		if it.group != "" {
			out[i] += "/" + it.group
		}
	}
	return out
}

// walk pages through a whole list forward (starting_after = the last id of the previous page),
// then back from the last page (ending_before = the first id of the current page), checking
// every page against the model, and that each walk visits every matching object exactly once
// in order. limit 0 sends no limit, for the default page size.
func walk(t *testing.T, s *servertest.Server, path string, all []item, f listFilter, limit int) {
	t.Helper()
	size := limit
	if size == 0 {
		size = defaultPageSize
	}
	want := filterItems(all, f.keep)
	wantPages := max(1, (len(want)+size-1)/size)

	var forward []item
	var last []item
	cursor := ""
	for n := 1; ; n++ {
		if n > wantPages {
			t.Fatalf("forward walk: page %d requested, but %d objects at %d a page make %d pages", n, len(want), size, wantPages)
		}
		got, more := list(t, s, path, pageQuery(t, f, limit, "starting_after", cursor))
		w, wMore := expectPage(t, all, f.keep, "starting_after", cursor, size)
		checkPage(t, fmt.Sprintf("forward page %d (starting_after=%q)", n, cursor), got, more, w, wMore)
		forward = append(forward, got...)
		last = got
		if !more {
			break
		}
		cursor = got[len(got)-1].id
	}
	checkPage(t, "forward walk, all pages", forward, false, want, false)
	if len(want) == 0 {
		return
	}

	// Past the oldest object there is nothing.
	got, more := list(t, s, path, pageQuery(t, f, limit, "starting_after", want[len(want)-1].id))
	checkPage(t, "page after the oldest object", got, more, nil, false)

	backward := slices.Clone(last)
	for n := 1; ; n++ {
		if n > wantPages {
			t.Fatalf("backward walk: more than %d pages", wantPages)
		}
		cursor := backward[0].id
		got, more := list(t, s, path, pageQuery(t, f, limit, "ending_before", cursor))
		w, wMore := expectPage(t, all, f.keep, "ending_before", cursor, size)
		checkPage(t, fmt.Sprintf("backward page %d (ending_before=%q)", n, cursor), got, more, w, wMore)
		backward = append(slices.Clone(got), backward...)
		if !more {
			break
		}
	}
	checkPage(t, "backward walk, all pages", backward, false, want, false)
}

// pageSizes are the limits a list is walked with; 0 sends no limit, for the default. Walking at
// the default is done without filters only: it is the same as limit=10 otherwise.
func pageSizes(f listFilter) []int {
	if f.query == "" {
		return []int{1, 4, 10, 100, 0}
	}
	return []int{1, 4, 10, 100}
}

func sizeName(limit int) string {
	if limit == 0 {
		return "default limit"
	}
	return fmt.Sprintf("limit=%d", limit)
}

var contactFilters = []listFilter{
	{"", everything},
	{"active=true", func(it item) bool { return it.active }},
	{"active=false", func(it item) bool { return !it.active }},
}

var conversationFilters = []listFilter{
	{"", everything},
	{"muted=true", func(it item) bool { return it.muted }},
	{"muted=false", func(it item) bool { return !it.muted }},
	{"archived=true", func(it item) bool { return it.archived }},
	{"archived=false", func(it item) bool { return !it.archived }},
	{"pinned=true", func(it item) bool { return it.pinned }},
	{"pinned=false", func(it item) bool { return !it.pinned }},
	{"group_id=" + groupID(17), func(it item) bool { return it.group == groupID(17) }},
	{"group_id=NoSuchGroup00000", func(it item) bool { return false }},
	{"muted=true&pinned=true", func(it item) bool { return it.muted && it.pinned }},
	{"archived=false&muted=false", func(it item) bool { return !it.archived && !it.muted }},
	{"archived=false&muted=false&pinned=true", func(it item) bool { return !it.archived && !it.muted && it.pinned }},
	{"archived=true&muted=true&pinned=true", func(it item) bool { return it.archived && it.muted && it.pinned }},
	// The conversation of group 17 (creation position 17) is archived, neither muted nor pinned.
	{"group_id=" + groupID(17) + "&muted=false&archived=true", func(it item) bool { return it.group == groupID(17) }},
	{"group_id=" + groupID(17) + "&archived=false", func(it item) bool { return false }},
	{"group_id=" + groupID(17) + "&muted=true", func(it item) bool { return false }},
}

// TestListPagination runs every check that reads the shared fixture; none of them changes what
// it holds, and building it once keeps the file fast.
func TestListPagination(t *testing.T) {
	f := newFixture(t)
	t.Run("contact walks", func(t *testing.T) { testContactWalks(t, f) })
	t.Run("conversation walks", func(t *testing.T) { testConversationWalks(t, f) })
	t.Run("every cursor", func(t *testing.T) { testEveryCursor(t, f) })
	t.Run("cursor not matching filter", func(t *testing.T) { testCursorNotMatchingFilter(t, f) })
	t.Run("default limit", func(t *testing.T) { testDefaultLimit(t, f) })
	t.Run("bad requests", func(t *testing.T) { testBadRequests(t, f) })
}

func testContactWalks(t *testing.T, f *fixture) {
	for _, flt := range contactFilters {
		t.Run(flt.name(), func(t *testing.T) {
			for _, limit := range pageSizes(flt) {
				t.Run(sizeName(limit), func(t *testing.T) {
					walk(t, f.s, contactsPath, f.contacts, flt, limit)
				})
			}
		})
	}
}

func testConversationWalks(t *testing.T, f *fixture) {
	for _, flt := range conversationFilters {
		t.Run(flt.name(), func(t *testing.T) {
			for _, limit := range pageSizes(flt) {
				t.Run(sizeName(limit), func(t *testing.T) {
					walk(t, f.s, conversationsPath, f.conversations, flt, limit)
				})
			}
		})
	}
}

// testEveryCursor uses every object of a list, whether or not it matches the filter, as either
// cursor, and compares the page with the model. (Without a filter, the walks at limit=1 already
// use every object as both cursors.)
func testEveryCursor(t *testing.T, f *fixture) {
	const size = 3
	cases := []struct {
		path    string
		all     []item
		filters []listFilter
	}{
		{contactsPath, f.contacts, contactFilters[1:]}, // active=true, active=false
		{conversationsPath, f.conversations, []listFilter{
			conversationFilters[1], // muted=true
			conversationFilters[4], // archived=false
			conversationFilters[7], // one group
		}},
	}
	for _, c := range cases {
		for _, flt := range c.filters {
			t.Run(c.path+"?"+flt.name(), func(t *testing.T) {
				for _, param := range []string{"starting_after", "ending_before"} {
					for _, cursor := range c.all {
						got, more := list(t, f.s, c.path, pageQuery(t, flt, size, param, cursor.id))
						want, wantMore := expectPage(t, c.all, flt.keep, param, cursor.id, size)
						checkPage(t, fmt.Sprintf("%s=%s (matches filter: %v)", param, cursor.id, flt.keep(cursor)), got, more, want, wantMore)
					}
				}
			})
		}
	}
}

// testCursorNotMatchingFilter spells out, for one case each, that a cursor naming
// an object the filter leaves out is still a position in the list.
func testCursorNotMatchingFilter(t *testing.T, f *fixture) {
	// Newest first, contacts[1] is active, contacts[0] and contacts[2] are not.
	inactive := f.contacts[2]
	if inactive.active {
		t.Fatalf("fixture changed: %v", ids(f.contacts[:3]))
	}
	var olderActive, newerActive []item
	for i, c := range f.contacts {
		switch {
		case !c.active:
		case i > 2:
			olderActive = append(olderActive, c)
		default:
			newerActive = append(newerActive, c)
		}
	}
	t.Run("contacts starting_after", func(t *testing.T) {
		got, more := list(t, f.s, contactsPath, url.Values{"active": {"true"}, "limit": {"100"}, "starting_after": {inactive.id}})
		checkPage(t, "active contacts older than an inactive one", got, more, olderActive, false)
		got, more = list(t, f.s, contactsPath, url.Values{"active": {"true"}, "limit": {"2"}, "starting_after": {inactive.id}})
		checkPage(t, "first two of them", got, more, olderActive[:2], true)
	})
	t.Run("contacts ending_before", func(t *testing.T) {
		got, more := list(t, f.s, contactsPath, url.Values{"active": {"true"}, "ending_before": {inactive.id}})
		checkPage(t, "active contacts newer than an inactive one", got, more, newerActive, false)
	})

	// The cursor is the newest muted conversation, which has no group and is newer than the
	// conversation of group 17: after it, the group filter finds that conversation; before it,
	// nothing.
	group := slices.IndexFunc(f.conversations, func(it item) bool { return it.group == groupID(17) })
	muted := slices.IndexFunc(f.conversations, func(it item) bool { return it.muted })
	if group < 0 || muted < 0 || muted > group {
		t.Fatalf("fixture changed: group at %d, first muted at %d", group, muted)
	}
	t.Run("conversations starting_after", func(t *testing.T) {
		q := url.Values{"group_id": {groupID(17)}, "starting_after": {f.conversations[muted].id}}
		got, more := list(t, f.s, conversationsPath, q)
		checkPage(t, "group conversation after a muted one of no group", got, more, f.conversations[group:group+1], false)
	})
	t.Run("conversations ending_before", func(t *testing.T) {
		q := url.Values{"group_id": {groupID(17)}, "ending_before": {f.conversations[muted].id}}
		got, more := list(t, f.s, conversationsPath, q)
		checkPage(t, "group conversation before a muted one, which is older", got, more, nil, false)
		q = url.Values{"group_id": {groupID(17)}, "ending_before": {f.conversations[len(f.conversations)-1].id}}
		got, more = list(t, f.s, conversationsPath, q)
		checkPage(t, "group conversation before the oldest one", got, more, f.conversations[group:group+1], false)
	})
	t.Run("conversations group alone", func(t *testing.T) {
		got, more := list(t, f.s, conversationsPath, url.Values{"group_id": {groupID(17)}})
		checkPage(t, "group filter", got, more, f.conversations[group:group+1], false)
	})
}

func testDefaultLimit(t *testing.T, f *fixture) {
	for _, c := range []struct {
		path string
		all  []item
	}{{contactsPath, f.contacts}, {conversationsPath, f.conversations}} {
		t.Run(c.path, func(t *testing.T) {
			got, more := list(t, f.s, c.path, nil)
			checkPage(t, "GET with no parameters", got, more, c.all[:defaultPageSize], true)
		})
	}
}

// TestListPaginationAccounts checks that a list holds only its own account's objects, and that
// an account with none lists {"has_more":false,"data":[]}. (Cursors of another account are in
// testBadRequests.)
func TestListPaginationAccounts(t *testing.T) {
	s := servertest.New(t)
	mine := createContact(t, s, frank)
	myConv, _ := mine.ConversationId.Get()
	otherKey, _ := s.NewAccount("other")
	r := s.Do(servertest.Request{Method: http.MethodPost, Path: contactsPath, Key: otherKey, JSON: frank})
	if r.Status != http.StatusCreated {
		t.Fatalf("create contact in the other account: %d %s", r.Status, r.Body)
	}
	theirs := r.JSON(t)
	emptyKey, _ := s.NewAccount("empty")

	for _, c := range []struct {
		name, key, path, want string
	}{
		{"mine contacts", "", contactsPath, mine.Id},
		{"mine conversations", "", conversationsPath, myConv},
		{"theirs contacts", otherKey, contactsPath, theirs["id"].(string)},
		{"theirs conversations", otherKey, conversationsPath, theirs["conversation_id"].(string)},
		{"empty contacts", emptyKey, contactsPath, ""},
		{"empty conversations", emptyKey, conversationsPath, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := s.Do(servertest.Request{Path: c.path, Key: c.key})
			if r.Status != http.StatusOK {
				t.Fatalf("GET %s: %d %s", c.path, r.Status, r.Body)
			}
			want := `{"has_more":false,"data":[]}`
			if c.want != "" {
				if got := r.JSON(t); got["has_more"] != false || len(got["data"].([]any)) != 1 || got["data"].([]any)[0].(map[string]any)["id"] != c.want {
					t.Errorf("GET %s = %s, want only %s", c.path, r.Body, c.want)
				}
				return
			}
			if strings.TrimSpace(string(r.Body)) != want {
				t.Errorf("GET %s = %s, want %s", c.path, r.Body, want)
			}
		})
	}
}

// badQuery is a list request that must be refused with 400 invalid_request, naming param
// (unless param is "").
type badQuery struct {
	name, query, param string
}

func testBadRequests(t *testing.T, f *fixture) {
	s := f.s
	otherKey, _ := s.NewAccount("other")
	r := s.Do(servertest.Request{Method: http.MethodPost, Path: contactsPath, Key: otherKey, JSON: frank})
	if r.Status != http.StatusCreated {
		t.Fatalf("create contact in the other account: %d %s", r.Status, r.Body)
	}
	other := r.JSON(t)
	otherContact, otherConv := other["id"].(string), other["conversation_id"].(string)

	common := []badQuery{
		{"limit 0", "limit=0", "limit"},
		{"limit 101", "limit=101", "limit"},
		{"limit negative", "limit=-1", "limit"},
		{"limit abc", "limit=abc", "limit"},
		{"limit fraction", "limit=1.5", "limit"},
		{"limit empty", "limit=", "limit"},
		{"limit twice", "limit=5&limit=5", "limit"},
		{"limit twice differing", "limit=5&limit=6", "limit"},
		{"unknown parameter", "foo=bar", "foo"},
		{"unknown parameter among valid ones", "limit=5&page=2", "page"},
		{"offset is not a parameter", "offset=10", "offset"},
		{"malformed starting_after", "starting_after=abc", "starting_after"},
		{"empty starting_after", "starting_after=", "starting_after"},
		{"malformed ending_before", "ending_before=" + strings.Repeat("x", 17), "ending_before"},
		{"unknown starting_after", "starting_after=WAz8eIbvDR60rouK", "starting_after"},
		{"unknown ending_before", "ending_before=WAz8eIbvDR60rouK", "ending_before"},
		{"starting_after twice", "starting_after=WAz8eIbvDR60rouK&starting_after=WAz8eIbvDR60rouK", "starting_after"},
	}
	perResource := map[string][]badQuery{
		contactsPath: {
			{"both cursors", "starting_after=" + f.contacts[5].id + "&ending_before=" + f.contacts[1].id, ""},
			{"starting_after of another account", "starting_after=" + otherContact, "starting_after"},
			{"ending_before of another account", "ending_before=" + otherContact, "ending_before"},
			{"starting_after is a conversation", "starting_after=" + f.conversations[3].id, "starting_after"},
			{"ending_before is a conversation", "ending_before=" + f.conversations[3].id, "ending_before"},
			{"starting_after deleted", "starting_after=" + f.deletedContact, "starting_after"},
			{"ending_before deleted", "ending_before=" + f.deletedContact, "ending_before"},
			{"deleted cursor with filter", "active=true&limit=3&starting_after=" + f.deletedContact, "starting_after"},
			{"active not boolean", "active=maybe", "active"},
			{"active twice", "active=true&active=false", "active"},
			{"conversation filter", "muted=true", "muted"},
		},
		conversationsPath: {
			{"both cursors", "starting_after=" + f.conversations[5].id + "&ending_before=" + f.conversations[1].id, ""},
			{"starting_after of another account", "starting_after=" + otherConv, "starting_after"},
			{"ending_before of another account", "ending_before=" + otherConv, "ending_before"},
			{"starting_after is a contact", "starting_after=" + f.contacts[3].id, "starting_after"},
			{"ending_before is a contact", "ending_before=" + f.contacts[3].id, "ending_before"},
			{"starting_after deleted", "starting_after=" + f.deletedGroupConv, "starting_after"},
			{"ending_before deleted", "ending_before=" + f.deletedGroupConv, "ending_before"},
			{"starting_after deleted with its contact", "starting_after=" + f.deletedContactConv, "starting_after"},
			{"deleted cursor with filters", "muted=false&group_id=" + groupID(17) + "&ending_before=" + f.deletedGroupConv, "ending_before"},
			{"muted not boolean", "muted=maybe", "muted"},
			{"archived not boolean", "archived=maybe", "archived"},
			{"pinned not boolean", "pinned=maybe", "pinned"},
			{"group_id malformed", "group_id=short", "group_id"},
			{"contact filter", "active=true", "active"},
		},
	}
	for _, path := range []string{contactsPath, conversationsPath} {
		for _, c := range append(slices.Clone(common), perResource[path]...) {
			t.Run(path+"/"+c.name, func(t *testing.T) {
				target := path + "?" + c.query
				r := s.Do(servertest.Request{Path: target})
				if r.Status != http.StatusBadRequest {
					t.Fatalf("GET %s: %d %s, want 400", target, r.Status, r.Body)
				}
				body := r.JSON(t)
				e, _ := body["error"].(map[string]any)
				if e["code"] != "invalid_request" || (c.param != "" && e["param"] != c.param) {
					t.Errorf("GET %s: %s, want code invalid_request and param %q", target, r.Body, c.param)
				}
			})
		}
	}
	// The other account is refused this account's cursors just the same.
	for _, c := range []struct{ path, cursor string }{
		{contactsPath, f.contacts[0].id},
		{conversationsPath, f.conversations[0].id},
	} {
		t.Run("other account uses this account's cursor on "+c.path, func(t *testing.T) {
			target := c.path + "?starting_after=" + c.cursor
			r := s.Do(servertest.Request{Path: target, Key: otherKey})
			if r.Status != http.StatusBadRequest || r.ErrorCode(t) != "invalid_request" || r.JSON(t)["error"].(map[string]any)["param"] != "starting_after" {
				t.Errorf("GET %s with the other key: %d %s, want 400 naming starting_after", target, r.Status, r.Body)
			}
		})
	}
}
