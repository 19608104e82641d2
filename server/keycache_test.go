package server

import (
	"context"
	"testing"
	"time"

	"protocol/store"
)

type countingKeys struct {
	calls   int
	revoked bool
}

func (k *countingKeys) Authenticate(_ context.Context, key string) (string, error) {
	k.calls++
	if key != "sk_live" || k.revoked {
		return "", store.ErrNotFound
	}
	return "acct", nil
}

func TestKeyCache(t *testing.T) {
	keys := &countingKeys{}
	c := newKeyCache(keys)
	now := time.Unix(1000, 0)
	c.now = func() time.Time { return now }
	ctx := context.Background()

	for range 3 {
		if acct, err := c.Authenticate(ctx, "sk_live"); err != nil || acct != "acct" {
			t.Fatalf("Authenticate = %q, %v", acct, err)
		}
	}
	if keys.calls != 1 {
		t.Errorf("%d database look-ups for 3 requests within the TTL, want 1", keys.calls)
	}
	for range 2 {
		if _, err := c.Authenticate(ctx, "sk_unknown"); err != store.ErrNotFound {
			t.Fatalf("unknown key: %v", err)
		}
	}
	if keys.calls != 3 {
		t.Errorf("unknown keys were cached: %d look-ups, want 3", keys.calls)
	}

	keys.revoked = true
	now = now.Add(KeyCacheTTL)
	if _, err := c.Authenticate(ctx, "sk_live"); err != store.ErrNotFound {
		t.Errorf("a revoked key after the TTL: %v, want ErrNotFound", err)
	}
}
