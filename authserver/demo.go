package authserver

import "github.com/oidcstack/oidcstack/internal/oauth"

// Registrations of the demo stack, shared with the other services' demo
// configurations.
const (
	// DefaultIssuer is the authorization server's issuer in the demo stack.
	DefaultIssuer = "http://localhost:9001"
	// DemoWebClientID is the web app's client: public, code + PKCE.
	DemoWebClientID = "demo-web"
	// DemoGatewayClientID is the gateway's client: confidential, allowed
	// introspection and token exchange.
	DemoGatewayClientID = "gateway"
	// DemoGatewaySecret is the gateway's client secret. It is public, so
	// it must never protect anything but a local demo.
	DemoGatewaySecret = "gateway-demo-secret"
	// DemoAudience is the logical name of the demo API.
	DemoAudience = "demo-api"
	// DemoUpstreamClientID and DemoUpstreamSecret are the authorization
	// server's registration at the demo identity provider.
	DemoUpstreamClientID = "oidcstack-authserver"
	DemoUpstreamSecret   = "authserver-demo-secret"
)

// DemoClients returns the demo registrations for a web app served at
// webAppURL (such as "http://localhost:8080"): the public client
// "demo-web" with redirect URI webAppURL + "/callback" and post-logout
// redirect URI webAppURL + "/", and the gateway.
func DemoClients(webAppURL string) []Client {
	return []Client{
		{
			ID:                     DemoWebClientID,
			Public:                 true,
			RedirectURIs:           []string{webAppURL + "/callback"},
			PostLogoutRedirectURIs: []string{webAppURL + "/"},
			WebOrigins:             []string{webAppURL},
			Scopes:                 []string{"openid", "profile", "email"},
			Audiences:              []string{DemoAudience},
		},
		{
			ID:         DemoGatewayClientID,
			Secret:     DemoGatewaySecret,
			GrantTypes: []string{oauth.GrantTokenExchange},
			Audiences:  []string{DemoAudience},
		},
	}
}

// DemoUpstreams returns the two issuers of the demo identity provider
// served at idpURL (such as "http://127.0.0.1:9000"): "google" at
// idpURL + "/google" and "corp" at idpURL + "/corp".
func DemoUpstreams(idpURL string) []Upstream {
	return []Upstream{
		{
			ID: "google", DisplayName: "Google (mock)", Issuer: idpURL + "/google",
			ClientID: DemoUpstreamClientID, ClientSecret: DemoUpstreamSecret,
		},
		{
			ID: "corp", DisplayName: "Corp (mock)", Issuer: idpURL + "/corp",
			ClientID: DemoUpstreamClientID, ClientSecret: DemoUpstreamSecret,
		},
	}
}
