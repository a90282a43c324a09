package gateway

import (
	"fmt"
	"net/http"
	"net/url"

	"golang.org/x/sync/singleflight"

	"github.com/oidcstack/oidcstack/internal/httpx"
	"github.com/oidcstack/oidcstack/internal/trace"
)

// Server is the API gateway. It implements http.Handler.
type Server struct {
	cfg     Config
	auth    *authClient
	cache   *resultCache
	flight  singleflight.Group
	routes  []*route
	handler http.Handler
}

// route is a configured Route with its parsed upstream URL.
type route struct {
	Route
	upstream *url.URL
}

// New returns a gateway for cfg. It does not contact the authorization
// server: endpoints are discovered on the first API request.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()

	s := &Server{
		cfg: cfg,
		auth: &authClient{
			discovery:    &discovery{issuer: cfg.AuthServer, client: cfg.HTTPClient},
			clientID:     cfg.ClientID,
			clientSecret: cfg.ClientSecret,
			client:       cfg.HTTPClient,
			trace:        cfg.Trace,
		},
		cache: newResultCache(cfg.CacheWindow, cfg.CacheMaxEntries, cfg.CacheMaxInactive),
	}
	for _, r := range cfg.Routes {
		upstream, err := url.Parse(r.Upstream)
		if err != nil {
			// Validate has parsed the URL already.
			return nil, fmt.Errorf("gateway: route %q: parse upstream: %w", r.Prefix, err)
		}
		s.routes = append(s.routes, &route{Route: r, upstream: upstream})
		cfg.Logger.Info("route configured", "prefix", r.Prefix, "upstream", r.Upstream,
			"audience", r.Audience, "allowed_origins", r.AllowedOrigins, "required_scopes", r.RequiredScopes)
	}
	cfg.Logger.Info("result cache configured", "window", cfg.CacheWindow,
		"max_entries", cfg.CacheMaxEntries, "max_inactive", cfg.CacheMaxInactive)
	s.handler = s.newHandler()
	return s, nil
}

// newHandler lists every route of the gateway.
func (s *Server) newHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", httpx.Healthz)
	mux.Handle("GET /_trace", s.cfg.Trace.Handler())
	for _, rt := range s.routes {
		mux.Handle(rt.Prefix, s.handleRoute(rt, s.newProxy(rt)))
	}
	return mux
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// Close releases the server's resources. The gateway has no background
// work yet, so Close only exists to keep the service contract.
func (s *Server) Close() error { return nil }

// Trace returns the recorder of the gateway's steps.
func (s *Server) Trace() *trace.Recorder { return s.cfg.Trace }
