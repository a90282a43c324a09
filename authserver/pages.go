package authserver

import (
	"bytes"
	"html/template"
	"net/http"

	"github.com/oidcstack/oidcstack/internal/httpx"
	"github.com/oidcstack/oidcstack/internal/oauth"
)

// pages renders the server's HTML pages. Templates are parsed once per
// server; html/template escapes every value.
type pages struct {
	login *template.Template
	error *template.Template
}

const pageStyle = `body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem}
button{display:block;width:100%;padding:.7rem;margin:.5rem 0;font-size:1rem;cursor:pointer}`

const loginTemplate = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Log in</title><style>` + pageStyle + `</style></head>
<body>
<h1>Log in</h1>
<p>{{.ClientID}} asks you to log in.</p>
<form method="post" action="{{.Action}}">
<input type="hidden" name="csrf_token" value="{{.CSRFToken}}">
{{range .Upstreams}}<button type="submit" name="idp" value="{{.ID}}">Log in with {{.DisplayName}}</button>
{{end}}</form>
</body>
</html>
`

const errorTemplate = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Login error</title><style>` + pageStyle + `</style></head>
<body>
<h1>Login failed</h1>
<p id="error-code">{{.Code}}</p>
<p id="error-description">{{.Description}}</p>
<p>Go back to the application and start the login again.</p>
</body>
</html>
`

func newPages() *pages {
	return &pages{
		login: template.Must(template.New("login").Parse(loginTemplate)),
		error: template.Must(template.New("error").Parse(errorTemplate)),
	}
}

type loginPageData struct {
	Action    string
	ClientID  string
	CSRFToken string
	Upstreams []Upstream
}

// writeLogin renders the login page (step 3).
func (p *pages) writeLogin(w http.ResponseWriter, data loginPageData) error {
	return render(w, http.StatusOK, p.login, data)
}

// writeError renders the error page for failures that must not redirect
// to the client, such as an unregistered redirect URI.
func (p *pages) writeError(w http.ResponseWriter, status int, err *oauth.Error) {
	description := err.Description
	if description == "" {
		description = "The request could not be processed."
	}
	_ = render(w, status, p.error, struct{ Code, Description string }{err.Code, description})
}

// render executes t into a buffer first, so a template failure never
// leaves half a page behind.
func render(w http.ResponseWriter, status int, t *template.Template, data any) error {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return err
	}
	httpx.PageHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	return nil
}
