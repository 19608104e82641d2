package store

import (
	"errors"
	"fmt"
)

// ErrNotFound means no object with that id exists in the account. Objects of other accounts are
// reported exactly like missing ones, so ids never leak across accounts.
var ErrNotFound = errors.New("not found")

// ErrConflict is matched by every *ConflictError.
var ErrConflict = errors.New("conflict")

// ErrBadReference is matched by every *ReferenceError.
var ErrBadReference = errors.New("bad reference")

// ConflictError says a write would break a uniqueness rule.
type ConflictError struct {
	Field string // the field whose value is taken, e.g. "username"
	Value string // the value that is taken
	// ExistingID names the object that already holds the value, where the caller may see it.
	ExistingID string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s %q is taken by %s", e.Field, e.Value, e.ExistingID)
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// ReferenceError says an id given in Field (a cursor, a contact_id) names no object of the
// account.
type ReferenceError struct {
	Field string
	ID    string
}

func (e *ReferenceError) Error() string {
	return fmt.Sprintf("%s %q names no object", e.Field, e.ID)
}

// Is makes errors.Is(err, ErrBadReference) true.
func (e *ReferenceError) Is(target error) bool { return target == ErrBadReference }
