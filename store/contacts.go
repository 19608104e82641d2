package store

import (
	"context"
	"errors"

	"gorm.io/gorm"
)

// NewContact is what a client gives to create a contact.
type NewContact struct {
	Username    string
	PhoneNumber string
	AvatarURL   *string
	DisplayName *string
}

// ContactChanges is a partial update of a contact; fields not Set stay as they are.
type ContactChanges struct {
	Username    Optional[string]
	PhoneNumber Optional[string]
	AvatarURL   Optional[string]
	DisplayName Optional[string]
}

// Precondition is checked against an object inside the transaction that changes it, so nothing
// can change the object between the check and the write. A non-nil error aborts the change and
// is returned as is.
type Precondition[T any] func(current T) error

// ContactFilter narrows a contact list.
type ContactFilter struct {
	// Active, when set, keeps only contacts with (true) or without (false) a last_active_at.
	Active *bool
}

// CreateContact adds a contact and its one-to-one conversation in one transaction.
func (s *Store) CreateContact(ctx context.Context, accountID string, in NewContact) (Contact, error) {
	now := s.unix()
	c := Contact{
		ID:          NewID(),
		AccountID:   accountID,
		Username:    in.Username,
		PhoneNumber: in.PhoneNumber,
		AvatarURL:   in.AvatarURL,
		DisplayName: in.DisplayName,
		CreatedAt:   now,
	}
	conv := Conversation{ID: NewID(), AccountID: accountID, ContactID: &c.ID, CreatedAt: now}
	err := s.writes.write(ctx, func(tx *gorm.DB) error {
		// The unique index on (account_id, lower(username)) decides a conflict, here and on
		// every other server sharing the database: looking first would cost a query on every
		// create to spare one on the rare conflict. Plain INSERTs, as GORM's Create would
		// reflect over the model and read back seq, which nothing needs.
		err := execWrite(tx, `INSERT INTO contacts (id, account_id, username, phone_number, avatar_url, display_name, created_at, conversation_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, c.ID, accountID, c.Username, c.PhoneNumber, c.AvatarURL, c.DisplayName, now, conv.ID)
		if err != nil {
			return translateConflict(err, "username", in.Username)
		}
		return execWrite(tx, `INSERT INTO conversations (id, account_id, contact_id, created_at) VALUES (?, ?, ?, ?)`,
			conv.ID, accountID, c.ID, now)
	})
	if err != nil {
		return Contact{}, err
	}
	c.ConversationID = &conv.ID
	return c, nil
}

// translateConflict turns a unique-constraint failure into a ConflictError on field.
func translateConflict(err error, field, value string) error {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return &ConflictError{Field: field, Value: value}
	}
	return err
}

// Contact returns one contact of the account.
func (s *Store) Contact(ctx context.Context, accountID, id string) (Contact, error) {
	return getContact(ctx, s.reads, accountID, id)
}

// UpdateContact applies the changes that are Set and returns the contact as it now is.
// check, if not nil, runs first, on the contact as it is.
func (s *Store) UpdateContact(ctx context.Context, accountID, id string, ch ContactChanges, check Precondition[Contact]) (Contact, error) {
	if !ValidID(id) {
		return Contact{}, ErrNotFound
	}
	var set assignments
	if ch.Username.Set {
		set.add("username", *ch.Username.Value) // the unique index refuses a taken one
	}
	if ch.PhoneNumber.Set {
		set.add("phone_number", *ch.PhoneNumber.Value)
	}
	if ch.AvatarURL.Set {
		set.add("avatar_url", ch.AvatarURL.Value)
	}
	if ch.DisplayName.Set {
		set.add("display_name", ch.DisplayName.Value)
	}
	username := derefOr(ch.Username.Value, "")
	var out Contact
	err := s.writes.write(ctx, func(tx *gorm.DB) error {
		if check != nil || len(set.columns) == 0 {
			c, err := getContact(ctx, txQuerier(tx), accountID, id)
			if err != nil {
				return err
			}
			if check != nil {
				if err := check(c); err != nil {
					return err
				}
			}
			if out = c; len(set.columns) == 0 {
				return nil
			}
		}
		// Change the contact and read it back in one statement: on a large account, finding a
		// random contact is most of the work.
		err := set.returning(ctx, tx, "contacts", contactRow, accountID, id, func(row scanner) (err error) {
			out, err = scanContact(row)
			return err
		})
		return translateConflict(err, "username", username)
	})
	return out, err
}

// DeleteContact deletes a contact and, in the same transaction, its conversation. check, if not
// nil, runs first, on the contact as it is.
func (s *Store) DeleteContact(ctx context.Context, accountID, id string, check Precondition[Contact]) error {
	if !ValidID(id) {
		return ErrNotFound
	}
	return s.writes.write(ctx, func(tx *gorm.DB) error {
		if check != nil {
			c, err := getContact(ctx, txQuerier(tx), accountID, id)
			if err != nil {
				return err
			}
			if err := check(c); err != nil {
				return err
			}
		}
		// The foreign key would cascade too; deleting explicitly keeps the rule visible here.
		if err := tx.Where("account_id = ? AND contact_id = ?", accountID, id).Delete(&Conversation{}).Error; err != nil {
			return err
		}
		res := tx.Where("account_id = ? AND id = ?", accountID, id).Delete(&Contact{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return nil
	})
}

// ListContacts returns one page of the account's contacts, newest first, and whether there are
// more in the direction paged.
func (s *Store) ListContacts(ctx context.Context, accountID string, page Page, f ContactFilter) ([]Contact, bool, error) {
	p := pageQuery{table: "contacts", alias: "c", selectFrom: "SELECT " + contactColumns + contactFrom}
	if f.Active != nil {
		// The same expression as the index contacts_account_active_seq, so the index serves it.
		p.where = append(p.where, "(c.last_active_at IS NOT NULL) = ?")
		p.args = append(p.args, *f.Active)
	}
	return runPage(ctx, s.reads, p, accountID, page, scanContact)
}

// MarkContactActive records when a contact was last active on the platform. The API has no
// endpoint for it: activity comes from the platform itself.
func (s *Store) MarkContactActive(ctx context.Context, accountID, id string, at int64) error {
	return s.writes.write(ctx, func(tx *gorm.DB) error {
		res := tx.Table("contacts").Where("account_id = ? AND id = ?", accountID, id).Update("last_active_at", at)
		if res.Error == nil && res.RowsAffected == 0 {
			return ErrNotFound
		}
		return res.Error
	})
}

func derefOr[T any](p *T, fallback T) T {
	if p == nil {
		return fallback
	}
	return *p
}
