package jwtauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/oidcstack/oidcstack/internal/httpx"
	"github.com/oidcstack/oidcstack/internal/jwks"
	"github.com/oidcstack/oidcstack/internal/oauth"
)

// MaxTokenLength is the length of the longest token Verify accepts.
const MaxTokenLength = 16 << 10

// Errors of Verify, to be compared with errors.Is.
var (
	// ErrInvalidToken means the token is not an acceptable JWT. The wrapping
	// error names the failed check.
	ErrInvalidToken = errors.New("jwtauth: invalid token")
	// ErrKeysUnavailable means the issuer's keys could not be fetched, so
	// the token could not be checked.
	ErrKeysUnavailable = errors.New("jwtauth: signing keys unavailable")
)

// Verifier checks JWT access tokens. It is safe for concurrent use.
type Verifier struct {
	cfg  Config
	keys *jwks.KeySet
}

// Claims are the claims of a verified token.
type Claims struct {
	Issuer    string
	Subject   string
	Audience  []string
	ClientID  string
	IssuedAt  time.Time
	Expiry    time.Time
	NotBefore time.Time // zero when the token has no nbf
	ID        string    // the jti claim
	Scope     string

	Name          string
	Email         string
	EmailVerified bool

	// Actor is the subject of the act claim (RFC 8693 section 4.1): the
	// party that obtained the token, such as "gateway". Empty when absent.
	Actor string
}

// wireClaims is the JSON form of the claims.
type wireClaims struct {
	Issuer        string           `json:"iss"`
	Subject       string           `json:"sub"`
	Audience      jwt.Audience     `json:"aud"`
	ClientID      string           `json:"client_id"`
	IssuedAt      *jwt.NumericDate `json:"iat"`
	Expiry        *jwt.NumericDate `json:"exp"`
	NotBefore     *jwt.NumericDate `json:"nbf"`
	ID            string           `json:"jti"`
	Scope         string           `json:"scope"`
	Name          string           `json:"name"`
	Email         string           `json:"email"`
	EmailVerified bool             `json:"email_verified"`
	Act           *struct {
		Subject string `json:"sub"`
	} `json:"act"`
}

// New returns a verifier for cfg. It does not contact the issuer: keys are
// fetched on the first verification.
func New(cfg Config) (*Verifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	keys := jwks.New(jwks.Config{
		URL: cfg.JWKSURL,
		ResolveURL: func(ctx context.Context) (string, error) {
			return discoverJWKSURL(ctx, cfg.HTTPClient, cfg.Issuer)
		},
		HTTPClient:      cfg.HTTPClient,
		Clock:           cfg.Clock,
		RefetchInterval: cfg.RefetchInterval,
	})
	return &Verifier{cfg: cfg, keys: keys}, nil
}

// discoverJWKSURL returns the jwks_uri from the issuer's RFC 8414 metadata.
func discoverJWKSURL(ctx context.Context, client *http.Client, issuer string) (string, error) {
	target, err := httpx.WellKnownURL(issuer, "/.well-known/oauth-authorization-server")
	if err != nil {
		return "", err
	}

	var meta struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := httpx.GetJSON(ctx, client, target, &meta); err != nil {
		return "", err
	}
	// RFC 8414 section 3.3.
	if meta.Issuer != issuer {
		return "", fmt.Errorf("metadata issuer %q does not match configured issuer %q", meta.Issuer, issuer)
	}
	if _, err := httpx.ParseHTTPURL(meta.JWKSURI); err != nil {
		return "", fmt.Errorf("metadata jwks_uri: %w", err)
	}
	return meta.JWKSURI, nil
}

// Verify checks token and returns its claims. The error wraps
// ErrInvalidToken when the token is not acceptable and ErrKeysUnavailable
// when the issuer's keys could not be fetched.
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	// Size limit, before any parsing.
	if len(token) > MaxTokenLength {
		return nil, invalid("token has %d bytes, more than %d", len(token), MaxTokenLength)
	}

	// Compact JWS signed with RS256, the only algorithm allowed. The
	// allow-list stops "none", HMAC keyed with the public key and every
	// other algorithm substitution (RFC 8725 section 3.1).
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, fmt.Errorf("%w: parse JWS: %w", ErrInvalidToken, err)
	}
	header := jws.Signatures[0].Protected

	// Header typ at+jwt (RFC 9068 section 4), which ID tokens and plain
	// JWTs lack. The "application/" prefix may be present (RFC 7515
	// section 4.1.9) and media types compare case-insensitively.
	typ, _ := header.ExtraHeaders[jose.HeaderType].(string)
	typ = strings.TrimPrefix(strings.ToLower(typ), "application/")
	if typ != oauth.JWTTypeAccessToken {
		return nil, invalid("header typ %q, want %q", typ, oauth.JWTTypeAccessToken)
	}

	// A kid, so the key is chosen by ID and never by trying every key.
	if header.KeyID == "" {
		return nil, invalid("header has no kid")
	}

	// The claims are read before the signature is checked, so tokens that
	// fail cheap checks cause no JWKS fetch. They are trusted only after
	// the signature check below.
	payload := jws.UnsafePayloadWithoutVerification()
	var wc wireClaims
	if err := json.Unmarshal(payload, &wc); err != nil {
		return nil, fmt.Errorf("%w: decode claims: %w", ErrInvalidToken, err)
	}

	// Claims RFC 9068 section 2.2 requires.
	if err := wc.checkRequired(); err != nil {
		return nil, err
	}

	// Issuer, compared exactly (RFC 9068 section 4).
	if wc.Issuer != v.cfg.Issuer {
		return nil, invalid("iss %q, want %q", wc.Issuer, v.cfg.Issuer)
	}

	// Audience (RFC 9068 section 4, RFC 7519 section 4.1.3).
	if !wc.Audience.Contains(v.cfg.Audience) {
		return nil, invalid("aud %q does not contain %q", []string(wc.Audience), v.cfg.Audience)
	}

	// Validity period, with leeway for clock skew (RFC 7519 sections 4.1.4
	// to 4.1.6).
	if err := wc.checkTimes(v.cfg.Clock(), v.cfg.Leeway); err != nil {
		return nil, err
	}

	// Signature, with the issuer's key named by kid.
	key, err := v.keys.Key(ctx, header.KeyID)
	if errors.Is(err, jwks.ErrUnknownKey) {
		return nil, fmt.Errorf("%w: unknown kid %q: %w", ErrInvalidToken, header.KeyID, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
	}
	verified, err := jws.Verify(key)
	if err != nil {
		return nil, fmt.Errorf("%w: signature: %w", ErrInvalidToken, err)
	}
	if !bytes.Equal(verified, payload) {
		return nil, invalid("verified payload differs from the parsed one")
	}
	return wc.claims(), nil
}

func (wc *wireClaims) checkRequired() error {
	var missing []string
	for _, c := range []struct {
		name    string
		present bool
	}{
		{"iss", wc.Issuer != ""},
		{"exp", wc.Expiry != nil},
		{"aud", len(wc.Audience) > 0},
		{"sub", wc.Subject != ""},
		{"client_id", wc.ClientID != ""},
		{"iat", wc.IssuedAt != nil},
		{"jti", wc.ID != ""},
	} {
		if !c.present {
			missing = append(missing, c.name)
		}
	}
	if len(missing) > 0 {
		return invalid("missing required claims %s", strings.Join(missing, ", "))
	}
	return nil
}

func (wc *wireClaims) checkTimes(now time.Time, leeway time.Duration) error {
	if exp := wc.Expiry.Time(); !now.Before(exp.Add(leeway)) {
		return invalid("expired at %s", exp.UTC().Format(time.RFC3339))
	}
	if wc.NotBefore != nil {
		if nbf := wc.NotBefore.Time(); now.Add(leeway).Before(nbf) {
			return invalid("not valid before %s", nbf.UTC().Format(time.RFC3339))
		}
	}
	if iat := wc.IssuedAt.Time(); now.Add(leeway).Before(iat) {
		return invalid("issued in the future at %s", iat.UTC().Format(time.RFC3339))
	}
	return nil
}

func (wc *wireClaims) claims() *Claims {
	c := &Claims{
		Issuer:        wc.Issuer,
		Subject:       wc.Subject,
		Audience:      []string(wc.Audience),
		ClientID:      wc.ClientID,
		IssuedAt:      wc.IssuedAt.Time(),
		Expiry:        wc.Expiry.Time(),
		ID:            wc.ID,
		Scope:         wc.Scope,
		Name:          wc.Name,
		Email:         wc.Email,
		EmailVerified: wc.EmailVerified,
	}
	if wc.NotBefore != nil {
		c.NotBefore = wc.NotBefore.Time()
	}
	if wc.Act != nil {
		c.Actor = wc.Act.Subject
	}
	return c
}

// invalid returns an error wrapping ErrInvalidToken with the reason.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidToken, fmt.Sprintf(format, args...))
}
