package mockidp

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oidcstack/oidcstack/internal/httpx"
	"github.com/oidcstack/oidcstack/internal/trace"
)

// sweepInterval is how often expired sessions, codes and tokens are dropped.
const sweepInterval = time.Minute

// Server is a running mock identity provider. It implements http.Handler;
// it is safe for concurrent use.
type Server struct {
	cfg     Config
	log     *slog.Logger
	trace   *trace.Recorder
	issuers map[string]*issuer
	order   []string // issuer names in configuration order
	mux     *http.ServeMux

	clock    serverClock
	requests requestLog
	// tlsConfig and caPEM are set in HTTPS mode.
	tlsConfig *tls.Config
	caPEM     []byte

	httpServer *http.Server // set by Start
	closed     atomic.Bool
	sweepMu    sync.Mutex
	lastSweep  time.Time
}

// New returns a server for cfg that does not listen yet: serve it with
// net/http or net/http/httptest, or use [Start]. For each issuer without
// Keys it loads or generates a key (generation takes about 70 ms of CPU
// per key, and the issuers' keys are generated concurrently).
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()

	sets, err := loadKeySets(cfg)
	if err != nil {
		return nil, err
	}

	s := &Server{
		cfg:     cfg,
		log:     cfg.Logger,
		trace:   cfg.Trace,
		issuers: map[string]*issuer{},
		mux:     http.NewServeMux(),
		clock:   serverClock{base: cfg.Clock},
	}
	if cfg.HTTPS {
		if s.tlsConfig, s.caPEM, err = newLocalTLS(cfg.BaseURL, cfg.CAFile); err != nil {
			return nil, err
		}
		s.log.Info("https ready", "ca_file", cfg.CAFile)
	}
	for i, ic := range cfg.Issuers {
		iss := newIssuer(cfg.BaseURL, ic, sets[i])
		iss.secure = strings.HasPrefix(cfg.BaseURL, "https://")
		s.issuers[ic.Name] = iss
		s.order = append(s.order, ic.Name)
		s.log.Info("issuer ready", "issuer", iss.url, "users", len(ic.Users),
			"clients", len(ic.Clients), "key_id", sets[i].Signing().ID)
	}
	s.routes()
	return s, nil
}

// Start binds a free loopback port, sets cfg.BaseURL to
// "http://127.0.0.1:PORT" (https with cfg.HTTPS) and serves a new Server
// there until Close, as httptest.NewServer does for a handler.
func Start(cfg Config) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("mockidp: listen: %w", err)
	}
	scheme := "http://"
	if cfg.HTTPS {
		scheme = "https://"
	}
	cfg.BaseURL = scheme + ln.Addr().String()
	s, err := New(cfg)
	if err != nil {
		ln.Close()
		return nil, err
	}
	if s.tlsConfig != nil {
		ln = tls.NewListener(ln, s.tlsConfig)
	}
	s.httpServer = &http.Server{Handler: s, ReadHeaderTimeout: httpx.ReadHeaderTimeout}
	go func() {
		if err := s.httpServer.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("mockidp serve failed", "err", err)
		}
	}()
	return s, nil
}

// URL returns the server's base URL, such as "http://127.0.0.1:9000".
func (s *Server) URL() string { return s.cfg.BaseURL }

// routes lists every route of the server. Issuer routes carry the issuer
// name as their first path segment.
func (s *Server) routes() {
	s.mux.HandleFunc("GET /healthz", httpx.Healthz)
	s.mux.Handle("GET /_trace", s.trace.Handler())

	// RFC 8414 section 3.1: metadata of an issuer with a path is also
	// served at the path-inserted location.
	s.mux.HandleFunc("GET /.well-known/openid-configuration/{issuer}", s.withIssuer(s.handleDiscovery))
	s.mux.HandleFunc("GET /.well-known/oauth-authorization-server/{issuer}", s.withIssuer(s.handleDiscovery))

	s.mux.HandleFunc("GET /{issuer}/.well-known/openid-configuration", s.withIssuer(s.handleDiscovery))
	s.mux.HandleFunc("GET /{issuer}/jwks", s.withIssuer(s.handleJWKS))
	s.mux.HandleFunc("GET /{issuer}/authorize", s.withIssuer(s.handleAuthorize))
	s.mux.HandleFunc("POST /{issuer}/authorize", s.withIssuer(s.handleAuthorize))
	s.mux.HandleFunc("GET /{issuer}/login", s.withIssuer(s.handleLoginPage))
	s.mux.HandleFunc("POST /{issuer}/login", s.withIssuer(s.handleLogin))
	s.mux.HandleFunc("GET /{issuer}/consent", s.withIssuer(s.handleConsentPage))
	s.mux.HandleFunc("POST /{issuer}/consent", s.withIssuer(s.handleConsent))
	s.mux.HandleFunc("POST /{issuer}/token", s.withIssuer(s.handleToken))
	s.mux.HandleFunc("GET /{issuer}/userinfo", s.withIssuer(s.handleUserinfo))
	s.mux.HandleFunc("POST /{issuer}/userinfo", s.withIssuer(s.handleUserinfo))
	s.mux.HandleFunc("POST /{issuer}/revoke", s.withIssuer(s.handleRevoke))
	s.mux.HandleFunc("GET /{issuer}/tokeninfo", s.withIssuer(s.handleTokeninfo))
	s.mux.HandleFunc("POST /{issuer}/tokeninfo", s.withIssuer(s.handleTokeninfo))
	s.mux.HandleFunc("GET /{issuer}/logout", s.withIssuer(s.handleLogout))
	s.mux.HandleFunc("POST /{issuer}/logout", s.withIssuer(s.handleLogout))

	// The admin API mirrors the Go control API; see admin.go.
	if !s.cfg.Admin.Enabled {
		return
	}
	s.mux.HandleFunc("GET /_admin/issuers", s.admin(s.handleAdminIssuers))
	s.mux.HandleFunc("POST /_admin/issuers/{issuer}/users", s.adminIssuer(s.handleAdminAddUser))
	s.mux.HandleFunc("POST /_admin/issuers/{issuer}/clients", s.adminIssuer(s.handleAdminAddClient))
	s.mux.HandleFunc("POST /_admin/issuers/{issuer}/next-login", s.adminIssuer(s.handleAdminNextLogin))
	s.mux.HandleFunc("POST /_admin/issuers/{issuer}/login", s.adminIssuer(s.handleAdminLogin))
	s.mux.HandleFunc("POST /_admin/issuers/{issuer}/id-token", s.adminIssuer(s.handleAdminIDToken))
	s.mux.HandleFunc("POST /_admin/issuers/{issuer}/access-token", s.adminIssuer(s.handleAdminAccessToken))
	s.mux.HandleFunc("POST /_admin/issuers/{issuer}/sign", s.adminIssuer(s.handleAdminSign))
	s.mux.HandleFunc("POST /_admin/issuers/{issuer}/rotate-key", s.adminIssuer(s.handleAdminRotateKey))
	s.mux.HandleFunc("GET /_admin/issuers/{issuer}/faults", s.adminIssuer(s.handleAdminListFaults))
	s.mux.HandleFunc("POST /_admin/issuers/{issuer}/faults", s.adminIssuer(s.handleAdminInjectFault))
	s.mux.HandleFunc("DELETE /_admin/issuers/{issuer}/faults", s.adminIssuer(s.handleAdminClearFaults))
	s.mux.HandleFunc("GET /_admin/faults", s.admin(s.handleAdminFaultCatalog))
	s.mux.HandleFunc("GET /_admin/clock", s.admin(s.handleAdminClock))
	s.mux.HandleFunc("POST /_admin/clock", s.admin(s.handleAdminSetClock))
	s.mux.HandleFunc("GET /_admin/requests", s.admin(s.handleAdminRequests))
	s.mux.HandleFunc("DELETE /_admin/requests", s.admin(s.handleAdminClearRequests))
}

// withIssuer resolves the {issuer} path segment and returns 404 for an
// unknown issuer.
func (s *Server) withIssuer(h func(http.ResponseWriter, *http.Request, *issuer)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		iss, ok := s.issuers[r.PathValue("issuer")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		s.recordRequest(r, iss, s.now())
		h(w, r, iss)
	}
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.closed.Load() {
		http.Error(w, "mockidp: server closed", http.StatusServiceUnavailable)
		return
	}
	s.maybeSweep()
	s.mux.ServeHTTP(w, r)
}

// Close drops every session, code and token, and stops the listener of a
// server made by [Start]. Requests after Close get 503. Close does not wait
// for requests in flight.
func (s *Server) Close() {
	if s.closed.Swap(true) {
		return
	}
	if s.httpServer != nil {
		_ = s.httpServer.Close()
	}
	for _, iss := range s.issuers {
		iss.clear()
	}
	s.log.Info("mockidp closed")
}

// Issuer returns the issuer URL of the issuer called name, such as
// "http://127.0.0.1:9000/google", or "" if the server has no such issuer.
func (s *Server) Issuer(name string) string {
	iss, ok := s.issuers[name]
	if !ok {
		return ""
	}
	return iss.url
}

// Endpoints are the URLs of one issuer: its discovery document, the
// endpoints that document lists, and the Google-style tokeninfo endpoint.
type Endpoints struct {
	Issuer        string `json:"issuer"`
	Discovery     string `json:"discovery"`
	Authorization string `json:"authorization_endpoint"`
	Token         string `json:"token_endpoint"`
	Userinfo      string `json:"userinfo_endpoint"`
	JWKS          string `json:"jwks_uri"`
	Revocation    string `json:"revocation_endpoint"`
	EndSession    string `json:"end_session_endpoint"`
	Tokeninfo     string `json:"tokeninfo_endpoint"`
}

// Endpoints returns the endpoint URLs of the issuer called name, or the
// zero Endpoints if the server has no such issuer.
func (s *Server) Endpoints(name string) Endpoints {
	iss, ok := s.issuers[name]
	if !ok {
		return Endpoints{}
	}
	m := iss.metadata()
	return Endpoints{
		Issuer:        m.Issuer,
		Discovery:     iss.url + "/.well-known/openid-configuration",
		Authorization: m.AuthorizationEndpoint,
		Token:         m.TokenEndpoint,
		Userinfo:      m.UserinfoEndpoint,
		JWKS:          m.JWKSURI,
		Revocation:    m.RevocationEndpoint,
		EndSession:    m.EndSessionEndpoint,
		Tokeninfo:     iss.url + "/tokeninfo",
	}
}

// Issuers returns the names of the server's issuers in configuration order.
func (s *Server) Issuers() []string {
	return append([]string(nil), s.order...)
}

// Trace returns the recorder of the steps this server performed.
func (s *Server) Trace() *trace.Recorder { return s.trace }

func (s *Server) now() time.Time { return s.clock.now() }

// maybeSweep drops expired state at most once per sweepInterval.
func (s *Server) maybeSweep() {
	now := s.now()
	s.sweepMu.Lock()
	due := now.Sub(s.lastSweep) >= sweepInterval
	if due {
		s.lastSweep = now
	}
	s.sweepMu.Unlock()
	if due {
		for _, iss := range s.issuers {
			iss.sweep(now)
			iss.retireKeys(now)
		}
	}
}

// record traces one step of request r. keyValues alternates correlation
// keys and raw values; values are stored only as fingerprints.
func (s *Server) record(r *http.Request, start time.Time, step string, status int, note string, keyValues ...string) {
	e := trace.Event{
		Step:     step,
		Method:   r.Method,
		Path:     r.URL.Path,
		Status:   status,
		Duration: time.Since(start),
		Note:     note,
	}
	for i := 0; i+1 < len(keyValues); i += 2 {
		if keyValues[i+1] == "" {
			continue
		}
		if e.Fingerprints == nil {
			e.Fingerprints = map[string]string{}
		}
		e.Fingerprints[keyValues[i]] = trace.Fingerprint(keyValues[i+1])
	}
	s.trace.Record(r.Context(), e)
}

// issuerNotFound is the error of the exported methods that take an issuer
// name.
func issuerNotFound(name string) error {
	return fmt.Errorf("mockidp: no issuer named %q", name)
}
