package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"protocol/gen"
	"protocol/server/servertest"
)

// hostileCase is one bad request and the refusal it must get.
type hostileCase struct {
	name string
	req  servertest.Request
	// chunked sends req.Body with no Content-Length (Transfer-Encoding: chunked), so that the
	// server learns the size only by reading.
	chunked bool
	status  int
	code    string
	param   string // checked when set
}

const (
	mediaJSON = "application/json"
	mediaForm = "application/x-www-form-urlencoded"
)

func rawJSON(method, path, body string) servertest.Request {
	return servertest.Request{Method: method, Path: path, Body: body, ContentType: mediaJSON}
}

func rawForm(method, path, body string) servertest.Request {
	return servertest.Request{Method: method, Path: path, Body: body, ContentType: mediaForm}
}

// overMiB is a JSON body just over the 1 MiB limit that would otherwise be a valid contact.
var overMiB = `{"username":"Big","phone_number":"555-0100","display_name":"` + strings.Repeat("a", 1<<20) + `"}`

// TestHostileRequests sends malformed, mistyped, oversized, injected and unauthenticated
// requests to every operation. Each must be refused with its 4xx and error code in the
// envelope, never a 5xx, and none may change anything: both lists and every object read the
// same before and after.
func TestHostileRequests(t *testing.T) {
	s := servertest.New(t)
	frankC := createContact(t, s, frank)
	kevin := createContact(t, s, map[string]any{"username": "KevinMcCallister", "phone_number": "555-0100", "display_name": "Kevin"})
	group := createConversation(t, s, map[string]any{"group_id": "hSIhXBhNe8X1d8Et"})
	frankConv, _ := frankC.ConversationId.Get()
	kevinConv, _ := kevin.ConversationId.Get()
	before := snapshot(t, s, []string{frankC.Id, kevin.Id}, []string{frankConv, kevinConv, group.Id})

	const (
		contacts      = "/v1/contacts"
		conversations = "/v1/conversations"
		traversal     = "..%2F..%2Fetc%2Fpasswd"
		injection     = "%27%20OR%201%3D1%20--"
		drop          = "%27%3B%20DROP%20TABLE%20contacts%3B--"
	)
	contact := contacts + "/" + frankC.Id
	conv := conversations + "/" + frankConv
	unknownID := "WAz8eIbvDR60rouK" // the shape of an id, naming nothing
	const (
		bad      = http.StatusBadRequest
		notFound = http.StatusNotFound
		tooLarge = http.StatusRequestEntityTooLarge
		media    = http.StatusUnsupportedMediaType
		notAllow = http.StatusMethodNotAllowed
		unauth   = http.StatusUnauthorized
		conflict = http.StatusConflict
	)
	const (
		invalid     = "invalid_request"
		nf          = "not_found"
		large       = "payload_too_large"
		unsupported = "unsupported_media_type"
		method      = "method_not_allowed"
		unauthz     = "unauthorized"
		taken       = "conflict"
	)
	post, put, del := http.MethodPost, http.MethodPut, http.MethodDelete
	getReq := func(path string) servertest.Request { return servertest.Request{Path: path} }
	delReq := func(path string) servertest.Request { return servertest.Request{Method: del, Path: path} }
	withKey := func(r servertest.Request, header string) servertest.Request {
		r.NoAuth = true
		if header != "" {
			r.Header = http.Header{"Authorization": {header}}
		}
		return r
	}
	valid := `{"username":"Intruder","phone_number":"555-0199"}`

	cases := []hostileCase{
		// Create a contact: the body.
		{name: "CreateMalformedJSON", req: rawJSON(post, contacts, `{"username":`), status: bad, code: invalid},
		{name: "CreateUnquotedKeys", req: rawJSON(post, contacts, `{username: "Intruder", phone_number: "555-0199"}`), status: bad, code: invalid},
		{name: "CreateJSONArray", req: rawJSON(post, contacts, `[{"username":"Intruder","phone_number":"555-0199"}]`), status: bad, code: invalid},
		{name: "CreateJSONString", req: rawJSON(post, contacts, `"Intruder"`), status: bad, code: invalid},
		{name: "CreateJSONNumber", req: rawJSON(post, contacts, `42`), status: bad, code: invalid},
		{name: "CreateJSONNull", req: rawJSON(post, contacts, `null`), status: bad, code: invalid},
		{name: "CreateJSONTrue", req: rawJSON(post, contacts, `true`), status: bad, code: invalid},
		{name: "CreateEmptyObject", req: rawJSON(post, contacts, `{}`), status: bad, code: invalid, param: "username"},
		{name: "CreateEmptyJSONBody", req: servertest.Request{Method: post, Path: contacts, ContentType: mediaJSON}, status: bad, code: invalid},
		{name: "CreateUsernameNumber", req: rawJSON(post, contacts, `{"username":123,"phone_number":"555-0199"}`), status: bad, code: invalid, param: "username"},
		{name: "CreatePhoneBool", req: rawJSON(post, contacts, `{"username":"Intruder","phone_number":true}`), status: bad, code: invalid, param: "phone_number"},
		{name: "CreateDisplayNameArray", req: rawJSON(post, contacts, `{"username":"Intruder","phone_number":"555-0199","display_name":["a"]}`), status: bad, code: invalid, param: "display_name"},
		{name: "CreateAvatarObject", req: rawJSON(post, contacts, `{"username":"Intruder","phone_number":"555-0199","avatar_url":{"href":"https://x.test"}}`), status: bad, code: invalid, param: "avatar_url"},
		{name: "CreateUnknownJSONField", req: rawJSON(post, contacts, `{"username":"Intruder","phone_number":"555-0199","is_admin":true}`), status: bad, code: invalid, param: "is_admin"},
		{name: "CreateReadOnlyJSONField", req: rawJSON(post, contacts, `{"username":"Intruder","phone_number":"555-0199","id":"AAAAAAAAAAAAAAAA"}`), status: bad, code: invalid, param: "id"},
		{name: "CreateUnknownFormField", req: rawForm(post, contacts, "username=Intruder&phone_number=555-0199&account_id="+unknownID), status: bad, code: invalid, param: "account_id"},
		{name: "CreateUsernameTooLong", req: rawJSON(post, contacts, `{"username":"`+strings.Repeat("u", 65)+`","phone_number":"555-0199"}`), status: bad, code: invalid, param: "username"},
		{name: "CreatePhoneTooLong", req: rawJSON(post, contacts, `{"username":"Intruder","phone_number":"`+strings.Repeat("5", 33)+`"}`), status: bad, code: invalid, param: "phone_number"},
		{name: "CreateDisplayNameTooLong", req: rawForm(post, contacts, "username=Intruder&phone_number=555-0199&display_name="+strings.Repeat("d", 129)), status: bad, code: invalid, param: "display_name"},
		{name: "CreateAvatarTooLong", req: rawJSON(post, contacts, `{"username":"Intruder","phone_number":"555-0199","avatar_url":"https://x.test/`+strings.Repeat("a", 2048)+`"}`), status: bad, code: invalid, param: "avatar_url"},
		{name: "CreateEmptyUsernameJSON", req: rawJSON(post, contacts, `{"username":"","phone_number":"555-0199"}`), status: bad, code: invalid, param: "username"},
		{name: "CreateEmptyPhoneForm", req: rawForm(post, contacts, "username=Intruder&phone_number="), status: bad, code: invalid, param: "phone_number"},
		{name: "CreateEmptyDisplayNameJSON", req: rawJSON(post, contacts, `{"username":"Intruder","phone_number":"555-0199","display_name":""}`), status: bad, code: invalid, param: "display_name"},
		{name: "CreateUsernameNULJSON", req: rawJSON(post, contacts, `{"username":"Intr\u0000uder","phone_number":"555-0199"}`), status: bad, code: invalid, param: "username"},
		{name: "CreateDisplayNameNULJSON", req: rawJSON(post, contacts, `{"username":"Intruder","phone_number":"555-0199","display_name":"\u0000"}`), status: bad, code: invalid, param: "display_name"},
		{name: "CreateDisplayNameNewlineJSON", req: rawJSON(post, contacts, `{"username":"Intruder","phone_number":"555-0199","display_name":"line\nbreak"}`), status: bad, code: invalid, param: "display_name"},
		{name: "CreateUsernameNULForm", req: rawForm(post, contacts, "username=Intr%00uder&phone_number=555-0199"), status: bad, code: invalid, param: "username"},
		{name: "CreateDisplayNameNULForm", req: rawForm(post, contacts, "username=Intruder&phone_number=555-0199&display_name=%00"), status: bad, code: invalid, param: "display_name"},
		{name: "CreatePhoneEscapeForm", req: rawForm(post, contacts, "username=Intruder&phone_number=555%1B0199"), status: bad, code: invalid, param: "phone_number"},
		{name: "CreateInvalidUTF8JSON", req: rawJSON(post, contacts, "{\"username\":\"Intr\xc3\x28uder\",\"phone_number\":\"555-0199\"}"), status: bad, code: invalid},
		{name: "CreateInvalidUTF8Form", req: rawForm(post, contacts, "username=Intr%FF%FEuder&phone_number=555-0199"), status: bad, code: invalid, param: "username"},
		{name: "CreateInvalidUTF8FormDisplayName", req: rawForm(post, contacts, "username=Intruder&phone_number=555-0199&display_name=%C0%AF"), status: bad, code: invalid, param: "display_name"},
		{name: "CreateAvatarJavascript", req: rawJSON(post, contacts, `{"username":"Intruder","phone_number":"555-0199","avatar_url":"javascript:alert(document.cookie)"}`), status: bad, code: invalid, param: "avatar_url"},
		{name: "CreateAvatarFile", req: rawForm(post, contacts, "username=Intruder&phone_number=555-0199&avatar_url=file%3A%2F%2F%2Fetc%2Fpasswd"), status: bad, code: invalid, param: "avatar_url"},
		{name: "CreateAvatarData", req: rawJSON(post, contacts, `{"username":"Intruder","phone_number":"555-0199","avatar_url":"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="}`), status: bad, code: invalid, param: "avatar_url"},
		{name: "CreateAvatarJavascriptMixedCase", req: rawForm(post, contacts, "username=Intruder&phone_number=555-0199&avatar_url=JaVaScRiPt%3Aalert(1)"), status: bad, code: invalid, param: "avatar_url"},
		{name: "CreateAvatarSpaceInHost", req: rawJSON(post, contacts, `{"username":"Intruder","phone_number":"555-0199","avatar_url":"https://exa mple.test/a.jpg"}`), status: bad, code: invalid, param: "avatar_url"},
		{name: "CreateUsernameSQLInjection", req: rawJSON(post, contacts, `{"username":"x'); DROP TABLE contacts;--","phone_number":"555-0199"}`), status: bad, code: invalid, param: "username"},
		{name: "CreateDuplicateJSONKey", req: rawJSON(post, contacts, `{"username":"Intruder","username":"FrankMcCallister","phone_number":"555-0199"}`), status: bad, code: invalid, param: "username"},
		{name: "CreateTrailingJSON", req: rawJSON(post, contacts, valid+`{"username":"Second","phone_number":"555-0199"}`), status: bad, code: invalid},
		{name: "CreateDuplicateFormField", req: rawForm(post, contacts, "username=Intruder&username=Other&phone_number=555-0199"), status: bad, code: invalid, param: "username"},
		{name: "CreateUsernameTaken", req: rawJSON(post, contacts, `{"username":"frankmccallister","phone_number":"555-0199"}`), status: conflict, code: taken, param: "username"},
		{name: "CreateOverMiB", req: rawJSON(post, contacts, overMiB), status: tooLarge, code: large},
		{name: "CreateOverMiBChunked", req: rawJSON(post, contacts, overMiB), chunked: true, status: tooLarge, code: large},
		{name: "CreateTextPlain", req: servertest.Request{Method: post, Path: contacts, Body: valid, ContentType: "text/plain"}, status: media, code: unsupported},
		{name: "CreateNoContentType", req: servertest.Request{Method: post, Path: contacts, Body: valid}, status: media, code: unsupported},
		{name: "CreateXML", req: servertest.Request{Method: post, Path: contacts, Body: "<contact><username>Intruder</username></contact>", ContentType: "application/xml"}, status: media, code: unsupported},
		{name: "CreateLatin1", req: servertest.Request{Method: post, Path: contacts, Body: valid, ContentType: "application/json; charset=iso-8859-1"}, status: media, code: unsupported},
		{name: "CreateMalformedContentType", req: servertest.Request{Method: post, Path: contacts, Body: valid, ContentType: "application/json; charset"}, status: media, code: unsupported},
		{name: "CreateJSONSentAsForm", req: rawForm(post, contacts, valid), status: bad, code: invalid},
		{name: "CreateFormSentAsJSON", req: rawJSON(post, contacts, "username=Intruder&phone_number=555-0199"), status: bad, code: invalid},

		// List contacts: the query.
		{name: "ListLimitZero", req: getReq(contacts + "?limit=0"), status: bad, code: invalid, param: "limit"},
		{name: "ListLimitNegative", req: getReq(contacts + "?limit=-1"), status: bad, code: invalid, param: "limit"},
		{name: "ListLimit101", req: getReq(contacts + "?limit=101"), status: bad, code: invalid, param: "limit"},
		{name: "ListLimitExponent", req: getReq(contacts + "?limit=1e3"), status: bad, code: invalid, param: "limit"},
		{name: "ListLimitWord", req: getReq(contacts + "?limit=abc"), status: bad, code: invalid, param: "limit"},
		{name: "ListLimitEmpty", req: getReq(contacts + "?limit="), status: bad, code: invalid, param: "limit"},
		{name: "ListLimitFraction", req: getReq(contacts + "?limit=10.5"), status: bad, code: invalid, param: "limit"},
		{name: "ListLimitOverflow", req: getReq(contacts + "?limit=99999999999999999999"), status: bad, code: invalid, param: "limit"},
		{name: "ListLimitNUL", req: getReq(contacts + "?limit=%00"), status: bad, code: invalid, param: "limit"},
		{name: "ListLimitTwice", req: getReq(contacts + "?limit=1&limit=100"), status: bad, code: invalid, param: "limit"},
		{name: "ListStartingAfterInjection", req: getReq(contacts + "?starting_after=x%27%20OR%20%271%27%3D%271"), status: bad, code: invalid, param: "starting_after"},
		{name: "ListEndingBeforeTraversal", req: getReq(contacts + "?ending_before=" + traversal), status: bad, code: invalid, param: "ending_before"},
		{name: "ListStartingAfterUnknownID", req: getReq(contacts + "?starting_after=" + unknownID), status: bad, code: invalid, param: "starting_after"},
		{name: "ListStartingAfterConversationID", req: getReq(contacts + "?starting_after=" + frankConv), status: bad, code: invalid, param: "starting_after"},
		{name: "ListStartingAfterTwice", req: getReq(contacts + "?starting_after=" + frankC.Id + "&starting_after=" + kevin.Id), status: bad, code: invalid, param: "starting_after"},
		{name: "ListActiveWord", req: getReq(contacts + "?active=maybe"), status: bad, code: invalid, param: "active"},
		{name: "ListActiveTwice", req: getReq(contacts + "?active=true&active=false"), status: bad, code: invalid, param: "active"},
		{name: "ListUnknownParam", req: getReq(contacts + "?order=asc"), status: bad, code: invalid, param: "order"},
		{name: "ListInjectedParamName", req: getReq(contacts + "?1%3D1%3B--=1"), status: bad, code: invalid},
		{name: "ListMalformedQuery", req: getReq(contacts + "?limit=%zz"), status: bad, code: invalid},
		{name: "ListInvalidUTF8Cursor", req: getReq(contacts + "?starting_after=%FF%FE%FD"), status: bad, code: invalid, param: "starting_after"},

		// Retrieve, update and delete a contact: the id, then the body.
		{name: "GetTraversal", req: getReq(contacts + "/" + traversal), status: notFound, code: nf},
		{name: "GetInjection", req: getReq(contacts + "/" + injection), status: notFound, code: nf},
		{name: "GetNUL", req: getReq(contacts + "/%00"), status: notFound, code: nf},
		{name: "GetIDWithSpace", req: getReq(contact + "%20"), status: notFound, code: nf},
		{name: "GetIDOfConversation", req: getReq(contacts + "/" + frankConv), status: notFound, code: nf, param: "id"},
		{name: "GetUnknownID", req: getReq(contacts + "/" + unknownID), status: notFound, code: nf, param: "id"},
		{name: "GetSubpath", req: getReq(contact + "/conversation"), status: notFound, code: nf},
		{name: "GetTraversalUnescaped", req: getReq(contacts + "/../../etc/passwd"), status: notFound, code: nf},
		{name: "GetEmptySegment", req: getReq(contacts + "//" + frankC.Id), status: notFound, code: nf},
		{name: "UpdateSubpath", req: rawJSON(put, contact+"/avatar_url", `{"display_name":"x"}`), status: notFound, code: nf},
		{name: "DeleteSubpath", req: delReq(contact + "/" + kevin.Id), status: notFound, code: nf},
		{name: "UpdateMalformedJSON", req: rawJSON(put, contact, `{"display_name":"x"`), status: bad, code: invalid},
		{name: "UpdateJSONArray", req: rawJSON(put, contact, `[]`), status: bad, code: invalid},
		{name: "UpdateJSONNull", req: rawJSON(put, contact, `null`), status: bad, code: invalid},
		{name: "UpdateJSONString", req: rawJSON(put, contact, `"UncleFrank"`), status: bad, code: invalid},
		{name: "UpdateJSONNumber", req: rawJSON(put, contact, `-0.5e10`), status: bad, code: invalid},
		{name: "UpdateEmptyJSONBody", req: servertest.Request{Method: put, Path: contact, ContentType: mediaJSON}, status: bad, code: invalid},
		{name: "UpdateUsernameNull", req: rawJSON(put, contact, `{"username":null}`), status: bad, code: invalid, param: "username"},
		{name: "UpdatePhoneNumber", req: rawJSON(put, contact, `{"phone_number":5550100}`), status: bad, code: invalid, param: "phone_number"},
		{name: "UpdateID", req: rawJSON(put, contact, `{"id":"AAAAAAAAAAAAAAAA"}`), status: bad, code: invalid, param: "id"},
		{name: "UpdateConversationID", req: rawJSON(put, contact, `{"conversation_id":null}`), status: bad, code: invalid, param: "conversation_id"},
		{name: "UpdateCreatedAt", req: rawJSON(put, contact, `{"created_at":0}`), status: bad, code: invalid, param: "created_at"},
		{name: "UpdateUnknownFormField", req: rawForm(put, contact, "display_name=Uncle&last_active_at=1"), status: bad, code: invalid, param: "last_active_at"},
		{name: "UpdateDisplayNameNULForm", req: rawForm(put, contact, "display_name=Uncle%00Frank"), status: bad, code: invalid, param: "display_name"},
		{name: "UpdateDisplayNameDELJSON", req: rawJSON(put, contact, `{"display_name":"Uncle\u007fFrank"}`), status: bad, code: invalid, param: "display_name"},
		{name: "UpdateUsernameEmptyForm", req: rawForm(put, contact, "username="), status: bad, code: invalid, param: "username"},
		{name: "UpdateUsernameTabJSON", req: rawJSON(put, contact, `{"username":"Frank\tMcCallister"}`), status: bad, code: invalid, param: "username"},
		{name: "UpdateAvatarJavascriptForm", req: rawForm(put, contact, "avatar_url=javascript%3Aalert(1)"), status: bad, code: invalid, param: "avatar_url"},
		{name: "UpdateAvatarFileJSON", req: rawJSON(put, contact, `{"avatar_url":"file:///etc/passwd"}`), status: bad, code: invalid, param: "avatar_url"},
		{name: "UpdateAvatarDataForm", req: rawForm(put, contact, "avatar_url=data%3Aimage%2Fsvg%2Bxml%2C%3Csvg%20onload%3Dalert(1)%3E"), status: bad, code: invalid, param: "avatar_url"},
		{name: "UpdateInvalidUTF8JSON", req: rawJSON(put, contact, "{\"display_name\":\"\xed\xa0\x80\"}"), status: bad, code: invalid},
		{name: "UpdateInvalidUTF8Form", req: rawForm(put, contact, "display_name=%ED%A0%80"), status: bad, code: invalid, param: "display_name"},
		{name: "UpdateUsernameTaken", req: rawJSON(put, contact, `{"username":"kevinmccallister"}`), status: conflict, code: taken, param: "username"},
		{name: "UpdateOverMiB", req: rawJSON(put, contact, overMiB), status: tooLarge, code: large},
		{name: "UpdateOverMiBChunked", req: rawForm(put, contact, "display_name="+strings.Repeat("a", 1<<20+1)), chunked: true, status: tooLarge, code: large},
		{name: "UpdateTextPlain", req: servertest.Request{Method: put, Path: contact, Body: `{"display_name":"x"}`, ContentType: "text/plain"}, status: media, code: unsupported},
		{name: "UpdateNoContentType", req: servertest.Request{Method: put, Path: contact, Body: `{"display_name":"x"}`}, status: media, code: unsupported},
		{name: "UpdateMultipart", req: servertest.Request{Method: put, Path: contact, Body: "--b\r\nContent-Disposition: form-data; name=\"display_name\"\r\n\r\nx\r\n--b--\r\n", ContentType: "multipart/form-data; boundary=b"}, status: media, code: unsupported},
		{name: "UpdateInjectedID", req: rawJSON(put, contacts+"/"+injection, `{"display_name":"x"}`), status: notFound, code: nf},
		{name: "UpdateTraversal", req: rawJSON(put, contacts+"/"+traversal, `{"display_name":"x"}`), status: notFound, code: nf},
		{name: "DeleteInjection", req: delReq(contacts + "/" + injection), status: notFound, code: nf},
		{name: "DeleteDropTable", req: delReq(contacts + "/" + drop), status: notFound, code: nf},
		{name: "DeleteTraversal", req: delReq(contacts + "/" + traversal), status: notFound, code: nf},
		{name: "DeleteWildcard", req: delReq(contacts + "/%2A"), status: notFound, code: nf},
		{name: "DeletePercent", req: delReq(contacts + "/%25"), status: notFound, code: nf},
		{name: "DeleteUnknownID", req: delReq(contacts + "/" + unknownID), status: notFound, code: nf, param: "id"},
		{name: "PatchContact", req: rawJSON(http.MethodPatch, contact, `{"display_name":"x"}`), status: notAllow, code: method},
		{name: "PostOnContact", req: rawJSON(post, contact, valid), status: notAllow, code: method},
		{name: "DeleteContactsCollection", req: delReq(contacts), status: notAllow, code: method},
		{name: "PutContactsCollection", req: rawJSON(put, contacts, valid), status: notAllow, code: method},

		// Conversations.
		{name: "ConvListLimitZero", req: getReq(conversations + "?limit=0"), status: bad, code: invalid, param: "limit"},
		{name: "ConvListLimitWord", req: getReq(conversations + "?limit=ten"), status: bad, code: invalid, param: "limit"},
		{name: "ConvListMutedWord", req: getReq(conversations + "?muted=notabool"), status: bad, code: invalid, param: "muted"},
		{name: "ConvListArchivedWord", req: getReq(conversations + "?archived=yes"), status: bad, code: invalid, param: "archived"},
		{name: "ConvListPinnedNUL", req: getReq(conversations + "?pinned=%00"), status: bad, code: invalid, param: "pinned"},
		{name: "ConvListMutedTwice", req: getReq(conversations + "?muted=true&muted=false"), status: bad, code: invalid, param: "muted"},
		{name: "ConvListGroupDropTable", req: getReq(conversations + "?group_id=" + drop), status: bad, code: invalid, param: "group_id"},
		{name: "ConvListGroupTraversal", req: getReq(conversations + "?group_id=" + traversal), status: bad, code: invalid, param: "group_id"},
		{name: "ConvListGroupInjection", req: getReq(conversations + "?group_id=x%27%20OR%20%271%27%3D%271"), status: bad, code: invalid, param: "group_id"},
		{name: "ConvListStartingAfterInjection", req: getReq(conversations + "?starting_after=" + injection), status: bad, code: invalid, param: "starting_after"},
		{name: "ConvListStartingAfterContactID", req: getReq(conversations + "?starting_after=" + frankC.Id), status: bad, code: invalid, param: "starting_after"},
		{name: "ConvListBothCursors", req: getReq(conversations + "?starting_after=" + frankConv + "&ending_before=" + kevinConv), status: bad, code: invalid, param: "ending_before"},
		{name: "ConvCreateEmptyObject", req: rawJSON(post, conversations, `{}`), status: bad, code: invalid, param: "contact_id"},
		{name: "ConvCreateBoth", req: rawJSON(post, conversations, `{"contact_id":"`+frankC.Id+`","group_id":"hSIhXBhNe8X1d8Eu"}`), status: bad, code: invalid},
		{name: "ConvCreateContactInjection", req: rawJSON(post, conversations, `{"contact_id":"' OR 1=1 --"}`), status: bad, code: invalid, param: "contact_id"},
		{name: "ConvCreateGroupShort", req: rawForm(post, conversations, "group_id=abc"), status: bad, code: invalid, param: "group_id"},
		{name: "ConvCreateContactNumber", req: rawJSON(post, conversations, `{"contact_id":1234567890123456}`), status: bad, code: invalid, param: "contact_id"},
		{name: "ConvCreateContactNull", req: rawJSON(post, conversations, `{"contact_id":null}`), status: bad, code: invalid, param: "contact_id"},
		{name: "ConvCreateUnknownContact", req: rawJSON(post, conversations, `{"contact_id":"`+unknownID+`"}`), status: bad, code: invalid, param: "contact_id"},
		{name: "ConvCreateContactIsConversation", req: rawForm(post, conversations, "contact_id="+group.Id), status: bad, code: invalid, param: "contact_id"},
		{name: "ConvCreateContactTaken", req: rawJSON(post, conversations, `{"contact_id":"`+frankC.Id+`"}`), status: conflict, code: taken, param: "contact_id"},
		{name: "ConvCreateGroupTaken", req: rawForm(post, conversations, "group_id=hSIhXBhNe8X1d8Et"), status: conflict, code: taken, param: "group_id"},
		{name: "ConvCreateJSONArray", req: rawJSON(post, conversations, `["hSIhXBhNe8X1d8Eu"]`), status: bad, code: invalid},
		{name: "ConvCreateJSONNull", req: rawJSON(post, conversations, `null`), status: bad, code: invalid},
		{name: "ConvCreateNULForm", req: rawForm(post, conversations, "group_id=hSIhXBhNe8X1d8E%00"), status: bad, code: invalid, param: "group_id"},
		{name: "ConvCreateUnknownFormField", req: rawForm(post, conversations, "group_id=hSIhXBhNe8X1d8Eu&is_muted=true"), status: bad, code: invalid, param: "is_muted"},
		{name: "ConvCreateOverMiBChunked", req: rawJSON(post, conversations, `{"group_id":"`+strings.Repeat("a", 1<<20)+`"}`), chunked: true, status: tooLarge, code: large},
		{name: "ConvCreateTextPlain", req: servertest.Request{Method: post, Path: conversations, Body: "group_id=hSIhXBhNe8X1d8Eu", ContentType: "text/plain"}, status: media, code: unsupported},
		{name: "ConvUpdateMutedWord", req: rawJSON(put, conv, `{"is_muted":"yes"}`), status: bad, code: invalid, param: "is_muted"},
		{name: "ConvUpdatePinnedNumber", req: rawJSON(put, conv, `{"is_pinned":1}`), status: bad, code: invalid, param: "is_pinned"},
		{name: "ConvUpdateArchivedWord", req: rawJSON(put, conv, `{"archived_at":"tomorrow"}`), status: bad, code: invalid, param: "archived_at"},
		{name: "ConvUpdateArchivedNegative", req: rawJSON(put, conv, `{"archived_at":-1}`), status: bad, code: invalid, param: "archived_at"},
		{name: "ConvUpdateArchivedAfter9999", req: rawJSON(put, conv, `{"archived_at":253402300800}`), status: bad, code: invalid, param: "archived_at"},
		{name: "ConvUpdateArchivedFraction", req: rawJSON(put, conv, `{"archived_at":1.5}`), status: bad, code: invalid, param: "archived_at"},
		{name: "ConvUpdateArchivedHuge", req: rawJSON(put, conv, `{"archived_at":1e400}`), status: bad, code: invalid},
		{name: "ConvUpdatePinnedMessageTraversal", req: rawJSON(put, conv, `{"pinned_message_id":"../../etc/passwd"}`), status: bad, code: invalid, param: "pinned_message_id"},
		{name: "ConvUpdateContactID", req: rawJSON(put, conv, `{"contact_id":"`+kevin.Id+`"}`), status: bad, code: invalid, param: "contact_id"},
		{name: "ConvUpdateMutedWordForm", req: rawForm(put, conv, "is_muted=maybe"), status: bad, code: invalid, param: "is_muted"},
		{name: "ConvUpdatePinnedNULForm", req: rawForm(put, conv, "is_pinned=%00"), status: bad, code: invalid, param: "is_pinned"},
		{name: "ConvUpdateArchivedWordForm", req: rawForm(put, conv, "archived_at=abc"), status: bad, code: invalid, param: "archived_at"},
		{name: "ConvUpdateArchivedNegativeForm", req: rawForm(put, conv, "archived_at=-1"), status: bad, code: invalid, param: "archived_at"},
		{name: "ConvUpdateArchivedAfter9999Form", req: rawForm(put, conv, "archived_at=999999999999"), status: bad, code: invalid, param: "archived_at"},
		{name: "ConvUpdateArchivedThirteenDigitsForm", req: rawForm(put, conv, "archived_at=1000000000000"), status: bad, code: invalid, param: "archived_at"},
		{name: "ConvUpdatePinnedMessageInjectionForm", req: rawForm(put, conv, "pinned_message_id="+injection), status: bad, code: invalid, param: "pinned_message_id"},
		{name: "ConvUpdateInvalidUTF8Form", req: rawForm(put, conv, "pinned_message_id=%80%80%80%80%80%80%80%80%80%80%80%80%80%80%80%80"), status: bad, code: invalid, param: "pinned_message_id"},
		{name: "ConvUpdateJSONArray", req: rawJSON(put, conv, `[{"is_muted":true}]`), status: bad, code: invalid},
		{name: "ConvUpdateDuplicateKey", req: rawJSON(put, conv, `{"is_muted":true,"is_muted":false}`), status: bad, code: invalid, param: "is_muted"},
		{name: "ConvUpdateOverMiB", req: rawForm(put, conv, "pinned_message_id="+strings.Repeat("a", 1<<20)), status: tooLarge, code: large},
		{name: "ConvUpdateNoContentType", req: servertest.Request{Method: put, Path: conv, Body: `{"is_muted":true}`}, status: media, code: unsupported},
		{name: "ConvGetInjection", req: getReq(conversations + "/%27%20OR%20%271%27%3D%271"), status: notFound, code: nf},
		{name: "ConvGetIDOfContact", req: getReq(conversations + "/" + frankC.Id), status: notFound, code: nf, param: "id"},
		{name: "ConvUpdateTraversal", req: rawJSON(put, conversations+"/"+traversal, `{"is_muted":true}`), status: notFound, code: nf},
		{name: "ConvDeleteDropTable", req: delReq(conversations + "/" + drop), status: notFound, code: nf},
		{name: "ConvDeleteTraversal", req: delReq(conversations + "/" + traversal), status: notFound, code: nf},
		{name: "ConvGetSubpath", req: getReq(conv + "/messages"), status: notFound, code: nf},
		{name: "ConvDeleteTraversalUnescaped", req: delReq(conversations + "/" + frankConv + "/../" + kevinConv), status: notFound, code: nf},
		{name: "PatchConversation", req: rawJSON(http.MethodPatch, conv, `{"is_muted":true}`), status: notAllow, code: method},
		{name: "PostOnConversation", req: rawJSON(post, conv, `{"is_muted":true}`), status: notAllow, code: method},
		{name: "DeleteConversationsCollection", req: delReq(conversations), status: notAllow, code: method},
		{name: "PutConversationsCollection", req: rawJSON(put, conversations, `{"is_muted":true}`), status: notAllow, code: method},

		// Authorization.
		{name: "NoAuthorization", req: withKey(getReq(contacts), ""), status: unauth, code: unauthz},
		{name: "BearerWithoutKey", req: withKey(getReq(contacts), "Bearer"), status: unauth, code: unauthz},
		{name: "BearerBlank", req: withKey(getReq(contacts), "Bearer    "), status: unauth, code: unauthz},
		{name: "KeyWithoutScheme", req: withKey(getReq(contacts), s.Key), status: unauth, code: unauthz},
		{name: "BasicAuth", req: withKey(getReq(contacts), "Basic YWRtaW46YWRtaW4="), status: unauth, code: unauthz},
		{name: "TokenScheme", req: withKey(getReq(contacts), "Token "+s.Key), status: unauth, code: unauthz},
		{name: "KeyWithSuffix", req: withKey(getReq(contacts), "Bearer "+s.Key+"x"), status: unauth, code: unauthz},
		{name: "KeyTruncated", req: withKey(getReq(contacts), "Bearer "+s.Key[:len(s.Key)-1]), status: unauth, code: unauthz},
		{name: "KeyUpperCase", req: withKey(getReq(contacts), "Bearer "+strings.ToUpper(s.Key)), status: unauth, code: unauthz},
		{name: "KeyTwice", req: withKey(getReq(contacts), "Bearer "+s.Key+", Bearer "+s.Key), status: unauth, code: unauthz},
		{name: "KeyInjection", req: withKey(getReq(contacts), "Bearer sk_' OR '1'='1"), status: unauth, code: unauthz},
		{name: "CreateWithoutKey", req: withKey(rawJSON(post, contacts, valid), ""), status: unauth, code: unauthz},
		{name: "UpdateWithBadKey", req: withKey(rawJSON(put, contact, `{"display_name":"Owned"}`), "Bearer sk_"+strings.Repeat("0", 40)), status: unauth, code: unauthz},
		{name: "DeleteWithBadKey", req: withKey(delReq(contact), "Bearer sk_"+strings.Repeat("0", 40)), status: unauth, code: unauthz},
		{name: "ConvDeleteWithoutKey", req: withKey(delReq(conv), ""), status: unauth, code: unauthz},
		{name: "ConvUpdateWithBasic", req: withKey(rawJSON(put, conv, `{"is_muted":true}`), "Basic "+s.Key), status: unauth, code: unauthz},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var status int
			var env gen.Error
			if tc.chunked {
				var body []byte
				status, body = sendChunked(t, s, tc.req)
				if err := json.Unmarshal(body, &env); err != nil {
					t.Fatalf("body is not the error envelope: %v\n%.300s", err, body)
				}
			} else {
				r := s.Do(tc.req)
				status = r.Status
				if status < 400 {
					t.Fatalf("answered %d %.300s, want %d %s", status, r.Body, tc.status, tc.code)
				}
				r.Decode(t, &env)
			}
			param := ""
			if env.Error.Param != nil {
				param = *env.Error.Param
			}
			if status != tc.status || string(env.Error.Code) != tc.code || (tc.param != "" && param != tc.param) {
				t.Errorf("answered %d %s (param %q: %q), want %d %s (param %q)",
					status, env.Error.Code, param, env.Error.Message, tc.status, tc.code, tc.param)
			}
		})
	}
	t.Logf("%d bad requests tried", len(cases))

	after := snapshot(t, s, []string{frankC.Id, kevin.Id}, []string{frankConv, kevinConv, group.Id})
	for k, b := range before {
		if after[k] != b {
			t.Errorf("GET %s changed:\nbefore %s\nafter  %s", k, b, after[k])
		}
	}
	if strings.Contains(s.Log.String(), `"level":"ERROR"`) {
		t.Errorf("bad requests made the server log errors:\n%s", firstLines(s.Log.String(), `"level":"ERROR"`, 10))
	}
}

// snapshot reads both lists and each object: path -> body.
func snapshot(t *testing.T, s *servertest.Server, contactIDs, conversationIDs []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	paths := []string{"/v1/contacts?limit=100", "/v1/conversations?limit=100"}
	for _, id := range contactIDs {
		paths = append(paths, "/v1/contacts/"+id)
	}
	for _, id := range conversationIDs {
		paths = append(paths, "/v1/conversations/"+id)
	}
	for _, p := range paths {
		r := s.Do(servertest.Request{Path: p})
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", p, r.Status, r.Body)
		}
		out[p] = string(r.Body)
	}
	return out
}

// sendChunked sends req with its body streamed in pieces of unknown total length, which
// net/http sends with Transfer-Encoding: chunked, and checks that the answer is the envelope.
func sendChunked(t *testing.T, s *servertest.Server, req servertest.Request) (int, []byte) {
	t.Helper()
	// A MultiReader hides the length from net/http.
	body := io.MultiReader(strings.NewReader(req.Body[:len(req.Body)/2]), strings.NewReader(req.Body[len(req.Body)/2:]))
	hr, err := http.NewRequest(req.Method, s.URL+req.Path, body)
	if err != nil {
		t.Fatal(err)
	}
	if hr.ContentLength != 0 {
		t.Fatalf("the request has Content-Length %d; want it sent chunked", hr.ContentLength)
	}
	hr.Header.Set("Content-Type", req.ContentType)
	hr.Header.Set("Authorization", "Bearer "+s.Key)
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.Path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, mediaJSON) {
		t.Errorf("error response has Content-Type %q", ct)
	}
	var env gen.Error
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil || env.Error.Message == "" || env.Error.Type != gen.ErrorErrorTypeInvalidRequest {
		t.Errorf("answer %d is not a 4xx error envelope (%v): %.300s", resp.StatusCode, err, data)
	}
	return resp.StatusCode, data
}
