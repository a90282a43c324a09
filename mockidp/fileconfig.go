package mockidp

import (
	"errors"
	"fmt"

	"github.com/oidcstack/oidcstack/internal/jsonconfig"
)

// FileConfig is the JSON configuration file of a mock IDP, as the
// oidcstack command reads it. Durations are Go duration strings ("60s",
// "1h"). A minimal file:
//
//	{
//	  "base_url": "http://127.0.0.1:9000",
//	  "users": [{"sub": "1", "email": "ann@example.com", "password": "pw", "email_verified": true}],
//	  "clients": [{"client_id": "app", "client_secret": "s", "redirect_uris": ["http://localhost:8080/cb"]}],
//	  "issuers": [{"name": "google"}, {"name": "corp"}]
//	}
type FileConfig struct {
	BaseURL    string `json:"base_url,omitempty"`
	KeyDir     string `json:"key_dir,omitempty"`
	CodeTTL    string `json:"code_ttl,omitempty"`
	TokenTTL   string `json:"token_ttl,omitempty"`
	SessionTTL string `json:"session_ttl,omitempty"`

	// AuthserverURL is the authorization server whose demo client an
	// issuer gets when neither it nor the file lists clients. Empty means
	// DefaultAuthserverURL.
	AuthserverURL string `json:"authserver_url,omitempty"`

	// Users and Clients apply to every issuer that lists none of its own.
	// When both levels are empty, an issuer gets the demo users and the
	// demo client.
	Users   []FileUser   `json:"users,omitempty"`
	Clients []FileClient `json:"clients,omitempty"`

	// Issuers lists the issuers. Empty means "google" and "corp".
	Issuers []FileIssuer `json:"issuers,omitempty"`
}

// FileIssuer is one issuer of a [FileConfig].
type FileIssuer struct {
	Name    string       `json:"name"`
	Users   []FileUser   `json:"users,omitempty"`
	Clients []FileClient `json:"clients,omitempty"`
}

// FileUser is a [User] in a [FileConfig]; its JSON names are the OpenID
// Connect claim names.
type FileUser struct {
	Subject       string         `json:"sub"`
	Email         string         `json:"email"`
	Password      string         `json:"password"`
	Name          string         `json:"name,omitempty"`
	GivenName     string         `json:"given_name,omitempty"`
	FamilyName    string         `json:"family_name,omitempty"`
	Picture       string         `json:"picture,omitempty"`
	Locale        string         `json:"locale,omitempty"`
	HostedDomain  string         `json:"hd,omitempty"`
	EmailVerified bool           `json:"email_verified,omitempty"`
	Extra         map[string]any `json:"extra,omitempty"`
}

// FileClient is a [Client] in a [FileConfig]; its JSON names are those of
// RFC 7591 client metadata where one exists.
type FileClient struct {
	ID                     string   `json:"client_id"`
	Secret                 string   `json:"client_secret,omitempty"`
	RedirectURIs           []string `json:"redirect_uris"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris,omitempty"`
	Public                 bool     `json:"public,omitempty"`
	RequireConsent         bool     `json:"require_consent,omitempty"`
}

// ParseFileConfig decodes a configuration file. Unknown fields are errors,
// so a misspelled name does not pass silently.
func ParseFileConfig(data []byte) (FileConfig, error) {
	var fc FileConfig
	if err := jsonconfig.Decode(data, &fc); err != nil {
		return FileConfig{}, fmt.Errorf("mockidp: parse config file: %w", err)
	}
	return fc, nil
}

// Config converts fc into a [Config], leaving Clock, Logger and Trace
// unset, and validates it.
func (fc FileConfig) Config() (Config, error) {
	durations := jsonconfig.NewDurations("mockidp: config file")
	duration := durations.Parse
	cfg := Config{
		BaseURL:    fc.BaseURL,
		KeyDir:     fc.KeyDir,
		CodeTTL:    duration("code_ttl", fc.CodeTTL),
		TokenTTL:   duration("token_ttl", fc.TokenTTL),
		SessionTTL: duration("session_ttl", fc.SessionTTL),
	}

	issuers := fc.Issuers
	if len(issuers) == 0 {
		issuers = []FileIssuer{{Name: "google"}, {Name: "corp"}}
	}
	authserver := fc.AuthserverURL
	if authserver == "" {
		authserver = DefaultAuthserverURL
	}
	for _, fi := range issuers {
		ic := IssuerConfig{Name: fi.Name}
		switch {
		case len(fi.Users) > 0:
			ic.Users = convertUsers(fi.Users)
		case len(fc.Users) > 0:
			ic.Users = convertUsers(fc.Users)
		default:
			ic.Users = DemoUsers()
		}
		switch {
		case len(fi.Clients) > 0:
			ic.Clients = convertClients(fi.Clients)
		case len(fc.Clients) > 0:
			ic.Clients = convertClients(fc.Clients)
		default:
			ic.Clients = []Client{DemoClient(authserver, fi.Name)}
		}
		cfg.Issuers = append(cfg.Issuers, ic)
	}

	return cfg, errors.Join(append(durations.Errs(), cfg.Validate())...)
}

func convertUsers(in []FileUser) []User {
	out := make([]User, 0, len(in))
	for _, u := range in {
		out = append(out, User(u))
	}
	return out
}

func convertClients(in []FileClient) []Client {
	out := make([]Client, 0, len(in))
	for _, c := range in {
		out = append(out, Client(c))
	}
	return out
}
