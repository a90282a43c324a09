package mockidp

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"

	"github.com/oidcstack/oidcstack/internal/httpx"
)

// Form field names of the login page, for tests that fill it in.
const (
	FieldUsername  = "username"
	FieldPassword  = "password"
	FieldCSRFToken = "csrf_token"
	FieldTx        = "tx"
	// FieldAction is the name of the submit buttons; their values are
	// ActionLogin and ActionCancel on the login page, ActionAllow and
	// ActionDeny on the consent page.
	FieldAction  = "action"
	ActionLogin  = "login"
	ActionCancel = "cancel"
	ActionAllow  = "allow"
	ActionDeny   = "deny"
)

const pageStyle = `<style>body{font-family:system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem}
label,input,button{display:block;width:100%;margin:.4rem 0;font-size:1rem}button{padding:.5rem}
.error{color:#b00020}.muted{color:#555}</style>`

var pages = template.Must(template.New("pages").Parse(`
{{define "head"}}<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{{.}}</title>` + pageStyle + `</head><body>{{end}}

{{define "login"}}{{template "head" "Sign in"}}
<h1>Sign in</h1>
<p class="muted">to continue to <b>{{.ClientID}}</b> via the {{.Issuer}} test identity provider</p>
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
{{if .Accounts}}<p class="muted">Choose an account</p>
<ul id="accounts">{{range .Accounts}}<li><a href="{{.URL}}">{{.Name}} ({{.Email}})</a></li>{{end}}</ul>{{end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="tx" value="{{.Tx}}">
<input type="hidden" name="csrf_token" value="{{.CSRF}}">
<label for="username">Email</label>
<input id="username" name="username" type="email" autocomplete="username" value="{{.Username}}" required autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password">
<button id="login" type="submit" name="action" value="login">Sign in</button>
<button id="cancel" type="submit" name="action" value="cancel" formnovalidate>Cancel</button>
</form></body></html>{{end}}

{{define "consent"}}{{template "head" "Allow access"}}
<h1>Allow access?</h1>
<p><b>{{.ClientID}}</b> asks to access your account <b>{{.Email}}</b>:</p>
<ul>{{range .Scopes}}<li>{{.}}</li>{{end}}</ul>
<form method="post" action="{{.Action}}">
<input type="hidden" name="tx" value="{{.Tx}}">
<input type="hidden" name="csrf_token" value="{{.CSRF}}">
<button id="allow" type="submit" name="action" value="allow">Allow</button>
<button id="deny" type="submit" name="action" value="deny">Deny</button>
</form></body></html>{{end}}

{{define "error"}}{{template "head" "Error"}}
<h1>{{.Title}}</h1><p class="error" role="alert">{{.Message}}</p></body></html>{{end}}

{{define "form_post"}}{{template "head" "Continue"}}
<form method="post" action="{{.Action}}">
{{range $name, $values := .Params}}{{range $values}}<input type="hidden" name="{{$name}}" value="{{.}}">{{end}}{{end}}
<noscript><button type="submit">Continue</button></noscript>
</form><script>document.forms[0].submit()</script></body></html>{{end}}

{{define "logout"}}{{template "head" "Sign out"}}
<h1>Sign out?</h1><p>Sign out of the {{.Issuer}} test identity provider?</p>
<form method="post" action="{{.Action}}">
{{range $name, $value := .Hidden}}<input type="hidden" name="{{$name}}" value="{{$value}}">{{end}}
<button id="logout" type="submit">Sign out</button>
</form></body></html>{{end}}

{{define "signed_out"}}{{template "head" "Signed out"}}
<h1>You are signed out</h1><p>You can close this window.</p></body></html>{{end}}
`))

// loginPageData fills the "login" template.
type loginPageData struct {
	Issuer, ClientID, Action, Tx, CSRF, Username, Error string
	// Accounts fill the account chooser: each link reloads the page with
	// that account's email filled in; the password is still required.
	Accounts []accountChoice
}

// accountChoice is one entry of the login page's account chooser.
type accountChoice struct {
	Name, Email, URL string
}

// consentPageData fills the "consent" template.
type consentPageData struct {
	ClientID, Email, Action, Tx, CSRF string
	Scopes                            []string
}

// errorPageData fills the "error" template.
type errorPageData struct {
	Title, Message string
}

// formPostData fills the "form_post" template (OAuth 2.0 Form Post Response
// Mode): a page that posts Params to Action as soon as it loads.
type formPostData struct {
	Action string
	Params url.Values
}

// logoutPageData fills the "logout" template.
type logoutPageData struct {
	Issuer, Action string
	Hidden         map[string]string
}

// writePage renders the named template with the page headers of every
// login-flow page: no framing, no sniffing, no Referer, no caching.
func writePage(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
		// The templates are fixed and their data is plain strings, so a
		// failure is a programming error. The client gets no detail.
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	httpx.PageHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// writeErrorPage shows an error to the user instead of redirecting, for
// requests whose redirect URI cannot be trusted.
func writeErrorPage(w http.ResponseWriter, status int, message string) {
	writePage(w, status, "error", errorPageData{Title: http.StatusText(status), Message: message})
}
