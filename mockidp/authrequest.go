package mockidp

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/oidcstack/oidcstack/internal/oauth"
)

// OpenID Connect Core section 3.1.2.6 error codes that internal/oauth does
// not define.
const (
	errRequestNotSupported    = "request_not_supported"
	errRequestURINotSupported = "request_uri_not_supported"
)

// Response modes (OAuth 2.0 Multiple Response Type Encoding Practices and
// OAuth 2.0 Form Post Response Mode).
const (
	responseModeQuery    = "query"
	responseModeFormPost = "form_post"
)

// Values of the prompt parameter (OpenID Connect Core section 3.1.2.1).
const (
	promptNone          = "none"
	promptLogin         = "login"
	promptConsent       = "consent"
	promptSelectAccount = "select_account"
)

// supportedScopes are the scopes an authorization request may carry.
var supportedScopes = []string{"openid", "email", "profile", "offline_access"}

// authRequest is a parsed and validated authentication request (OpenID
// Connect Core section 3.1.2.1).
type authRequest struct {
	ClientID            string
	RedirectURI         string
	ResponseMode        string // responseModeQuery or responseModeFormPost
	Scope               []string
	State               string
	Nonce               string
	CodeChallenge       string
	CodeChallengeMethod string // empty when there is no code_challenge
	Prompt              []string
	MaxAge              int // -1 when absent
	LoginHint           string
	AccessType          string // Google's "online" (default) or "offline"

	// params are the request's parameters, to rebuild the authorization URL
	// after a login.
	params url.Values
}

// authError is a rejected authentication request. Unless redirect is set,
// the redirect URI could not be trusted and the user gets an error page.
type authError struct {
	err      *oauth.Error
	redirect bool
}

// has reports whether the request's prompt contains value.
func (a authRequest) has(prompt string) bool { return slices.Contains(a.Prompt, prompt) }

// key identifies the request within a session: logins and consents given
// for it are recorded under this key.
func (a authRequest) key() string { return oauth.HashToken(a.params.Encode()) }

// offline reports whether the client asked for a refresh token.
func (a authRequest) offline() bool {
	return a.AccessType == "offline" || slices.Contains(a.Scope, "offline_access")
}

// parseAuthRequest validates the authentication request in r. Checks whose
// failure cannot be reported to a trusted redirect URI come first (RFC 6749
// section 4.1.2.1).
func parseAuthRequest(r *http.Request, iss *issuer) (authRequest, *authError) {
	pageErr := func(desc string) *authError {
		return &authError{err: oauth.NewError(oauth.ErrInvalidRequest, desc)}
	}
	if err := r.ParseForm(); err != nil {
		return authRequest{}, pageErr("The authorization request could not be parsed.")
	}
	params := r.Form
	req := authRequest{params: params, MaxAge: -1}

	// RFC 6749 section 3.1: parameters must not repeat. A repeated client_id
	// or redirect_uri leaves no redirect URI to trust.
	if len(params["client_id"]) > 1 || len(params["redirect_uri"]) > 1 {
		return req, pageErr("client_id and redirect_uri must appear once.")
	}

	// The client must be registered.
	req.ClientID = params.Get("client_id")
	if req.ClientID == "" {
		return req, pageErr("The request has no client_id.")
	}
	client, ok := iss.client(req.ClientID)
	if !ok {
		return req, pageErr("The client_id is not registered at this issuer.")
	}

	// The redirect URI is required by OpenID Connect and must match a
	// registered one exactly (RFC 6749 section 3.1.2.3).
	req.RedirectURI = params.Get("redirect_uri")
	if req.RedirectURI == "" {
		return req, pageErr("The request has no redirect_uri.")
	}
	if !client.hasRedirectURI(req.RedirectURI) {
		return req, pageErr("The redirect_uri is not registered for this client.")
	}

	// From here on errors go back to the redirect URI, with state, in the
	// requested response mode if that mode is valid.
	req.State = params.Get("state")
	switch mode := params.Get("response_mode"); mode {
	case "", responseModeQuery:
		req.ResponseMode = responseModeQuery
	case responseModeFormPost:
		req.ResponseMode = responseModeFormPost
	default:
		req.ResponseMode = responseModeQuery
		return req, redirectErr(oauth.ErrInvalidRequest, "The response_mode is not supported.")
	}
	if err := req.parseRest(params, client); err != nil {
		return req, err
	}
	return req, nil
}

// parseRest validates the parameters after the client and redirect URI are
// known to be good.
func (req *authRequest) parseRest(params url.Values, client Client) *authError {
	for name, values := range params {
		if len(values) > 1 {
			return redirectErr(oauth.ErrInvalidRequest, "The parameter "+name+" appears more than once.")
		}
	}

	// Request objects are not supported (OpenID Connect Core section 6).
	if params.Has("request") {
		return redirectErr(errRequestNotSupported, "Request objects are not supported.")
	}
	if params.Has("request_uri") {
		return redirectErr(errRequestURINotSupported, "request_uri is not supported.")
	}

	// Only the authorization code flow is supported.
	switch rt := params.Get("response_type"); rt {
	case oauth.ResponseTypeCode:
	case "":
		return redirectErr(oauth.ErrInvalidRequest, "The request has no response_type.")
	default:
		return redirectErr(oauth.ErrUnsupportedResponseType, "Only response_type=code is supported.")
	}

	// The scope must contain openid (OpenID Connect Core section 3.1.2.1)
	// and only scopes this issuer supports.
	req.Scope = strings.Fields(params.Get("scope"))
	if !slices.Contains(req.Scope, "openid") {
		return redirectErr(oauth.ErrInvalidScope, "The scope must include openid.")
	}
	for _, s := range req.Scope {
		if !slices.Contains(supportedScopes, s) {
			return redirectErr(oauth.ErrInvalidScope, "The scope "+s+" is not supported.")
		}
	}

	if err := req.parsePKCE(params, client); err != nil {
		return err
	}
	return req.parseLoginOptions(params)
}

// parsePKCE validates code_challenge and code_challenge_method (RFC 7636
// section 4.3). Public clients must use PKCE.
func (req *authRequest) parsePKCE(params url.Values, client Client) *authError {
	req.CodeChallenge = params.Get("code_challenge")
	method := params.Get("code_challenge_method")
	if req.CodeChallenge == "" {
		if method != "" {
			return redirectErr(oauth.ErrInvalidRequest, "code_challenge_method needs a code_challenge.")
		}
		if client.Public {
			return redirectErr(oauth.ErrInvalidRequest, "Public clients must send a PKCE code_challenge.")
		}
		return nil
	}

	// RFC 7636 section 4.3: a missing method means plain.
	if method == "" {
		method = oauth.PKCEMethodPlain
	}
	if method != oauth.PKCEMethodS256 && method != oauth.PKCEMethodPlain {
		return redirectErr(oauth.ErrInvalidRequest, "The code_challenge_method is not supported; use S256.")
	}
	if !oauth.ValidVerifier(req.CodeChallenge) {
		return redirectErr(oauth.ErrInvalidRequest, "The code_challenge is malformed.")
	}
	req.CodeChallengeMethod = method
	return nil
}

// parseLoginOptions validates nonce, prompt, max_age, login_hint and
// access_type.
func (req *authRequest) parseLoginOptions(params url.Values) *authError {
	req.Nonce = params.Get("nonce")
	req.LoginHint = params.Get("login_hint")

	// prompt=none must stand alone (OpenID Connect Core section 3.1.2.1).
	req.Prompt = strings.Fields(params.Get("prompt"))
	for _, p := range req.Prompt {
		switch p {
		case promptNone, promptLogin, promptConsent, promptSelectAccount:
		default:
			return redirectErr(oauth.ErrInvalidRequest, "The prompt value "+p+" is not supported.")
		}
	}
	if req.has(promptNone) && len(req.Prompt) > 1 {
		return redirectErr(oauth.ErrInvalidRequest, "prompt=none cannot be combined with other values.")
	}

	if raw := params.Get("max_age"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 0 {
			return redirectErr(oauth.ErrInvalidRequest, "max_age must be a non-negative number of seconds.")
		}
		req.MaxAge = n
	}

	switch req.AccessType = params.Get("access_type"); req.AccessType {
	case "", "online", "offline":
	default:
		return redirectErr(oauth.ErrInvalidRequest, "access_type must be online or offline.")
	}
	return nil
}

func redirectErr(code, desc string) *authError {
	return &authError{err: oauth.NewError(code, desc), redirect: true}
}

// authorizeURL rebuilds the authorization URL of req from the issuer URL,
// never from request headers.
func (iss *issuer) authorizeURL(req authRequest) string {
	return iss.url + "/authorize?" + req.params.Encode()
}
