package authserver

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// upstream is a configured identity provider whose discovery document is
// fetched on first use. A failed discovery is not cached: the next login
// tries again, so the server may start before the provider does.
type upstream struct {
	cfg         Upstream
	redirectURL string

	mu       sync.Mutex
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
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

// discovered is a discovered provider with the client configuration and ID
// token verifier for it.
type discovered struct {
	provider *oidc.Provider
	oauth2   *oauth2.Config
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
		// The key set outlives this request, so it gets a context of its
		// own that carries only the HTTP client.
		keyCtx := oidc.ClientContext(context.Background(), client)
		u.verifier = p.VerifierContext(keyCtx, &oidc.Config{
			ClientID: u.cfg.ClientID,
			// No SupportedSigningAlgs: go-oidc then accepts the algorithms
			// the provider advertises, from its own allow-list.
			Now: now,
		})
		u.provider = p
	}
	return &discovered{
		provider: u.provider,
		verifier: u.verifier,
		oauth2: &oauth2.Config{
			ClientID:     u.cfg.ClientID,
			ClientSecret: u.cfg.ClientSecret,
			Endpoint:     u.provider.Endpoint(),
			RedirectURL:  u.redirectURL,
			Scopes:       u.cfg.Scopes,
		},
	}, nil
}
