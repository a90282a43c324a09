package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/oidcstack/oidcstack/internal/httpx"
)

// maxResponseBytes bounds every response body the gateway reads from the
// authorization server.
const maxResponseBytes = 1 << 20

// oauthMetadataPath is the well-known path of the authorization server's
// metadata (RFC 8414 section 3).
const oauthMetadataPath = "/.well-known/oauth-authorization-server"

// errAuthServer marks a failure of the authorization server or of the way
// to it: unreachable, an unexpected status, or a malformed response. Clients
// get 503 for it and the log gets the wrapped cause.
var errAuthServer = errors.New("gateway: authorization server failed")

// serverMetadata holds the fields of the authorization server's metadata
// (RFC 8414 section 2) that the gateway uses.
type serverMetadata struct {
	Issuer                string `json:"issuer"`
	TokenEndpoint         string `json:"token_endpoint"`
	IntrospectionEndpoint string `json:"introspection_endpoint"`
	JWKSURI               string `json:"jwks_uri"`
}

// discovery fetches the authorization server's metadata once it is first
// needed and keeps it. A failed fetch is not kept, so the next request
// tries again; concurrent requests share one fetch.
type discovery struct {
	issuer string
	client *http.Client

	mu   sync.Mutex
	meta *serverMetadata
}

// metadata returns the authorization server's metadata, fetching it when
// no earlier fetch succeeded.
func (d *discovery) metadata(ctx context.Context) (*serverMetadata, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.meta != nil {
		return d.meta, nil
	}
	meta, err := d.fetch(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: discover endpoints: %w", errAuthServer, err)
	}
	d.meta = meta
	return meta, nil
}

func (d *discovery) fetch(ctx context.Context) (*serverMetadata, error) {
	target, err := httpx.WellKnownURL(d.issuer, oauthMetadataPath)
	if err != nil {
		return nil, err
	}
	var meta serverMetadata
	if err := httpx.GetJSON(ctx, d.client, target, &meta); err != nil {
		return nil, err
	}

	// RFC 8414 section 3.3: the issuer in the metadata must be identical
	// to the one the metadata URL was built from.
	if meta.Issuer != d.issuer {
		return nil, fmt.Errorf("metadata issuer %q does not match configured issuer %q", meta.Issuer, d.issuer)
	}
	if err := checkEndpoint("introspection_endpoint", meta.IntrospectionEndpoint); err != nil {
		return nil, err
	}
	if err := checkEndpoint("token_endpoint", meta.TokenEndpoint); err != nil {
		return nil, err
	}
	if meta.JWKSURI != "" {
		if err := checkEndpoint("jwks_uri", meta.JWKSURI); err != nil {
			return nil, err
		}
	}
	return &meta, nil
}

// checkEndpoint checks that an endpoint from the metadata is an absolute
// http or https URL.
func checkEndpoint(name, raw string) error {
	if raw == "" {
		return fmt.Errorf("metadata has no %s", name)
	}
	if _, err := httpx.ParseHTTPURL(raw); err != nil {
		return fmt.Errorf("metadata %s: %w", name, err)
	}
	return nil
}
