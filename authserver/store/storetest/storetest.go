// Package storetest is the conformance test of [store.Store]: every
// implementation runs [Run] against a fresh, empty store, so all backends
// behave the same way.
package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/authserver/store"
)

// Run runs the conformance tests. open must return a new, empty store; Run
// closes it when each subtest ends.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, s store.Store)
	}{
		{"UserUpsert", testUserUpsert},
		{"Session", testSession},
		{"Transaction", testTransaction},
		{"UpstreamStateSingleUse", testUpstreamStateSingleUse},
		{"AuthCodeRedeem", testAuthCodeRedeem},
		{"AuthCodeConcurrentRedeem", testAuthCodeConcurrentRedeem},
		{"AccessTokenRevoke", testAccessTokenRevoke},
		{"AccessTokenWithoutUser", testAccessTokenWithoutUser},
		{"RefreshTokenRotation", testRefreshTokenRotation},
		{"RevokeGrantReturnsLiveTokens", testRevokeGrantReturnsLiveTokens},
		{"EndSession", testEndSession},
		{"ReplaceSession", testReplaceSession},
		{"LiveAccessTokens", testLiveAccessTokens},
		{"Consent", testConsent},
		{"SigningKeys", testSigningKeys},
		{"SigningKeyRetire", testSigningKeyRetire},
		{"DeleteExpired", testDeleteExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { _ = s.Close() })
			tt.run(t, s)
		})
	}
}

// base is a fixed time, so stored times can be compared exactly.
var base = time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)

func newUser(t *testing.T, s store.Store, id, subject string) store.User {
	t.Helper()
	u, err := s.UpsertUser(context.Background(), store.User{
		ID: id, Issuer: "https://idp.example", Subject: subject,
		Profile:   store.Profile{Email: subject + "@example.com", EmailVerified: true, Name: "User " + subject},
		CreatedAt: base, UpdatedAt: base,
	})
	require.NoError(t, err)
	return u
}

func testUserUpsert(t *testing.T, s store.Store) {
	ctx := context.Background()
	created := newUser(t, s, "u1", "alice")
	assert.Equal(t, "u1", created.ID)
	assert.True(t, created.CreatedAt.Equal(base))

	// A second login with a new profile keeps the ID and creation time.
	later := base.Add(time.Hour)
	updated, err := s.UpsertUser(ctx, store.User{
		ID: "u-other", Issuer: "https://idp.example", Subject: "alice",
		Profile:   store.Profile{Email: "new@example.com", Name: "Alice New", GivenName: "Alice", FamilyName: "New", Picture: "https://pic.example/a"},
		CreatedAt: later, UpdatedAt: later,
	})
	require.NoError(t, err)
	assert.Equal(t, "u1", updated.ID)
	assert.True(t, updated.CreatedAt.Equal(base), "creation time kept")
	assert.True(t, updated.UpdatedAt.Equal(later))
	assert.Equal(t, "new@example.com", updated.Profile.Email)
	assert.False(t, updated.Profile.EmailVerified)
	assert.Equal(t, "Alice", updated.Profile.GivenName)

	got, err := s.GetUser(ctx, "u1")
	require.NoError(t, err)
	assert.Equal(t, updated.Profile, got.Profile)

	// The same email at another issuer is another user.
	other, err := s.UpsertUser(ctx, store.User{
		ID: "u2", Issuer: "https://other.example", Subject: "alice",
		Profile: store.Profile{Email: "new@example.com"}, CreatedAt: base, UpdatedAt: base,
	})
	require.NoError(t, err)
	assert.Equal(t, "u2", other.ID)

	_, err = s.GetUser(ctx, "missing")
	assert.ErrorIs(t, err, store.ErrNotFound)

	bySubject, err := s.GetUserBySubject(ctx, "https://idp.example", "alice")
	require.NoError(t, err)
	assert.Equal(t, got, bySubject)
	_, err = s.GetUserBySubject(ctx, "https://idp.example", "u1")
	assert.ErrorIs(t, err, store.ErrNotFound, "the subject, not the user ID, is the key")
	_, err = s.GetUserBySubject(ctx, "https://third.example", "alice")
	assert.ErrorIs(t, err, store.ErrNotFound, "the subject is per issuer")
}

func testSession(t *testing.T, s store.Store) {
	ctx := context.Background()
	newUser(t, s, "u1", "alice")
	ses := store.Session{ID: "s1", UserID: "u1", UpstreamID: "google", AuthTime: base, CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
	require.NoError(t, s.CreateSession(ctx, ses))
	assert.ErrorIs(t, s.CreateSession(ctx, ses), store.ErrConflict)

	got, err := s.GetSession(ctx, "s1")
	require.NoError(t, err)
	assert.Equal(t, ses, got)

	require.NoError(t, s.DeleteSession(ctx, "s1"))
	_, err = s.GetSession(ctx, "s1")
	assert.ErrorIs(t, err, store.ErrNotFound)
	assert.NoError(t, s.DeleteSession(ctx, "s1"), "deleting a missing session")
}

func newTransaction(id string) store.Transaction {
	return store.Transaction{
		ID: id, ClientID: "web", RedirectURI: "https://app.example/cb", ResponseType: "code",
		Scope: "openid email", State: "app-state", Nonce: "app-nonce",
		CodeChallenge: "challenge", CodeChallengeMethod: "S256", Prompt: "login", MaxAge: -1,
		CSRFToken: "csrf", CreatedAt: base, ExpiresAt: base.Add(10 * time.Minute),
	}
}

func testTransaction(t *testing.T, s store.Store) {
	ctx := context.Background()
	tx := newTransaction("t1")
	require.NoError(t, s.CreateTransaction(ctx, tx))
	assert.ErrorIs(t, s.CreateTransaction(ctx, tx), store.ErrConflict)

	got, err := s.GetTransaction(ctx, "t1")
	require.NoError(t, err)
	assert.Equal(t, tx, got)

	up := store.UpstreamRequest{UpstreamID: "google", State: "up-state", Nonce: "up-nonce", CodeVerifier: "verifier"}
	require.NoError(t, s.SetTransactionUpstream(ctx, "t1", up))
	require.NoError(t, s.SetTransactionSession(ctx, "t1", "s1"))
	got, err = s.GetTransaction(ctx, "t1")
	require.NoError(t, err)
	assert.Equal(t, up, got.Upstream)
	assert.Equal(t, "s1", got.SessionID)
	assert.ErrorIs(t, s.SetTransactionUpstream(ctx, "missing", up), store.ErrNotFound)

	taken, err := s.TakeTransaction(ctx, "t1")
	require.NoError(t, err)
	assert.Equal(t, got, taken)
	_, err = s.TakeTransaction(ctx, "t1")
	assert.ErrorIs(t, err, store.ErrNotFound, "a transaction resumes once")
}

func testUpstreamStateSingleUse(t *testing.T, s store.Store) {
	ctx := context.Background()
	require.NoError(t, s.CreateTransaction(ctx, newTransaction("t1")))
	_, err := s.ConsumeUpstreamState(ctx, "t1", "")
	assert.ErrorIs(t, err, store.ErrAlreadyUsed, "no upstream request sent yet")

	up := store.UpstreamRequest{UpstreamID: "google", State: "up-state", Nonce: "n", CodeVerifier: "v"}
	require.NoError(t, s.SetTransactionUpstream(ctx, "t1", up))
	_, err = s.ConsumeUpstreamState(ctx, "t1", "wrong")
	assert.ErrorIs(t, err, store.ErrAlreadyUsed)

	got, err := s.ConsumeUpstreamState(ctx, "t1", "up-state")
	require.NoError(t, err)
	assert.Equal(t, up, got.Upstream, "the transaction as it was before")

	_, err = s.ConsumeUpstreamState(ctx, "t1", "up-state")
	assert.ErrorIs(t, err, store.ErrAlreadyUsed, "replayed state")
	_, err = s.ConsumeUpstreamState(ctx, "missing", "up-state")
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func newCode(hash string) store.AuthCode {
	return store.AuthCode{
		Hash: hash, ClientID: "web", RedirectURI: "https://app.example/cb", UserID: "u1",
		SessionID: "s1", Scope: "openid", Nonce: "n", CodeChallenge: "c", CodeChallengeMethod: "S256",
		AuthTime: base, CreatedAt: base, ExpiresAt: base.Add(time.Minute),
	}
}

func tokensFor(c store.AuthCode, hash string) store.Tokens {
	return store.Tokens{Access: store.AccessToken{
		Hash: hash, ClientID: c.ClientID, UserID: c.UserID, Scope: c.Scope,
		Audiences: []string{"api-a", "api-b"}, GrantID: c.Hash, SessionID: c.SessionID,
		IssuedAt: base, ExpiresAt: base.Add(time.Hour),
	}}
}

func testAuthCodeRedeem(t *testing.T, s store.Store) {
	ctx := context.Background()
	newUser(t, s, "u1", "alice")
	code := newCode("c1")
	require.NoError(t, s.CreateAuthCode(ctx, code))
	assert.ErrorIs(t, s.CreateAuthCode(ctx, code), store.ErrConflict)

	// An issue error changes nothing: the code stays redeemable.
	errRejected := errors.New("rejected")
	err := s.RedeemAuthCode(ctx, "c1", func(store.AuthCode) (store.Tokens, error) { return store.Tokens{}, errRejected })
	assert.ErrorIs(t, err, errRejected)

	var seen store.AuthCode
	err = s.RedeemAuthCode(ctx, "c1", func(c store.AuthCode) (store.Tokens, error) {
		seen = c
		return tokensFor(c, "at1"), nil
	})
	require.NoError(t, err)
	assert.Equal(t, code, seen)

	at, err := s.GetAccessToken(ctx, "at1")
	require.NoError(t, err)
	assert.Equal(t, tokensFor(code, "at1").Access, at)

	called := false
	err = s.RedeemAuthCode(ctx, "c1", func(c store.AuthCode) (store.Tokens, error) {
		called = true
		return tokensFor(c, "at2"), nil
	})
	assert.ErrorIs(t, err, store.ErrAlreadyUsed)
	assert.False(t, called, "issue is not called for a used code")

	err = s.RedeemAuthCode(ctx, "missing", func(c store.AuthCode) (store.Tokens, error) { return tokensFor(c, "at3"), nil })
	assert.ErrorIs(t, err, store.ErrNotFound)

	// Revoking the grant revokes the tokens issued for the code.
	revoked, err := s.RevokeGrant(ctx, "c1", base)
	require.NoError(t, err)
	assert.Equal(t, []string{"at1"}, revoked)
	at, err = s.GetAccessToken(ctx, "at1")
	require.NoError(t, err)
	assert.True(t, at.Revoked)
}

func testAuthCodeConcurrentRedeem(t *testing.T, s store.Store) {
	ctx := context.Background()
	newUser(t, s, "u1", "alice")
	require.NoError(t, s.CreateAuthCode(ctx, newCode("c1")))

	const attempts = 8
	var wg sync.WaitGroup
	errs := make([]error, attempts)
	for i := range attempts {
		wg.Go(func() {
			errs[i] = s.RedeemAuthCode(ctx, "c1", func(c store.AuthCode) (store.Tokens, error) {
				return tokensFor(c, "at-"+string(rune('a'+i))), nil
			})
		})
	}
	wg.Wait()

	succeeded := 0
	for _, err := range errs {
		if err == nil {
			succeeded++
			continue
		}
		assert.ErrorIs(t, err, store.ErrAlreadyUsed)
	}
	assert.Equal(t, 1, succeeded, "exactly one redemption wins")
}

func testAccessTokenRevoke(t *testing.T, s store.Store) {
	ctx := context.Background()
	newUser(t, s, "u1", "alice")
	at := tokensFor(newCode("c1"), "at1").Access
	require.NoError(t, s.CreateAccessToken(ctx, at))
	assert.ErrorIs(t, s.CreateAccessToken(ctx, at), store.ErrConflict)

	require.NoError(t, s.RevokeAccessToken(ctx, "at1"))
	got, err := s.GetAccessToken(ctx, "at1")
	require.NoError(t, err)
	assert.True(t, got.Revoked)

	assert.ErrorIs(t, s.RevokeAccessToken(ctx, "missing"), store.ErrNotFound)
	_, err = s.GetAccessToken(ctx, "missing")
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func testAccessTokenWithoutUser(t *testing.T, s store.Store) {
	ctx := context.Background()
	at := store.AccessToken{
		Hash: "at1", ClientID: "service", Scope: "reports.read", Audiences: []string{"api-a"},
		GrantID: "g1", IssuedAt: base, ExpiresAt: base.Add(time.Hour),
	}
	require.NoError(t, s.CreateAccessToken(ctx, at), "a client credentials token has no user")
	got, err := s.GetAccessToken(ctx, "at1")
	require.NoError(t, err)
	assert.Equal(t, at, got)
	assert.Empty(t, got.UserID)

	_, err = s.RevokeGrant(ctx, "g1", base)
	require.NoError(t, err)
	got, err = s.GetAccessToken(ctx, "at1")
	require.NoError(t, err)
	assert.True(t, got.Revoked)
}

func testRefreshTokenRotation(t *testing.T, s store.Store) {
	ctx := context.Background()
	newUser(t, s, "u1", "alice")
	first := store.Tokens{
		Access: tokensFor(newCode("g1"), "at1").Access,
		Refresh: &store.RefreshToken{
			Hash: "rt1", ClientID: "web", UserID: "u1", Scope: "openid", Audiences: []string{"api-a"},
			GrantID: "g1", SessionID: "s1", AuthTime: base, IssuedAt: base, ExpiresAt: base.Add(24 * time.Hour),
		},
	}
	require.NoError(t, s.CreateAuthCode(ctx, newCode("g1")))
	require.NoError(t, s.RedeemAuthCode(ctx, "g1", func(store.AuthCode) (store.Tokens, error) { return first, nil }))

	got, err := s.GetRefreshToken(ctx, "rt1")
	require.NoError(t, err)
	assert.Equal(t, *first.Refresh, got)

	next := func(old store.RefreshToken, suffix string) store.Tokens {
		r := old
		r.Hash, r.Used = "rt"+suffix, false
		a := first.Access
		a.Hash = "at" + suffix
		return store.Tokens{Access: a, Refresh: &r}
	}
	require.NoError(t, s.RotateRefreshToken(ctx, "rt1", func(old store.RefreshToken) (store.Tokens, error) {
		return next(old, "2"), nil
	}))
	old, err := s.GetRefreshToken(ctx, "rt1")
	require.NoError(t, err)
	assert.True(t, old.Used)

	err = s.RotateRefreshToken(ctx, "rt1", func(old store.RefreshToken) (store.Tokens, error) { return next(old, "3"), nil })
	assert.ErrorIs(t, err, store.ErrAlreadyUsed, "reused refresh token")

	_, err = s.RevokeGrant(ctx, "g1", base)
	require.NoError(t, err)
	for _, hash := range []string{"rt1", "rt2"} {
		rt, err := s.GetRefreshToken(ctx, hash)
		require.NoError(t, err)
		assert.True(t, rt.Revoked, hash)
	}
	for _, hash := range []string{"at1", "at2"} {
		at, err := s.GetAccessToken(ctx, hash)
		require.NoError(t, err)
		assert.True(t, at.Revoked, hash)
	}

	require.NoError(t, s.RevokeRefreshToken(ctx, "rt2"))
	assert.ErrorIs(t, s.RevokeRefreshToken(ctx, "missing"), store.ErrNotFound)
}

// sessionTokens stores, for user u1, an access token per entry of
// expiries (relative to base) under session sessionID and grant grantID,
// plus a refresh token of the grant. Hashes are prefix + index.
func sessionTokens(t *testing.T, s store.Store, prefix, sessionID, grantID string, expiries ...time.Duration) {
	t.Helper()
	ctx := context.Background()
	for i, ttl := range expiries {
		tokens := store.Tokens{Access: store.AccessToken{
			Hash: prefix + string(rune('0'+i)), ClientID: "web", UserID: "u1", Scope: "openid",
			Audiences: []string{"api-a"}, GrantID: grantID, SessionID: sessionID,
			IssuedAt: base.Add(time.Duration(i) * time.Second), ExpiresAt: base.Add(ttl),
		}}
		if i == 0 {
			tokens.Refresh = &store.RefreshToken{
				Hash: prefix + "-refresh", ClientID: "web", UserID: "u1", Scope: "openid",
				Audiences: []string{"api-a"}, GrantID: grantID, SessionID: sessionID,
				AuthTime: base, IssuedAt: base, ExpiresAt: base.Add(24 * time.Hour),
			}
		}
		code := newCode(prefix + "-code" + string(rune('0'+i)))
		require.NoError(t, s.CreateAuthCode(ctx, code))
		require.NoError(t, s.RedeemAuthCode(ctx, code.Hash, func(store.AuthCode) (store.Tokens, error) { return tokens, nil }))
	}
}

func testRevokeGrantReturnsLiveTokens(t *testing.T, s store.Store) {
	ctx := context.Background()
	newUser(t, s, "u1", "alice")
	// g1 has a live token, an expired one and one revoked earlier; g2
	// is another grant.
	sessionTokens(t, s, "a", "s1", "g1", time.Hour, -time.Second, time.Hour)
	sessionTokens(t, s, "b", "s1", "g2", time.Hour)
	require.NoError(t, s.RevokeAccessToken(ctx, "a2"))

	revoked, err := s.RevokeGrant(ctx, "g1", base)
	require.NoError(t, err)
	assert.Equal(t, []string{"a0"}, revoked, "only the tokens live until now")
	for _, hash := range []string{"a0", "a1", "a2"} {
		at, err := s.GetAccessToken(ctx, hash)
		require.NoError(t, err)
		assert.True(t, at.Revoked, hash)
	}
	rt, err := s.GetRefreshToken(ctx, "a-refresh")
	require.NoError(t, err)
	assert.True(t, rt.Revoked)
	other, err := s.GetAccessToken(ctx, "b0")
	require.NoError(t, err)
	assert.False(t, other.Revoked, "another grant keeps its tokens")

	revoked, err = s.RevokeGrant(ctx, "g1", base)
	require.NoError(t, err)
	assert.Empty(t, revoked, "a second revocation finds nothing live")
	_, err = s.RevokeGrant(ctx, "", base)
	assert.Error(t, err)
}

func testEndSession(t *testing.T, s store.Store) {
	ctx := context.Background()
	newUser(t, s, "u1", "alice")
	for _, id := range []string{"s1", "s2"} {
		require.NoError(t, s.CreateSession(ctx, store.Session{
			ID: id, UserID: "u1", UpstreamID: "google", AuthTime: base, CreatedAt: base, ExpiresAt: base.Add(time.Hour),
		}))
	}
	// Session s1 has two grants (two authorizations of one login) and an
	// expired token; s2 is another browser.
	sessionTokens(t, s, "a", "s1", "g1", time.Hour, -time.Second)
	sessionTokens(t, s, "b", "s1", "g2", time.Hour)
	sessionTokens(t, s, "c", "s2", "g3", time.Hour)

	revoked, err := s.EndSession(ctx, "s1", base)
	require.NoError(t, err)
	assert.Equal(t, []string{"a0", "b0"}, revoked)
	_, err = s.GetSession(ctx, "s1")
	assert.ErrorIs(t, err, store.ErrNotFound, "the session is deleted")
	for _, hash := range []string{"a0", "a1", "b0"} {
		at, err := s.GetAccessToken(ctx, hash)
		require.NoError(t, err)
		assert.True(t, at.Revoked, hash)
		assert.Equal(t, "s1", at.SessionID)
	}
	for _, hash := range []string{"a-refresh", "b-refresh"} {
		rt, err := s.GetRefreshToken(ctx, hash)
		require.NoError(t, err)
		assert.True(t, rt.Revoked, hash)
		assert.Equal(t, "s1", rt.SessionID)
	}

	other, err := s.GetAccessToken(ctx, "c0")
	require.NoError(t, err)
	assert.False(t, other.Revoked, "another session keeps its tokens")
	_, err = s.GetSession(ctx, "s2")
	assert.NoError(t, err)

	revoked, err = s.EndSession(ctx, "s1", base)
	require.NoError(t, err, "a missing session is not an error")
	assert.Empty(t, revoked)
	_, err = s.EndSession(ctx, "", base)
	assert.Error(t, err, "the empty ID names no session")
}

func testReplaceSession(t *testing.T, s store.Store) {
	ctx := context.Background()
	newUser(t, s, "u1", "alice")
	newUser(t, s, "u2", "bob")
	newSession := func(id, userID string) store.Session {
		return store.Session{ID: id, UserID: userID, UpstreamID: "google", AuthTime: base, CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
	}
	require.NoError(t, s.ReplaceSession(ctx, "", newSession("s1", "u1")), "a first login replaces nothing")
	sessionTokens(t, s, "a", "s1", "g1", time.Hour)

	// The same user logs in again in the same browser: the tokens follow.
	require.NoError(t, s.ReplaceSession(ctx, "s1", newSession("s2", "u1")))
	_, err := s.GetSession(ctx, "s1")
	assert.ErrorIs(t, err, store.ErrNotFound, "the old session is deleted")
	got, err := s.GetSession(ctx, "s2")
	require.NoError(t, err)
	assert.Equal(t, newSession("s2", "u1"), got)
	at, err := s.GetAccessToken(ctx, "a0")
	require.NoError(t, err)
	assert.Equal(t, "s2", at.SessionID)
	rt, err := s.GetRefreshToken(ctx, "a-refresh")
	require.NoError(t, err)
	assert.Equal(t, "s2", rt.SessionID)

	// Another user logs in in that browser: the tokens stay behind.
	require.NoError(t, s.ReplaceSession(ctx, "s2", newSession("s3", "u2")))
	at, err = s.GetAccessToken(ctx, "a0")
	require.NoError(t, err)
	assert.Equal(t, "s2", at.SessionID)
	revoked, err := s.EndSession(ctx, "s3", base)
	require.NoError(t, err)
	assert.Empty(t, revoked, "ending the other user's session ends none of the first user's tokens")

	assert.NoError(t, s.ReplaceSession(ctx, "missing", newSession("s2-again", "u1")), "a missing old session is no error")
	assert.ErrorIs(t, s.ReplaceSession(ctx, "", newSession("s2-again", "u1")), store.ErrConflict)
}

func testLiveAccessTokens(t *testing.T, s store.Store) {
	ctx := context.Background()
	newUser(t, s, "u1", "alice")
	newUser(t, s, "u2", "bob")
	sessionTokens(t, s, "a", "s1", "g1", time.Hour, time.Minute, -time.Second, time.Hour)
	require.NoError(t, s.RevokeAccessToken(ctx, "a3"))
	service := store.AccessToken{
		Hash: "svc", ClientID: "service", Scope: "reports.read", Audiences: []string{"api-a"},
		GrantID: "g-svc", IssuedAt: base.Add(time.Minute), ExpiresAt: base.Add(time.Hour),
	}
	require.NoError(t, s.CreateAccessToken(ctx, service))

	hashes := func(tokens []store.AccessToken) []string {
		var out []string
		for _, at := range tokens {
			out = append(out, at.Hash)
		}
		return out
	}
	live, err := s.LiveAccessTokens(ctx, base)
	require.NoError(t, err)
	assert.Equal(t, []string{"a0", "a1", "svc"}, hashes(live), "oldest first, without expired and revoked tokens")
	assert.Equal(t, "s1", live[0].SessionID)
	assert.Equal(t, []string{"api-a"}, live[0].Audiences)

	live, err = s.LiveAccessTokens(ctx, base.Add(time.Minute))
	require.NoError(t, err)
	assert.Equal(t, []string{"a0", "svc"}, hashes(live), "a token expiring at now is not live")

	ofUser, err := s.LiveAccessTokensOfUser(ctx, "u1", base)
	require.NoError(t, err)
	assert.Equal(t, []string{"a0", "a1"}, hashes(ofUser))
	ofUser, err = s.LiveAccessTokensOfUser(ctx, "u2", base)
	require.NoError(t, err)
	assert.Empty(t, ofUser)
}

func testConsent(t *testing.T, s store.Store) {
	ctx := context.Background()
	newUser(t, s, "u1", "alice")
	_, err := s.GetConsent(ctx, "u1", "web")
	assert.ErrorIs(t, err, store.ErrNotFound)

	first := store.Consent{UserID: "u1", ClientID: "web", Scope: "openid", GrantedAt: base}
	require.NoError(t, s.SaveConsent(ctx, first))
	got, err := s.GetConsent(ctx, "u1", "web")
	require.NoError(t, err)
	assert.Equal(t, first, got)

	// A second consent to the same client replaces the first.
	wider := store.Consent{UserID: "u1", ClientID: "web", Scope: "openid email", GrantedAt: base.Add(time.Hour)}
	require.NoError(t, s.SaveConsent(ctx, wider))
	got, err = s.GetConsent(ctx, "u1", "web")
	require.NoError(t, err)
	assert.Equal(t, wider, got)

	_, err = s.GetConsent(ctx, "u1", "other-client")
	assert.ErrorIs(t, err, store.ErrNotFound, "consent is per client")
	assert.Error(t, s.SaveConsent(ctx, store.Consent{UserID: "missing", ClientID: "web", Scope: "openid", GrantedAt: base}),
		"consent needs a known user")
}

func testSigningKeys(t *testing.T, s store.Store) {
	ctx := context.Background()
	keys, err := s.SigningKeys(ctx)
	require.NoError(t, err)
	assert.Empty(t, keys)

	older := store.SigningKey{ID: "k1", PEM: []byte("pem-1"), CreatedAt: base}
	newer := store.SigningKey{ID: "k2", PEM: []byte("pem-2"), CreatedAt: base.Add(time.Hour)}
	require.NoError(t, s.AddSigningKey(ctx, older))
	require.NoError(t, s.AddSigningKey(ctx, newer))
	assert.ErrorIs(t, s.AddSigningKey(ctx, older), store.ErrConflict)

	keys, err = s.SigningKeys(ctx)
	require.NoError(t, err)
	assert.Equal(t, []store.SigningKey{newer, older}, keys, "newest first")

	// Keys of the same time are listed last added first.
	sameTime := store.SigningKey{ID: "k3", PEM: []byte("pem-3"), CreatedAt: newer.CreatedAt}
	require.NoError(t, s.AddSigningKey(ctx, sameTime))
	keys, err = s.SigningKeys(ctx)
	require.NoError(t, err)
	assert.Equal(t, []store.SigningKey{sameTime, newer, older}, keys)
}

func testSigningKeyRetire(t *testing.T, s store.Store) {
	ctx := context.Background()
	older := store.SigningKey{ID: "k1", PEM: []byte("pem-1"), CreatedAt: base}
	newer := store.SigningKey{ID: "k2", PEM: []byte("pem-2"), CreatedAt: base.Add(time.Hour)}
	require.NoError(t, s.AddSigningKey(ctx, older))
	require.NoError(t, s.AddSigningKey(ctx, newer))

	require.NoError(t, s.RetireSigningKey(ctx, "k1", base.Add(2*time.Hour)))
	keys, err := s.SigningKeys(ctx)
	require.NoError(t, err)
	assert.Equal(t, []store.SigningKey{newer}, keys, "a retired key is not listed")

	assert.ErrorIs(t, s.RetireSigningKey(ctx, "k1", base.Add(3*time.Hour)), store.ErrNotFound, "retired once")
	assert.ErrorIs(t, s.RetireSigningKey(ctx, "missing", base), store.ErrNotFound)
	assert.ErrorIs(t, s.AddSigningKey(ctx, older), store.ErrConflict, "a retired key's ID stays taken")
}

func testDeleteExpired(t *testing.T, s store.Store) {
	ctx := context.Background()
	newUser(t, s, "u1", "alice")
	expired := newTransaction("t-old")
	expired.ExpiresAt = base.Add(-time.Second)
	require.NoError(t, s.CreateTransaction(ctx, expired))
	require.NoError(t, s.CreateTransaction(ctx, newTransaction("t-live")))
	require.NoError(t, s.CreateSession(ctx, store.Session{ID: "s-old", UserID: "u1", AuthTime: base, CreatedAt: base, ExpiresAt: base.Add(-time.Second)}))

	n, err := s.DeleteExpired(ctx, base)
	require.NoError(t, err)
	assert.Equal(t, int64(2), n)

	_, err = s.GetTransaction(ctx, "t-old")
	assert.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.GetSession(ctx, "s-old")
	assert.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.GetTransaction(ctx, "t-live")
	assert.NoError(t, err)
}
