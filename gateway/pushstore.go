package gateway

import (
	"errors"
	"sync"
	"time"

	"github.com/oidcstack/oidcstack/internal/secevent"
	"github.com/oidcstack/oidcstack/internal/trace"
)

// errPushStale means a pushed token is valid but its JWT for the route's
// audience has expired or its signing key was retired, and no fresh one
// has been pushed yet. Clients get 503: the token is fine, the gateway is
// behind.
var errPushStale = errors.New("gateway: pushed jwt expired and not yet replaced")

// errPushFull means a push-mode gateway holds PushMaxTokens live tokens
// and cannot take another.
var errPushFull = errors.New("gateway: push store full")

// pushedToken is the data the authorization server pushed for one access
// token.
type pushedToken struct {
	subject string
	scope   string
	expiry  time.Time
	jwts    map[string]pushedJWT // by audience
}

type pushedJWT struct {
	jwt string
	fp  string // trace.Fingerprint(jwt)
	kid string
	// usableUntil is the JWT's expiry less jwtExpiryMargin; the zero time
	// marks a JWT whose signing key was retired.
	usableUntil time.Time
}

// pushStore holds the tokens pushed to a push-mode gateway, by token hash.
// It is safe for concurrent use.
type pushStore struct {
	maxTokens int

	mu     sync.Mutex
	tokens map[string]*pushedToken
	synced bool // a state-synced event arrived
}

func newPushStore(maxTokens int) *pushStore {
	return &pushStore{maxTokens: maxTokens, tokens: make(map[string]*pushedToken)}
}

// lookup returns the result for key at now. A token that was never pushed,
// has expired or has no JWT for the audience is inactive.
func (ps *pushStore) lookup(key cacheKey, now time.Time) (*tokenResult, error) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	tok, ok := ps.tokens[key.tokenHash]
	if !ok || !now.Before(tok.expiry) {
		return &tokenResult{}, nil
	}
	jwt, ok := tok.jwts[key.audience]
	if !ok {
		return &tokenResult{}, nil
	}
	if !now.Before(jwt.usableUntil) {
		return nil, errPushStale
	}
	return &tokenResult{
		active: true, scope: tok.scope, subject: tok.subject,
		jwt: jwt.jwt, jwtFP: jwt.fp, kid: jwt.kid, expires: earliest(tok.expiry, jwt.usableUntil),
	}, nil
}

// add stores or replaces a pushed token. A token that has already expired
// at now is ignored.
func (ps *pushStore) add(ev *secevent.TokenIssued, now time.Time) error {
	tok := &pushedToken{
		subject: ev.Subject,
		scope:   ev.Scope,
		expiry:  time.Unix(ev.Expiry, 0),
		jwts:    make(map[string]pushedJWT, len(ev.JWTs)),
	}
	if !now.Before(tok.expiry) {
		return nil
	}
	for aud, jwt := range ev.JWTs {
		exp, ok := jwtExpiry(jwt)
		if !ok {
			// A JWT of unknown lifetime is never forwarded.
			continue
		}
		tok.jwts[aud] = pushedJWT{jwt: jwt, fp: trace.Fingerprint(jwt), kid: jwtKeyID(jwt), usableUntil: exp.Add(-jwtExpiryMargin)}
	}

	ps.mu.Lock()
	defer ps.mu.Unlock()
	if _, exists := ps.tokens[ev.TokenHash]; !exists && len(ps.tokens) >= ps.maxTokens {
		ps.sweepLocked(now)
		if len(ps.tokens) >= ps.maxTokens {
			return errPushFull
		}
	}
	ps.tokens[ev.TokenHash] = tok
	return nil
}

// drop removes the tokens with the given hashes and returns how many it
// removed.
func (ps *pushStore) drop(hashes []string) int {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	n := 0
	for _, h := range hashes {
		if _, ok := ps.tokens[h]; ok {
			delete(ps.tokens, h)
			n++
		}
	}
	return n
}

// retireKeys marks the JWTs signed by a key that is not in published as
// stale, so they are no longer forwarded, and returns how many it marked.
func (ps *pushStore) retireKeys(published map[string]bool) int {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	n := 0
	for _, tok := range ps.tokens {
		for aud, jwt := range tok.jwts {
			if !jwt.usableUntil.IsZero() && !published[jwt.kid] {
				tok.jwts[aud] = pushedJWT{}
				n++
			}
		}
	}
	return n
}

// sweep removes the tokens that have expired at now.
func (ps *pushStore) sweep(now time.Time) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.sweepLocked(now)
}

func (ps *pushStore) sweepLocked(now time.Time) {
	for h, tok := range ps.tokens {
		if !now.Before(tok.expiry) {
			delete(ps.tokens, h)
		}
	}
}

func (ps *pushStore) markSynced() {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.synced = true
}

func (ps *pushStore) isSynced() bool {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.synced
}

func (ps *pushStore) len() int {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return len(ps.tokens)
}
