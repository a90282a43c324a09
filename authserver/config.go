package authserver

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/oidcstack/oidcstack/authserver/store"
	"github.com/oidcstack/oidcstack/internal/keys"
	"github.com/oidcstack/oidcstack/internal/oauth"
	"github.com/oidcstack/oidcstack/internal/trace"
)

// Config configures a [Server].
type Config struct {
	// Issuer is the server's public base URL and its "iss" value, such as
	// "http://localhost:9001", with no trailing slash. Required. Every URL
	// the server publishes is built from it, never from request headers.
	Issuer string
	// Store keeps users, sessions, transactions, codes, tokens and signing
	// keys. Nil means a private in-memory SQLite database that Close
	// closes; a store passed in is not closed by the server.
	Store store.Store
	// Clients are the registered OAuth clients.
	Clients []Client
	// Upstreams are the identity providers users can log in with. At least
	// one is required.
	Upstreams []Upstream
	// SigningKeys sign ID tokens and exchanged JWTs, the first one signing
	// and all published. Nil means the keys saved in Store, or a fresh key
	// that is then saved there, so tokens stay verifiable across restarts.
	// Only keys saved in Store are rotated: with SigningKeys set,
	// KeyRotation must be zero and [Server.RotateKey] fails.
	SigningKeys []*keys.Key
	// KeyRotation is the age at which the signing key is replaced by a new
	// one, checked every minute. Zero means no automatic rotation. After a
	// rotation the old public key stays in the JWKS until every token it
	// signed has expired, then it is retired.
	KeyRotation time.Duration
	// GenerateKey creates the keys that the server saves in Store: the
	// first one and those of rotations. Nil means [keys.Generate].
	GenerateKey func() (*keys.Key, error)
	// AccessTokenTTL is the lifetime of access and ID tokens. Zero means 1 hour.
	AccessTokenTTL time.Duration
	// RefreshTokenTTL is the lifetime of refresh tokens. Zero means 30 days.
	RefreshTokenTTL time.Duration
	// CodeTTL is the lifetime of authorization codes. Zero means 60 seconds.
	CodeTTL time.Duration
	// ExchangedTokenTTL is the maximum lifetime of a JWT issued by token
	// exchange; it never outlives the subject token. Zero means 60 seconds.
	ExchangedTokenTTL time.Duration
	// TransactionTTL is how long a login may take from the authorization
	// request to the resume. Zero means 10 minutes.
	TransactionTTL time.Duration
	// SessionTTL is the lifetime of a login session. Zero means 24 hours.
	SessionTTL time.Duration
	// PushGateways are the gateway instances that get Security Event
	// Tokens about revocations and user changes, and in push mode about
	// issued tokens. Nil pushes nothing, so gateways notice a revocation
	// only at the end of their cache window.
	PushGateways []PushGateway
	// PushInterval is how often push-mode gateways get fresh JWTs for
	// every live token. It must be well below ExchangedTokenTTL. Zero
	// means half of ExchangedTokenTTL.
	PushInterval time.Duration
	// Clock returns the current time. Nil means time.Now.
	Clock func() time.Time
	// Logger receives the server's logs. Nil discards them.
	Logger *slog.Logger
	// HTTPClient makes the back-channel calls to the upstream identity
	// providers. Nil means a client with a 10-second timeout whose
	// transport adds a traceparent header.
	HTTPClient *http.Client
	// Trace records the steps of the login flow. Nil means a recorder of
	// its own for the service "authserver".
	Trace *trace.Recorder
}

// Client is a registered OAuth 2.0 client.
type Client struct {
	ID string
	// Secret authenticates a confidential client with client_secret_basic.
	Secret string
	// Public marks a client that cannot keep a secret, such as a
	// single-page app: it has no Secret and must use PKCE.
	Public bool
	// RedirectURIs are compared with the redirect_uri parameter by exact
	// string match.
	RedirectURIs []string
	// PostLogoutRedirectURIs are the URIs the browser may return to after a
	// logout (OpenID Connect RP-Initiated Logout 1.0 section 3.1), compared
	// with the post_logout_redirect_uri parameter by exact string match.
	// Empty means the browser stays on the server's logged-out page.
	PostLogoutRedirectURIs []string
	// WebOrigins are the origins ("http://localhost:8080") whose scripts
	// may call the token endpoint for this client (CORS).
	WebOrigins []string
	// GrantTypes are the grants the client may use. Empty means
	// authorization_code only. The implicit grant is never enabled by
	// default.
	GrantTypes []string
	// Scopes are the scopes the client may request; a request without a
	// scope gets all of them.
	Scopes []string
	// Audiences are the services its access tokens are for, and for a
	// client allowed token exchange, the audiences it may exchange for.
	Audiences []string
	// RequireConsent makes the server ask each user once, after login,
	// to allow the client the requested scopes. A request with
	// prompt=consent shows the consent page whatever this is set to.
	RequireConsent bool
}

// Upstream is an OpenID provider users can log in with.
type Upstream struct {
	// ID names the provider in URLs: its redirect URI is
	// Issuer + "/callback/" + ID.
	ID string
	// DisplayName appears on the login button ("Log in with Google").
	// Empty means ID.
	DisplayName string
	// Issuer is the provider's issuer URL, the base of its discovery
	// document.
	Issuer       string
	ClientID     string
	ClientSecret string
	// Scopes are requested at the provider. Nil means openid, email and
	// profile.
	Scopes []string
}

// Defaults of the zero values of Config.
const (
	DefaultAccessTokenTTL    = time.Hour
	DefaultRefreshTokenTTL   = 30 * 24 * time.Hour
	DefaultCodeTTL           = 60 * time.Second
	DefaultExchangedTokenTTL = 60 * time.Second
	DefaultTransactionTTL    = 10 * time.Minute
	DefaultSessionTTL        = 24 * time.Hour
)

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	if err := validateBaseURL(c.Issuer); err != nil {
		errs = append(errs, fmt.Errorf("issuer: %w", err))
	}

	if len(c.Upstreams) == 0 {
		errs = append(errs, errors.New("no upstream identity provider configured"))
	}

	seen := map[string]bool{}
	for i, cl := range c.Clients {
		if seen[cl.ID] {
			errs = append(errs, fmt.Errorf("client %q: duplicate ID", cl.ID))
		}
		seen[cl.ID] = true
		errs = append(errs, cl.validate(i)...)
	}

	seenUp := map[string]bool{}
	for i, up := range c.Upstreams {
		if seenUp[up.ID] {
			errs = append(errs, fmt.Errorf("upstream %q: duplicate ID", up.ID))
		}
		seenUp[up.ID] = true
		errs = append(errs, up.validate(i)...)
	}

	for name, d := range map[string]time.Duration{
		"access token TTL": c.AccessTokenTTL, "refresh token TTL": c.RefreshTokenTTL,
		"code TTL": c.CodeTTL, "exchanged token TTL": c.ExchangedTokenTTL,
		"transaction TTL": c.TransactionTTL, "session TTL": c.SessionTTL,
		"key rotation period": c.KeyRotation,
	} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("%s is negative: %s", name, d))
		}
	}

	if c.KeyRotation > 0 && len(c.SigningKeys) > 0 {
		errs = append(errs, errors.New("key rotation needs keys saved in the store; leave SigningKeys empty"))
	}

	errs = append(errs, validatePushGateways(c.PushGateways, c.PushInterval, durationOr(c.ExchangedTokenTTL, DefaultExchangedTokenTTL))...)
	for i, k := range c.SigningKeys {
		if k == nil || k.Private == nil || k.ID == "" {
			errs = append(errs, fmt.Errorf("signing key %d: missing key or key ID", i))
		}
	}
	return errors.Join(errs...)
}

func (cl Client) validate(i int) []error {
	var errs []error
	name := fmt.Sprintf("client %d (%q)", i, cl.ID)
	if cl.ID == "" {
		errs = append(errs, fmt.Errorf("%s: empty ID", name))
	}

	if cl.Public && cl.Secret != "" {
		errs = append(errs, fmt.Errorf("%s: a public client has no secret", name))
	}

	if !cl.Public && cl.Secret == "" {
		errs = append(errs, fmt.Errorf("%s: a confidential client needs a secret", name))
	}

	for _, uri := range cl.RedirectURIs {
		u, err := url.Parse(uri)
		if err != nil || !u.IsAbs() || u.Fragment != "" {
			// RFC 6749 section 3.1.2: absolute, without a fragment.
			errs = append(errs, fmt.Errorf("%s: redirect URI %q must be absolute and without a fragment", name, uri))
		}
	}

	for _, uri := range cl.PostLogoutRedirectURIs {
		u, err := url.Parse(uri)
		if err != nil || !u.IsAbs() || u.Fragment != "" {
			errs = append(errs, fmt.Errorf("%s: post-logout redirect URI %q must be absolute and without a fragment", name, uri))
		}
	}

	for _, origin := range cl.WebOrigins {
		u, err := url.Parse(origin)
		if err != nil || u.Scheme == "" || u.Host == "" || (u.Path != "" && u.Path != "/") || strings.HasSuffix(origin, "/") {
			errs = append(errs, fmt.Errorf("%s: web origin %q must be scheme://host[:port]", name, origin))
		}
	}

	for _, g := range cl.GrantTypes {
		if !supportedGrantType(g) {
			errs = append(errs, fmt.Errorf("%s: unsupported grant type %q", name, g))
		}
	}

	if cl.allows(oauth.GrantAuthorizationCode) && len(cl.RedirectURIs) == 0 {
		errs = append(errs, fmt.Errorf("%s: the authorization_code grant needs a redirect URI", name))
	}

	if cl.Public && cl.allows(oauth.GrantClientCredentials) {
		// RFC 6749 section 4.4: only a client that can keep a secret.
		errs = append(errs, fmt.Errorf("%s: the client_credentials grant needs a confidential client", name))
	}
	return errs
}

func (up Upstream) validate(i int) []error {
	var errs []error
	name := fmt.Sprintf("upstream %d (%q)", i, up.ID)
	if up.ID == "" || strings.ContainsAny(up.ID, "/?#% ") {
		errs = append(errs, fmt.Errorf("%s: ID must be non-empty and URL-safe", name))
	}
	if err := validateBaseURL(up.Issuer); err != nil {
		errs = append(errs, fmt.Errorf("%s: issuer: %w", name, err))
	}
	if up.ClientID == "" {
		errs = append(errs, fmt.Errorf("%s: empty client ID", name))
	}
	if up.Scopes != nil && !slices.Contains(up.Scopes, "openid") {
		errs = append(errs, fmt.Errorf("%s: scopes must include \"openid\"", name))
	}
	return errs
}

func validateBaseURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return errors.New("empty URL")
	case err != nil:
		return fmt.Errorf("invalid URL %q: %w", raw, err)
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "":
		return fmt.Errorf("URL %q must be http(s)://host", raw)
	case strings.HasSuffix(raw, "/"), u.RawQuery != "", u.Fragment != "":
		return fmt.Errorf("URL %q must have no trailing slash, query or fragment", raw)
	}
	return nil
}

// allows reports whether the client may use grant.
func (cl *Client) allows(grant string) bool {
	if len(cl.GrantTypes) == 0 {
		return grant == oauth.GrantAuthorizationCode
	}
	return slices.Contains(cl.GrantTypes, grant)
}

func supportedGrantType(g string) bool {
	switch g {
	case oauth.GrantAuthorizationCode, oauth.GrantRefreshToken, oauth.GrantImplicit, oauth.GrantTokenExchange,
		oauth.GrantClientCredentials:
		return true
	}
	return false
}

func durationOr(d, fallback time.Duration) time.Duration {
	if d == 0 {
		return fallback
	}
	return d
}
