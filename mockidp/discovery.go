package mockidp

import (
	"encoding/json"
	"net/http"

	"github.com/oidcstack/oidcstack/internal/oauth"
)

// Client authentication methods of the token endpoint (OpenID Connect Core
// section 9, RFC 7591 section 2).
const (
	authMethodBasic = "client_secret_basic"
	authMethodPost  = "client_secret_post"
	authMethodNone  = "none"
)

// metadata is the provider metadata of one issuer (OpenID Connect Discovery
// 1.0 section 3, RFC 8414 section 2), shaped like Google's.
type metadata struct {
	Issuer                                     string   `json:"issuer"`
	AuthorizationEndpoint                      string   `json:"authorization_endpoint"`
	TokenEndpoint                              string   `json:"token_endpoint"`
	UserinfoEndpoint                           string   `json:"userinfo_endpoint"`
	RevocationEndpoint                         string   `json:"revocation_endpoint"`
	EndSessionEndpoint                         string   `json:"end_session_endpoint"`
	JWKSURI                                    string   `json:"jwks_uri"`
	ResponseTypesSupported                     []string `json:"response_types_supported"`
	ResponseModesSupported                     []string `json:"response_modes_supported"`
	GrantTypesSupported                        []string `json:"grant_types_supported"`
	SubjectTypesSupported                      []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported           []string `json:"id_token_signing_alg_values_supported"`
	ScopesSupported                            []string `json:"scopes_supported"`
	ClaimsSupported                            []string `json:"claims_supported"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethods              []string `json:"revocation_endpoint_auth_methods_supported"`
	PromptValuesSupported                      []string `json:"prompt_values_supported"`
	ClaimsParameterSupported                   bool     `json:"claims_parameter_supported"`
	RequestParameterSupported                  bool     `json:"request_parameter_supported"`
	RequestURIParameterSupported               bool     `json:"request_uri_parameter_supported"`
	AuthorizationResponseISSParameterSupported bool     `json:"authorization_response_iss_parameter_supported"`
}

// claimsSupported lists every claim the ID token and userinfo may carry,
// apart from a user's Extra claims.
var claimsSupported = []string{
	"aud", "auth_time", "azp", "email", "email_verified", "exp", "family_name",
	"given_name", "hd", "iat", "iss", "locale", "name", "nonce", "picture", "sub",
}

func (iss *issuer) metadata() metadata {
	return metadata{
		Issuer:                                     iss.url,
		AuthorizationEndpoint:                      iss.url + "/authorize",
		TokenEndpoint:                              iss.url + "/token",
		UserinfoEndpoint:                           iss.url + "/userinfo",
		RevocationEndpoint:                         iss.url + "/revoke",
		EndSessionEndpoint:                         iss.url + "/logout",
		JWKSURI:                                    iss.url + "/jwks",
		ResponseTypesSupported:                     []string{oauth.ResponseTypeCode},
		ResponseModesSupported:                     []string{responseModeQuery, responseModeFormPost},
		GrantTypesSupported:                        []string{oauth.GrantAuthorizationCode, oauth.GrantRefreshToken, oauth.GrantClientCredentials},
		SubjectTypesSupported:                      []string{"public"},
		IDTokenSigningAlgValuesSupported:           []string{"RS256"},
		ScopesSupported:                            supportedScopes,
		ClaimsSupported:                            claimsSupported,
		CodeChallengeMethodsSupported:              []string{oauth.PKCEMethodS256, oauth.PKCEMethodPlain},
		TokenEndpointAuthMethodsSupported:          []string{authMethodBasic, authMethodPost, authMethodNone},
		RevocationEndpointAuthMethods:              []string{authMethodBasic, authMethodPost, authMethodNone},
		PromptValuesSupported:                      []string{promptNone, promptLogin, promptConsent, promptSelectAccount},
		AuthorizationResponseISSParameterSupported: true,
	}
}

// handleDiscovery serves the issuer's metadata at the OpenID location and
// at both RFC 8414 path-inserted locations.
func (s *Server) handleDiscovery(w http.ResponseWriter, _ *http.Request, iss *issuer) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_ = json.NewEncoder(w).Encode(iss.metadata())
}
