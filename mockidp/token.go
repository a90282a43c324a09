package mockidp

import (
	"net/http"
	"net/url"
	"strings"
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

// handleToken serves the token endpoint (step 10a).
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request, iss *issuer) {
	start := time.Now()
	resp, code, err := s.token(r, iss)
	status := http.StatusOK
	note := ""
	if err != nil {
		status = err.HTTPStatus()
		note = err.Code
		s.log.Info("token request rejected", "step", "10a", "issuer", iss.name, "err", err)
		oauth.WriteError(w, err)
	} else {
		oauth.WriteJSON(w, status, resp)
	}
	s.record(r, start, "10a", status, note, trace.KeyCode, code)
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

// codeGrant redeems an authorization code (RFC 6749 section 4.1.3).
func (s *Server) codeGrant(iss *issuer, client Client, form url.Values) (tokenResponse, *oauth.Error) {
	cr := codeRedemption{
		code:         form.Get("code"),
		redirectURI:  form.Get("redirect_uri"),
		codeVerifier: form.Get("code_verifier"),
	}
	if cr.code == "" {
		return tokenResponse{}, oauth.NewError(oauth.ErrInvalidRequest, "The request has no code.")
	}
	now := s.now()
	// A redeemed code is remembered as long as its access tokens live, so
	// a replay within that time revokes them.
	g, oerr := iss.redeemCode(client.ID, cr, now, s.cfg.TokenTTL)
	if oerr != nil {
		return tokenResponse{}, oerr
	}
	view := iss.snapshot(g)
	resp, err := s.issueTokens(iss, g, view, true, now)
	if err != nil {
		return tokenResponse{}, err
	}
	if view.accessType == "offline" {
		resp.RefreshToken = iss.issueRefreshToken(g)
	}
	return resp, nil
}

// issueTokens issues an access token for g and, when its scope has openid,
// an ID token. view is a copy of g taken under the issuer's lock.
func (s *Server) issueTokens(iss *issuer, g *grant, view grant, withNonce bool, now time.Time) (tokenResponse, *oauth.Error) {
	access, _ := iss.issueAccessToken(g, now, s.cfg.TokenTTL)
	resp := tokenResponse{
		AccessToken: access,
		TokenType:   oauth.TokenTypeBearer,
		ExpiresIn:   int64(s.cfg.TokenTTL / time.Second),
		Scope:       strings.Join(view.scope, " "),
	}
	if view.subject == "" || !hasScope(view.scope, "openid") {
		return resp, nil
	}

	user, ok := iss.user(view.subject)
	if !ok {
		return tokenResponse{}, oauth.NewError(oauth.ErrInvalidGrant, "The user no longer exists.")
	}
	p := idTokenParams{
		issuer:      iss.url,
		clientID:    view.clientID,
		authTime:    view.authTime,
		accessToken: access,
		now:         now,
		ttl:         s.cfg.TokenTTL,
	}
	if withNonce {
		p.nonce = view.nonce
	}
	idToken, err := iss.keys.Sign(idTokenClaims(user, view.scope, p), "JWT")
	if err != nil {
		return tokenResponse{}, oauth.Wrap(oauth.ErrServerError, "The server failed to sign the ID token.", err)
	}
	resp.IDToken = idToken
	return resp, nil
}

func hasScope(scope []string, name string) bool {
	for _, s := range scope {
		if s == name {
			return true
		}
	}
	return false
}
