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
	active  bool
	scope   string // the token's granted scopes, space-separated
	subject string // the token's sub, empty unless active
	jwt     string // empty unless active
	jwtFP   string // trace.Fingerprint(jwt), computed once for every step that traces it
	kid     string // the kid of the key that signed jwt
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

	// onEvict counts entries removed before their window ended, by
	// reason. It is called with mu held and must not call back.
	onEvict func(reason string, n int)

	mu        sync.Mutex
	active    map[cacheKey]*tokenResult
	inactive  map[cacheKey]*tokenResult
	lastSweep time.Time
	// generation counts invalidations. A result obtained before one is not
	// cached, so a revocation cannot be undone by a request that was in
	// flight while it arrived.
	generation uint64
}

// Reasons of cache evictions, the values of the metric's reason label.
const (
	evictCapacity    = "capacity"
	evictRevoked     = "revoked"
	evictUserChanged = "user_changed"
	evictKeyRetired  = "key_retired"
)

func newResultCache(window time.Duration, maxActive, maxInactive int, onEvict func(reason string, n int)) *resultCache {
	return &resultCache{
		disabled:    window < 0,
		maxActive:   maxActive,
		maxInactive: maxInactive,
		sweepEvery:  window,
		onEvict:     onEvict,
		active:      make(map[cacheKey]*tokenResult),
		inactive:    make(map[cacheKey]*tokenResult),
	}
}

// currentGeneration returns the number of invalidations so far, for put.
func (c *resultCache) currentGeneration() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.generation
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

// put caches res under key unless its window has already ended at now or
// an invalidation happened after generation was read. When the bound of
// its kind is reached, expired entries are swept and, if that frees
// nothing, an arbitrary entry of the same kind is evicted.
func (c *resultCache) put(key cacheKey, res *tokenResult, now time.Time, generation uint64) {
	if c.disabled || !now.Before(res.expires) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if generation != c.generation {
		return
	}

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
			c.onEvict(evictCapacity, 1)
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

// dropTokens removes the results of the tokens with the given hashes, for
// every audience, and returns how many it removed.
func (c *resultCache) dropTokens(hashes []string) int {
	want := make(map[string]bool, len(hashes))
	for _, h := range hashes {
		want[h] = true
	}
	return c.drop(evictRevoked, func(k cacheKey, _ *tokenResult) bool { return want[k.tokenHash] })
}

// dropSubject removes the results of every token of the user sub.
func (c *resultCache) dropSubject(sub string) int {
	return c.drop(evictUserChanged, func(_ cacheKey, res *tokenResult) bool { return res.subject == sub })
}

// dropRetiredKeys removes the results whose JWT was signed by a key that
// is not in published.
func (c *resultCache) dropRetiredKeys(published map[string]bool) int {
	return c.drop(evictKeyRetired, func(_ cacheKey, res *tokenResult) bool { return res.active && !published[res.kid] })
}

// drop removes the entries that match, counts them under reason and starts
// a new generation.
func (c *resultCache) drop(reason string, match func(cacheKey, *tokenResult) bool) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.generation++
	n := 0
	for _, m := range []map[cacheKey]*tokenResult{c.active, c.inactive} {
		for k, res := range m {
			if match(k, res) {
				delete(m, k)
				n++
			}
		}
	}
	if n > 0 {
		c.onEvict(reason, n)
	}
	return n
}

// sweepExpired removes the entries whose window has ended at now.
func (c *resultCache) sweepExpired(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sweep(now)
}

// len returns the number of cached results of active and inactive tokens.
func (c *resultCache) len() (active, inactive int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.active), len(c.inactive)
}
