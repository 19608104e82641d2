package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"protocol/server"
	"protocol/store"
)

func keysCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var dbPath, name string
	fs := newFlags("keys create", &dbPath, stderr)
	fs.StringVar(&name, "name", "default", "name of the new account and key")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return withStore(dbPath, func(st *store.Store) error {
		k, err := st.CreateAccountWithKey(ctx, name)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Created account %s with key %s (%q). The key is shown only once:\n%s\n", k.AccountID, k.ID, k.Name, k.Key)
		return nil
	})
}

func keysList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var dbPath string
	fs := newFlags("keys list", &dbPath, stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	return withStore(dbPath, func(st *store.Store) error {
		keys, err := st.Keys(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KEY_ID\tACCOUNT\tNAME\tSTARTS_WITH\tCREATED\tREVOKED")
		for _, k := range keys {
			revoked := "-"
			if k.RevokedAt != nil {
				revoked = formatTime(*k.RevokedAt)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s…\t%s\t%s\n", k.ID, k.AccountID, k.Name, k.Hint, formatTime(k.CreatedAt), revoked)
		}
		return tw.Flush()
	})
}

func keysRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var dbPath string
	fs := newFlags("keys revoke", &dbPath, stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("keys revoke takes exactly one KEY_ID")
	}
	id := fs.Arg(0)
	return withStore(dbPath, func(st *store.Store) error {
		if err := st.RevokeKey(ctx, id); errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no key with id %s", id)
		} else if err != nil {
			return err
		}
		// Servers trust a key they checked for server.KeyCacheTTL; once that has passed, every
		// server, in this process or another, refuses the key.
		select {
		case <-time.After(server.KeyCacheTTL):
		case <-ctx.Done():
			return ctx.Err()
		}
		fmt.Fprintf(stdout, "Revoked key %s; every server refuses it from now on.\n", id)
		return nil
	})
}

func withStore(path string, f func(*store.Store) error) error {
	st, err := store.Open(path, store.Options{})
	if err != nil {
		return err
	}
	if err := f(st); err != nil {
		_ = st.Close()
		return err
	}
	return st.Close()
}

func formatTime(unix int64) string { return time.Unix(unix, 0).UTC().Format(time.RFC3339) }
