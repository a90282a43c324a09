package authserver

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/oidcstack/oidcstack/internal/oauth"
)

// authenticateClient identifies the client of a token, introspection or
// revocation request. Confidential clients authenticate with
// client_secret_basic (RFC 6749 section 2.3.1). Public clients only name
// themselves, with client_id in the form or as the Basic user with an
// empty password. Other methods are rejected.
func (s *Server) authenticateClient(r *http.Request) (*Client, error) {
	failed := oauth.NewError(oauth.ErrInvalidClient, "Client authentication failed.")
	formID, err := singleParam(r.PostForm, "client_id")
	if err != nil {
		return nil, err
	}
	if r.PostForm.Has("client_secret") {
		return nil, oauth.NewError(oauth.ErrInvalidClient, "Use HTTP Basic authentication (client_secret_basic).")
	}

	user, pass, hasBasic := r.BasicAuth()
	if !hasBasic {
		client, ok := s.clients[formID]
		if formID == "" || !ok || !client.Public {
			return nil, failed
		}
		return client, nil
	}

	// RFC 6749 section 2.3.1: the ID and secret are form-encoded before
	// they are put in the Basic header.
	id, err1 := url.QueryUnescape(user)
	secret, err2 := url.QueryUnescape(pass)
	if err1 != nil || err2 != nil {
		return nil, failed
	}
	if formID != "" && formID != id {
		return nil, oauth.NewError(oauth.ErrInvalidRequest, "The client_id parameter does not match the authenticated client.")
	}
	client, ok := s.clients[id]
	if !ok {
		return nil, failed
	}
	// Some libraries send a public client's ID in the Basic header with
	// an empty secret, which identifies the client as well as the form.
	if client.Public {
		if secret != "" {
			return nil, failed
		}
		return client, nil
	}
	if !secretsEqual(secret, client.Secret) {
		return nil, failed
	}
	return client, nil
}

// secretsEqual compares in constant time, also for different lengths.
func secretsEqual(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

// allowAnyClientOrigin sets the CORS headers when the request's Origin is
// the web origin of some client, so that the script can read the response,
// errors included. Whether the origin fits the request's own client is
// checked by checkOrigin.
func (s *Server) allowAnyClientOrigin(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if origin != "" && s.webOrigins[origin] {
		w.Header().Set("Access-Control-Allow-Origin", origin)
	}
}

// checkOrigin rejects a browser request whose Origin is not a registered
// web origin of client. Leaving out the CORS header would not be enough:
// a form POST needs no preflight and its response still has effects.
func checkOrigin(r *http.Request, client *Client) error {
	origin := r.Header.Get("Origin")
	if origin == "" || slices.Contains(client.WebOrigins, origin) {
		return nil
	}
	return oauth.Wrap(oauth.ErrInvalidRequest, "The request's origin is not allowed for this client.",
		fmt.Errorf("origin %q is not a web origin of client %q", origin, client.ID))
}

// preflight returns the handler of CORS preflight requests for an
// endpoint that scripts of registered web origins may call with methods
// and request headers. Any other origin gets 403 without CORS headers.
func (s *Server) preflight(methods, headers string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		h := w.Header()
		h.Add("Vary", "Origin")
		if origin == "" || !s.webOrigins[origin] {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Methods", methods)
		h.Set("Access-Control-Allow-Headers", headers)
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
	}
}
