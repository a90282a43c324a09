package authserver

import (
	"errors"
	"net/http"
	"time"

	"github.com/oidcstack/oidcstack/authserver/store"
	"github.com/oidcstack/oidcstack/internal/oauth"
	"github.com/oidcstack/oidcstack/internal/trace"
)

// tokenResponse is the token endpoint's success response (RFC 6749
// section 5.1, RFC 8693 section 2.2.1).
type tokenResponse struct {
	AccessToken     string `json:"access_token"`
	IssuedTokenType string `json:"issued_token_type,omitempty"`
	TokenType       string `json:"token_type"`
	// ExpiresIn is in whole seconds.
	ExpiresIn    int64  `json:"expires_in"`
	Scope        string `json:"scope,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
}

// handleToken is the token endpoint: it authenticates the client, checks
// the request's origin, and dispatches on grant_type.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) error {
	s.allowAnyClientOrigin(w, r)
	if err := parseForm(w, r); err != nil {
		return err
	}
	grant, err := singleParam(r.PostForm, "grant_type")
	if err != nil {
		return err
	}
	step := "14c"
	if grant == oauth.GrantTokenExchange {
		step = "17"
	}
	st := s.startStep(r, step)

	client, err := s.authenticateClient(r)
	if err != nil {
		return err
	}
	if err := checkOrigin(r, client); err != nil {
		return err
	}

	var resp *tokenResponse
	switch grant {
	case "":
		return oauth.NewError(oauth.ErrInvalidRequest, "The grant_type parameter is missing.")
	case oauth.GrantAuthorizationCode:
		resp, err = s.authorizationCodeGrant(r, client, st)
	case oauth.GrantRefreshToken:
		resp, err = s.refreshTokenGrant(r, client, st)
	case oauth.GrantTokenExchange:
		resp, err = s.tokenExchange(r, client, st)
	case oauth.GrantClientCredentials:
		resp, err = s.clientCredentialsGrant(r, client, st)
	default:
		return oauth.NewError(oauth.ErrUnsupportedGrantType, "The grant type is not supported.")
	}
	if err != nil {
		return err
	}
	oauth.WriteJSON(w, http.StatusOK, resp)
	return nil
}

// codeRequest is an authorization code grant request (RFC 6749 section
// 4.1.3, RFC 7636 section 4.5).
type codeRequest struct {
	code         string
	redirectURI  string
	codeVerifier string
}

func parseCodeRequest(r *http.Request) (codeRequest, error) {
	var req codeRequest
	var err error
	for name, dst := range map[string]*string{
		"code": &req.code, "redirect_uri": &req.redirectURI, "code_verifier": &req.codeVerifier,
	} {
		if *dst, err = singleParam(r.PostForm, name); err != nil {
			return req, err
		}
	}
	if req.code == "" {
		return req, oauth.NewError(oauth.ErrInvalidRequest, "The code parameter is missing.")
	}
	return req, nil
}

// authorizationCodeGrant redeems a code for tokens (14c).
func (s *Server) authorizationCodeGrant(r *http.Request, client *Client, st *trace.Step) (*tokenResponse, error) {
	if !client.allows(oauth.GrantAuthorizationCode) {
		return nil, oauth.NewError(oauth.ErrUnauthorizedClient, "The client may not use the authorization code grant.")
	}
	req, err := parseCodeRequest(r)
	if err != nil {
		return nil, err
	}
	st.Set(trace.KeyCode, req.code)

	codeHash := oauth.HashToken(req.code)
	now := s.now()
	var issued *issuedTokens
	var redeemed store.AuthCode
	// A failed check leaves the code unused, so a party holding a stolen
	// code but not the PKCE verifier cannot use it up.
	err = s.store.RedeemAuthCode(r.Context(), codeHash, func(c store.AuthCode) (store.Tokens, error) {
		if err := checkCode(c, client, req, now); err != nil {
			return store.Tokens{}, err
		}
		redeemed = c
		issued = s.newTokens(client, c.UserID, c.Scope, codeHash, c.SessionID, c.AuthTime, now)
		return issued.stored, nil
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, oauth.NewError(oauth.ErrInvalidGrant, "The authorization code is invalid.")
	case errors.Is(err, store.ErrAlreadyUsed):
		// RFC 6749 section 4.1.2: a code used twice may have been stolen,
		// so the tokens issued for it are revoked.
		hashes, revokeErr := s.store.RevokeGrant(r.Context(), codeHash, now)
		if revokeErr != nil {
			s.log.Error("revoke tokens of a replayed code failed", "step", "14c", "err", revokeErr)
		}
		s.pushRevoked(hashes...)
		return nil, oauth.Wrap(oauth.ErrInvalidGrant, "The authorization code is invalid.",
			errors.New("code replayed; its grant is revoked"))
	case err != nil:
		return nil, oauth.AsError(err)
	}

	resp := issued.response()
	st.Set(trace.KeyAccessToken, issued.accessToken).Set(trace.KeySubject, redeemed.UserID)
	if hasScope(redeemed.Scope, "openid") {
		resp.IDToken, err = s.signIDToken(r.Context(), idTokenParams{
			clientID: client.ID, userID: redeemed.UserID, scope: redeemed.Scope, nonce: redeemed.Nonce,
			authTime: redeemed.AuthTime, accessToken: issued.accessToken, now: now,
		})
		if err != nil {
			return nil, s.abandonGrant(r, codeHash, err)
		}
	}
	s.pushIssued(r.Context(), issued.stored.Access)
	return resp, nil
}

// abandonGrant revokes the tokens just stored for a response that fails
// after all, so that no token exists that its client never received.
func (s *Server) abandonGrant(r *http.Request, grantID string, cause error) error {
	hashes, err := s.store.RevokeGrant(r.Context(), grantID, s.now())
	if err != nil {
		s.log.Error("revoke tokens of a failed response failed", "grant_fp", trace.Fingerprint(grantID), "err", err)
	}
	s.pushRevoked(hashes...)
	return cause
}

// checkCode is the checklist of RFC 6749 section 4.1.3 and RFC 7636
// section 4.6 for a stored code.
func checkCode(c store.AuthCode, client *Client, req codeRequest, now time.Time) error {
	invalid := func(cause string) error {
		return oauth.Wrap(oauth.ErrInvalidGrant, "The authorization code is invalid.", errors.New(cause))
	}

	// The code was issued to this client.
	if c.ClientID != client.ID {
		return invalid("code issued to another client")
	}

	// The code has not expired.
	if !now.Before(c.ExpiresAt) {
		return invalid("code expired")
	}

	// The redirect URI equals the one of the authorization request.
	if req.redirectURI != c.RedirectURI {
		return invalid("redirect_uri differs from the authorization request")
	}

	// The PKCE verifier matches the challenge; a verifier without a
	// challenge is rejected too, against PKCE downgrade (RFC 9700
	// section 4.8).
	if c.CodeChallenge == "" {
		if req.codeVerifier != "" {
			return invalid("code_verifier sent for a code without challenge")
		}
		return nil
	}
	if !oauth.VerifyPKCE(c.CodeChallengeMethod, c.CodeChallenge, req.codeVerifier) {
		return invalid("code_verifier does not match the code challenge")
	}
	return nil
}
