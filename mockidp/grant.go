package mockidp

import (
	"slices"
	"time"

	"github.com/oidcstack/oidcstack/internal/oauth"
)

// authCode is an issued authorization code, stored under its hash.
type authCode struct {
	req      authRequest
	subject  string
	authTime time.Time
	expiry   time.Time
	// forgetAt is when the record is dropped. A redeemed code is kept past
	// its expiry so a replay is still recognized and revokes its tokens.
	forgetAt time.Time
	grant    *grant // set when the code is redeemed
}

// grant is the authorization behind a set of tokens, created when a code
// is redeemed or a client credentials request succeeds. Its tokens share
// it, so revoking it revokes them all.
type grant struct {
	clientID string
	subject  string // empty for client_credentials
	scope    []string
	authTime time.Time
	nonce    string
	// accessType is Google's access_type, reported by tokeninfo.
	accessType string
	revoked    bool
	// parent is the grant a refresh with a narrower scope derived this one
	// from; revoking the parent revokes this grant too.
	parent *grant
}

// isRevoked reports whether g or its parent is revoked. The caller holds
// the issuer's mu.
func (g *grant) isRevoked() bool {
	return g.revoked || (g.parent != nil && g.parent.revoked)
}

// accessToken is an issued access token, stored under its hash.
type accessToken struct {
	grant  *grant
	expiry time.Time
}

// issueCode stores code for req and the session's user. It also consumes
// the session's login and consent marks for req, so they satisfy
// prompt=login and prompt=consent only once.
func (iss *issuer) issueCode(code string, req authRequest, sess *session, now time.Time, ttl time.Duration) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	key := req.key()
	if _, ok := sess.consentedFor[key]; ok {
		sess.consentedClients[req.ClientID] = true
	}
	delete(sess.loggedInFor, key)
	delete(sess.consentedFor, key)
	iss.codes[oauth.HashToken(code)] = &authCode{
		req:      req,
		subject:  sess.subject,
		authTime: sess.authTime,
		expiry:   now.Add(ttl),
		forgetAt: now.Add(ttl),
	}
}

// codeRedemption is a token request for an authorization code (RFC 6749
// section 4.1.3).
type codeRedemption struct {
	code         string
	redirectURI  string
	codeVerifier string
}

// redeemCode checks a code redemption by an authenticated client and
// returns the new grant. The code is used up only when every check passes;
// a replayed code revokes the tokens issued from it (RFC 6749 section
// 4.1.2).
func (iss *issuer) redeemCode(clientID string, cr codeRedemption, now time.Time, keepFor time.Duration) (*grant, *oauth.Error) {
	invalid := func(desc string) *oauth.Error { return oauth.NewError(oauth.ErrInvalidGrant, desc) }
	iss.mu.Lock()
	defer iss.mu.Unlock()

	// The code must exist.
	c, ok := iss.codes[oauth.HashToken(cr.code)]
	if !ok {
		return nil, invalid("The authorization code is invalid or expired.")
	}

	// A code is used once; a second use revokes what the first one got.
	if c.grant != nil {
		c.grant.revoked = true
		return nil, invalid("The authorization code was already used.")
	}

	// The code must be live.
	if !now.Before(c.expiry) {
		return nil, invalid("The authorization code is invalid or expired.")
	}

	// The code must belong to the authenticated client (RFC 6749 section
	// 4.1.3).
	if c.req.ClientID != clientID {
		return nil, invalid("The authorization code was issued to another client.")
	}

	// The redirect_uri must be the one of the authorization request.
	if cr.redirectURI != c.req.RedirectURI {
		return nil, invalid("The redirect_uri does not match the authorization request.")
	}

	// PKCE (RFC 7636 section 4.6). A verifier without a challenge in the
	// authorization request is rejected too (RFC 9700 section 2.1.1).
	if c.req.CodeChallenge == "" && cr.codeVerifier != "" {
		return nil, invalid("The authorization request had no code_challenge.")
	}
	if c.req.CodeChallenge != "" && !oauth.VerifyPKCE(c.req.CodeChallengeMethod, c.req.CodeChallenge, cr.codeVerifier) {
		return nil, invalid("The code_verifier does not match the code_challenge.")
	}

	c.grant = &grant{
		clientID:   clientID,
		subject:    c.subject,
		scope:      slices.Clone(c.req.Scope),
		authTime:   c.authTime,
		nonce:      c.req.Nonce,
		accessType: c.req.AccessType,
	}
	if c.req.offline() {
		c.grant.accessType = "offline"
	}
	c.forgetAt = now.Add(keepFor)
	return c.grant, nil
}

// issueAccessToken stores a new access token for g.
func (iss *issuer) issueAccessToken(g *grant, now time.Time, ttl time.Duration) (string, time.Time) {
	token := oauth.NewToken()
	expiry := now.Add(ttl)
	iss.mu.Lock()
	defer iss.mu.Unlock()
	iss.access[oauth.HashToken(token)] = &accessToken{grant: g, expiry: expiry}
	return token, expiry
}

// issueRefreshToken stores a new refresh token for g.
func (iss *issuer) issueRefreshToken(g *grant) string {
	token := oauth.NewToken()
	iss.mu.Lock()
	defer iss.mu.Unlock()
	iss.refresh[oauth.HashToken(token)] = g
	return token
}

// lookupAccessToken returns a copy of the grant of a live access token.
func (iss *issuer) lookupAccessToken(token string, now time.Time) (grant, time.Time, bool) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	t, ok := iss.access[oauth.HashToken(token)]
	if !ok || t.grant.isRevoked() || !now.Before(t.expiry) {
		return grant{}, time.Time{}, false
	}
	return *t.grant, t.expiry, true
}

// lookupRefreshToken returns the grant of a live refresh token.
func (iss *issuer) lookupRefreshToken(token string) (*grant, bool) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	g, ok := iss.refresh[oauth.HashToken(token)]
	if !ok || g.isRevoked() {
		return nil, false
	}
	return g, true
}

// snapshot returns a copy of g read under mu.
func (iss *issuer) snapshot(g *grant) grant {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	return *g
}
