package mockidp

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/oidcstack/oidcstack/internal/oauth"
	"github.com/oidcstack/oidcstack/internal/trace"
)

// tokenResponse is a successful token response (RFC 6749 section 5.1,
// OpenID Connect Core section 3.1.3.3). ExpiresIn is in seconds.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
}

// tokenResponseStringExpiry is a token response whose expires_in is a
// JSON string, for the expires_in_string fault. Its ExpiresIn hides the
// embedded one in the JSON encoding.
type tokenResponseStringExpiry struct {
	tokenResponse
	ExpiresIn string `json:"expires_in"`
}

// handleToken serves the token endpoint (step 10a).
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request, iss *issuer) {
	start := time.Now()
	fault, faulted := iss.takeFault(targetToken, requestClientID(r))
	if faulted {
		s.log.Info("fault applied", "step", "10a", "issuer", iss.name, "fault", fault.Name, "client_id", fault.ClientID)
		if status, written := writeTokenFault(w, r, fault); written {
			s.record(r, start, "10a", status, "fault "+string(fault.Name), trace.KeyCode, r.PostForm.Get("code"))
			return
		}
	}

	resp, code, err := s.token(r, iss)
	status := http.StatusOK
	note := ""
	switch {
	case err != nil:
		status = err.HTTPStatus()
		note = err.Code
		s.log.Info("token request rejected", "step", "10a", "issuer", iss.name, "err", err)
		oauth.WriteError(w, err)
	case faulted && fault.Name == FaultExpiresInString:
		oauth.WriteJSON(w, status, tokenResponseStringExpiry{resp, strconv.FormatInt(resp.ExpiresIn, 10)})
	default:
		oauth.WriteJSON(w, status, resp)
	}
	s.record(r, start, "10a", status, note, trace.KeyCode, code)
}

// writeTokenFault writes the response of a token fault that replaces the
// whole response, and reports the status and whether it wrote one. The
// token_slow fault waits first and then lets the request go on, unless the
// client disconnected.
func writeTokenFault(w http.ResponseWriter, r *http.Request, f Fault) (int, bool) {
	switch f.Name {
	case FaultTokenInvalidGrant:
		err := oauth.NewError(oauth.ErrInvalidGrant, "The authorization code is invalid or expired.")
		oauth.WriteError(w, err)
		return err.HTTPStatus(), true
	case FaultTokenServerError:
		err := oauth.NewError(oauth.ErrServerError, "The server failed to process the request.")
		oauth.WriteError(w, err)
		return err.HTTPStatus(), true
	case FaultTokenHTML:
		// An error page as a misconfigured proxy might send it, with 200.
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("<!doctype html><html><head><title>Sign in</title></head><body><h1>Please sign in</h1></body></html>\n"))
		return http.StatusOK, true
	case FaultTokenSlow:
		timer := time.NewTimer(f.Delay)
		defer timer.Stop()
		select {
		case <-timer.C:
			return 0, false
		case <-r.Context().Done():
			return 0, true
		}
	}
	return 0, false
}

// requestClientID returns the client ID a token request names, without
// authenticating it, to match faults limited to one client.
func requestClientID(r *http.Request) string {
	if user, _, ok := r.BasicAuth(); ok {
		if id, err := url.QueryUnescape(user); err == nil {
			return id
		}
		return user
	}
	return r.PostForm.Get("client_id")
}

// token decides a token request without writing anything. It returns the
// authorization code of the request, if any, for the trace.
func (s *Server) token(r *http.Request, iss *issuer) (tokenResponse, string, *oauth.Error) {
	// RFC 6749 section 4.1.3: parameters come form-encoded in the body.
	if err := r.ParseForm(); err != nil {
		return tokenResponse{}, "", oauth.NewError(oauth.ErrInvalidRequest, "The request body is not a valid form.")
	}
	form := r.PostForm
	code := form.Get("code")
	for name, values := range form {
		if len(values) > 1 {
			return tokenResponse{}, code, oauth.NewError(oauth.ErrInvalidRequest, "The parameter "+name+" appears more than once.")
		}
	}
	grantType := form.Get("grant_type")
	if grantType == "" {
		return tokenResponse{}, code, oauth.NewError(oauth.ErrInvalidRequest, "The request has no grant_type.")
	}

	// The client authenticates before anything else is looked at, so a
	// failed authentication uses up no code.
	client, oerr := iss.authenticateClient(r, form)
	if oerr != nil {
		return tokenResponse{}, code, oerr
	}

	switch grantType {
	case oauth.GrantAuthorizationCode:
		resp, err := s.codeGrant(iss, client, form)
		return resp, code, err
	case oauth.GrantRefreshToken:
		resp, err := s.refreshGrant(iss, client, form)
		return resp, code, err
	case oauth.GrantClientCredentials:
		resp, err := s.clientCredentialsGrant(iss, client, form)
		return resp, code, err
	default:
		return tokenResponse{}, code, oauth.NewError(oauth.ErrUnsupportedGrantType, "The grant_type is not supported.")
	}
}

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
	// error at the client. Basic with an empty password is accepted, since
	// x/oauth2 sends a public client's ID that way.
	if client.Public {
		if secret != "" {
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
