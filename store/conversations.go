package store

import (
	"context"
	"errors"

	"gorm.io/gorm"
)

// NewConversation is what a client gives to create a conversation: exactly one of ContactID
// and GroupID (the API layer enforces "exactly one").
type NewConversation struct {
	ContactID *string
	GroupID   *string
}

// ConversationChanges is a partial update of a conversation; fields not Set stay as they are.
type ConversationChanges struct {
	PinnedMessageID Optional[string]
	IsPinned        Optional[bool]
	IsMuted         Optional[bool]
	ArchivedAt      Optional[int64]
}

// ConversationFilter narrows a conversation list; nil fields do not filter.
type ConversationFilter struct {
	Muted    *bool
	Archived *bool
	Pinned   *bool
	GroupID  *string
}

// CreateConversation adds a conversation with one of the account's contacts or for a group.
// A contact or a group has at most one conversation: a second one is a *ConflictError naming
// the existing conversation.
func (s *Store) CreateConversation(ctx context.Context, accountID string, in NewConversation) (Conversation, error) {
	conv := Conversation{ID: NewID(), AccountID: accountID, ContactID: in.ContactID, GroupID: in.GroupID, CreatedAt: s.unix()}
	err := s.writes.write(ctx, func(tx *gorm.DB) error {
		conv.Seq = 0 // set by the Create of an earlier, rolled back run
		if in.ContactID != nil {
			if _, err := getContact(ctx, txQuerier(tx), accountID, *in.ContactID); errors.Is(err, ErrNotFound) {
				return &ReferenceError{Field: "contact_id", ID: *in.ContactID}
			} else if err != nil {
				return err
			}
			if err := conversationFree(tx, "contact_id", accountID, *in.ContactID); err != nil {
				return err
			}
		}
		if in.GroupID != nil {
			if err := conversationFree(tx, "group_id", accountID, *in.GroupID); err != nil {
				return err
			}
		}
		if err := tx.Create(&conv).Error; err != nil {
			field, value := "group_id", derefOr(in.GroupID, "")
			if in.ContactID != nil {
				field, value = "contact_id", *in.ContactID
			}
			return translateConflict(err, field, value)
		}
		if in.ContactID != nil {
			return linkContact(tx, accountID, *in.ContactID, conv.ID)
		}
		return nil
	})
	if err != nil {
		return Conversation{}, err
	}
	return conv, nil
}

// conversationFree returns a *ConflictError if the account already has a conversation whose
// column (contact_id or group_id) equals value.
func conversationFree(tx *gorm.DB, column, accountID, value string) error {
	var existing string
	err := tx.Table("conversations").Select("id").
		Where("account_id = ? AND "+column+" = ?", accountID, value).Take(&existing).Error
	switch {
	case err == nil:
		return &ConflictError{Field: column, Value: value, ExistingID: existing}
	case errors.Is(err, gorm.ErrRecordNotFound):
		return nil
	default:
		return err
	}
}

// linkContact sets the conversation_id of the account's contact to the conversation just made
// with it.
func linkContact(tx *gorm.DB, accountID, contactID, conversationID string) error {
	return execWrite(tx, `UPDATE contacts SET conversation_id = ? WHERE account_id = ? AND id = ?`,
		conversationID, accountID, contactID)
}

// Conversation returns one conversation of the account.
func (s *Store) Conversation(ctx context.Context, accountID, id string) (Conversation, error) {
	return getConversation(ctx, s.reads, accountID, id)
}

// UpdateConversation applies the changes that are Set and returns the conversation as it now is.
// check, if not nil, runs first, on the conversation as it is.
func (s *Store) UpdateConversation(ctx context.Context, accountID, id string, ch ConversationChanges, check Precondition[Conversation]) (Conversation, error) {
	var out Conversation
	err := s.writes.write(ctx, func(tx *gorm.DB) error {
		c, err := getConversation(ctx, txQuerier(tx), accountID, id)
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(c); err != nil {
				return err
			}
		}
		var set assignments
		if ch.PinnedMessageID.Set {
			c.PinnedMessageID = ch.PinnedMessageID.Value
			set.add("pinned_message_id", c.PinnedMessageID)
		}
		if ch.IsPinned.Set {
			c.IsPinned = *ch.IsPinned.Value
			set.add("is_pinned", c.IsPinned)
		}
		if ch.IsMuted.Set {
			c.IsMuted = *ch.IsMuted.Value
			set.add("is_muted", c.IsMuted)
		}
		if ch.ArchivedAt.Set {
			c.ArchivedAt = ch.ArchivedAt.Value
			set.add("archived_at", c.ArchivedAt)
		}
		if err := set.exec(tx, "conversations", c.Seq); err != nil {
			return err
		}
		out = c
		return nil
	})
	return out, err
}

// DeleteConversation deletes a conversation. Its contact stays, with a null conversation_id
// from then on. check, if not nil, runs first, on the conversation as it is.
func (s *Store) DeleteConversation(ctx context.Context, accountID, id string, check Precondition[Conversation]) error {
	return s.writes.write(ctx, func(tx *gorm.DB) error {
		c, err := getConversation(ctx, txQuerier(tx), accountID, id)
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(c); err != nil {
				return err
			}
		}
		deleted, err := execWriteRows(tx, `DELETE FROM conversations WHERE seq = ?`, c.Seq)
		if err != nil {
			return err
		}
		if deleted == 0 {
			return ErrNotFound // deleted by another server since it was read
		}
		if c.ContactID != nil {
			// Only if the contact still names this conversation: once it is gone, another
			// server may already have made the contact a new one.
			return execWrite(tx, `UPDATE contacts SET conversation_id = NULL WHERE account_id = ? AND id = ? AND conversation_id = ?`,
				accountID, *c.ContactID, c.ID)
		}
		return nil
	})
}

// ListConversations returns one page of the account's conversations, newest first, and whether
// there are more in the direction paged.
func (s *Store) ListConversations(ctx context.Context, accountID string, page Page, f ConversationFilter) ([]Conversation, bool, error) {
	p := pageQuery{table: "conversations", alias: "v", selectFrom: "SELECT " + conversationColumns + " FROM conversations v"}
	filter := func(cond string, arg any) {
		p.where = append(p.where, cond)
		p.args = append(p.args, arg)
	}
	if f.Muted != nil {
		filter("v.is_muted = ?", *f.Muted)
	}
	if f.Pinned != nil {
		filter("v.is_pinned = ?", *f.Pinned)
	}
	if f.Archived != nil {
		// The same expression as the index conversations_account_archived_seq.
		filter("(v.archived_at IS NOT NULL) = ?", *f.Archived)
	}
	if f.GroupID != nil {
		filter("v.group_id = ?", *f.GroupID)
		p.unique = true // an account has at most one conversation per group (a unique index)
	}
	return runPage(ctx, s.reads, p, accountID, page, scanConversation)
}
