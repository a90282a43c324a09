package mockidp_test

import (
	"context"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/oidcstack/oidcstack/internal/keys"
	"github.com/oidcstack/oidcstack/internal/keys/keytest"
	"github.com/oidcstack/oidcstack/mockidp"
)

// TestUnmodifiedClientsForEveryGrant runs the authorization code grant
// with PKCE, the refresh token grant and the client credentials grant
// with golang.org/x/oauth2 and go-oidc as they are, configured from
// discovery.
func TestUnmodifiedClientsForEveryGrant(t *testing.T) {
	ctx := context.Background()
	const (
		clientID    = "x-oauth2-client"
		secret      = "s3cret:with%chars"
		redirectURI = "http://localhost:5555/callback"
	)
	idp := mockidp.StartTB(t, mockidp.Config{Issuers: []mockidp.IssuerConfig{{
		Name:    "google",
		Users:   mockidp.DemoUsers(),
		Clients: []mockidp.Client{{ID: clientID, Secret: secret, RedirectURIs: []string{redirectURI}}},
		Keys:    []*keys.Key{keytest.Key(t)},
	}}})
	issuer := idp.Issuer("google")

	provider, err := oidc.NewProvider(ctx, issuer)
	require.NoError(t, err)
	conf := &oauth2.Config{
		ClientID:     clientID,
		ClientSecret: secret,
		RedirectURL:  redirectURI,
		Endpoint:     provider.Endpoint(),
		Scopes:       []string{oidc.ScopeOpenID, "email"},
	}

	// Authorization code with PKCE S256. access_type=offline requests a
	// refresh token, as at Google.
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("state-1", oauth2.AccessTypeOffline, oauth2.S256ChallengeOption(verifier))
	callback, err := idp.Login(ctx, authURL, "alice@example.com")
	require.NoError(t, err)
	require.Equal(t, "state-1", callback.Query().Get("state"))
	token, err := conf.Exchange(ctx, callback.Query().Get("code"), oauth2.VerifierOption(verifier))
	require.NoError(t, err)
	require.NotEmpty(t, token.RefreshToken, "access_type=offline yields a refresh token")
	rawID, _ := token.Extra("id_token").(string)
	idToken, err := provider.Verifier(&oidc.Config{ClientID: clientID}).Verify(ctx, rawID)
	require.NoError(t, err)
	assert.Equal(t, "104293871234509876543", idToken.Subject)

	// Refresh: a token source with an expired access token refreshes it.
	expired := *token
	expired.Expiry = time.Now().Add(-time.Minute)
	refreshed, err := conf.TokenSource(ctx, &expired).Token()
	require.NoError(t, err)
	assert.NotEqual(t, token.AccessToken, refreshed.AccessToken)
	assert.True(t, refreshed.Expiry.After(time.Now()), "the refreshed token carries its expiry")

	// Client credentials.
	cc := &clientcredentials.Config{ClientID: clientID, ClientSecret: secret, TokenURL: provider.Endpoint().TokenURL}
	serviceToken, err := cc.Token(ctx)
	require.NoError(t, err)
	assert.NotEmpty(t, serviceToken.AccessToken)
	assert.Equal(t, "Bearer", serviceToken.TokenType)
	assert.Empty(t, serviceToken.RefreshToken, "client credentials never yield a refresh token")
}
