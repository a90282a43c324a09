package authserver

import (
	"errors"
	"fmt"
	"strings"

	"github.com/oidcstack/oidcstack/internal/jsonconfig"
)

// FileConfig is the JSON configuration file of a standalone authorization
// server, as the oidcstack command reads it. Durations are Go duration
// strings ("60s", "1h"); scopes are space-separated, as on the wire. A
// minimal file:
//
//	{
//	  "issuer": "https://auth.example.com",
//	  "clients": [{"client_id": "web", "public": true, "redirect_uris": ["https://app.example.com/callback"],
//	               "web_origins": ["https://app.example.com"], "scope": "openid profile email", "audiences": ["api"]}],
//	  "upstreams": [{"id": "google", "display_name": "Google", "issuer": "https://accounts.google.com",
//	                 "client_id": "...", "client_secret": "..."}]
//	}
//
// Every field may be left out; the command then fills it from flags or
// uses the demo registrations. The file holds no signing keys: they live
// in the store.
type FileConfig struct {
	Issuer    string         `json:"issuer,omitempty"`
	Clients   []FileClient   `json:"clients,omitempty"`
	Upstreams []FileUpstream `json:"upstreams,omitempty"`

	AccessTokenTTL    string `json:"access_token_ttl,omitempty"`
	RefreshTokenTTL   string `json:"refresh_token_ttl,omitempty"`
	CodeTTL           string `json:"code_ttl,omitempty"`
	ExchangedTokenTTL string `json:"exchanged_token_ttl,omitempty"`
	TransactionTTL    string `json:"transaction_ttl,omitempty"`
	SessionTTL        string `json:"session_ttl,omitempty"`
	KeyRotation       string `json:"key_rotation,omitempty"`
}

// FileClient is a [Client] in a [FileConfig]; its JSON names are those of
// RFC 7591 client metadata where one exists.
type FileClient struct {
	ID           string   `json:"client_id"`
	Secret       string   `json:"client_secret,omitempty"`
	Public       bool     `json:"public,omitempty"`
	RedirectURIs []string `json:"redirect_uris,omitempty"`
	// PostLogoutRedirectURIs uses the name of OpenID Connect RP-Initiated
	// Logout 1.0 section 3.1.
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris,omitempty"`
	WebOrigins             []string `json:"web_origins,omitempty"`
	GrantTypes             []string `json:"grant_types,omitempty"`
	Scope                  string   `json:"scope,omitempty"`
	Audiences              []string `json:"audiences,omitempty"`
	RequireConsent         bool     `json:"require_consent,omitempty"`
}

// FileUpstream is an [Upstream] in a [FileConfig].
type FileUpstream struct {
	ID           string `json:"id"`
	DisplayName  string `json:"display_name,omitempty"`
	Issuer       string `json:"issuer"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret,omitempty"`
	// Scope is requested at the provider. Empty means "openid email
	// profile".
	Scope string `json:"scope,omitempty"`
}

// ParseFileConfig decodes a configuration file. Unknown fields are errors,
// so a misspelled name does not pass silently.
func ParseFileConfig(data []byte) (FileConfig, error) {
	var fc FileConfig
	if err := jsonconfig.Decode(data, &fc); err != nil {
		return FileConfig{}, fmt.Errorf("authserver: parse config file: %w", err)
	}
	return fc, nil
}

// Config converts fc into a [Config] without Store, Clock, Logger,
// HTTPClient and Trace. It reports every invalid duration at once but
// leaves the other checks to [Config.Validate], because the caller may
// still fill the issuer, clients or upstreams from elsewhere.
func (fc FileConfig) Config() (Config, error) {
	durations := jsonconfig.NewDurations("authserver: config file")
	duration := durations.Parse
	cfg := Config{
		Issuer:            fc.Issuer,
		AccessTokenTTL:    duration("access_token_ttl", fc.AccessTokenTTL),
		RefreshTokenTTL:   duration("refresh_token_ttl", fc.RefreshTokenTTL),
		CodeTTL:           duration("code_ttl", fc.CodeTTL),
		ExchangedTokenTTL: duration("exchanged_token_ttl", fc.ExchangedTokenTTL),
		TransactionTTL:    duration("transaction_ttl", fc.TransactionTTL),
		SessionTTL:        duration("session_ttl", fc.SessionTTL),
		KeyRotation:       duration("key_rotation", fc.KeyRotation),
	}
	for _, c := range fc.Clients {
		cfg.Clients = append(cfg.Clients, Client{
			ID:                     c.ID,
			Secret:                 c.Secret,
			Public:                 c.Public,
			RedirectURIs:           c.RedirectURIs,
			PostLogoutRedirectURIs: c.PostLogoutRedirectURIs,
			WebOrigins:             c.WebOrigins,
			GrantTypes:             c.GrantTypes,
			Scopes:                 scopeList(c.Scope),
			Audiences:              c.Audiences,
			RequireConsent:         c.RequireConsent,
		})
	}
	for _, up := range fc.Upstreams {
		cfg.Upstreams = append(cfg.Upstreams, Upstream{
			ID:           up.ID,
			DisplayName:  up.DisplayName,
			Issuer:       up.Issuer,
			ClientID:     up.ClientID,
			ClientSecret: up.ClientSecret,
			Scopes:       scopeList(up.Scope),
		})
	}
	return cfg, errors.Join(durations.Errs()...)
}

// scopeList splits a space-separated scope, returning nil for an empty
// one, which means the default where a nil list has one.
func scopeList(scope string) []string {
	if strings.TrimSpace(scope) == "" {
		return nil
	}
	return strings.Fields(scope)
}
