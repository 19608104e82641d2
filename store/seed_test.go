package store

import (
	"context"
	"slices"
	"testing"
)

func TestSeedContacts(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := context.Background()
	acme := newAccount(t, s, "acme")
	other := newAccount(t, s, "other")

	// Two whole INSERTs and a shorter last one.
	n := 2*seedRowsPerStatement + 7
	ids, err := s.SeedContacts(ctx, acme.AccountID, n)
	if err != nil {
		t.Fatalf("SeedContacts: %v", err)
	}
	if len(ids) != n {
		t.Fatalf("SeedContacts returned %d ids, want %d", len(ids), n)
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if !ValidID(id) || seen[id] {
			t.Fatalf("id %q is malformed or repeated", id)
		}
		seen[id] = true
	}

	t.Run("ListedNewestFirstWithConversations", func(t *testing.T) {
		page, more, err := s.ListContacts(ctx, acme.AccountID, Page{Limit: 10}, ContactFilter{})
		if err != nil || !more || len(page) != 10 {
			t.Fatalf("first page: %d contacts, more %v, err %v; want 10, true, nil", len(page), more, err)
		}
		newest := slices.Clone(ids[n-10:])
		slices.Reverse(newest)
		for i, c := range page {
			if c.ID != newest[i] || c.ConversationID == nil {
				t.Errorf("page[%d] = %s with conversation %v, want %s with one", i, c.ID, c.ConversationID, newest[i])
			}
		}
		deep, more, err := s.ListContacts(ctx, acme.AccountID, Page{Limit: 10, StartingAfter: ids[19]}, ContactFilter{})
		if err != nil || !more || len(deep) != 10 || deep[0].ID != ids[18] || deep[9].ID != ids[9] {
			t.Errorf("page after the 20th oldest: %d contacts, more %v, err %v; want ids[18] down to ids[9]", len(deep), more, err)
		}
	})

	t.Run("EveryContactHasItsConversation", func(t *testing.T) {
		var contacts, conversations int64
		if err := s.reader.Table("contacts").Where("account_id = ?", acme.AccountID).Count(&contacts).Error; err != nil {
			t.Fatal(err)
		}
		err := s.reader.Table("conversations").Where("account_id = ? AND contact_id IS NOT NULL", acme.AccountID).
			Count(&conversations).Error
		if err != nil {
			t.Fatal(err)
		}
		if contacts != int64(n) || conversations != int64(n) {
			t.Errorf("%d contacts and %d conversations, want %d of each", contacts, conversations, n)
		}
		var fkErrors []map[string]any
		if err := s.reader.Raw("PRAGMA foreign_key_check").Scan(&fkErrors).Error; err != nil || len(fkErrors) > 0 {
			t.Errorf("foreign_key_check: %v %v", fkErrors, err)
		}
	})

	t.Run("PragmasRestored", func(t *testing.T) {
		// The writer pool has one connection: the one the seed used.
		db, err := s.writer.DB()
		if err != nil {
			t.Fatal(err)
		}
		var fk, cache int64
		if err := db.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
			t.Errorf("foreign_keys = %d (%v) after seeding, want 1", fk, err)
		}
		if err := db.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&cache); err != nil || cache == -seedCacheKiB {
			t.Errorf("cache_size = %d (%v) after seeding, want the default back", cache, err)
		}
	})

	t.Run("SeedAgainAndCreate", func(t *testing.T) {
		if _, err := s.SeedContacts(ctx, acme.AccountID, 3); err != nil {
			t.Fatalf("second SeedContacts on the account: %v", err)
		}
		if _, err := s.SeedContacts(ctx, other.AccountID, 3); err != nil {
			t.Fatalf("SeedContacts on another account: %v", err)
		}
		c, err := s.CreateContact(ctx, acme.AccountID, NewContact{Username: "FrankMcCallister", PhoneNumber: "555-0100"})
		if err != nil {
			t.Fatalf("CreateContact after seeding: %v", err)
		}
		page, _, err := s.ListContacts(ctx, acme.AccountID, Page{Limit: 1}, ContactFilter{})
		if err != nil || len(page) != 1 || page[0].ID != c.ID {
			t.Errorf("first page after a create = %v, %v; want the new contact", page, err)
		}
	})
}
