package server

import (
	"net/http"
	"strconv"
	"unicode/utf8"

	"protocol/store"
)

// Contacts and conversations are encoded by hand: encoding/json spends most of a list request
// reflecting over the generated models and their Nullable maps, and these two shapes are small
// and fixed. The field order and null rules are the spec's (Contact and Conversation in
// openapi.yaml); every test response is validated against the spec, so a drift fails the tests.

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, as encoding/json does.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		// U+2028 and U+2029 are valid JSON but break JavaScript string literals.
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendNullString(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return appendString(b, *s)
}

func appendNullInt(b []byte, n *int64) []byte {
	if n == nil {
		return append(b, "null"...)
	}
	return strconv.AppendInt(b, *n, 10)
}

// appendContact appends the JSON of the spec's Contact.
func appendContact(b []byte, c store.Contact) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, c.ID)
	b = append(b, `,"username":`...)
	b = appendString(b, c.Username)
	b = append(b, `,"phone_number":`...)
	b = appendString(b, c.PhoneNumber)
	b = append(b, `,"avatar_url":`...)
	b = appendNullString(b, c.AvatarURL)
	b = append(b, `,"display_name":`...)
	b = appendNullString(b, c.DisplayName)
	b = append(b, `,"conversation_id":`...)
	b = appendNullString(b, c.ConversationID)
	b = append(b, `,"last_active_at":`...)
	b = appendNullInt(b, c.LastActiveAt)
	b = append(b, `,"created_at":`...)
	b = strconv.AppendInt(b, c.CreatedAt, 10)
	return append(b, '}')
}

// appendConversation appends the JSON of the spec's Conversation.
func appendConversation(b []byte, c store.Conversation) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, c.ID)
	b = append(b, `,"contact_id":`...)
	b = appendNullString(b, c.ContactID)
	b = append(b, `,"group_id":`...)
	b = appendNullString(b, c.GroupID)
	b = append(b, `,"pinned_message_id":`...)
	b = appendNullString(b, c.PinnedMessageID)
	b = append(b, `,"is_pinned":`...)
	b = strconv.AppendBool(b, c.IsPinned)
	b = append(b, `,"is_muted":`...)
	b = strconv.AppendBool(b, c.IsMuted)
	b = append(b, `,"last_active_at":`...)
	b = appendNullInt(b, c.LastActiveAt)
	b = append(b, `,"last_opened_at":`...)
	b = appendNullInt(b, c.LastOpenedAt)
	b = append(b, `,"created_at":`...)
	b = strconv.AppendInt(b, c.CreatedAt, 10)
	b = append(b, `,"archived_at":`...)
	b = appendNullInt(b, c.ArchivedAt)
	return append(b, '}')
}

// appendList appends the spec's ContactList or ConversationList.
func appendList[T any](b []byte, rows []T, hasMore bool, item func([]byte, T) []byte) []byte {
	b = append(b, `{"has_more":`...)
	b = strconv.AppendBool(b, hasMore)
	b = append(b, `,"data":[`...)
	for i, r := range rows {
		if i > 0 {
			b = append(b, ',')
		}
		b = item(b, r)
	}
	return append(b, "]}\n"...)
}

// encoded is a response whose JSON body is already encoded. It implements the generated
// response interfaces of the operations that answer a contact, a conversation or a list.
type encoded struct {
	status int
	body   []byte
	etag   string
}

// objectResponse encodes one object with its ETag, computed from the very bytes sent.
func objectResponse[T any](status int, v T, enc func([]byte, T) []byte) encoded {
	body := enc(make([]byte, 0, 512), v)
	return encoded{status: status, body: append(body, '\n'), etag: etagOf(body)}
}

func (r encoded) write(w http.ResponseWriter) error {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if r.etag != "" {
		h.Set("ETag", r.etag)
	}
	w.WriteHeader(r.status)
	_, err := w.Write(r.body)
	return err
}

func (r encoded) VisitListContactsResponse(w http.ResponseWriter) error       { return r.write(w) }
func (r encoded) VisitCreateContactResponse(w http.ResponseWriter) error      { return r.write(w) }
func (r encoded) VisitGetContactResponse(w http.ResponseWriter) error         { return r.write(w) }
func (r encoded) VisitUpdateContactResponse(w http.ResponseWriter) error      { return r.write(w) }
func (r encoded) VisitListConversationsResponse(w http.ResponseWriter) error  { return r.write(w) }
func (r encoded) VisitCreateConversationResponse(w http.ResponseWriter) error { return r.write(w) }
func (r encoded) VisitGetConversationResponse(w http.ResponseWriter) error    { return r.write(w) }
func (r encoded) VisitUpdateConversationResponse(w http.ResponseWriter) error { return r.write(w) }
