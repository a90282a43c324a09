package demoapp

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/oidcstack/oidcstack/internal/httpx"
	"github.com/oidcstack/oidcstack/internal/oauth"
	"github.com/oidcstack/oidcstack/internal/trace"
)

//go:embed static
var staticFiles embed.FS

// ServiceName names the web app in logs and step traces.
const ServiceName = "webapp"

// Values of [Config.Grant].
const (
	// GrantCode is the authorization code grant with PKCE (RFC 7636,
	// S256), the current best practice for browser apps (RFC 9700).
	GrantCode = "code"
	// GrantImplicit is the legacy implicit grant (RFC 6749 section 4.2),
	// kept because the reference design and many existing apps use it.
	GrantImplicit = "implicit"
)

// Config configures the web app's server.
type Config struct {
	// BaseURL is the web app's public URL, such as "http://localhost:8080".
	// Its origin must be registered with the authorization server as a web
	// origin, and BaseURL + "/callback" as a redirect URI. Required.
	BaseURL string

	// Issuer is the authorization server's issuer URL. Required.
	Issuer string
	// AuthorizationEndpoint is the authorization server's authorization
	// endpoint. Empty means Issuer + "/authorize".
	AuthorizationEndpoint string
	// TokenEndpoint is the authorization server's token endpoint. Empty
	// means Issuer + "/token".
	TokenEndpoint string
	// EndSessionEndpoint is the authorization server's logout endpoint
	// (OpenID Connect RP-Initiated Logout 1.0), where "Log out" sends the
	// browser. Empty means Issuer + "/logout". BaseURL + "/" must be
	// registered there as a post-logout redirect URI.
	EndSessionEndpoint string

	// ClientID is the web app's client ID at the authorization server.
	// Required.
	ClientID string
	// Scopes are requested at login. Nil means openid, profile and email.
	Scopes []string

	// Grant is the grant type the script uses for its access token: GrantCode (the
	// default when empty) or GrantImplicit. The implicit grant is legacy:
	// the token travels in the redirect's URL fragment, so it is exposed
	// to the browser's history and to any script on the page, and the
	// authorization server must have enabled it for the client.
	Grant string

	// APIURL is the URL the script calls through the gateway after login,
	// such as "http://localhost:8000/api/me". Required.
	APIURL string

	// Logger receives the server's log lines. Nil discards them.
	Logger *slog.Logger
	// Clock returns the current time. Nil means time.Now.
	Clock func() time.Time
	// Trace records steps 1 and 14a. Nil means a recorder of the server's
	// own.
	Trace *trace.Recorder
}

// Validate reports every missing or malformed setting at once.
func (c *Config) Validate() error {
	var errs []error
	urls := []struct {
		name, value string
		required    bool
	}{
		{"BaseURL", c.BaseURL, true},
		{"Issuer", c.Issuer, true},
		{"APIURL", c.APIURL, true},
		{"AuthorizationEndpoint", c.AuthorizationEndpoint, false},
		{"TokenEndpoint", c.TokenEndpoint, false},
		{"EndSessionEndpoint", c.EndSessionEndpoint, false},
	}
	for _, u := range urls {
		switch {
		case u.value == "" && u.required:
			errs = append(errs, fmt.Errorf("demoapp: %s is missing", u.name))
		case u.value != "" && !isAbsoluteURL(u.value):
			errs = append(errs, fmt.Errorf("demoapp: %s is %q, want an absolute http or https URL", u.name, u.value))
		}
	}
	if c.ClientID == "" {
		errs = append(errs, errors.New("demoapp: ClientID is missing"))
	}
	if c.Grant != "" && c.Grant != GrantCode && c.Grant != GrantImplicit {
		errs = append(errs, fmt.Errorf("demoapp: Grant is %q, want %q or %q", c.Grant, GrantCode, GrantImplicit))
	}
	return errors.Join(errs...)
}

func isAbsoluteURL(raw string) bool {
	_, err := httpx.ParseHTTPURL(raw)
	return err == nil
}

// Server is the web app's server. It implements http.Handler.
type Server struct {
	cfg     Config
	logger  *slog.Logger
	trace   *trace.Recorder
	handler http.Handler
	page    []byte
}

// New returns the web app's server. It calls no other service.
func New(cfg Config) (*Server, error) {
	if cfg.AuthorizationEndpoint == "" && cfg.Issuer != "" {
		cfg.AuthorizationEndpoint = strings.TrimSuffix(cfg.Issuer, "/") + "/authorize"
	}
	if cfg.TokenEndpoint == "" && cfg.Issuer != "" {
		cfg.TokenEndpoint = strings.TrimSuffix(cfg.Issuer, "/") + "/token"
	}
	if cfg.EndSessionEndpoint == "" && cfg.Issuer != "" {
		cfg.EndSessionEndpoint = strings.TrimSuffix(cfg.Issuer, "/") + "/logout"
	}
	if cfg.Scopes == nil {
		cfg.Scopes = []string{"openid", "profile", "email"}
	}
	if cfg.Grant == "" {
		cfg.Grant = GrantCode
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Trace == nil {
		cfg.Trace = trace.NewRecorder(ServiceName, cfg.Logger, cfg.Clock, 0)
	}

	page, err := staticFiles.ReadFile("static/index.html")
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, logger: cfg.Logger, trace: cfg.Trace, page: page}
	s.handler = s.routes()
	return s, nil
}

// routes lists every route of the web app's server.
func (s *Server) routes() http.Handler {
	assets, _ := fs.Sub(staticFiles, "static")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.handlePage("1"))
	mux.HandleFunc("GET /callback", s.handlePage("14a"))
	mux.HandleFunc("GET /config.json", s.handleConfig)
	mux.Handle("GET /app.js", s.assetHeaders(http.FileServerFS(assets)))
	mux.Handle("GET /app.css", s.assetHeaders(http.FileServerFS(assets)))
	mux.HandleFunc("GET /healthz", httpx.Healthz)
	mux.Handle("GET /_trace", s.trace.Handler())
	return mux
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Close releases nothing today; it exists so every service stops the same
// way.
func (s *Server) Close() error { return nil }

// Trace returns the server's step recorder.
func (s *Server) Trace() *trace.Recorder { return s.trace }

// handlePage serves the single page for step 1 (the start page) and 14a
// (the callback, whose query the script reads in 14b).
func (s *Server) handlePage(step string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		st := s.trace.Start(r, step)
		if step == "14a" {
			q := r.URL.Query()
			st.Set(trace.KeyAppState, q.Get("state")).Set(trace.KeyCode, q.Get("code"))
		}
		httpx.PageHeaders(w)
		w.Header().Set("Content-Security-Policy", s.contentSecurityPolicy())
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(s.page)
		st.End(http.StatusOK, "")
	}
}

// contentSecurityPolicy allows the page's own script and style, and fetches
// only to the authorization server and the gateway.
func (s *Server) contentSecurityPolicy() string {
	connect := []string{"'self'", origin(s.cfg.TokenEndpoint), origin(s.cfg.APIURL)}
	return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src " + strings.Join(connect, " ") + "; form-action 'none'; " +
		"base-uri 'none'; frame-ancestors 'none'"
}

func (s *Server) assetHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-cache")
		next.ServeHTTP(w, r)
	})
}

// clientConfig is the configuration document the script reads to run the
// flow.
type clientConfig struct {
	Issuer                string `json:"issuer"`
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	TokenEndpoint         string `json:"token_endpoint"`
	EndSessionEndpoint    string `json:"end_session_endpoint"`
	ClientID              string `json:"client_id"`
	RedirectURI           string `json:"redirect_uri"`
	PostLogoutRedirectURI string `json:"post_logout_redirect_uri"`
	Scope                 string `json:"scope"`
	ResponseType          string `json:"response_type"`
	APIURL                string `json:"api_url"`
}

func (s *Server) handleConfig(w http.ResponseWriter, _ *http.Request) {
	oauth.WriteJSON(w, http.StatusOK, clientConfig{
		Issuer:                s.cfg.Issuer,
		AuthorizationEndpoint: s.cfg.AuthorizationEndpoint,
		TokenEndpoint:         s.cfg.TokenEndpoint,
		EndSessionEndpoint:    s.cfg.EndSessionEndpoint,
		ClientID:              s.cfg.ClientID,
		RedirectURI:           s.RedirectURI(),
		PostLogoutRedirectURI: s.PostLogoutRedirectURI(),
		Scope:                 strings.Join(s.cfg.Scopes, " "),
		ResponseType:          s.responseType(),
		APIURL:                s.cfg.APIURL,
	})
}

// responseType returns the response_type the script sends (RFC 6749
// section 3.1.1).
func (s *Server) responseType() string {
	if s.cfg.Grant == GrantImplicit {
		return oauth.ResponseTypeToken
	}
	return oauth.ResponseTypeCode
}

// RedirectURI returns the callback URL to register for the web app.
func (s *Server) RedirectURI() string { return s.cfg.BaseURL + "/callback" }

// PostLogoutRedirectURI returns the URL to register for the web app as
// its post-logout redirect URI: the start page.
func (s *Server) PostLogoutRedirectURI() string { return s.cfg.BaseURL + "/" }

// origin returns the scheme://host[:port] of rawURL.
func origin(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
