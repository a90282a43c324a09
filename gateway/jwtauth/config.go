// Package jwtauth verifies the JWT access tokens that the gateway forwards
// to services (step 18 of the login flow). A service wraps its handlers in
// [Verifier.Middleware] and reads the caller's claims with
// [ClaimsFromContext].
//
// A token is accepted only if it is a JWT with header typ "at+jwt" (RFC
// 9068) signed with RS256 by a key in the issuer's JWKS. Its issuer and
// audience must be the configured ones, the current time must be within
// its validity period, and it must carry every claim that RFC 9068 section
// 2.2 requires.
//
// The package does not check scopes and does not know about revocation: a
// JWT stays valid until it expires, which is why the authorization server
// issues them with a lifetime of about a minute.
package jwtauth

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/oidcstack/oidcstack/internal/httpx"
	"github.com/oidcstack/oidcstack/internal/trace"
)

// Defaults for the zero values of Config.
const (
	DefaultRealm           = "oidcstack"
	DefaultLeeway          = 30 * time.Second
	DefaultRefetchInterval = 10 * time.Second
)

// Config configures a Verifier.
type Config struct {
	// Issuer is the authorization server's issuer URL. A token's iss claim
	// must equal it exactly. Required.
	Issuer string

	// JWKSURL is the URL of the issuer's JSON Web Key Set. Empty means the
	// jwks_uri of the issuer's RFC 8414 metadata, discovered on first use.
	JWKSURL string

	// Audience is the service's logical name ("demo-api"). A token's aud
	// claim must contain it. Required.
	Audience string

	// Realm is the realm of the WWW-Authenticate challenges. Empty means
	// DefaultRealm.
	Realm string

	// Leeway is the clock skew allowed when checking exp, nbf and iat.
	// Zero means DefaultLeeway. It must not be negative.
	Leeway time.Duration

	// RefetchInterval is the minimum time between two JWKS fetches that
	// tokens with an unknown kid trigger, so a flood of such tokens cannot
	// turn into a flood of requests to the issuer. Zero means
	// DefaultRefetchInterval. A failed fetch is retried after at most one
	// second.
	RefetchInterval time.Duration

	// Clock returns the current time. Nil means time.Now.
	Clock func() time.Time
	// HTTPClient fetches the metadata and the JWKS. Nil means a client with
	// a 10-second timeout whose transport adds a traceparent header.
	HTTPClient *http.Client
	// Logger receives the reasons why tokens were rejected. Nil discards
	// them.
	Logger *slog.Logger
}

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	if _, err := httpx.ParseHTTPURL(c.Issuer); err != nil {
		errs = append(errs, fmt.Errorf("jwtauth: Issuer: %w", err))
	}
	if c.JWKSURL != "" {
		if _, err := httpx.ParseHTTPURL(c.JWKSURL); err != nil {
			errs = append(errs, fmt.Errorf("jwtauth: JWKSURL: %w", err))
		}
	}
	if c.Audience == "" {
		errs = append(errs, errors.New("jwtauth: Audience is required"))
	}
	if strings.ContainsAny(c.Realm, "\"\\") {
		errs = append(errs, fmt.Errorf("jwtauth: Realm %q must not contain a quote or backslash", c.Realm))
	}
	if c.Leeway < 0 {
		errs = append(errs, fmt.Errorf("jwtauth: Leeway %s must not be negative", c.Leeway))
	}
	if c.RefetchInterval < 0 {
		errs = append(errs, fmt.Errorf("jwtauth: RefetchInterval %s must not be negative", c.RefetchInterval))
	}
	return errors.Join(errs...)
}

func (c Config) withDefaults() Config {
	if c.Realm == "" {
		c.Realm = DefaultRealm
	}
	if c.Leeway == 0 {
		c.Leeway = DefaultLeeway
	}
	if c.RefetchInterval == 0 {
		c.RefetchInterval = DefaultRefetchInterval
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 10 * time.Second, Transport: &trace.Transport{}}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}
