package authserver

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strconv"

	"golang.org/x/oauth2"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/oidcstack/oidcstack/authserver/store"
	"github.com/oidcstack/oidcstack/internal/oauth"
	"github.com/oidcstack/oidcstack/internal/trace"
)

// handleLoginPage shows the login page of the browser's transaction (3):
// one button per upstream identity provider.
func (s *Server) handleLoginPage(w http.ResponseWriter, r *http.Request) error {
	st := s.startStep(r, "3")
	tx, err := s.transactionFromCookie(r)
	if err != nil {
		return err
	}
	st.Set(trace.KeyAppState, tx.State)

	data := loginPageData{Action: s.issuer + "/login", ClientID: tx.ClientID, CSRFToken: tx.CSRFToken}
	for _, id := range s.upstreamOrder {
		data.Upstreams = append(data.Upstreams, s.upstreams[id].cfg)
	}
	if err := s.pages.writeLogin(w, data); err != nil {
		return oauth.Wrap(oauth.ErrServerError, "The login page could not be shown.", err)
	}
	return nil
}

// handleLoginSubmit takes the chosen provider (4a) and redirects to its
// authentication request with a fresh state, nonce and PKCE verifier (4b).
func (s *Server) handleLoginSubmit(w http.ResponseWriter, r *http.Request) error {
	st := s.startStep(r, "4b")
	if err := parseForm(w, r); err != nil {
		return err
	}
	tx, err := s.transactionFromCookie(r)
	if err != nil {
		return err
	}
	st.Set(trace.KeyAppState, tx.State)

	// The form's CSRF token must be the one of this browser's transaction,
	// so another site cannot start a login in the user's name.
	csrf := r.PostForm.Get("csrf_token")
	if csrf == "" || subtle.ConstantTimeCompare([]byte(csrf), []byte(tx.CSRFToken)) != 1 {
		return &oauth.Error{Code: oauth.ErrInvalidRequest, Description: "The login form has expired; start the login again.", Status: http.StatusForbidden}
	}
	up, ok := s.upstreams[r.PostForm.Get("idp")]
	if !ok {
		return oauth.NewError(oauth.ErrInvalidRequest, "The identity provider is unknown.")
	}

	disc, err := up.discover(r.Context(), s.client, s.now)
	if err != nil {
		return s.redirectErr(tx, oauth.Wrap(oauth.ErrTemporarilyUnavailable, "The identity provider is unavailable.", err))
	}
	req := store.UpstreamRequest{
		UpstreamID:   up.cfg.ID,
		State:        oauth.NewToken(),
		Nonce:        oauth.NewToken(),
		CodeVerifier: oauth2.GenerateVerifier(),
	}
	if err := s.store.SetTransactionUpstream(r.Context(), tx.ID, req); err != nil {
		return s.redirectErr(tx, oauth.Wrap(oauth.ErrServerError, "The login could not be started.", err))
	}

	opts := []oauth2.AuthCodeOption{oidc.Nonce(req.Nonce), oauth2.S256ChallengeOption(req.CodeVerifier)}
	if tx.Prompt == "login" {
		// The client requested a fresh login, so the provider must not
		// reuse its own session either.
		opts = append(opts, oauth2.SetAuthURLParam("prompt", "login"))
	}
	if tx.MaxAge >= 0 {
		// The callback then checks the ID token's auth_time against it.
		opts = append(opts, oauth2.SetAuthURLParam("max_age", strconv.Itoa(tx.MaxAge)))
	}
	st.Set(trace.KeyUpstreamState, req.State)
	http.Redirect(w, r, disc.oauth2.AuthCodeURL(req.State, opts...), http.StatusFound)
	return nil
}

// transactionFromCookie returns the live transaction named by the
// browser's transaction cookie.
func (s *Server) transactionFromCookie(r *http.Request) (*store.Transaction, error) {
	txID := cookieValue(r, txCookie)
	if txID == "" {
		return nil, oauth.NewError(oauth.ErrInvalidRequest, "The login session was not found in this browser.")
	}
	tx, err := s.store.GetTransaction(r.Context(), oauth.HashToken(txID))
	if errors.Is(err, store.ErrNotFound) {
		return nil, oauth.NewError(oauth.ErrInvalidRequest, "The login session has expired or was already used.")
	}
	if err != nil {
		return nil, oauth.Wrap(oauth.ErrServerError, "The login session could not be read.", err)
	}
	if !s.now().Before(tx.ExpiresAt) {
		return nil, oauth.NewError(oauth.ErrInvalidRequest, "The login session has expired.")
	}
	return &tx, nil
}
