package authserver

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/oidcstack/oidcstack/internal/jwks"
)

// upstream is a configured identity provider whose discovery document is
// fetched on first use. A failed discovery is not cached: the next login
// tries again, so the server may start before the provider does.
type upstream struct {
	cfg         Upstream
	redirectURL string

	mu        sync.Mutex
	provider  *oidc.Provider
	authStyle oauth2.AuthStyle
	keySet    *jwks.KeySet
	verifier  *oidc.IDTokenVerifier
}

func newUpstream(cfg Upstream, redirectURL string) *upstream {
	if cfg.DisplayName == "" {
		cfg.DisplayName = cfg.ID
	}
	if cfg.Scopes == nil {
		cfg.Scopes = []string{oidc.ScopeOpenID, "email", "profile"}
	}
	return &upstream{cfg: cfg, redirectURL: redirectURL}
}

// discovered is a discovered provider with the client configuration, key
// set and ID token verifier for it.
type discovered struct {
	provider *oidc.Provider
	oauth2   *oauth2.Config
	keySet   *jwks.KeySet
	verifier *oidc.IDTokenVerifier
}

// discover returns the provider's configuration, fetching its discovery
// document if no earlier call succeeded. Concurrent callers wait for one
// fetch.
func (u *upstream) discover(ctx context.Context, client *http.Client, now func() time.Time) (*discovered, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.provider == nil {
		// go-oidc checks that the document's issuer equals cfg.Issuer
		// (OpenID Connect Discovery section 4.3).
		p, err := oidc.NewProvider(oidc.ClientContext(ctx, client), u.cfg.Issuer)
		if err != nil {
			return nil, fmt.Errorf("discover upstream %q: %w", u.cfg.ID, err)
		}
		var meta struct {
			JWKSURI                  string   `json:"jwks_uri"`
			TokenEndpointAuthMethods []string `json:"token_endpoint_auth_methods_supported"`
		}
		if err := p.Claims(&meta); err != nil {
			return nil, fmt.Errorf("discover upstream %q: %w", u.cfg.ID, err)
		}
		if meta.JWKSURI == "" {
			return nil, fmt.Errorf("discover upstream %q: the discovery document has no jwks_uri", u.cfg.ID)
		}

		// go-oidc's own remote key set refetches the JWKS for every
		// unknown kid. This key set refetches at most once per
		// jwks.DefaultRefetchInterval, and each provider has its own.
		u.keySet = jwks.New(jwks.Config{URL: meta.JWKSURI, HTTPClient: client, Clock: now})
		u.verifier = oidc.NewVerifier(u.cfg.Issuer, u.keySet, &oidc.Config{
			ClientID: u.cfg.ClientID,
			// OpenID Connect Core section 3.1.3.7, items 6 to 8: RS256 is
			// the default algorithm and the only one accepted, so "none"
			// and HMAC signatures keyed with the client secret fail.
			SupportedSigningAlgs: []string{oidc.RS256},
			Now:                  now,
		})
		u.authStyle = tokenAuthStyle(u.cfg.ClientSecret, meta.TokenEndpointAuthMethods)
		u.provider = p
	}
	endpoint := u.provider.Endpoint()
	endpoint.AuthStyle = u.authStyle
	return &discovered{
		provider: u.provider,
		keySet:   u.keySet,
		verifier: u.verifier,
		oauth2: &oauth2.Config{
			ClientID:     u.cfg.ClientID,
			ClientSecret: u.cfg.ClientSecret,
			Endpoint:     endpoint,
			RedirectURL:  u.redirectURL,
			Scopes:       u.cfg.Scopes,
		},
	}, nil
}

// tokenAuthStyle returns how the client authenticates at the token
// endpoint. It is fixed, because x/oauth2's automatic choice sends a
// failed code redemption a second time with the other method. A public
// client sends only its client_id in the body. A confidential client uses
// client_secret_basic, which is the default when the provider lists no
// methods (OpenID Connect Discovery section 3), or client_secret_post when
// the provider offers only that.
func tokenAuthStyle(secret string, methods []string) oauth2.AuthStyle {
	switch {
	case secret == "":
		return oauth2.AuthStyleInParams
	case len(methods) > 0 && !slices.Contains(methods, "client_secret_basic") && slices.Contains(methods, "client_secret_post"):
		return oauth2.AuthStyleInParams
	default:
		return oauth2.AuthStyleInHeader
	}
}
