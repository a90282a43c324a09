package mockidp

import (
	"crypto/subtle"
	"net/http"
	"net/url"

	"github.com/oidcstack/oidcstack/internal/oauth"
)

// authenticateClient authenticates the client of a token or revocation
// request by exactly one method: client_secret_basic, client_secret_post,
// or, for a public client, its client_id alone (RFC 6749 section 2.3).
func (iss *issuer) authenticateClient(r *http.Request, form url.Values) (Client, *oauth.Error) {
	invalid := oauth.NewError(oauth.ErrInvalidClient, "Client authentication failed.")
	id, secret, method, oerr := clientCredentials(r, form)
	if oerr != nil {
		return Client{}, oerr
	}

	client, ok := iss.client(id)
	if !ok {
		return Client{}, invalid
	}

	// A public client has no secret; presenting one is a configuration
	// error at the client.
	if client.Public {
		if method != authMethodNone {
			return Client{}, invalid
		}
		return client, nil
	}

	// A confidential client must prove its secret.
	if method == authMethodNone || subtle.ConstantTimeCompare([]byte(secret), []byte(client.Secret)) != 1 {
		return Client{}, invalid
	}
	return client, nil
}

// clientCredentials extracts the client ID, the secret and the method used.
func clientCredentials(r *http.Request, form url.Values) (id, secret, method string, oerr *oauth.Error) {
	basicUser, basicPass, hasBasic := r.BasicAuth()
	formID, formSecret := form.Get("client_id"), form.Get("client_secret")

	if hasBasic {
		// RFC 6749 section 2.3: one authentication method per request.
		if form.Has("client_secret") {
			return "", "", "", oauth.NewError(oauth.ErrInvalidRequest, "Use one client authentication method, not several.")
		}
		// RFC 6749 section 2.3.1: both parts are form-urlencoded before
		// they are joined, so a secret may contain ':' or '%'.
		user, err1 := url.QueryUnescape(basicUser)
		pass, err2 := url.QueryUnescape(basicPass)
		if err1 != nil || err2 != nil {
			return "", "", "", oauth.NewError(oauth.ErrInvalidClient, "Client authentication failed.")
		}
		if formID != "" && formID != user {
			return "", "", "", oauth.NewError(oauth.ErrInvalidRequest, "client_id does not match the Authorization header.")
		}
		return user, pass, authMethodBasic, nil
	}

	if r.Header.Get("Authorization") != "" {
		return "", "", "", oauth.NewError(oauth.ErrInvalidClient, "Only Basic client authentication is supported in the Authorization header.")
	}
	if formID == "" {
		return "", "", "", oauth.NewError(oauth.ErrInvalidClient, "Client authentication failed.")
	}
	if form.Has("client_secret") {
		return formID, formSecret, authMethodPost, nil
	}
	return formID, "", authMethodNone, nil
}
