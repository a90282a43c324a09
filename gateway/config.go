package gateway

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/oidcstack/oidcstack/internal/httpx"
	"github.com/oidcstack/oidcstack/internal/trace"
)

// ServiceName is the name under which the gateway records trace events.
const ServiceName = "gateway"

// DefaultRealm is the realm of the WWW-Authenticate challenges when
// Config.Realm is empty.
const DefaultRealm = "oidcstack"

// DefaultUpstreamTimeout bounds a forwarded request when
// Config.UpstreamTimeout is zero.
const DefaultUpstreamTimeout = 30 * time.Second

// Defaults of the result cache.
const (
	DefaultCacheWindow      = 5 * time.Second
	DefaultCacheMaxEntries  = 10000
	DefaultCacheMaxInactive = 1000
)

// Defaults of the push receiver and the background key check.
const (
	DefaultPushMaxAge       = time.Minute
	DefaultPushMaxTokens    = 100000
	DefaultKeyCheckInterval = 30 * time.Second
)

// Mode selects where the gateway gets the result of steps 16 and 17.
type Mode string

const (
	// ModePull introspects and exchanges each token at the authorization
	// server (steps 16 and 17) and caches the result. It is the default.
	ModePull Mode = "pull"
	// ModePush takes the results that the authorization server pushes at
	// issuance and never calls it for steps 16 and 17. A token that was
	// never pushed to the gateway is rejected.
	ModePush Mode = "push"
)

// Config configures a gateway Server.
type Config struct {
	// AuthServer is the authorization server's issuer URL. The gateway
	// discovers the introspection and token endpoints from
	// {AuthServer}/.well-known/oauth-authorization-server (RFC 8414) on
	// first use. Required.
	AuthServer string

	// ClientID and ClientSecret are the gateway's credentials at the
	// authorization server, sent with client_secret_basic at introspection
	// and token exchange. Both are required in pull mode and unused in push
	// mode.
	ClientID     string
	ClientSecret string

	// Mode is ModePull or ModePush. Empty means ModePull.
	Mode Mode

	// PushAudience is the gateway's identifier in the Security Event
	// Tokens the authorization server pushes to POST /_push: their aud
	// must equal it. Required in push mode. Empty in pull mode disables
	// the push receiver, so revocations take effect only when the cache
	// window ends.
	PushAudience string
	// PushMaxAge is the maximum age of a pushed SET, by its iat. Its jti
	// is remembered that long to reject replays. Zero means
	// DefaultPushMaxAge.
	PushMaxAge time.Duration
	// PushMaxTokens bounds the tokens a push-mode gateway keeps. A token
	// pushed beyond it is refused until expired ones make room. Zero means
	// DefaultPushMaxTokens.
	PushMaxTokens int

	// KeyCheckInterval is how often a background task re-reads the
	// authorization server's JWKS, drops cached JWTs whose signing key has
	// been retired, and sweeps expired entries. Zero means
	// DefaultKeyCheckInterval; negative disables the task.
	KeyCheckInterval time.Duration

	// Routes lists the path prefixes the gateway serves. At least one is
	// required.
	Routes []Route

	// Realm is the realm of the WWW-Authenticate challenges. Empty means
	// DefaultRealm.
	Realm string

	// UpstreamTimeout bounds a forwarded request from sending it to the end
	// of the response body. A request that exceeds it gets 504. Zero means
	// DefaultUpstreamTimeout.
	UpstreamTimeout time.Duration

	// CacheWindow is the longest time the gateway reuses the result of a
	// token's introspection and exchange, so a revoked token keeps working
	// for at most this long. A result is never kept past the token's
	// expiry or the JWT's. Zero means DefaultCacheWindow. Negative
	// disables the cache.
	CacheWindow time.Duration
	// CacheMaxEntries bounds the number of cached results of active
	// tokens. Zero means DefaultCacheMaxEntries.
	CacheMaxEntries int
	// CacheMaxInactive bounds the number of cached results of inactive
	// tokens, separately, so a flood of invalid tokens cannot push valid
	// ones out. Zero means DefaultCacheMaxInactive.
	CacheMaxInactive int

	// Clock returns the current time. Nil means time.Now.
	Clock func() time.Time
	// Logger receives the gateway's logs. Nil discards them.
	Logger *slog.Logger
	// HTTPClient makes the calls to the authorization server (metadata,
	// JWKS, introspection, token exchange), and its Transport forwards
	// requests to upstreams. Nil means a client with a
	// 10-second timeout whose transport adds a traceparent header.
	HTTPClient *http.Client
	// Trace records the steps the gateway performs. Nil means a recorder
	// of the gateway's own under ServiceName.
	Trace *trace.Recorder
}

// Route maps a path prefix to an upstream service.
type Route struct {
	// Prefix is the path prefix, such as "/api/". It must start and end
	// with "/" and must not be "/" itself. The request path is forwarded
	// unchanged.
	Prefix string

	// Upstream is the base URL of the service behind the prefix, such as
	// "http://localhost:8081". Required.
	Upstream string

	// Audience is the logical name of the upstream service ("demo-api"),
	// sent as the audience of the token exchange. Required.
	Audience string

	// AllowedOrigins lists the web origins ("http://localhost:8080") whose
	// scripts may call the route. Only they get CORS headers. Empty means
	// no browser script may call the route.
	AllowedOrigins []string

	// InsecureAllowQueryToken lets clients send the token in the
	// access_token query parameter (RFC 6750 section 2.3), which leaks it
	// into access logs and browser history. False rejects such requests
	// with invalid_request. The gateway removes the parameter before
	// forwarding.
	InsecureAllowQueryToken bool

	// RequiredScopes maps an HTTP method ("GET") to the scopes a token
	// needs for it. The key AnyMethod ("*") applies to methods without an
	// entry of their own, and HEAD without an entry uses GET's. A token
	// that lacks a scope gets 403 insufficient_scope. Nil requires no
	// scope.
	RequiredScopes map[string][]string
}

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	if err := validateBaseURL(c.AuthServer); err != nil {
		errs = append(errs, fmt.Errorf("gateway: AuthServer: %w", err))
	}

	switch c.Mode {
	case "", ModePull:
		if c.ClientID == "" {
			errs = append(errs, errors.New("gateway: ClientID is required in pull mode"))
		}
		if c.ClientSecret == "" {
			errs = append(errs, errors.New("gateway: ClientSecret is required for client_secret_basic in pull mode"))
		}
	case ModePush:
		if c.PushAudience == "" {
			errs = append(errs, errors.New("gateway: PushAudience is required in push mode"))
		}
	default:
		errs = append(errs, fmt.Errorf("gateway: Mode %q, want %q or %q", c.Mode, ModePull, ModePush))
	}

	if c.PushMaxAge < 0 || c.PushMaxTokens < 0 {
		errs = append(errs, fmt.Errorf("gateway: PushMaxAge %s and PushMaxTokens %d must not be negative", c.PushMaxAge, c.PushMaxTokens))
	}

	if strings.ContainsAny(c.Realm, "\"\\") {
		errs = append(errs, fmt.Errorf("gateway: Realm %q must not contain a quote or backslash", c.Realm))
	}

	if c.CacheMaxEntries < 0 || c.CacheMaxInactive < 0 {
		errs = append(errs, fmt.Errorf("gateway: CacheMaxEntries %d and CacheMaxInactive %d must not be negative", c.CacheMaxEntries, c.CacheMaxInactive))
	}

	if c.UpstreamTimeout < 0 {
		errs = append(errs, fmt.Errorf("gateway: UpstreamTimeout %s must not be negative", c.UpstreamTimeout))
	}

	if len(c.Routes) == 0 {
		errs = append(errs, errors.New("gateway: at least one route is required"))
	}

	seen := make(map[string]bool)
	for i, r := range c.Routes {
		if seen[r.Prefix] {
			errs = append(errs, fmt.Errorf("gateway: route %d: duplicate prefix %q", i, r.Prefix))
		}
		seen[r.Prefix] = true
		errs = append(errs, r.validate(i)...)
	}
	return errors.Join(errs...)
}

func (r Route) validate(i int) []error {
	var errs []error
	switch {
	case !strings.HasPrefix(r.Prefix, "/") || !strings.HasSuffix(r.Prefix, "/") || r.Prefix == "/":
		errs = append(errs, fmt.Errorf("gateway: route %d: prefix %q must start and end with \"/\" and not be \"/\"", i, r.Prefix))
	case strings.ContainsAny(r.Prefix, "{} \t"):
		errs = append(errs, fmt.Errorf("gateway: route %d: prefix %q must not contain braces or spaces", i, r.Prefix))
	case reservedPrefix(r.Prefix):
		errs = append(errs, fmt.Errorf("gateway: route %d: prefix %q is reserved", i, r.Prefix))
	}
	if err := validateBaseURL(r.Upstream); err != nil {
		errs = append(errs, fmt.Errorf("gateway: route %d: Upstream: %w", i, err))
	}
	if r.Audience == "" {
		errs = append(errs, fmt.Errorf("gateway: route %d: Audience is required", i))
	}
	for _, err := range validateScopes(r.RequiredScopes) {
		errs = append(errs, fmt.Errorf("gateway: route %d: RequiredScopes: %w", i, err))
	}
	for _, o := range r.AllowedOrigins {
		if err := validateOrigin(o); err != nil {
			errs = append(errs, fmt.Errorf("gateway: route %d: allowed origin %q: %w", i, o, err))
		}
	}
	return errs
}

// reservedPrefix reports whether a route prefix would cover one of the
// gateway's own endpoints.
func reservedPrefix(prefix string) bool {
	for _, own := range []string{"/healthz", "/readyz", "/metrics", "/_trace", "/_push"} {
		if strings.HasPrefix(own+"/", prefix) {
			return true
		}
	}
	return false
}

// validateBaseURL checks that raw is an absolute http or https URL without
// query or fragment.
func validateBaseURL(raw string) error {
	u, err := httpx.ParseHTTPURL(raw)
	if err != nil {
		return err
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("URL %q must not have a query or fragment", raw)
	}
	return nil
}

// validateOrigin checks that o is a serialized origin: scheme, host and an
// optional port, nothing else (RFC 6454 section 6.2). "*" and "null" are
// rejected because they would let any page call the route.
func validateOrigin(o string) error {
	u, err := url.Parse(o)
	if err != nil {
		return fmt.Errorf("invalid URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("must be scheme://host[:port] with scheme http or https")
	}
	if u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return errors.New("must not have a path, query, fragment or user info")
	}
	return nil
}

// withDefaults returns c with its zero values replaced by the defaults.
func (c Config) withDefaults() Config {
	if c.Realm == "" {
		c.Realm = DefaultRealm
	}

	if c.CacheWindow == 0 {
		c.CacheWindow = DefaultCacheWindow
	}

	if c.CacheMaxEntries == 0 {
		c.CacheMaxEntries = DefaultCacheMaxEntries
	}

	if c.CacheMaxInactive == 0 {
		c.CacheMaxInactive = DefaultCacheMaxInactive
	}

	if c.UpstreamTimeout == 0 {
		c.UpstreamTimeout = DefaultUpstreamTimeout
	}

	if c.Mode == "" {
		c.Mode = ModePull
	}

	if c.PushMaxAge == 0 {
		c.PushMaxAge = DefaultPushMaxAge
	}

	if c.PushMaxTokens == 0 {
		c.PushMaxTokens = DefaultPushMaxTokens
	}

	if c.KeyCheckInterval == 0 {
		c.KeyCheckInterval = DefaultKeyCheckInterval
	}

	if c.Clock == nil {
		c.Clock = time.Now
	}

	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}

	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 10 * time.Second, Transport: &trace.Transport{}}
	}

	if c.Trace == nil {
		c.Trace = trace.NewRecorder(ServiceName, c.Logger, c.Clock, 0)
	}
	return c
}
