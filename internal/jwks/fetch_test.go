package jwks

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/internal/keys/keytest"
)

func TestKeyReportsRateLimitedRefetch(t *testing.T) {
	iss := newIssuer(t, keytest.Key(t))
	c := &clock{now: time.Unix(1e9, 0)}
	ks := newKeySet(iss, c)
	ctx := context.Background()

	// A fresh fetch that lacks the kid is a plain unknown key.
	_, err := ks.Key(ctx, "missing")
	require.ErrorIs(t, err, ErrUnknownKey)
	assert.NotErrorIs(t, err, ErrRefetchLimited)
	assert.NotErrorIs(t, err, ErrUnavailable)

	// Within the interval the set is not fetched again, and the error wraps
	// ErrRefetchLimited because a retry later may find the key.
	_, err = ks.Key(ctx, "missing")
	require.ErrorIs(t, err, ErrUnknownKey)
	assert.ErrorIs(t, err, ErrRefetchLimited)
	assert.Equal(t, int32(1), iss.requests.Load())

	c.Advance(time.Minute)
	_, err = ks.Key(ctx, "missing")
	require.ErrorIs(t, err, ErrUnknownKey)
	assert.NotErrorIs(t, err, ErrRefetchLimited)
	assert.Equal(t, int32(2), iss.requests.Load())
}

func TestRefreshIgnoresRateLimit(t *testing.T) {
	first := keytest.Key(t)
	iss := newIssuer(t, first)
	ks := newKeySet(iss, &clock{now: time.Unix(1e9, 0)})
	ctx := context.Background()

	assert.False(t, ks.Loaded())
	assert.Empty(t, ks.KeyIDs(), "KeyIDs fetches nothing")
	assert.Zero(t, iss.requests.Load())

	require.NoError(t, ks.Refresh(ctx))
	assert.True(t, ks.Loaded())
	assert.Equal(t, []string{first.ID}, ks.KeyIDs())

	// A retired key disappears at the next forced refresh, although the
	// refetch interval has not passed.
	second := keytest.Key(t)
	iss.set.Rotate(second)
	require.True(t, iss.set.Retire(first.ID))
	require.NoError(t, ks.Refresh(ctx))
	assert.Equal(t, []string{second.ID}, ks.KeyIDs())
	assert.Equal(t, int32(2), iss.requests.Load())

	// The forced refresh also counts for the rate limit of lookups.
	_, err := ks.Key(ctx, first.ID)
	assert.ErrorIs(t, err, ErrRefetchLimited)
	assert.Equal(t, int32(2), iss.requests.Load())
}

func TestRefreshFailureKeepsKeys(t *testing.T) {
	k := keytest.Key(t)
	iss := newIssuer(t, k)
	ks := newKeySet(iss, &clock{now: time.Unix(1e9, 0)})
	ctx := context.Background()
	require.NoError(t, ks.Refresh(ctx))

	iss.setDown(true)
	err := ks.Refresh(ctx)
	require.ErrorIs(t, err, ErrUnavailable)
	assert.True(t, ks.Loaded())
	assert.Equal(t, []string{k.ID}, ks.KeyIDs())
	_, err = ks.Key(ctx, k.ID)
	assert.NoError(t, err, "the keys of the last successful fetch stay in use")
}

func TestKeyIDsSkipKeysWithoutKid(t *testing.T) {
	k := keytest.Key(t)
	jwk := k.PublicJWK()
	jwk.KeyID = ""
	raw, err := jwk.MarshalJSON()
	require.NoError(t, err)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"keys":[` + string(raw) + `]}`))
	}))
	t.Cleanup(srv.Close)
	ks := New(Config{URL: srv.URL})

	require.NoError(t, ks.Refresh(context.Background()))
	assert.True(t, ks.Loaded())
	assert.Empty(t, ks.KeyIDs())
}

func TestResolveURL(t *testing.T) {
	k := keytest.Key(t)
	iss := newIssuer(t, k)
	c := &clock{now: time.Unix(1e9, 0)}
	ctx := context.Background()

	t.Run("called until it succeeds", func(t *testing.T) {
		var calls atomic.Int32
		ks := New(Config{Clock: c.Now, ResolveURL: func(context.Context) (string, error) {
			if calls.Add(1) == 1 {
				return "", errors.New("metadata down")
			}
			return iss.url, nil
		}})

		_, err := ks.Key(ctx, k.ID)
		require.ErrorIs(t, err, ErrUnavailable)
		assert.ErrorContains(t, err, "metadata down")

		c.Advance(RetryAfterFailedFetch)
		_, err = ks.Key(ctx, k.ID)
		require.NoError(t, err)
		require.NoError(t, ks.Refresh(ctx))
		assert.Equal(t, int32(2), calls.Load(), "the resolved URL is kept")
	})

	t.Run("ignored when URL is set", func(t *testing.T) {
		ks := New(Config{URL: iss.url, Clock: c.Now, ResolveURL: func(context.Context) (string, error) {
			return "", errors.New("must not be called")
		}})
		_, err := ks.Key(ctx, k.ID)
		assert.NoError(t, err)
	})

	t.Run("no URL at all", func(t *testing.T) {
		ks := New(Config{Clock: c.Now})
		_, err := ks.Key(ctx, k.ID)
		assert.ErrorIs(t, err, ErrUnavailable)
		assert.ErrorContains(t, err, "no JWKS URL configured")
	})
}
