package gateway

import (
	"sync"
	"time"
)

// cacheKey identifies a cached result: the SHA-256 hash of the access
// token (the token itself is never stored) and the audience of the JWT.
type cacheKey struct {
	tokenHash string
	audience  string
}

// tokenResult is the outcome of steps 16 and 17 for one token and
// audience.
type tokenResult struct {
	active bool
	scope  string // the token's granted scopes, space-separated
	jwt    string // empty unless active
	// expires ends the cache window. A result whose expires is not after
	// the current time is used once and not cached.
	expires time.Time
}

// resultCache keeps token results for a short window. Results of active
// and of inactive tokens are bounded separately, so a flood of invalid
// tokens cannot evict valid ones. It is safe for concurrent use.
type resultCache struct {
	disabled    bool
	maxActive   int
	maxInactive int
	// sweepEvery is the minimum time between two sweeps of expired
	// entries, so a full cache does not cost a sweep on every insert.
	sweepEvery time.Duration

	mu        sync.Mutex
	active    map[cacheKey]*tokenResult
	inactive  map[cacheKey]*tokenResult
	lastSweep time.Time
}

func newResultCache(window time.Duration, maxActive, maxInactive int) *resultCache {
	return &resultCache{
		disabled:    window < 0,
		maxActive:   maxActive,
		maxInactive: maxInactive,
		sweepEvery:  window,
		active:      make(map[cacheKey]*tokenResult),
		inactive:    make(map[cacheKey]*tokenResult),
	}
}

// get returns the result cached under key if its window has not ended at
// now.
func (c *resultCache) get(key cacheKey, now time.Time) (*tokenResult, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range []map[cacheKey]*tokenResult{c.active, c.inactive} {
		res, ok := m[key]
		if !ok {
			continue
		}
		if now.Before(res.expires) {
			return res, true
		}
		delete(m, key)
	}
	return nil, false
}

// put caches res under key unless its window has already ended at now.
// When the bound of its kind is reached, expired entries are swept and,
// if that frees nothing, an arbitrary entry of the same kind is evicted.
func (c *resultCache) put(key cacheKey, res *tokenResult, now time.Time) {
	if c.disabled || !now.Before(res.expires) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()

	m, limit, other := c.active, c.maxActive, c.inactive
	if !res.active {
		m, limit, other = c.inactive, c.maxInactive, c.active
	}
	// A token's result moves between the maps when it becomes inactive.
	delete(other, key)

	if _, exists := m[key]; !exists && len(m) >= limit {
		if now.Sub(c.lastSweep) >= c.sweepEvery {
			c.sweep(now)
		}
		for k := range m {
			if len(m) < limit {
				break
			}
			// Go randomizes map iteration, so this evicts an arbitrary
			// entry.
			delete(m, k)
		}
	}
	m[key] = res
}

// sweep removes the entries whose window has ended.
func (c *resultCache) sweep(now time.Time) {
	c.lastSweep = now
	for _, m := range []map[cacheKey]*tokenResult{c.active, c.inactive} {
		for k, res := range m {
			if !now.Before(res.expires) {
				delete(m, k)
			}
		}
	}
}

// len returns the number of cached results of active and inactive tokens.
func (c *resultCache) len() (active, inactive int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.active), len(c.inactive)
}
