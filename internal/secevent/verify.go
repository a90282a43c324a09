package secevent

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/oidcstack/oidcstack/internal/oauth"
)

// Error codes of a failed push (RFC 8935 section 2.4).
const (
	ErrInvalidRequest  = "invalid_request"
	ErrInvalidKey      = "invalid_key"
	ErrInvalidIssuer   = "invalid_issuer"
	ErrInvalidAudience = "invalid_audience"
)

// ErrKeysUnavailable means the issuer's keys could not be fetched, so the
// SET could not be checked. A receiver responds to it with 503, so the
// transmitter tries again.
var ErrKeysUnavailable = errors.New("secevent: signing keys unavailable")

// Error is a rejected SET: one of the RFC 8935 error codes, a description
// for the transmitter, and the cause for the receiver's log.
type Error struct {
	Code        string
	Description string
	Cause       error
}

func (e *Error) Error() string {
	msg := "secevent: " + e.Code + ": " + e.Description
	if e.Cause != nil {
		msg += ": " + e.Cause.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Cause }

func reject(code, description string, cause error) *Error {
	return &Error{Code: code, Description: description, Cause: cause}
}

// KeyFunc returns the issuer's public key with the given kid. It returns
// an error wrapping ErrKeysUnavailable when the keys could not be fetched,
// and any other error when the key set has no such key.
type KeyFunc func(ctx context.Context, kid string) (*rsa.PublicKey, error)

// MaxSETBytes bounds the size of a SET a receiver reads.
const MaxSETBytes = 64 << 10

// Verifier checks SETs for one receiver and remembers their jti values to
// reject replays. It is safe for concurrent use.
type Verifier struct {
	issuer   string
	audience string
	maxAge   time.Duration
	leeway   time.Duration
	keys     KeyFunc
	now      func() time.Time

	mu sync.Mutex
	// seen maps each accepted jti to the time its SET becomes too old, after
	// which a replay is rejected by its age and the jti can be forgotten.
	seen      map[string]time.Time
	lastSweep time.Time
}

// NewVerifier returns a verifier of SETs from issuer to audience, signed by
// a key that keys returns. SETs issued more than maxAge ago are rejected.
// leeway is the clock skew allowed for an iat in the future.
func NewVerifier(issuer, audience string, maxAge, leeway time.Duration, keys KeyFunc, now func() time.Time) *Verifier {
	return &Verifier{
		issuer: issuer, audience: audience, maxAge: maxAge, leeway: leeway,
		keys: keys, now: now, seen: make(map[string]time.Time),
	}
}

// Verify checks a SET and returns its claims. A rejected SET gets an
// *Error; a SET that could not be checked gets an error wrapping
// ErrKeysUnavailable.
func (v *Verifier) Verify(ctx context.Context, raw string) (*SET, error) {
	// Size limit, before any parsing.
	if len(raw) > MaxSETBytes {
		return nil, reject(ErrInvalidRequest, "The SET is too large.", fmt.Errorf("%d bytes, more than %d", len(raw), MaxSETBytes))
	}

	// Compact JWS signed with RS256, the only algorithm allowed (RFC 8725
	// section 3.1).
	jws, err := jose.ParseSignedCompact(strings.TrimSpace(raw), []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, reject(ErrInvalidRequest, "The SET is not a JWS signed with RS256.", err)
	}
	header := jws.Signatures[0].Protected

	// Header typ secevent+jwt, so no other kind of JWT passes as a SET
	// (RFC 8417 section 2.3).
	typ, _ := header.ExtraHeaders[jose.HeaderType].(string)
	typ = strings.TrimPrefix(strings.ToLower(typ), "application/")
	if typ != oauth.JWTTypeSecEvent {
		return nil, reject(ErrInvalidRequest, "The SET has the wrong typ header.", fmt.Errorf("typ %q, want %q", typ, oauth.JWTTypeSecEvent))
	}

	// A kid, so the key is chosen by ID.
	if header.KeyID == "" {
		return nil, reject(ErrInvalidKey, "The SET header has no kid.", nil)
	}

	// Claims are read before the signature check, so cheap checks cause no
	// key fetch. They are trusted only after the signature check.
	payload := jws.UnsafePayloadWithoutVerification()
	var set SET
	if err := json.Unmarshal(payload, &set); err != nil {
		return nil, reject(ErrInvalidRequest, "The SET claims are malformed.", err)
	}

	// Issuer and audience, compared exactly (RFC 8417 section 2.2).
	if set.Issuer != v.issuer {
		return nil, reject(ErrInvalidIssuer, "The SET issuer is not accepted.", fmt.Errorf("iss %q, want %q", set.Issuer, v.issuer))
	}
	if set.Audience != v.audience {
		return nil, reject(ErrInvalidAudience, "The SET audience is not this receiver.", fmt.Errorf("aud %q, want %q", set.Audience, v.audience))
	}

	// iat within the maximum age, and not in the future beyond the leeway.
	now := v.now()
	if err := v.checkAge(set.IssuedAt, now); err != nil {
		return nil, err
	}

	// jti and at least one valid event.
	if set.ID == "" {
		return nil, reject(ErrInvalidRequest, "The SET has no jti.", nil)
	}
	if err := set.Events.validate(); err != nil {
		return nil, reject(ErrInvalidRequest, "The SET events are invalid.", err)
	}

	// Signature, with the issuer's key named by kid.
	key, err := v.keys(ctx, header.KeyID)
	if errors.Is(err, ErrKeysUnavailable) {
		return nil, err
	}
	if err != nil {
		return nil, reject(ErrInvalidKey, "The SET signing key is unknown.", err)
	}
	verified, err := jws.Verify(key)
	if err != nil {
		return nil, reject(ErrInvalidKey, "The SET signature is invalid.", err)
	}
	if !bytes.Equal(verified, payload) {
		return nil, reject(ErrInvalidKey, "The SET signature is invalid.", errors.New("verified payload differs from the parsed one"))
	}

	// Replay: the jti is recorded only after the signature check, so
	// forged SETs cannot fill the table.
	if !v.remember(set.ID, time.Unix(set.IssuedAt, 0).Add(v.maxAge+v.leeway), now) {
		return nil, reject(ErrInvalidRequest, "The SET was received before.", fmt.Errorf("jti %q replayed", set.ID))
	}
	return &set, nil
}

// checkAge rejects a SET issued more than maxAge before now or more than
// leeway after now.
func (v *Verifier) checkAge(iat int64, now time.Time) error {
	if iat <= 0 {
		return reject(ErrInvalidRequest, "The SET has no iat.", nil)
	}
	issued := time.Unix(iat, 0)
	if now.Sub(issued) > v.maxAge {
		return reject(ErrInvalidRequest, "The SET is too old.",
			fmt.Errorf("issued at %s, more than %s before %s", issued.UTC().Format(time.RFC3339), v.maxAge, now.UTC().Format(time.RFC3339)))
	}
	if issued.Sub(now) > v.leeway {
		return reject(ErrInvalidRequest, "The SET is issued in the future.",
			fmt.Errorf("issued at %s, after %s", issued.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339)))
	}
	return nil
}

// remember records jti until forgetAt and reports whether it was new. It
// deletes expired jti values at most once per second.
func (v *Verifier) remember(jti string, forgetAt, now time.Time) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if now.Sub(v.lastSweep) >= time.Second {
		v.lastSweep = now
		for id, until := range v.seen {
			if !now.Before(until) {
				delete(v.seen, id)
			}
		}
	}
	if until, ok := v.seen[jti]; ok && now.Before(until) {
		return false
	}
	v.seen[jti] = forgetAt
	return true
}
