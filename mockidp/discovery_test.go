package mockidp

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDiscoveryLocations(t *testing.T) {
	srv, ts := startIDP(t, Config{Issuers: testIssuers(t, "google", "corp")})
	for _, name := range []string{"google", "corp"} {
		issuer := srv.Issuer(name)
		for _, location := range []string{
			issuer + "/.well-known/openid-configuration",
			ts.URL + "/.well-known/openid-configuration/" + name,
			ts.URL + "/.well-known/oauth-authorization-server/" + name,
		} {
			t.Run(location, func(t *testing.T) {
				resp, body := newBrowser(t, ts).get(location)
				require.Equal(t, http.StatusOK, resp.StatusCode)
				assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
				var md map[string]any
				require.NoError(t, json.Unmarshal([]byte(body), &md))

				assert.Equal(t, issuer, md["issuer"])
				assert.Equal(t, issuer+"/authorize", md["authorization_endpoint"])
				assert.Equal(t, issuer+"/token", md["token_endpoint"])
				assert.Equal(t, issuer+"/userinfo", md["userinfo_endpoint"])
				assert.Equal(t, issuer+"/revoke", md["revocation_endpoint"])
				assert.Equal(t, issuer+"/logout", md["end_session_endpoint"])
				assert.Equal(t, issuer+"/jwks", md["jwks_uri"])
				assert.Equal(t, []any{"code"}, md["response_types_supported"])
				assert.Equal(t, []any{"query", "form_post"}, md["response_modes_supported"])
				assert.Equal(t, []any{"public"}, md["subject_types_supported"])
				assert.Equal(t, []any{"RS256"}, md["id_token_signing_alg_values_supported"])
				assert.Equal(t, []any{"S256", "plain"}, md["code_challenge_methods_supported"])
				assert.Equal(t, []any{"client_secret_basic", "client_secret_post", "none"}, md["token_endpoint_auth_methods_supported"])
				assert.Equal(t, []any{"authorization_code", "refresh_token", "client_credentials"}, md["grant_types_supported"])
				assert.Subset(t, md["scopes_supported"], []any{"openid", "email", "profile"})
				assert.Subset(t, md["claims_supported"], []any{"sub", "email", "email_verified", "name", "hd", "nonce", "auth_time"})
				assert.Equal(t, true, md["authorization_response_iss_parameter_supported"])
			})
		}
	}
}
