package mockidp_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/oidcstack/oidcstack/mockidp"
)

// relyingParty returns the OAuth 2.0 configuration and ID token verifier of
// the demo client at the issuer "google" of idp.
func relyingParty(ctx context.Context, idp *mockidp.Server) (oauth2.Config, *oidc.IDTokenVerifier, error) {
	provider, err := oidc.NewProvider(ctx, idp.Issuer("google"))
	if err != nil {
		return oauth2.Config{}, nil, err
	}
	conf := oauth2.Config{
		ClientID:     mockidp.DemoClientID,
		ClientSecret: mockidp.DemoClientSecret,
		Endpoint:     provider.Endpoint(),
		RedirectURL:  mockidp.DefaultAuthserverURL + "/callback/google",
		Scopes:       []string{oidc.ScopeOpenID, "email"},
	}
	return conf, provider.Verifier(&oidc.Config{ClientID: conf.ClientID}), nil
}

// A relying party logs a user in without a browser: it builds its
// authorization URL as usual, Login completes it, and the relying party
// redeems the code and verifies the ID token. In a test, start the server
// with mockidp.StartTB(t, cfg), which closes it when the test ends.
func Example() {
	// The demo issuers are "google" and "corp", and [:1] keeps "google"
	// with the demo users and the demo client. That client is registered
	// with the redirect URI relyingParty uses, so the example needs no
	// client of its own. A test registers its own with AddClient.
	idp, err := mockidp.Start(mockidp.Config{Issuers: mockidp.DemoIssuers(mockidp.DefaultAuthserverURL)[:1]})
	if err != nil {
		log.Fatal(err)
	}
	defer idp.Close()
	ctx := context.Background()
	conf, verifier, err := relyingParty(ctx, idp)
	if err != nil {
		log.Fatal(err)
	}

	pkce := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("state-1", oauth2.S256ChallengeOption(pkce), oidc.Nonce("nonce-1"))
	callback, err := idp.Login(ctx, authURL, "alice@example.com")
	if err != nil {
		log.Fatal(err)
	}

	token, err := conf.Exchange(ctx, callback.Query().Get("code"), oauth2.VerifierOption(pkce))
	if err != nil {
		log.Fatal(err)
	}
	idToken, err := verifier.Verify(ctx, token.Extra("id_token").(string))
	if err != nil {
		log.Fatal(err)
	}
	var claims struct {
		Email string `json:"email"`
	}
	if err := idToken.Claims(&claims); err != nil {
		log.Fatal(err)
	}
	fmt.Println(callback.Query().Get("state"), idToken.Subject, claims.Email, idToken.Nonce)
	// Output: state-1 104293871234509876543 alice@example.com nonce-1
}

// A fault makes the next ID token expired, 10 minutes ago; the relying
// party must reject it.
func ExampleServer_InjectFault() {
	idp, err := mockidp.Start(mockidp.Config{Issuers: mockidp.DemoIssuers(mockidp.DefaultAuthserverURL)[:1]})
	if err != nil {
		log.Fatal(err)
	}
	defer idp.Close()
	ctx := context.Background()
	conf, verifier, err := relyingParty(ctx, idp)
	if err != nil {
		log.Fatal(err)
	}
	if err := idp.InjectFault("google", mockidp.Fault{Name: mockidp.FaultExpPast}); err != nil {
		log.Fatal(err)
	}

	callback, err := idp.Login(ctx, conf.AuthCodeURL("state-2"), "bob@example.com")
	if err != nil {
		log.Fatal(err)
	}
	token, err := conf.Exchange(ctx, callback.Query().Get("code"))
	if err != nil {
		log.Fatal(err)
	}
	_, err = verifier.Verify(ctx, token.Extra("id_token").(string))
	var expired *oidc.TokenExpiredError
	fmt.Println("rejected as expired:", errors.As(err, &expired))
	// Output: rejected as expired: true
}
