package authserver

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/oidcstack/oidcstack/authserver/store"
	"github.com/oidcstack/oidcstack/internal/oauth"
	"github.com/oidcstack/oidcstack/internal/trace"
)

// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): a client
// sends the browser to the end_session_endpoint, GET /logout, or posts a
// form there. The server deletes the browser's session, revokes every
// access and refresh token issued under it, pushes the revocations to the
// gateways and sends the browser back to the client's registered
// post-logout redirect URI.
//
// A request ends the session at once only when its id_token_hint, an ID
// token this server issued, names the session's user. Otherwise the
// server shows a confirmation page whose form is bound to the session
// cookie, so a cross-site link cannot log a user out. Section 2 requires
// this confirmation when no hint is given or the hint does not belong to
// the current session. The logout_hint and ui_locales parameters are
// ignored.

// logoutRequest is a validated logout request.
type logoutRequest struct {
	// hint is the verified id_token_hint, nil without one.
	hint *logoutHint
	// client is the client named by client_id or by the hint's aud, nil
	// when neither names one.
	client *Client
	// postLogoutRedirectURI is registered for client, or empty.
	postLogoutRedirectURI string
	state                 string
	// confirmation marks the submission of the confirmation form, whose
	// csrfToken must match the session cookie.
	confirmation bool
	csrfToken    string
}

// logoutHint holds the claims of a verified id_token_hint.
type logoutHint struct {
	subject  string
	clientID string
}

// errLogoutHint marks every rejection of an id_token_hint. The wrapping
// error names the failed check.
var errLogoutHint = errors.New("id_token_hint rejected")

// handleLogout is the end_session_endpoint. Every error is shown as a
// page and never redirected, because the redirect target is trusted only
// after every check has passed (section 4).
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) error {
	req, err := s.parseLogout(w, r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	cookie := cookieValue(r, sessionCookie)

	// The confirmation form carries a token derived from the session
	// cookie, which another site can neither read nor guess.
	if req.confirmation {
		want := logoutCSRFToken(cookie)
		if cookie == "" || subtle.ConstantTimeCompare([]byte(req.csrfToken), []byte(want)) != 1 {
			return &oauth.Error{Code: oauth.ErrInvalidRequest, Status: http.StatusForbidden,
				Description: "The logout form has expired. Log out again from the application."}
		}
	}

	if cookie != "" {
		ses, err := s.sessionForLogout(ctx, cookie)
		if err != nil {
			return err
		}
		if !req.confirmation && !req.hint.matches(ses) {
			return s.writeLogoutConfirm(w, req, cookie)
		}
		if err := s.endSession(ctx, w, req, cookie, ses); err != nil {
			return err
		}
	}

	// Section 3: a redirect only to a registered URI, and only for a
	// client that proved itself with its ID token or whose logout the
	// user confirmed here.
	if req.postLogoutRedirectURI != "" && (req.hint != nil || req.confirmation) {
		params := url.Values{}
		if req.state != "" {
			params.Set("state", req.state)
		}
		status := http.StatusFound
		if r.Method == http.MethodPost {
			status = http.StatusSeeOther
		}
		http.Redirect(w, r, oauth.AddParams(req.postLogoutRedirectURI, params, false), status)
		return nil
	}
	return s.writeLoggedOut(w)
}

// endSession deletes the browser's session, revokes the tokens issued
// under it and expires the cookie. It waits up to pushWait for the
// revocations to reach the gateways, so a token the client still holds
// fails at the gateway by the time the browser is back at the client.
func (s *Server) endSession(ctx context.Context, w http.ResponseWriter, req *logoutRequest, cookie string, ses *store.Session) error {
	revoked, err := s.store.EndSession(ctx, oauth.HashToken(cookie), s.now())
	if err != nil {
		return oauth.Wrap(oauth.ErrServerError, "The session could not be ended.", err)
	}
	s.clearCookie(w, sessionCookie)

	attrs := []any{"revoked_access_tokens", len(revoked), "confirmed", req.confirmation}
	if req.client != nil {
		attrs = append(attrs, "client_id", req.client.ID)
	}
	if ses != nil {
		attrs = append(attrs, "sub_fp", trace.Fingerprint(ses.UserID))
	}
	s.log.Info("session ended", attrs...)
	s.waitDelivered(ctx, s.pushRevoked(revoked...), "push logout revocation not yet delivered", "revoked_access_tokens", len(revoked))
	return nil
}

// sessionForLogout returns the session named by cookie, expired or not,
// or nil when the store has none.
func (s *Server) sessionForLogout(ctx context.Context, cookie string) (*store.Session, error) {
	ses, err := s.store.GetSession(ctx, oauth.HashToken(cookie))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, oauth.Wrap(oauth.ErrServerError, "The session could not be read.", err)
	}
	return &ses, nil
}

// matches reports whether the hint names the user of ses. A nil hint or
// session matches nothing.
func (h *logoutHint) matches(ses *store.Session) bool {
	return h != nil && ses != nil && h.subject == ses.UserID
}

// logoutCSRFToken returns the confirmation form's token for the session
// cookie value: a hash with a purpose prefix, so the token reveals neither
// the cookie nor the session ID the store keeps.
func logoutCSRFToken(cookie string) string {
	return oauth.HashToken("logout-confirmation:" + cookie)
}

// parseLogout reads the parameters of section 2 from the query or the
// form body and validates them.
func (s *Server) parseLogout(w http.ResponseWriter, r *http.Request) (*logoutRequest, error) {
	if err := parseForm(w, r); err != nil {
		return nil, err
	}
	req := &logoutRequest{}
	var rawHint, clientID string
	for name, dst := range map[string]*string{
		"id_token_hint": &rawHint, "client_id": &clientID,
		"post_logout_redirect_uri": &req.postLogoutRedirectURI, "state": &req.state,
	} {
		var err error
		if *dst, err = singleParam(r.Form, name); err != nil {
			return nil, err
		}
	}
	if r.Method == http.MethodPost && r.PostForm.Has("csrf_token") {
		req.confirmation = true
		req.csrfToken = r.PostForm.Get("csrf_token")
	}

	// state comes back in the redirect, so an anonymous request may not
	// make it long.
	if len(req.state) > maxEchoedParam {
		return nil, oauth.NewError(oauth.ErrInvalidRequest, "The state parameter is too long.")
	}

	// Section 2: the hint must be an ID token this server issued.
	if rawHint != "" {
		hint, err := s.verifyLogoutHint(rawHint)
		if err != nil {
			return nil, oauth.Wrap(oauth.ErrInvalidRequest, "The id_token_hint is invalid.", err)
		}
		req.hint = hint
	}

	// Section 2: with both, client_id must be the client the hint was
	// issued to.
	if clientID != "" {
		client, ok := s.clients[clientID]
		if !ok {
			return nil, oauth.NewError(oauth.ErrInvalidRequest, "The client is unknown.")
		}
		if req.hint != nil && req.hint.clientID != clientID {
			return nil, oauth.NewError(oauth.ErrInvalidRequest, "The client_id does not match the id_token_hint.")
		}
		req.client = client
	} else if req.hint != nil {
		req.client = s.clients[req.hint.clientID]
	}

	// Section 3: the redirect URI must exactly match one that the client
	// registered (simple string comparison).
	if req.postLogoutRedirectURI != "" {
		if req.client == nil {
			return nil, oauth.NewError(oauth.ErrInvalidRequest, "A post_logout_redirect_uri needs a client_id or an id_token_hint.")
		}
		if !slices.Contains(req.client.PostLogoutRedirectURIs, req.postLogoutRedirectURI) {
			return nil, oauth.NewError(oauth.ErrInvalidRequest, "The post-logout redirect URI is not registered for this client.")
		}
	}
	return req, nil
}

// verifyLogoutHint checks an id_token_hint, one block per check, with the
// signature checked before any claim is read.
func (s *Server) verifyLogoutHint(raw string) (*logoutHint, error) {
	// RS256 only, the one algorithm this server signs with.
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errLogoutHint, err)
	}
	if len(tok.Headers) != 1 {
		return nil, fmt.Errorf("%w: %d signatures, want 1", errLogoutHint, len(tok.Headers))
	}
	header := tok.Headers[0]

	// The typ of this server's ID tokens is "JWT". Its exchanged and
	// pushed access tokens ("at+jwt") and security events are no hint.
	if typ, _ := header.ExtraHeaders[jose.HeaderType].(string); typ != "JWT" {
		return nil, fmt.Errorf("%w: typ %q, want \"JWT\"", errLogoutHint, typ)
	}

	// The signature, by a key this server still publishes. A hint signed
	// by a retired key fails here.
	var claims struct {
		Issuer   string       `json:"iss"`
		Subject  string       `json:"sub"`
		Audience jwt.Audience `json:"aud"`
	}
	key := s.publishedKey(header.KeyID)
	if key == nil {
		return nil, fmt.Errorf("%w: unknown kid %q", errLogoutHint, header.KeyID)
	}
	if err := tok.Claims(&key.Private.PublicKey, &claims); err != nil {
		return nil, fmt.Errorf("%w: signature: %w", errLogoutHint, err)
	}

	// This server issued it.
	if claims.Issuer != s.issuer {
		return nil, fmt.Errorf("%w: iss %q, want %q", errLogoutHint, claims.Issuer, s.issuer)
	}

	// It was issued to one registered client, and names a user.
	if len(claims.Audience) != 1 {
		return nil, fmt.Errorf("%w: aud has %d values, want 1", errLogoutHint, len(claims.Audience))
	}
	if _, ok := s.clients[claims.Audience[0]]; !ok {
		return nil, fmt.Errorf("%w: aud %q: client not found", errLogoutHint, claims.Audience[0])
	}
	if claims.Subject == "" {
		return nil, fmt.Errorf("%w: sub is missing", errLogoutHint)
	}

	// exp is not checked: OpenID Connect RP-Initiated Logout 1.0 section 2
	// lets the OP accept an expired ID token as a hint, because a client's
	// ID token often expires long before its user logs out.
	return &logoutHint{subject: claims.Subject, clientID: claims.Audience[0]}, nil
}
