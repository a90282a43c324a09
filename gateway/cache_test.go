package gateway

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newCachingGateway returns a gateway on a fake clock that starts at the
// time the fake authorization server issues its tokens.
func newCachingGateway(t *testing.T, edit func(*Config)) (*testGateway, *fakeClock) {
	t.Helper()
	clock := &fakeClock{now: time.Now()}
	g := newTestGatewayAt(t, clock.Now(), func(c *Config) {
		c.Clock = clock.Now
		if edit != nil {
			edit(c)
		}
	})
	return g, clock
}

// call sends one API request with token and returns its status.
func (g *testGateway) call(t *testing.T, token string) int {
	t.Helper()
	return g.do(apiRequest(http.MethodGet, "/api/me", "Bearer "+token)).Code
}

func TestCacheReusesResultWithinWindow(t *testing.T) {
	g, clock := newCachingGateway(t, nil)

	require.Equal(t, http.StatusOK, g.call(t, testToken))
	clock.Advance(DefaultCacheWindow - time.Second)
	require.Equal(t, http.StatusOK, g.call(t, testToken))

	introspections, exchanges := g.auth.calls()
	assert.Equal(t, 1, introspections)
	assert.Equal(t, 1, exchanges)
	got := g.upstream.received()
	require.Len(t, got, 2)
	assert.Equal(t, "Bearer "+g.auth.jwt, got[1].Header.Get("Authorization"), "a cache hit forwards the cached JWT")

	var notes []string
	for _, e := range g.Trace().Events() {
		notes = append(notes, e.Step+" "+e.Note)
	}
	assert.Contains(t, notes, "17 jwt from cache")

	clock.Advance(time.Second)
	require.Equal(t, http.StatusOK, g.call(t, testToken))
	introspections, exchanges = g.auth.calls()
	assert.Equal(t, 2, introspections, "the window has ended")
	assert.Equal(t, 2, exchanges)
}

func TestCacheRevokedTokenStopsAfterWindow(t *testing.T) {
	g, clock := newCachingGateway(t, nil)
	require.Equal(t, http.StatusOK, g.call(t, testToken))

	g.auth.set(func(f *fakeAuthServer) { f.active[testToken] = false })
	clock.Advance(DefaultCacheWindow - time.Millisecond)
	assert.Equal(t, http.StatusOK, g.call(t, testToken), "revocation is seen only after the window")

	clock.Advance(time.Millisecond)
	assert.Equal(t, http.StatusUnauthorized, g.call(t, testToken))
	active, inactive := g.cache.len()
	assert.Equal(t, 0, active, "the result moved to the inactive entries")
	assert.Equal(t, 1, inactive)
}

func TestCacheWindowBoundedByTokenExpiry(t *testing.T) {
	g, clock := newCachingGateway(t, func(c *Config) { c.CacheWindow = time.Minute })
	g.auth.set(func(f *fakeAuthServer) { f.tokenExpiry = clock.Now().Add(3 * time.Second) })

	require.Equal(t, http.StatusOK, g.call(t, testToken))
	clock.Advance(2 * time.Second)
	require.Equal(t, http.StatusOK, g.call(t, testToken))
	introspections, _ := g.auth.calls()
	assert.Equal(t, 1, introspections)

	// At the token's exp the cached result has ended, and by the gateway's
	// own clock the token has expired.
	clock.Advance(time.Second)
	assert.Equal(t, http.StatusUnauthorized, g.call(t, testToken))
	introspections, _ = g.auth.calls()
	assert.Equal(t, 2, introspections)
}

func TestCacheWindowBoundedByJWTExpiry(t *testing.T) {
	g, clock := newCachingGateway(t, func(c *Config) { c.CacheWindow = time.Minute })
	g.auth.set(func(f *fakeAuthServer) { f.expiresIn = 12 })

	require.Equal(t, http.StatusOK, g.call(t, testToken))
	clock.Advance(12*time.Second - jwtExpiryMargin - time.Second)
	require.Equal(t, http.StatusOK, g.call(t, testToken))
	_, exchanges := g.auth.calls()
	assert.Equal(t, 1, exchanges)

	clock.Advance(time.Second)
	require.Equal(t, http.StatusOK, g.call(t, testToken))
	_, exchanges = g.auth.calls()
	assert.Equal(t, 2, exchanges, "a JWT close to its expiry is not reused")
}

func TestCacheInactiveResult(t *testing.T) {
	g, clock := newCachingGateway(t, nil)

	assert.Equal(t, http.StatusUnauthorized, g.call(t, "unknown-token"))
	assert.Equal(t, http.StatusUnauthorized, g.call(t, "unknown-token"))
	introspections, exchanges := g.auth.calls()
	assert.Equal(t, 1, introspections)
	assert.Zero(t, exchanges)

	clock.Advance(DefaultCacheWindow)
	assert.Equal(t, http.StatusUnauthorized, g.call(t, "unknown-token"))
	introspections, _ = g.auth.calls()
	assert.Equal(t, 2, introspections)
}

func TestCacheDisabled(t *testing.T) {
	g, _ := newCachingGateway(t, func(c *Config) { c.CacheWindow = -1 })

	require.Equal(t, http.StatusOK, g.call(t, testToken))
	require.Equal(t, http.StatusOK, g.call(t, testToken))
	introspections, exchanges := g.auth.calls()
	assert.Equal(t, 2, introspections)
	assert.Equal(t, 2, exchanges)
}

func TestCacheKeyedByAudience(t *testing.T) {
	g, _ := newCachingGateway(t, func(c *Config) {
		other := c.Routes[0]
		other.Prefix = "/other/"
		other.Audience = "other-api"
		c.Routes = append(c.Routes, other)
	})
	require.Equal(t, http.StatusOK, g.call(t, testToken))
	rec := g.do(apiRequest(http.MethodGet, "/other/x", "Bearer "+testToken))
	// The fake server's introspection names only demo-api as audience.
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	require.Equal(t, http.StatusOK, g.call(t, testToken))

	introspections, exchanges := g.auth.calls()
	assert.Equal(t, 2, introspections, "one per audience")
	assert.Equal(t, 1, exchanges)
}

func TestCacheConcurrentMissesCollapse(t *testing.T) {
	g, _ := newCachingGateway(t, nil)
	gate := make(chan struct{})
	g.auth.set(func(f *fakeAuthServer) { f.gate = gate })

	const n = 8
	codes := make([]int, n)
	var started, done sync.WaitGroup
	started.Add(n)
	done.Add(n)
	for i := range n {
		go func() {
			defer done.Done()
			started.Done()
			codes[i] = g.call(t, testToken)
		}()
	}
	started.Wait()
	<-g.auth.arrived
	close(gate)
	done.Wait()

	for i, code := range codes {
		assert.Equal(t, http.StatusOK, code, "request %d", i)
	}
	introspections, exchanges := g.auth.calls()
	assert.Equal(t, 1, introspections)
	assert.Equal(t, 1, exchanges)
}

func TestResultCacheBounds(t *testing.T) {
	now := time.Now()
	evicted := map[string]int{}
	c := newResultCache(time.Minute, 3, 2, func(reason string, n int) { evicted[reason] += n })
	later := now.Add(time.Minute)

	for _, token := range []string{"a1", "a2", "a3"} {
		c.put(cacheKey{token, testAudience}, &tokenResult{active: true, expires: later}, now, 0)
	}
	for _, token := range []string{"i1", "i2", "i3", "i4", "i5"} {
		c.put(cacheKey{token, testAudience}, &tokenResult{expires: later}, now, 0)
	}
	active, inactive := c.len()
	assert.Equal(t, 3, active, "inactive results never evict active ones")
	assert.Equal(t, 2, inactive)
	_, ok := c.get(cacheKey{"i5", testAudience}, now)
	assert.True(t, ok, "the newest inactive result is kept")

	c.put(cacheKey{"a4", testAudience}, &tokenResult{active: true, expires: later}, now, 0)
	active, _ = c.len()
	assert.Equal(t, 3, active)
	assert.Equal(t, map[string]int{evictCapacity: 4}, evicted, "three inactive and one active result evicted")

	_, ok = c.get(cacheKey{"a4", testAudience}, later)
	assert.False(t, ok, "an entry is gone at its expiry")
}

func TestResultCacheSkipsEndedWindow(t *testing.T) {
	now := time.Now()
	c := newResultCache(time.Minute, 3, 2, func(string, int) {})
	c.put(cacheKey{"a", testAudience}, &tokenResult{active: true, expires: now}, now, 0)
	c.put(cacheKey{"b", testAudience}, &tokenResult{active: true}, now, 0)
	active, _ := c.len()
	assert.Zero(t, active)
}

func TestJWTExpiry(t *testing.T) {
	g, _ := newCachingGateway(t, nil)
	exp, ok := jwtExpiry(g.auth.jwt)
	require.True(t, ok)
	assert.WithinDuration(t, time.Now().Add(time.Minute), exp, 5*time.Second)

	for _, bad := range []string{"", "a.b", "a.!!!.c", "a.e30.c", "a.eyJleHAiOiJ4In0.c"} {
		_, ok := jwtExpiry(bad)
		assert.False(t, ok, bad)
	}
}
