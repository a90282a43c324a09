package authserver

import (
	"context"
	"crypto/subtle"
	"errors"
	"html/template"
	"net/http"
	"strings"

	"github.com/oidcstack/oidcstack/authserver/store"
	"github.com/oidcstack/oidcstack/internal/oauth"
	"github.com/oidcstack/oidcstack/internal/trace"
)

// The consent screen (13a) sits between the login and the authorization
// response. It is shown for clients with RequireConsent until the user
// has allowed every requested scope once, and for every request with
// prompt=consent. The request waits as a login transaction bound to the
// browser's transaction cookie and to its session; the form carries the
// transaction's CSRF token.

const consentTemplate = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Allow access</title><style>` + pageStyle + `</style></head>
<body>
<h1>Allow access</h1>
<p>{{.ClientID}} requests access to your account:</p>
<ul>
{{range .Scopes}}<li>{{.}}</li>
{{end}}</ul>
<form method="post" action="{{.Action}}">
<input type="hidden" name="csrf_token" value="{{.CSRFToken}}">
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>
</body>
</html>
`

// consentPage is parsed once. html/template escapes every value and is
// safe for concurrent use.
var consentPage = template.Must(template.New("consent").Parse(consentTemplate))

type consentPageData struct {
	Action    string
	ClientID  string
	CSRFToken string
	Scopes    []string
}

// scopeDescriptions explain the standard scopes on the consent page.
// Other scopes are shown by name.
var scopeDescriptions = map[string]string{
	"openid":  "Confirm who you are",
	"profile": "Your name and profile picture",
	"email":   "Your email address",
}

// Decisions of the consent form.
const (
	consentAllow = "allow"
	consentDeny  = "deny"
)

// askConsent checks whether the user must consent before the server
// responds to req. If so, it stores req as a transaction waiting for
// consent and redirects to the consent page. It reports whether it wrote
// the response or returned the request's error.
func (s *Server) askConsent(w http.ResponseWriter, r *http.Request, req *store.Transaction, ses *store.Session) (bool, error) {
	client, ok := s.clients[req.ClientID]
	if !ok {
		return false, nil
	}
	needed, err := s.consentNeeded(r.Context(), client, req, ses.UserID)
	if err != nil {
		return true, s.redirectErr(req, err)
	}
	if !needed {
		return false, nil
	}

	// OpenID Connect Core section 3.1.2.6: prompt=none shows no page.
	if req.Prompt == "none" {
		return true, s.redirectErr(req, oauth.NewError(oauth.ErrConsentRequired, "The user has not allowed this client."))
	}

	txID := oauth.NewToken()
	now := s.now()
	pending := *req
	pending.ID = oauth.HashToken(txID)
	pending.CSRFToken = oauth.NewToken()
	pending.Upstream = store.UpstreamRequest{}
	pending.SessionID = ses.ID
	pending.CreatedAt, pending.ExpiresAt = now, now.Add(s.transactionTTL)
	if err := s.store.CreateTransaction(r.Context(), pending); err != nil {
		return true, s.redirectErr(req, oauth.Wrap(oauth.ErrServerError, "The consent could not be requested.", err))
	}
	s.setCookie(w, txCookie, txID, s.transactionTTL)
	http.Redirect(w, r, s.issuer+"/consent", http.StatusFound)
	return true, nil
}

// consentNeeded reports whether req needs the consent page: always with
// prompt=consent, and for a client with RequireConsent unless the user
// already allowed every requested scope.
func (s *Server) consentNeeded(ctx context.Context, client *Client, req *store.Transaction, userID string) (bool, error) {
	if req.Prompt == "consent" {
		return true, nil
	}
	if !client.RequireConsent {
		return false, nil
	}
	consent, err := s.store.GetConsent(ctx, userID, client.ID)
	if errors.Is(err, store.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, oauth.Wrap(oauth.ErrServerError, "The consent could not be read.", err)
	}
	for _, sc := range strings.Fields(req.Scope) {
		if !hasScope(consent.Scope, sc) {
			return true, nil
		}
	}
	return false, nil
}

// handleConsentPage shows the consent page of the browser's transaction
// (13a).
func (s *Server) handleConsentPage(w http.ResponseWriter, r *http.Request) error {
	st := s.startStep(r, "13a")
	tx, err := s.consentTransaction(r)
	if err != nil {
		return err
	}
	st.Set(trace.KeyAppState, tx.State)

	data := consentPageData{Action: s.issuer + "/consent", ClientID: tx.ClientID, CSRFToken: tx.CSRFToken}
	for _, sc := range strings.Fields(tx.Scope) {
		if d, ok := scopeDescriptions[sc]; ok {
			sc = d + " (" + sc + ")"
		}
		data.Scopes = append(data.Scopes, sc)
	}
	if err := render(w, http.StatusOK, consentPage, data); err != nil {
		return oauth.Wrap(oauth.ErrServerError, "The consent page could not be shown.", err)
	}
	return nil
}

// handleConsentSubmit takes the user's decision (13a). Deny sends
// access_denied to the client. Allow saves the consent and responds to
// the authorization request (13b).
func (s *Server) handleConsentSubmit(w http.ResponseWriter, r *http.Request) error {
	st := s.startStep(r, "13a")
	if err := parseForm(w, r); err != nil {
		return err
	}
	tx, err := s.consentTransaction(r)
	if err != nil {
		return err
	}
	st.Set(trace.KeyAppState, tx.State)

	// The CSRF token must be the one of this browser's transaction, so
	// another site cannot allow a client in the user's name.
	csrf := r.PostForm.Get("csrf_token")
	if csrf == "" || subtle.ConstantTimeCompare([]byte(csrf), []byte(tx.CSRFToken)) != 1 {
		return &oauth.Error{Code: oauth.ErrInvalidRequest, Description: "The consent form has expired. Start the login again.", Status: http.StatusForbidden}
	}
	decision := r.PostForm.Get("decision")
	if decision != consentAllow && decision != consentDeny {
		return oauth.NewError(oauth.ErrInvalidRequest, "The consent form has no valid decision.")
	}

	// Taking the transaction makes the decision single-use.
	req, err := s.store.TakeTransaction(r.Context(), tx.ID)
	if errors.Is(err, store.ErrNotFound) {
		return oauth.NewError(oauth.ErrInvalidRequest, "The login session has expired or was already used.")
	}
	if err != nil {
		return oauth.Wrap(oauth.ErrServerError, "The login session could not be read.", err)
	}
	s.clearCookie(w, txCookie)

	// The session must still be the one the consent was asked for.
	ses, err := s.currentSession(r)
	if err != nil {
		return s.redirectErr(&req, err)
	}
	if ses == nil || ses.ID != req.SessionID {
		return s.redirectErr(&req, oauth.NewError(oauth.ErrAccessDenied, "The login did not complete."))
	}
	st.Set(trace.KeySubject, ses.UserID)

	if decision == consentDeny {
		s.log.Info("consent denied", "step", "13a", "client_id", req.ClientID, "user_id", ses.UserID)
		return s.redirectErr(&req, oauth.NewError(oauth.ErrAccessDenied, "The user denied the request."))
	}
	if err := s.saveConsent(r.Context(), ses.UserID, &req); err != nil {
		return s.redirectErr(&req, oauth.Wrap(oauth.ErrServerError, "The consent could not be saved.", err))
	}
	s.log.Info("consent given", "step", "13a", "client_id", req.ClientID, "user_id", ses.UserID, "scope", req.Scope)
	finishStep(r, "consent given")

	// The consent just given satisfies prompt=consent.
	req.Prompt = ""
	return s.issueAuthorization(w, r, &req, ses)
}

// consentTransaction returns the browser's transaction if it waits for
// consent, that is, if its user has logged in.
func (s *Server) consentTransaction(r *http.Request) (*store.Transaction, error) {
	tx, err := s.transactionFromCookie(r)
	if err != nil {
		return nil, err
	}
	if tx.SessionID == "" {
		return nil, oauth.NewError(oauth.ErrInvalidRequest, "The login did not complete.")
	}
	return tx, nil
}

// saveConsent adds the scopes of req to those the user already allowed
// the client.
func (s *Server) saveConsent(ctx context.Context, userID string, req *store.Transaction) error {
	scope := req.Scope
	earlier, err := s.store.GetConsent(ctx, userID, req.ClientID)
	switch {
	case err == nil:
		scopes := strings.Fields(earlier.Scope)
		for _, sc := range strings.Fields(req.Scope) {
			if !hasScope(earlier.Scope, sc) {
				scopes = append(scopes, sc)
			}
		}
		scope = strings.Join(scopes, " ")
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	return s.store.SaveConsent(ctx, store.Consent{UserID: userID, ClientID: req.ClientID, Scope: scope, GrantedAt: s.now()})
}
