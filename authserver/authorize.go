package authserver

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/oidcstack/oidcstack/authserver/store"
	"github.com/oidcstack/oidcstack/internal/oauth"
	"github.com/oidcstack/oidcstack/internal/trace"
)

// handleAuthorize is the authorization endpoint (RFC 6749 section 3.1).
// With a valid session it issues the code at once (13b). Otherwise it
// stores the validated request as a login transaction and sends the
// browser to the login page (2b).
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) error {
	st := s.startStep(r, "2b")
	req, err := s.parseAuthorize(w, r)
	if err != nil {
		return err
	}
	st.Set(trace.KeyAppState, req.State)

	ses, err := s.currentSession(r)
	if err != nil {
		return s.redirectErr(req, err)
	}
	if ses != nil && s.sessionSatisfies(ses, req) {
		return s.issueAuthorization(w, r, req, ses)
	}

	// OpenID Connect Core section 3.1.2.6: prompt=none must not show any
	// page, so without a usable session the request fails.
	if req.Prompt == "none" {
		return s.redirectErr(req, oauth.NewError(oauth.ErrLoginRequired, "The user is not logged in."))
	}

	txID := oauth.NewToken()
	now := s.now()
	req.ID = oauth.HashToken(txID)
	req.CSRFToken = oauth.NewToken()
	req.CreatedAt, req.ExpiresAt = now, now.Add(s.transactionTTL)
	if err := s.store.CreateTransaction(r.Context(), *req); err != nil {
		return s.redirectErr(req, oauth.Wrap(oauth.ErrServerError, "The login could not be started.", err))
	}
	// NOTE: one transaction per browser: a second authorization request
	// in another tab replaces the cookie, and the first tab's login fails.
	s.setCookie(w, txCookie, txID, s.transactionTTL)
	http.Redirect(w, r, s.issuer+"/login", http.StatusFound)
	return nil
}

// parseAuthorize validates the whole authorization request. Errors found
// before the client and its redirect URI are known to be registered are
// shown as a page, later ones are sent to the client (RFC 6749 section
// 4.1.2.1). The result is a transaction without ID or times.
func (s *Server) parseAuthorize(w http.ResponseWriter, r *http.Request) (*store.Transaction, error) {
	// OpenID Connect Core section 3.1.2.1: GET and POST are both
	// supported, so the parameters come from the query and the body.
	if err := parseForm(w, r); err != nil {
		return nil, err
	}
	q := r.Form

	// The client and redirect URI come first: nothing may be redirected
	// before both are checked. The match is exact string comparison
	// (RFC 9700 section 2.1), so no prefix, case or encoding variant of
	// a registered URI passes.
	clientID, err := singleParam(q, "client_id")
	if err != nil {
		return nil, err
	}
	client, ok := s.clients[clientID]
	if clientID == "" || !ok {
		return nil, oauth.NewError(oauth.ErrInvalidRequest, "The client is unknown.")
	}
	redirectURI, err := singleParam(q, "redirect_uri")
	if err != nil {
		return nil, err
	}
	if redirectURI == "" || !slices.Contains(client.RedirectURIs, redirectURI) {
		return nil, oauth.NewError(oauth.ErrInvalidRequest, "The redirect URI is not registered for this client.")
	}

	req := &store.Transaction{ClientID: client.ID, RedirectURI: redirectURI, MaxAge: -1}
	// A duplicated state cannot be echoed back, so it is dropped from the
	// error too.
	req.State, err = singleParam(q, "state")
	if err != nil {
		return nil, s.redirectErr(req, err)
	}
	req.ResponseType, err = singleParam(q, "response_type")
	if err != nil {
		return nil, s.redirectErr(req, err)
	}
	if err := s.checkAuthorizeParams(client, req, q); err != nil {
		return nil, s.redirectErr(req, err)
	}
	return req, nil
}

// checkAuthorizeParams validates and copies the parameters after the
// redirect URI, in the order of the checks below.
func (s *Server) checkAuthorizeParams(client *Client, req *store.Transaction, q map[string][]string) error {
	var err error
	get := func(name string) string {
		if err != nil {
			return ""
		}
		var v string
		v, err = singleParam(q, name)
		return v
	}
	scope := get("scope")
	req.Nonce = get("nonce")
	req.CodeChallenge = get("code_challenge")
	req.CodeChallengeMethod = get("code_challenge_method")
	req.Prompt = get("prompt")
	maxAge := get("max_age")
	responseMode := get("response_mode")
	if err != nil {
		return err
	}

	// state and nonce are stored until the login ends, so an anonymous
	// request may not make the server store much.
	if len(req.State) > maxEchoedParam || len(req.Nonce) > maxEchoedParam {
		return oauth.NewError(oauth.ErrInvalidRequest, "The state or nonce parameter is too long.")
	}

	// Request objects are not supported (OpenID Connect Core section
	// 6), and ignoring one could drop parameters the client relies on.
	if _, ok := q["request"]; ok {
		return oauth.NewError(oauth.ErrRequestNotSupported, "Request objects are not supported.")
	}
	if _, ok := q["request_uri"]; ok {
		return oauth.NewError(oauth.ErrRequestURINotSupported, "Request objects are not supported.")
	}

	// Response type: only "code", and "token" for clients that enabled
	// the implicit grant.
	switch req.ResponseType {
	case "":
		return oauth.NewError(oauth.ErrInvalidRequest, "The response_type parameter is missing.")
	case oauth.ResponseTypeCode:
		if !client.allows(oauth.GrantAuthorizationCode) {
			return oauth.NewError(oauth.ErrUnauthorizedClient, "The client may not use the authorization code grant.")
		}
	case oauth.ResponseTypeToken:
		if !client.allows(oauth.GrantImplicit) {
			return oauth.NewError(oauth.ErrUnauthorizedClient, "The client may not use the implicit grant.")
		}
	default:
		return oauth.NewError(oauth.ErrUnsupportedResponseType, "The response type is not supported.")
	}

	// Response mode: only the default of the response type, query for
	// code and fragment for token (OAuth 2.0 Multiple Response Type
	// Encoding Practices).
	defaultMode := "query"
	if req.ResponseType == oauth.ResponseTypeToken {
		defaultMode = "fragment"
	}
	if responseMode != "" && responseMode != defaultMode {
		return oauth.NewError(oauth.ErrInvalidRequest, "The response mode is not supported.")
	}

	// Scope: a subset of the client's scopes; none requested means all of
	// them (RFC 6749 section 3.3).
	if req.Scope, err = grantedScope(client, scope); err != nil {
		return err
	}

	// PKCE (RFC 7636): S256 only, required for public clients.
	if req.ResponseType == oauth.ResponseTypeCode {
		if err := checkPKCE(client, req); err != nil {
			return err
		}
	} else if req.CodeChallenge != "" {
		return oauth.NewError(oauth.ErrInvalidRequest, "PKCE applies to the authorization code grant only.")
	}

	// Prompt and max_age (OpenID Connect Core section 3.1.2.1).
	switch req.Prompt {
	case "", "none", "login", "consent":
	default:
		return oauth.NewError(oauth.ErrInvalidRequest, "The prompt value is not supported.")
	}
	if maxAge != "" {
		n, convErr := strconv.Atoi(maxAge)
		if convErr != nil || n < 0 {
			return oauth.NewError(oauth.ErrInvalidRequest, "The max_age parameter must be a non-negative integer.")
		}
		req.MaxAge = n
	}
	return nil
}

// maxEchoedParam is the maximum length in bytes of state and nonce.
const maxEchoedParam = 2048

func checkPKCE(client *Client, req *store.Transaction) error {
	if req.CodeChallenge == "" {
		if req.CodeChallengeMethod != "" {
			return oauth.NewError(oauth.ErrInvalidRequest, "The code_challenge parameter is missing.")
		}
		if client.Public {
			return oauth.NewError(oauth.ErrInvalidRequest, "Public clients must use PKCE with S256.")
		}
		return nil
	}
	// An absent method means plain (RFC 7636 section 4.3), which is not
	// accepted: a plain challenge is the verifier itself.
	if req.CodeChallengeMethod != oauth.PKCEMethodS256 {
		return oauth.NewError(oauth.ErrInvalidRequest, "The code challenge method must be S256.")
	}
	if !oauth.ValidVerifier(req.CodeChallenge) || len(req.CodeChallenge) != 43 {
		return oauth.NewError(oauth.ErrInvalidRequest, "The code challenge is malformed.")
	}
	return nil
}

// grantedScope returns the scope to grant for a request of requested.
func grantedScope(client *Client, requested string) (string, error) {
	if strings.TrimSpace(requested) == "" {
		return strings.Join(client.Scopes, " "), nil
	}
	var granted []string
	for _, sc := range strings.Fields(requested) {
		if !slices.Contains(client.Scopes, sc) {
			return "", oauth.NewError(oauth.ErrInvalidScope, "The requested scope is not allowed for this client.")
		}
		if !slices.Contains(granted, sc) {
			granted = append(granted, sc)
		}
	}
	return strings.Join(granted, " "), nil
}

// redirectErr turns err into an error response sent to the client's
// checked redirect URI, in the fragment for the implicit grant.
func (s *Server) redirectErr(req *store.Transaction, err error) error {
	return &redirectError{
		err:         oauth.AsError(err),
		redirectURI: req.RedirectURI,
		state:       req.State,
		inFragment:  req.ResponseType == oauth.ResponseTypeToken,
	}
}

func hasScope(scope, want string) bool {
	return slices.Contains(strings.Fields(scope), want)
}
