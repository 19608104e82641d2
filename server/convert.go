package server

import (
	"strconv"

	"github.com/oapi-codegen/nullable"

	"protocol/gen"
	"protocol/store"
)

// This file is the one place that knows both the wire shapes (gen) and the stored shapes
// (store), including the form rules: a form cannot say null, so an empty value means null.

// optionalOf turns a JSON field that may be absent, null or a value into a store change.
func optionalOf[T any](n nullable.Nullable[T]) store.Optional[T] {
	switch {
	case !n.IsSpecified():
		return store.Optional[T]{}
	case n.IsNull():
		return store.Clear[T]()
	default:
		return store.SetTo(n.MustGet())
	}
}

// optionalPtr turns a field that may be absent or a value (never null) into a store change.
func optionalPtr[T any](p *T) store.Optional[T] {
	if p == nil {
		return store.Optional[T]{}
	}
	return store.SetTo(*p)
}

// formValue turns a form field into a store change: absent stays absent, empty clears.
func formValue(p *string) store.Optional[string] {
	switch {
	case p == nil:
		return store.Optional[string]{}
	case *p == "":
		return store.Clear[string]()
	default:
		return store.SetTo(*p)
	}
}

// formTimestamp is formValue for a timestamp; the spec's pattern has already checked the digits.
func formTimestamp(p *string) (store.Optional[int64], error) {
	v := formValue(p)
	if !v.Set || v.Value == nil {
		return store.Optional[int64]{Set: v.Set}, nil
	}
	n, err := strconv.ParseInt(*v.Value, 10, 64)
	if err != nil || n > maxTimestamp {
		return store.Optional[int64]{}, invalid("archived_at", "archived_at must be a Unix time in seconds up to 253402300799.")
	}
	return store.SetTo(n), nil
}

// maxTimestamp is the end of year 9999, the spec's maximum for timestamps.
const maxTimestamp = 253402300799

// valueOrNil is the pointer form of a create field that may be empty (form) or null (JSON).
func valueOrNil(o store.Optional[string]) *string {
	if !o.Set {
		return nil
	}
	return o.Value
}

func newContactFromJSON(b *gen.ContactCreate) store.NewContact {
	return store.NewContact{
		Username:    b.Username,
		PhoneNumber: b.PhoneNumber,
		AvatarURL:   valueOrNil(optionalOf(b.AvatarUrl)),
		DisplayName: valueOrNil(optionalOf(b.DisplayName)),
	}
}

func newContactFromForm(b *gen.ContactCreateForm) store.NewContact {
	return store.NewContact{
		Username:    b.Username,
		PhoneNumber: b.PhoneNumber,
		AvatarURL:   valueOrNil(formValue(b.AvatarUrl)),
		DisplayName: valueOrNil(formValue(b.DisplayName)),
	}
}

func contactChangesFromJSON(b *gen.ContactUpdate) store.ContactChanges {
	return store.ContactChanges{
		Username:    optionalPtr(b.Username),
		PhoneNumber: optionalPtr(b.PhoneNumber),
		AvatarURL:   optionalOf(b.AvatarUrl),
		DisplayName: optionalOf(b.DisplayName),
	}
}

func contactChangesFromForm(b *gen.ContactUpdateForm) store.ContactChanges {
	return store.ContactChanges{
		Username:    optionalPtr(b.Username),
		PhoneNumber: optionalPtr(b.PhoneNumber),
		AvatarURL:   formValue(b.AvatarUrl),
		DisplayName: formValue(b.DisplayName),
	}
}

func newConversation(contactID, groupID *string) (store.NewConversation, error) {
	if (contactID == nil) == (groupID == nil) {
		return store.NewConversation{}, invalid("contact_id", "Exactly one of contact_id or group_id is required.")
	}
	return store.NewConversation{ContactID: contactID, GroupID: groupID}, nil
}

func conversationChangesFromJSON(b *gen.ConversationUpdate) store.ConversationChanges {
	return store.ConversationChanges{
		PinnedMessageID: optionalOf(b.PinnedMessageId),
		IsPinned:        optionalPtr(b.IsPinned),
		IsMuted:         optionalPtr(b.IsMuted),
		ArchivedAt:      optionalOf(b.ArchivedAt),
	}
}

func conversationChangesFromForm(b *gen.ConversationUpdateForm) (store.ConversationChanges, error) {
	archivedAt, err := formTimestamp(b.ArchivedAt)
	if err != nil {
		return store.ConversationChanges{}, err
	}
	return store.ConversationChanges{
		PinnedMessageID: formValue(b.PinnedMessageId),
		IsPinned:        optionalPtr(b.IsPinned),
		IsMuted:         optionalPtr(b.IsMuted),
		ArchivedAt:      archivedAt,
	}, nil
}

func page(limit *int, startingAfter, endingBefore *string) (store.Page, error) {
	if startingAfter != nil && endingBefore != nil {
		return store.Page{}, invalid("ending_before", "Only one of starting_after or ending_before may be given.")
	}
	p := store.Page{Limit: defaultLimit}
	if limit != nil {
		p.Limit = *limit
	}
	if startingAfter != nil {
		p.StartingAfter = *startingAfter
	}
	if endingBefore != nil {
		p.EndingBefore = *endingBefore
	}
	return p, nil
}

// defaultLimit is the page size when a list request names none, as the documentation says.
const defaultLimit = 10
