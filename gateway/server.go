package gateway

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/oidcstack/oidcstack/internal/httpx"
	"github.com/oidcstack/oidcstack/internal/jwks"
	"github.com/oidcstack/oidcstack/internal/secevent"
	"github.com/oidcstack/oidcstack/internal/trace"
)

// Server is the API gateway. It implements http.Handler.
type Server struct {
	cfg     Config
	auth    *authClient
	cache   *resultCache
	flight  singleflight.Group
	keys    *jwks.KeySet
	metrics *metrics
	routes  []*route
	handler http.Handler

	// pushed holds the pushed tokens in push mode and is nil in pull mode.
	pushed *pushStore
	// setVerifier checks pushed SETs; nil when the receiver is disabled.
	setVerifier *secevent.Verifier

	stopMaintenance func()
}

// route is a configured Route with its parsed upstream URL.
type route struct {
	Route
	upstream *url.URL
	metrics  *routeMetrics
}

// pushLeeway is the clock skew allowed for a pushed SET's iat in the
// future.
const pushLeeway = 5 * time.Second

// New returns a gateway for cfg. It does not contact the authorization
// server: endpoints are discovered on the first API request.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()

	m := newMetrics()
	disc := &discovery{issuer: cfg.AuthServer, client: cfg.HTTPClient}
	s := &Server{
		cfg: cfg,
		auth: &authClient{
			discovery:    disc,
			clientID:     cfg.ClientID,
			clientSecret: cfg.ClientSecret,
			client:       cfg.HTTPClient,
			trace:        cfg.Trace,
			observe:      m.observeAuth,
		},
		cache:   newResultCache(cfg.CacheWindow, cfg.CacheMaxEntries, cfg.CacheMaxInactive, m.evicted),
		keys:    newKeySet(disc, cfg),
		metrics: m,
	}
	if cfg.Mode == ModePush {
		s.pushed = newPushStore(cfg.PushMaxTokens)
	}
	if cfg.PushAudience != "" {
		s.setVerifier = secevent.NewVerifier(cfg.AuthServer, cfg.PushAudience, cfg.PushMaxAge, pushLeeway, s.setSigningKey, cfg.Clock)
	}
	cfg.Logger.Info("gateway configured", "mode", cfg.Mode, "auth_server", cfg.AuthServer,
		"push_receiver", s.setVerifier != nil, "push_audience", cfg.PushAudience, "key_check_interval", cfg.KeyCheckInterval)
	for _, r := range cfg.Routes {
		upstream, err := url.Parse(r.Upstream)
		if err != nil {
			// Validate has parsed the URL already.
			return nil, fmt.Errorf("gateway: route %q: parse upstream: %w", r.Prefix, err)
		}
		s.routes = append(s.routes, &route{Route: r, upstream: upstream, metrics: m.forRoute(r.Prefix)})
		cfg.Logger.Info("route configured", "prefix", r.Prefix, "upstream", r.Upstream,
			"audience", r.Audience, "allowed_origins", r.AllowedOrigins, "required_scopes", r.RequiredScopes)
	}
	cfg.Logger.Info("result cache configured", "window", cfg.CacheWindow,
		"max_entries", cfg.CacheMaxEntries, "max_inactive", cfg.CacheMaxInactive)
	s.handler = s.newHandler()
	s.startMaintenance()
	return s, nil
}

// newHandler lists every route of the gateway.
func (s *Server) newHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", httpx.Healthz)
	mux.HandleFunc("GET /readyz", s.handleReady)
	mux.Handle("GET /metrics", s.metrics.handler())
	mux.Handle("GET /_trace", s.cfg.Trace.Handler())
	if s.setVerifier != nil {
		mux.HandleFunc("POST /_push", s.handlePush)
	}
	for _, rt := range s.routes {
		mux.Handle(rt.Prefix, s.handleRoute(rt, s.newProxy(rt)))
	}
	return mux
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// Close stops the background key check. It always returns nil.
func (s *Server) Close() error {
	if s.stopMaintenance != nil {
		s.stopMaintenance()
		s.stopMaintenance = nil
	}
	return nil
}

// Trace returns the recorder of the gateway's steps.
func (s *Server) Trace() *trace.Recorder { return s.cfg.Trace }
