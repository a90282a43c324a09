package mockidp

import "strings"

// Demo registrations that the stack wiring uses. They are fit for a local
// demo only: the secret and the passwords are public.
const (
	// DefaultAuthserverURL is the authorization server's default issuer,
	// used by the demo clients' redirect URIs.
	DefaultAuthserverURL = "http://localhost:9001"
	// DemoClientID is the authorization server's client ID at each issuer.
	DemoClientID = "oidcstack-authserver"
	// DemoClientSecret is the authorization server's client secret.
	DemoClientSecret = "authserver-demo-secret"
)

// DemoUsers returns the two demo users: alice@example.com (password
// "alice-password") and bob@example.com (password "bob-password"), both
// with verified email addresses.
func DemoUsers() []User {
	return []User{
		{
			Subject:       "104293871234509876543",
			Email:         "alice@example.com",
			Password:      "alice-password",
			Name:          "Alice Liddell",
			GivenName:     "Alice",
			FamilyName:    "Liddell",
			Locale:        "en",
			EmailVerified: true,
		},
		{
			Subject:       "117654320987612345678",
			Email:         "bob@example.com",
			Password:      "bob-password",
			Name:          "Bob Marley",
			GivenName:     "Bob",
			FamilyName:    "Marley",
			Locale:        "en",
			EmailVerified: true,
		},
	}
}

// DemoClient returns the authorization server's registration at the issuer
// named issuerName: a confidential client whose redirect URI is
// authserverURL + "/callback/" + issuerName.
func DemoClient(authserverURL, issuerName string) Client {
	base := strings.TrimSuffix(authserverURL, "/")
	return Client{
		ID:                     DemoClientID,
		Secret:                 DemoClientSecret,
		RedirectURIs:           []string{base + "/callback/" + issuerName},
		PostLogoutRedirectURIs: []string{base + "/"},
	}
}

// DemoIssuers returns the demo issuers "google" and "corp", each with the
// [DemoUsers] and the [DemoClient] for authserverURL.
func DemoIssuers(authserverURL string) []IssuerConfig {
	var out []IssuerConfig
	for _, name := range []string{"google", "corp"} {
		out = append(out, IssuerConfig{
			Name:    name,
			Users:   DemoUsers(),
			Clients: []Client{DemoClient(authserverURL, name)},
		})
	}
	return out
}
