package backupmgmt

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/custos-dev/custos/store"
)

// API-key authentication happens on every ingest call, so the service
// keeps the keys it has checked in memory: a key, its user and when its
// use was last written, by prefix. The secret is still compared with the
// stored hash, and expiry against the clock, on every call; only the
// database read is saved.
//
// Revocation is immediate on this process: every change of a key or a
// user through the service bumps a generation once it commits, and an
// entry loaded under an older generation is read again. A change made by
// another replica reaches this one within apiKeyCacheTTL.
const (
	// apiKeyCacheTTL bounds how long another replica's revocation may go
	// unseen here.
	apiKeyCacheTTL = 30 * time.Second
	// apiKeyCacheMax bounds the keys held.
	apiKeyCacheMax = 4096
)

type apiKeyEntry struct {
	gen    uint64
	loaded time.Time
	key    *store.APIKey // with SecretHash; never handed out
	user   *store.User
}

type apiKeyCache struct {
	gen atomic.Uint64
	mu  sync.Mutex
	m   map[string]*apiKeyEntry
}

func newAPIKeyCache() *apiKeyCache { return &apiKeyCache{m: make(map[string]*apiKeyEntry)} }

// get returns the current entry of prefix, if any.
func (c *apiKeyCache) get(prefix string, now time.Time) (*apiKeyEntry, bool) {
	c.mu.Lock()
	e, ok := c.m[prefix]
	c.mu.Unlock()
	if !ok || e.gen != c.gen.Load() || now.Sub(e.loaded) >= apiKeyCacheTTL || now.Before(e.loaded) {
		return nil, false
	}
	return e, true
}

// put stores what was loaded under generation gen, read before the load
// began, so that a change committed meanwhile makes the entry stale.
func (c *apiKeyCache) put(prefix string, e *apiKeyEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	putBounded(c.m, prefix, e, apiKeyCacheMax)
}

// touched records in the entry of prefix that the key's use was written
// at at.
func (c *apiKeyCache) touched(prefix string, e *apiKeyEntry, at time.Time) {
	k := *e.key
	k.LastUsedAt = &at
	next := *e
	next.key = &k
	c.mu.Lock()
	if c.m[prefix] == e {
		c.m[prefix] = &next
	}
	c.mu.Unlock()
}

// invalidate makes every entry stale.
func (c *apiKeyCache) invalidate() { c.gen.Add(1) }

// identityChanged makes the API-key cache stale once the transaction of
// ctx commits, and at once as well: a key or user write must not be
// followed by a call authenticated on what it replaced.
func (s *Service) identityChanged(ctx context.Context) {
	s.keys.invalidate()
	afterCommit(ctx, s.keys.invalidate)
}
