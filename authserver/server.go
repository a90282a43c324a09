// Package authserver is the OAuth 2.0 authorization server and OpenID
// provider of oidcstack, and an OpenID Connect relying party of one or more
// upstream identity providers.
//
// Users log in at an upstream provider (steps 3 to 11b of the login flow).
// The server then keeps its own users and sessions, and issues its own
// opaque, revocable access tokens to its clients (13b, 14c). The gateway
// checks those tokens by introspection (16) and trades them for short-lived
// JWTs by token exchange (17).
//
// Supported: the authorization code grant with PKCE S256 (required for
// public clients), client_secret_basic for confidential clients,
// introspection (RFC 7662), token exchange (RFC 8693) issuing RFC 9068 JWTs,
// and OpenID Connect ID tokens. Service clients may use the client
// credentials grant; its tokens belong to no user, so introspection and
// exchanged JWTs name the client as "sub". A client may require the
// user's consent, which is asked once and stored. Signing keys saved in
// the store rotate on a schedule, and old public keys stay published
// until the tokens they signed have expired. Not supported: dynamic client
// registration, request objects, client_secret_post and private_key_jwt.
//
// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) ends the
// browser's session, revokes the tokens issued under it and pushes the
// revocations to the gateways. The push to gateways reads its tokens from
// the store, so it covers tokens issued before a restart.
package authserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/oidcstack/oidcstack/authserver/store"
	"github.com/oidcstack/oidcstack/internal/httpx"
	"github.com/oidcstack/oidcstack/internal/keys"
	"github.com/oidcstack/oidcstack/internal/oauth"
	"github.com/oidcstack/oidcstack/internal/trace"
)

// Server is the authorization server. It implements http.Handler.
type Server struct {
	issuer    string
	store     store.Store
	ownsStore bool
	clients   map[string]*Client
	// webOrigins are the web origins of all clients, for CORS.
	webOrigins map[string]bool
	upstreams  map[string]*upstream
	// upstreamOrder lists the upstream IDs in configuration order, for
	// the login page.
	upstreamOrder []string
	keys          *keys.Set

	accessTTL, refreshTTL, codeTTL, exchangedTTL time.Duration
	transactionTTL, sessionTTL                   time.Duration
	secureCookies                                bool

	now    func() time.Time
	log    *slog.Logger
	client *http.Client
	trace  *trace.Recorder
	pages  *pages
	mux    *http.ServeMux

	// stopSweeper stops the goroutine that deletes expired records.
	stopSweeper func()
	// push delivers security events to gateways; nil without any.
	push *pusher
	// rotation rotates and retires the signing keys saved in the store.
	rotation *keyRotation
}

// New validates cfg and returns a server. It reads or creates its signing
// keys in the store but never calls an upstream provider: discovery happens
// on first use and is retried after a failure.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("authserver: invalid config: %w", err)
	}
	s := &Server{
		issuer:         cfg.Issuer,
		store:          cfg.Store,
		clients:        make(map[string]*Client, len(cfg.Clients)),
		webOrigins:     make(map[string]bool),
		upstreams:      make(map[string]*upstream, len(cfg.Upstreams)),
		accessTTL:      durationOr(cfg.AccessTokenTTL, DefaultAccessTokenTTL),
		refreshTTL:     durationOr(cfg.RefreshTokenTTL, DefaultRefreshTokenTTL),
		codeTTL:        durationOr(cfg.CodeTTL, DefaultCodeTTL),
		exchangedTTL:   durationOr(cfg.ExchangedTokenTTL, DefaultExchangedTokenTTL),
		transactionTTL: durationOr(cfg.TransactionTTL, DefaultTransactionTTL),
		sessionTTL:     durationOr(cfg.SessionTTL, DefaultSessionTTL),
		secureCookies:  isHTTPS(cfg.Issuer),
		now:            cfg.Clock,
		log:            cfg.Logger,
		client:         cfg.HTTPClient,
		trace:          cfg.Trace,
		pages:          newPages(),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.client == nil {
		s.client = &http.Client{Timeout: 10 * time.Second, Transport: &trace.Transport{}}
	}
	if s.trace == nil {
		s.trace = trace.NewRecorder("authserver", s.log, s.now, 0)
	}
	for i := range cfg.Clients {
		c := cfg.Clients[i]
		s.clients[c.ID] = &c
		for _, origin := range c.WebOrigins {
			s.webOrigins[origin] = true
		}
	}
	for _, up := range cfg.Upstreams {
		s.upstreams[up.ID] = newUpstream(up, cfg.Issuer+"/callback/"+up.ID)
		s.upstreamOrder = append(s.upstreamOrder, up.ID)
	}

	ctx := context.Background()
	if s.store == nil {
		st, err := store.OpenSQLiteMemory(ctx, "authserver-"+oauth.NewToken())
		if err != nil {
			return nil, fmt.Errorf("authserver: open in-memory store: %w", err)
		}
		s.store, s.ownsStore = st, true
	}
	s.rotation = newKeyRotation(cfg)
	set, err := s.loadSigningKeys(ctx, cfg.SigningKeys)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.keys = set

	if err := s.startPush(cfg); err != nil {
		s.Close()
		return nil, err
	}

	s.mux = http.NewServeMux()
	s.routes(s.mux)
	s.startSweeper()
	s.startKeyRotation(ctx)
	s.log.Info("authserver configured", "issuer", s.issuer, "clients", len(s.clients),
		"upstreams", len(s.upstreams), "signing_key", set.Signing().ID)
	return s, nil
}

// routes lists every endpoint of the server.
func (s *Server) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", s.handleMetadata)
	mux.HandleFunc("GET /.well-known/openid-configuration", s.handleMetadata)
	mux.Handle("GET /jwks", s.keys.Handler())

	mux.Handle("GET /authorize", s.page(s.handleAuthorize))
	mux.Handle("POST /authorize", s.page(s.handleAuthorize))
	mux.Handle("GET /login", s.page(s.handleLoginPage))
	mux.Handle("POST /login", s.page(s.handleLoginSubmit))
	mux.Handle("GET /callback/{idp}", s.page(s.handleCallback))
	mux.Handle("GET /authorize/resume", s.page(s.handleResume))
	mux.Handle("GET /consent", s.page(s.handleConsentPage))
	mux.Handle("POST /consent", s.page(s.handleConsentSubmit))
	mux.Handle("GET /logout", s.logoutPage(s.handleLogout))
	mux.Handle("POST /logout", s.logoutPage(s.handleLogout))

	mux.Handle("POST /token", s.api(s.handleToken))
	mux.HandleFunc("OPTIONS /token", s.preflight("POST", "Content-Type"))
	mux.Handle("POST /introspect", s.api(s.handleIntrospect))
	mux.Handle("POST /revoke", s.api(s.handleRevoke))
	mux.HandleFunc("OPTIONS /revoke", s.preflight("POST", "Content-Type"))
	mux.HandleFunc("GET /userinfo", s.handleUserInfo)
	mux.HandleFunc("POST /userinfo", s.handleUserInfo)
	mux.HandleFunc("OPTIONS /userinfo", s.preflight("GET, POST", "Authorization"))

	mux.HandleFunc("GET /healthz", httpx.Healthz)
	mux.Handle("GET /_trace", s.trace.Handler())
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// Close stops the background deletion of expired records, the key
// rotation and the push to gateways, and closes the store if the server opened it. A store passed
// in Config stays open.
func (s *Server) Close() {
	s.stopPush()
	if s.stopSweeper != nil {
		s.stopSweeper()
		s.stopSweeper = nil
	}
	s.stopKeyRotation()
	if s.ownsStore {
		s.ownsStore = false
		if err := s.store.Close(); err != nil {
			s.log.Warn("close store failed", "err", err)
		}
	}
}

// Trace returns the server's step recorder.
func (s *Server) Trace() *trace.Recorder { return s.trace }

// Keys returns the server's signing keys, signing key first.
func (s *Server) Keys() []*keys.Key { return s.keys.Keys() }

// maxFormBytes bounds request bodies; no valid request comes close.
const maxFormBytes = 64 << 10

// parseForm parses the query and, for a POST, the url-encoded body.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return oauth.Wrap(oauth.ErrInvalidRequest, "The request body is not a valid form.", err)
	}
	return nil
}

// singleParam returns the value of a parameter that may appear at most
// once (RFC 6749 section 3.1).
func singleParam(form map[string][]string, name string) (string, error) {
	values := form[name]
	switch len(values) {
	case 0:
		return "", nil
	case 1:
		return values[0], nil
	default:
		return "", oauth.NewError(oauth.ErrInvalidRequest, fmt.Sprintf("The %s parameter appears more than once.", name))
	}
}

// errorCode returns the OAuth error code of err, for logs and traces.
func errorCode(err error) string {
	var oe *oauth.Error
	if errors.As(err, &oe) {
		return oe.Code
	}
	return oauth.ErrServerError
}
