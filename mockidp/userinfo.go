package mockidp

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/oidcstack/oidcstack/internal/oauth"
)

// bearerRealm is the realm of the userinfo endpoint's Bearer challenges.
const bearerRealm = "mockidp"

// handleUserinfo serves the userinfo endpoint (step 10b, OpenID Connect
// Core section 5.3). The access token comes in the Authorization header
// or, for POST, in the form body (RFC 6750 section 2).
func (s *Server) handleUserinfo(w http.ResponseWriter, r *http.Request, iss *issuer) {
	start := time.Now()
	claims, oerr := s.userinfo(r, iss)
	status := http.StatusOK
	switch {
	case oerr == nil:
		oauth.WriteJSON(w, status, claims)
	case oerr.Code == "":
		// RFC 6750 section 3.1: a request without a token gets a challenge
		// without an error code.
		status = http.StatusUnauthorized
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+bearerRealm+`"`)
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
	default:
		status = oerr.HTTPStatus()
		w.Header().Set("WWW-Authenticate",
			`Bearer realm="`+bearerRealm+`", error="`+oerr.Code+`", error_description="`+oerr.Description+`"`)
		oauth.WriteError(w, oerr)
	}
	note := ""
	if oerr != nil {
		note = oerr.Code
	}
	s.record(r, start, "10b", status, note)
}

// userinfo returns the claims the request's bearer token releases. An
// error with an empty Code means the request carried no token.
func (s *Server) userinfo(r *http.Request, iss *issuer) (map[string]any, *oauth.Error) {
	token, oerr := bearerToken(r)
	if oerr != nil {
		return nil, oerr
	}

	g, _, ok := iss.lookupAccessToken(token, s.now())
	if !ok {
		return nil, oauth.NewError(oauth.ErrInvalidToken, "The access token is invalid or expired.")
	}
	// Userinfo describes a user, so the token needs openid scope (OpenID
	// Connect Core section 5.3).
	if g.subject == "" || !slices.Contains(g.scope, "openid") {
		return nil, oauth.NewError(oauth.ErrInsufficientScope, "The access token has no openid scope.")
	}
	user, ok := iss.user(g.subject)
	if !ok {
		return nil, oauth.NewError(oauth.ErrInvalidToken, "The user no longer exists.")
	}
	claims := userClaims(user, g.scope)
	if f, ok := iss.takeFault(targetUserinfo, g.clientID); ok {
		s.log.Info("fault applied", "step", "10b", "issuer", iss.name, "fault", f.Name, "client_id", g.clientID)
		claims["sub"] = user.Subject + "-other"
	}
	return claims, nil
}

// bearerToken extracts the access token from the Authorization header or
// the form body; a request must not use both (RFC 6750 section 2).
func bearerToken(r *http.Request) (string, *oauth.Error) {
	header := r.Header.Get("Authorization")
	var fromBody string
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		fromBody = r.PostFormValue("access_token")
	}

	switch {
	case header != "" && fromBody != "":
		return "", oauth.NewError(oauth.ErrInvalidRequest, "Send the access token in one place only.")
	case header != "":
		scheme, token, ok := strings.Cut(header, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			return "", oauth.NewError(oauth.ErrInvalidRequest, "The Authorization header must be a Bearer token.")
		}
		return strings.TrimSpace(token), nil
	case fromBody != "":
		return fromBody, nil
	default:
		return "", &oauth.Error{}
	}
}
