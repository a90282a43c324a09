package authserver

import (
	"net/http"
	"strings"
	"time"

	"github.com/oidcstack/oidcstack/authserver/store"
	"github.com/oidcstack/oidcstack/internal/oauth"
	"github.com/oidcstack/oidcstack/internal/trace"
)

// clientCredentialsGrant issues an access token that a service client
// gets for itself (RFC 6749 section 4.4). The token belongs to no user:
// introspection and exchanged JWTs name the client as "sub". The grant
// never yields a refresh token (RFC 6749 section 4.4.3) or an ID token.
func (s *Server) clientCredentialsGrant(r *http.Request, client *Client, st *trace.Step) (*tokenResponse, error) {
	// The grant is no step of the login flow, so its request is not
	// traced as the step that the token endpoint assumed.
	dropStep(r)

	// Only confidential clients that enabled the grant may use it: the
	// client's secret is its only credential (RFC 6749 section 4.4).
	if client.Public || !client.allows(oauth.GrantClientCredentials) {
		return nil, oauth.NewError(oauth.ErrUnauthorizedClient, "The client may not use the client credentials grant.")
	}
	requested, err := singleParam(r.PostForm, "scope")
	if err != nil {
		return nil, err
	}
	scope, err := clientCredentialsScope(client, requested)
	if err != nil {
		return nil, err
	}

	now := s.now()
	token := oauth.NewToken()
	at := store.AccessToken{
		Hash:      oauth.HashToken(token),
		ClientID:  client.ID,
		Scope:     scope,
		Audiences: client.Audiences,
		// Each token is a grant of its own, so revoking it ends nothing
		// else.
		GrantID:   oauth.HashToken(oauth.NewToken()),
		IssuedAt:  now,
		ExpiresAt: now.Add(s.accessTTL),
	}
	if err := s.store.CreateAccessToken(r.Context(), at); err != nil {
		return nil, oauth.Wrap(oauth.ErrServerError, "The token could not be issued.", err)
	}
	st.Set(trace.KeyAccessToken, token).Set(trace.KeySubject, client.ID)
	s.pushIssued(r.Context(), at)
	s.log.Info("client credentials token issued", "client_id", client.ID, "access_token_fp", trace.Fingerprint(token))
	return &tokenResponse{
		AccessToken: token,
		TokenType:   oauth.TokenTypeBearer,
		ExpiresIn:   int64(s.accessTTL / time.Second),
		Scope:       scope,
	}, nil
}

// clientCredentialsScope returns the scope to grant: the requested scopes
// if the client may have each of them, or all of the client's scopes
// when none are requested (RFC 6749 section 3.3). The openid scope
// identifies a user, so it is never granted here.
func clientCredentialsScope(client *Client, requested string) (string, error) {
	if hasScope(requested, "openid") {
		return "", oauth.NewError(oauth.ErrInvalidScope, "The client credentials grant has no user, so it cannot grant the openid scope.")
	}
	scope, err := grantedScope(client, requested)
	if err != nil {
		return "", err
	}
	var granted []string
	for _, sc := range strings.Fields(scope) {
		if sc != "openid" {
			granted = append(granted, sc)
		}
	}
	return strings.Join(granted, " "), nil
}

// tokenSubject returns the "sub" of an access token: its user, or for a
// token of the client credentials grant, its client.
func tokenSubject(at *store.AccessToken) string {
	if at.UserID == "" {
		return at.ClientID
	}
	return at.UserID
}

// dropStep stops tracing the request's current step, which then records
// no event.
func dropStep(r *http.Request) {
	if slot, ok := r.Context().Value(stepKey{}).(*stepSlot); ok {
		slot.name, slot.step = "", nil
	}
}
