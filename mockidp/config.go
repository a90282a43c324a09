package mockidp

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/oidcstack/oidcstack/internal/keys"
	"github.com/oidcstack/oidcstack/internal/trace"
)

// Defaults of [Config].
const (
	DefaultBaseURL    = "http://127.0.0.1:9000"
	DefaultCodeTTL    = 60 * time.Second
	DefaultTokenTTL   = time.Hour
	DefaultSessionTTL = 24 * time.Hour
	// DefaultFaultDelay is how long the token_slow fault holds a token
	// response when its Delay is zero: longer than the timeouts most HTTP
	// clients of relying parties use.
	DefaultFaultDelay = 30 * time.Second
)

// Config configures a [Server]. The zero value serves the demo issuers of
// [DemoIssuers] at [DefaultBaseURL].
type Config struct {
	// BaseURL is the public URL of the server: scheme, host and port, no
	// path. Each issuer URL is BaseURL + "/" + IssuerConfig.Name. Empty means
	// DefaultBaseURL. It is never derived from request headers.
	BaseURL string

	// Issuers lists the issuers this server hosts. Nil means
	// DemoIssuers(DefaultAuthserverURL).
	Issuers []IssuerConfig

	// KeyDir, when set, is a directory holding one PEM file per issuer
	// (NAME.pem). An issuer without configured Keys loads its key from
	// there, or generates one and saves it there, so issuers keep their
	// keys across restarts. Empty means keys live in memory only.
	KeyDir string

	// CodeTTL is the lifetime of an authorization code. Zero means
	// DefaultCodeTTL (60 s), well under the 10 minutes RFC 6749 section
	// 4.1.2 allows.
	CodeTTL time.Duration

	// TokenTTL is the lifetime of access and ID tokens. Zero means
	// DefaultTokenTTL (1 h, as Google issues them).
	TokenTTL time.Duration

	// SessionTTL is how long a login at the IDP lasts. Zero means
	// DefaultSessionTTL (24 h).
	SessionTTL time.Duration

	// KeyGracePeriod is how long a key replaced by [Server.RotateKey] or
	// by the key_rotated fault stays in the JWKS. Zero means TokenTTL, so
	// every token the old key signed expires before the key disappears.
	KeyGracePeriod time.Duration

	// GenerateKey makes the RSA keys that RotateKey(name, nil) and the
	// key_rotated, kid_unknown and kid_missing_several_keys faults need.
	// Nil means keys.Generate, which takes about 70 ms of CPU per key.
	GenerateKey func() (*keys.Key, error)

	// Admin configures the HTTP admin API under /_admin/. The zero value
	// leaves it off.
	Admin AdminConfig

	// HTTPS makes New generate a local certificate authority and a
	// certificate for 127.0.0.1, ::1, localhost and the host of BaseURL,
	// for relying parties that reject http issuers. Serve the server
	// through [Server.TLSConfig]; [Start] does. BaseURL must then use
	// https; empty means "https://127.0.0.1:9000".
	HTTPS bool

	// CAFile, when set with HTTPS, is the file the CA certificate is
	// written to (PEM), for clients outside the process to trust.
	CAFile string

	// Clock returns the current time. Nil means time.Now.
	// [Server.SetTime] and [Server.Advance] move the server's clock away
	// from it.
	Clock func() time.Time

	// Logger receives the server's log lines. Nil discards them.
	Logger *slog.Logger

	// Trace records the steps this server performs. Nil means a recorder of
	// its own for the service "mockidp".
	Trace *trace.Recorder
}

// AdminConfig configures the HTTP admin API, which mirrors the Go control
// API (users, clients, logins, tokens, faults, clock, keys, requests) for
// tests written in other languages. A client of the admin API controls
// every login, so by default it accepts loopback clients only.
type AdminConfig struct {
	// Enabled serves the admin API under /_admin/.
	Enabled bool

	// AllowedNetworks, when set, replaces the loopback-only default, so
	// the API accepts clients whose address is in one of these networks.
	// Include 127.0.0.0/8 and ::1/128 to keep loopback clients.
	AllowedNetworks []netip.Prefix

	// Token, when set, must come as "Authorization: Bearer TOKEN" with
	// every admin request. Without AllowedNetworks, a request with the
	// token is accepted from any address.
	Token string
}

// IssuerConfig configures one issuer of a [Server].
type IssuerConfig struct {
	// Name is the issuer's path segment, such as "google"; letters,
	// digits, '-', '_' and '.' only.
	Name    string
	Users   []User
	Clients []Client

	// Keys are the issuer's signing keys; the first one signs. Nil means
	// load from Config.KeyDir or generate one.
	Keys []*keys.Key
}

// User is an account at an issuer. Email and Password are what the login
// page checks; Email is matched case-insensitively.
type User struct {
	Subject       string
	Email         string
	Password      string
	Name          string
	GivenName     string
	FamilyName    string
	Picture       string
	Locale        string
	HostedDomain  string // the "hd" claim of a Google Workspace account
	EmailVerified bool
	// Extra claims are added to the ID token and the userinfo response.
	// They cannot replace a claim the server sets itself.
	Extra map[string]any
}

// Client is a relying party registered at an issuer.
type Client struct {
	ID string
	// Secret authenticates a confidential client (client_secret_basic or
	// client_secret_post). It must be empty for a public client.
	Secret string
	// RedirectURIs are compared with the request's redirect_uri by exact
	// string match.
	RedirectURIs []string
	// PostLogoutRedirectURIs are the exact URIs RP-initiated logout may
	// redirect to.
	PostLogoutRedirectURIs []string
	// Public marks a client that has no secret and must use PKCE.
	Public bool
	// RequireConsent shows the consent screen on the first authorization
	// of each session, not only when the request carries prompt=consent.
	RequireConsent bool
}

var issuerNamePattern = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// reservedNames are path segments of the server root that no issuer may use.
var reservedNames = map[string]bool{"healthz": true, "_trace": true, "_admin": true, ".well-known": true, ".": true, "..": true}

// Validate reports every problem of c at once. Zero values are valid.
func (c Config) Validate() error {
	var errs []error
	if c.BaseURL != "" {
		if err := validateBaseURL(c.BaseURL); err != nil {
			errs = append(errs, err)
		}
	}
	if c.CodeTTL < 0 || c.TokenTTL < 0 || c.SessionTTL < 0 || c.KeyGracePeriod < 0 {
		errs = append(errs, errors.New("mockidp: CodeTTL, TokenTTL, SessionTTL and KeyGracePeriod must not be negative"))
	}
	errs = append(errs, c.validateTransport()...)
	if c.Issuers != nil && len(c.Issuers) == 0 {
		errs = append(errs, errors.New("mockidp: Issuers is empty; leave it nil for the demo issuers"))
	}
	seen := map[string]bool{}
	for i, iss := range c.Issuers {
		if seen[iss.Name] {
			errs = append(errs, fmt.Errorf("mockidp: issuer name %q is used twice", iss.Name))
		}
		seen[iss.Name] = true
		errs = append(errs, iss.validate(i)...)
	}
	return errors.Join(errs...)
}

// validateTransport checks the HTTPS and Admin settings.
func (c Config) validateTransport() []error {
	var errs []error
	if c.HTTPS && c.BaseURL != "" && !strings.HasPrefix(c.BaseURL, "https://") {
		errs = append(errs, fmt.Errorf("mockidp: HTTPS needs an https BaseURL, not %q", c.BaseURL))
	}
	if c.CAFile != "" && !c.HTTPS {
		errs = append(errs, errors.New("mockidp: CAFile is set but HTTPS is off"))
	}
	if !c.Admin.Enabled && (len(c.Admin.AllowedNetworks) > 0 || c.Admin.Token != "") {
		errs = append(errs, errors.New("mockidp: Admin.AllowedNetworks or Admin.Token is set but Admin.Enabled is false"))
	}
	for _, p := range c.Admin.AllowedNetworks {
		if !p.IsValid() {
			errs = append(errs, errors.New("mockidp: Admin.AllowedNetworks contains an invalid prefix"))
		}
	}
	return errs
}

func validateBaseURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Errorf("mockidp: invalid BaseURL %q: %w", raw, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("mockidp: BaseURL %q must use http or https", raw)
	case u.Host == "":
		return fmt.Errorf("mockidp: BaseURL %q has no host", raw)
	case u.Path != "" && u.Path != "/", u.RawQuery != "", u.Fragment != "":
		return fmt.Errorf("mockidp: BaseURL %q must have no path, query or fragment", raw)
	}
	return nil
}

func (ic IssuerConfig) validate(index int) []error {
	var errs []error
	where := fmt.Sprintf("mockidp: issuer %q", ic.Name)
	if !issuerNamePattern.MatchString(ic.Name) || reservedNames[ic.Name] {
		errs = append(errs, fmt.Errorf("mockidp: issuer %d: invalid name %q (want letters, digits, '-', '_' or '.', not a reserved path)", index, ic.Name))
	}
	for i, k := range ic.Keys {
		if k == nil || k.Private == nil {
			errs = append(errs, fmt.Errorf("%s: key %d is nil", where, i))
		}
	}

	subjects, emails := map[string]bool{}, map[string]bool{}
	for i, u := range ic.Users {
		email := strings.ToLower(u.Email)
		switch {
		case u.Subject == "":
			errs = append(errs, fmt.Errorf("%s: user %d has no Subject", where, i))
		case subjects[u.Subject]:
			errs = append(errs, fmt.Errorf("%s: subject %q is used twice", where, u.Subject))
		}
		switch {
		case u.Email == "":
			errs = append(errs, fmt.Errorf("%s: user %q has no Email", where, u.Subject))
		case emails[email]:
			errs = append(errs, fmt.Errorf("%s: email %q is used twice", where, u.Email))
		}
		if u.Password == "" {
			errs = append(errs, fmt.Errorf("%s: user %q has no Password", where, u.Subject))
		}
		subjects[u.Subject], emails[email] = true, true
	}

	ids := map[string]bool{}
	for i, c := range ic.Clients {
		errs = append(errs, c.validate(where, i)...)
		if ids[c.ID] {
			errs = append(errs, fmt.Errorf("%s: client ID %q is used twice", where, c.ID))
		}
		ids[c.ID] = true
	}
	return errs
}

func (c Client) validate(where string, index int) []error {
	var errs []error
	if c.ID == "" {
		errs = append(errs, fmt.Errorf("%s: client %d has no ID", where, index))
	}
	if c.Public && c.Secret != "" {
		errs = append(errs, fmt.Errorf("%s: public client %q must have no Secret", where, c.ID))
	}
	if !c.Public && c.Secret == "" {
		errs = append(errs, fmt.Errorf("%s: confidential client %q has no Secret (set Public for a PKCE-only client)", where, c.ID))
	}
	if len(c.RedirectURIs) == 0 {
		errs = append(errs, fmt.Errorf("%s: client %q has no RedirectURIs", where, c.ID))
	}
	for _, raw := range append(append([]string(nil), c.RedirectURIs...), c.PostLogoutRedirectURIs...) {
		// RFC 6749 section 3.1.2: an absolute URI without a fragment.
		u, err := url.Parse(raw)
		if err != nil || !u.IsAbs() || u.Host == "" || u.Fragment != "" {
			errs = append(errs, fmt.Errorf("%s: client %q: redirect URI %q must be absolute with no fragment", where, c.ID, raw))
		}
	}
	return errs
}

// withDefaults returns c with every zero value replaced by its default.
func (c Config) withDefaults() Config {
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
		if c.HTTPS {
			c.BaseURL = "https://" + strings.TrimPrefix(DefaultBaseURL, "http://")
		}
	}

	c.BaseURL = strings.TrimSuffix(c.BaseURL, "/")
	if c.Issuers == nil {
		c.Issuers = DemoIssuers(DefaultAuthserverURL)
	}

	if c.CodeTTL == 0 {
		c.CodeTTL = DefaultCodeTTL
	}

	if c.TokenTTL == 0 {
		c.TokenTTL = DefaultTokenTTL
	}

	if c.SessionTTL == 0 {
		c.SessionTTL = DefaultSessionTTL
	}

	if c.KeyGracePeriod == 0 {
		c.KeyGracePeriod = c.TokenTTL
	}

	if c.GenerateKey == nil {
		c.GenerateKey = keys.Generate
	}

	if c.Clock == nil {
		c.Clock = time.Now
	}

	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}

	if c.Trace == nil {
		c.Trace = trace.NewRecorder("mockidp", c.Logger, c.Clock, 0)
	}
	return c
}
