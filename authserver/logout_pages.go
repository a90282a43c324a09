package authserver

import (
	"html/template"
	"net/http"

	"github.com/oidcstack/oidcstack/internal/oauth"
)

// The pages of the end_session_endpoint: the confirmation, the result and
// the error page. Their texts speak of logging out, not of logging in.

const logoutConfirmTemplate = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Log out</title><style>` + pageStyle + `</style></head>
<body>
<h1>Log out</h1>
<p>{{if .ClientID}}{{.ClientID}} asks you to log out.{{else}}An application asks you to log out.{{end}}
Logging out ends your session here and the access of every application you logged in to with it.</p>
<form method="post" action="{{.Action}}">
<input type="hidden" name="csrf_token" value="{{.CSRFToken}}">
{{if .ClientID}}<input type="hidden" name="client_id" value="{{.ClientID}}">
{{end}}{{if .PostLogoutRedirectURI}}<input type="hidden" name="post_logout_redirect_uri" value="{{.PostLogoutRedirectURI}}">
{{end}}{{if .State}}<input type="hidden" name="state" value="{{.State}}">
{{end}}<button type="submit" id="confirm-logout">Log out</button>
</form>
</body>
</html>
`

const loggedOutTemplate = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Logged out</title><style>` + pageStyle + `</style></head>
<body>
<h1>You are logged out</h1>
<p id="logged-out">You can close this page.</p>
</body>
</html>
`

const logoutErrorTemplate = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Logout error</title><style>` + pageStyle + `</style></head>
<body>
<h1>Logout failed</h1>
<p id="error-code">{{.Code}}</p>
<p id="error-description">{{.Description}}</p>
<p>Go back to the application and log out again.</p>
</body>
</html>
`

// The templates are parsed once. html/template escapes every value and is
// safe for concurrent use.
var (
	logoutConfirmPage = template.Must(template.New("logout-confirm").Parse(logoutConfirmTemplate))
	loggedOutPage     = template.Must(template.New("logged-out").Parse(loggedOutTemplate))
	logoutErrorPage   = template.Must(template.New("logout-error").Parse(logoutErrorTemplate))
)

type logoutConfirmData struct {
	Action                string
	CSRFToken             string
	ClientID              string
	PostLogoutRedirectURI string
	State                 string
}

// logoutPage wraps the end_session_endpoint: every error becomes the
// logout error page, never a redirect. The page shows the generic
// description; the cause goes to the log only.
func (s *Server) logoutPage(h handlerFunc) http.Handler {
	return s.wrap(h, func(w http.ResponseWriter, _ *http.Request, err error) {
		oe := oauth.AsError(err)
		description := oe.Description
		if description == "" {
			description = "The request could not be processed."
		}
		_ = render(w, oe.HTTPStatus(), logoutErrorPage, struct{ Code, Description string }{oe.Code, description})
	})
}

// writeLogoutConfirm renders the confirmation page for the session whose
// cookie value is cookie. The form repeats the request's parameters except
// the hint, which the confirmation replaces.
func (s *Server) writeLogoutConfirm(w http.ResponseWriter, req *logoutRequest, cookie string) error {
	data := logoutConfirmData{
		Action:                s.issuer + "/logout",
		CSRFToken:             logoutCSRFToken(cookie),
		PostLogoutRedirectURI: req.postLogoutRedirectURI,
		State:                 req.state,
	}
	if req.client != nil {
		data.ClientID = req.client.ID
	}
	if err := render(w, http.StatusOK, logoutConfirmPage, data); err != nil {
		return oauth.Wrap(oauth.ErrServerError, "The logout page could not be shown.", err)
	}
	return nil
}

// writeLoggedOut renders the page shown when no redirect follows the
// logout.
func (s *Server) writeLoggedOut(w http.ResponseWriter) error {
	if err := render(w, http.StatusOK, loggedOutPage, nil); err != nil {
		return oauth.Wrap(oauth.ErrServerError, "The logout page could not be shown.", err)
	}
	return nil
}
