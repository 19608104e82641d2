package store

import (
	"context"
	"errors"
	"slices"

	"gorm.io/gorm"
)

// Page asks for one page of a list that is ordered newest first.
type Page struct {
	Limit int
	// StartingAfter is an id: the page holds the objects right after it (older ones).
	StartingAfter string
	// EndingBefore is an id: the page holds the objects right before it (newer ones).
	EndingBefore string
}

// keyedRow is a row with a keyset position.
type keyedRow interface{ position() int64 }

func (c Contact) position() int64      { return c.Seq }
func (c Conversation) position() int64 { return c.Seq }

// listPage runs q (already filtered to one account) as one keyset page of table. It never uses
// OFFSET: the cursor's seq bounds the index range, so any page costs what the first one does.
// The cursor must name an object of the same account and table, but it need not match q's
// filters: it is only a position.
//
// unique says q matches at most one row (an equality on a unique column): the ORDER BY is then
// left out, since SQLite would otherwise sort that one row with a temporary B-tree.
func listPage[T keyedRow](ctx context.Context, db *gorm.DB, q *gorm.DB, table, accountID string, page Page, unique bool) ([]T, bool, error) {
	limit := page.Limit
	seqCol := table + ".seq"
	descending := true
	switch {
	case page.StartingAfter != "":
		seq, err := cursorSeq(ctx, db, table, accountID, "starting_after", page.StartingAfter)
		if err != nil {
			return nil, false, err
		}
		q = q.Where(seqCol+" < ?", seq)
	case page.EndingBefore != "":
		seq, err := cursorSeq(ctx, db, table, accountID, "ending_before", page.EndingBefore)
		if err != nil {
			return nil, false, err
		}
		q = q.Where(seqCol+" > ?", seq)
		descending = false
	}
	order := seqCol + " DESC"
	if !descending {
		order = seqCol + " ASC"
	}
	if !unique {
		q = q.Order(order)
	}
	var rows []T
	if err := q.Limit(limit + 1).Find(&rows).Error; err != nil {
		return nil, false, err
	}
	hasMore := len(rows) > limit
	if hasMore {
		rows = rows[:limit]
	}
	if !descending {
		slices.Reverse(rows)
	}
	return rows, hasMore, nil
}

// cursorSeq finds the position of the object a cursor names.
func cursorSeq(ctx context.Context, db *gorm.DB, table, accountID, param, id string) (int64, error) {
	if !ValidID(id) {
		return 0, &ReferenceError{Field: param, ID: id}
	}
	var seq int64
	err := db.WithContext(ctx).Table(table).Select("seq").
		Where("account_id = ? AND id = ?", accountID, id).Take(&seq).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return 0, &ReferenceError{Field: param, ID: id}
	}
	return seq, err
}
