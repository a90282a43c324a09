package authserver

import (
	"net/http"

	"github.com/oidcstack/oidcstack/internal/oauth"
)

// metadata is the server's RFC 8414 and OpenID Connect Discovery document.
type metadata struct {
	Issuer                                 string   `json:"issuer"`
	AuthorizationEndpoint                  string   `json:"authorization_endpoint"`
	TokenEndpoint                          string   `json:"token_endpoint"`
	IntrospectionEndpoint                  string   `json:"introspection_endpoint"`
	RevocationEndpoint                     string   `json:"revocation_endpoint"`
	UserinfoEndpoint                       string   `json:"userinfo_endpoint"`
	EndSessionEndpoint                     string   `json:"end_session_endpoint"`
	JWKSURI                                string   `json:"jwks_uri"`
	ResponseTypesSupported                 []string `json:"response_types_supported"`
	ResponseModesSupported                 []string `json:"response_modes_supported"`
	GrantTypesSupported                    []string `json:"grant_types_supported"`
	CodeChallengeMethodsSupported          []string `json:"code_challenge_methods_supported"`
	TokenEndpointAuthMethodsSupported      []string `json:"token_endpoint_auth_methods_supported"`
	IntrospectionEndpointAuthMethods       []string `json:"introspection_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethods          []string `json:"revocation_endpoint_auth_methods_supported"`
	ScopesSupported                        []string `json:"scopes_supported"`
	SubjectTypesSupported                  []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported       []string `json:"id_token_signing_alg_values_supported"`
	ClaimsSupported                        []string `json:"claims_supported"`
	PromptValuesSupported                  []string `json:"prompt_values_supported"`
	AuthorizationResponseISSParamSupported bool     `json:"authorization_response_iss_parameter_supported"`
}

// handleMetadata serves the discovery document at both well-known paths.
func (s *Server) handleMetadata(w http.ResponseWriter, _ *http.Request) {
	m := metadata{
		Issuer:                            s.issuer,
		AuthorizationEndpoint:             s.issuer + "/authorize",
		TokenEndpoint:                     s.issuer + "/token",
		IntrospectionEndpoint:             s.issuer + "/introspect",
		RevocationEndpoint:                s.issuer + "/revoke",
		UserinfoEndpoint:                  s.issuer + "/userinfo",
		EndSessionEndpoint:                s.issuer + "/logout",
		JWKSURI:                           s.issuer + "/jwks",
		ResponseTypesSupported:            []string{oauth.ResponseTypeCode, oauth.ResponseTypeToken},
		ResponseModesSupported:            []string{"query", "fragment"},
		GrantTypesSupported:               []string{oauth.GrantAuthorizationCode, oauth.GrantRefreshToken, oauth.GrantImplicit, oauth.GrantTokenExchange, oauth.GrantClientCredentials},
		CodeChallengeMethodsSupported:     []string{oauth.PKCEMethodS256},
		TokenEndpointAuthMethodsSupported: []string{"client_secret_basic", "none"},
		IntrospectionEndpointAuthMethods:  []string{"client_secret_basic"},
		RevocationEndpointAuthMethods:     []string{"client_secret_basic", "none"},
		ScopesSupported:                   []string{"openid", "profile", "email"},
		SubjectTypesSupported:             []string{"public"},
		IDTokenSigningAlgValuesSupported:  []string{"RS256"},
		ClaimsSupported: []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash",
			"name", "given_name", "family_name", "picture", "email", "email_verified"},
		PromptValuesSupported:                  []string{"none", "login", "consent"},
		AuthorizationResponseISSParamSupported: true,
	}
	w.Header().Set("Access-Control-Allow-Origin", "*")
	oauth.WriteJSON(w, http.StatusOK, m)
}
