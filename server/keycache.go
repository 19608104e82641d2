package server

import (
	"context"
	"sync"
	"time"

	"protocol/store"
)

// KeyCacheTTL is how long a server trusts a key it has checked before it asks the database
// again. Revoking a key takes effect everywhere within this time; `protocol keys revoke` waits it
// out before it reports the key revoked.
const KeyCacheTTL = time.Second

// keyCacheSize bounds the cache; past it the cache starts again empty.
const keyCacheSize = 10_000

// keyCache remembers, for KeyCacheTTL, which account a live key belongs to: checking the key in
// the database costs as much as the rest of a small read. Only keys that checked out are kept,
// so a flood of made-up keys cannot fill the cache, and each still costs a look-up.
type keyCache struct {
	keys Authenticator
	now  func() time.Time
	mu   sync.RWMutex
	m    map[string]cachedKey // by the key's hash: the key itself is not kept
}

type cachedKey struct {
	account string
	expires time.Time
}

func newKeyCache(keys Authenticator) *keyCache {
	return &keyCache{keys: keys, now: time.Now, m: map[string]cachedKey{}}
}

// Authenticate answers from the cache while the entry is fresh, else from the database.
func (c *keyCache) Authenticate(ctx context.Context, key string) (string, error) {
	hash := store.HashKey(key)
	now := c.now()
	c.mu.RLock()
	e, ok := c.m[hash]
	c.mu.RUnlock()
	if ok && now.Before(e.expires) {
		return e.account, nil
	}
	account, err := c.keys.Authenticate(ctx, key)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	if len(c.m) >= keyCacheSize {
		c.m = map[string]cachedKey{}
	}
	c.m[hash] = cachedKey{account: account, expires: now.Add(KeyCacheTTL)}
	c.mu.Unlock()
	return account, nil
}
