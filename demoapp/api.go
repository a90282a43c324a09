package demoapp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/oidcstack/oidcstack/gateway/jwtauth"
	"github.com/oidcstack/oidcstack/internal/httpx"
	"github.com/oidcstack/oidcstack/internal/oauth"
	"github.com/oidcstack/oidcstack/internal/trace"
)

// APIServiceName names the demo microservice in logs and step traces.
const APIServiceName = "demo-api"

// DefaultAPIAudience is the audience the demo microservice requires when
// APIConfig.Audience is empty.
const DefaultAPIAudience = "demo-api"

// APIConfig configures the demo microservice.
type APIConfig struct {
	// Issuer is the authorization server's issuer URL, which must be the
	// iss of every JWT. Required.
	Issuer string

	// Audience is the service's logical name, which must be in the aud of
	// every JWT. Empty means DefaultAPIAudience.
	Audience string

	// JWKSURL is the URL of the authorization server's key set. Empty
	// means the jwks_uri of the issuer's RFC 8414 metadata, discovered on
	// the first request.
	JWKSURL string

	// Clock returns the current time. Nil means time.Now.
	Clock func() time.Time
	// Logger receives the service's log lines. Nil discards them.
	Logger *slog.Logger
	// HTTPClient fetches the issuer's metadata and keys. Nil means a client
	// with a 10-second timeout whose transport adds a traceparent header.
	HTTPClient *http.Client
	// Trace records step 18. Nil means a recorder of the service's own
	// under APIServiceName.
	Trace *trace.Recorder
}

// Validate reports every missing or malformed setting at once.
func (c APIConfig) Validate() error {
	var errs []error
	if c.Issuer == "" {
		errs = append(errs, errors.New("demoapp: API Issuer is missing"))
	} else if !isAbsoluteURL(c.Issuer) {
		errs = append(errs, fmt.Errorf("demoapp: API Issuer is %q, want an absolute http or https URL", c.Issuer))
	}
	if c.JWKSURL != "" && !isAbsoluteURL(c.JWKSURL) {
		errs = append(errs, fmt.Errorf("demoapp: API JWKSURL is %q, want an absolute http or https URL", c.JWKSURL))
	}
	return errors.Join(errs...)
}

// APIServer is the demo microservice. It implements http.Handler.
type APIServer struct {
	cfg      APIConfig
	verifier *jwtauth.Verifier
	handler  http.Handler
}

// NewAPI returns the demo microservice. It calls no other service: the
// issuer's keys are fetched on the first request.
func NewAPI(cfg APIConfig) (*APIServer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Audience == "" {
		cfg.Audience = DefaultAPIAudience
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Trace == nil {
		cfg.Trace = trace.NewRecorder(APIServiceName, cfg.Logger, cfg.Clock, 0)
	}
	verifier, err := jwtauth.New(jwtauth.Config{
		Issuer:     cfg.Issuer,
		JWKSURL:    cfg.JWKSURL,
		Audience:   cfg.Audience,
		Clock:      cfg.Clock,
		HTTPClient: cfg.HTTPClient,
		Logger:     cfg.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("demoapp: API verifier: %w", err)
	}
	s := &APIServer{cfg: cfg, verifier: verifier}
	s.handler = s.routes()
	return s, nil
}

// routes lists every route of the demo microservice.
func (s *APIServer) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /api/me", s.traceStep18(s.verifier.Middleware(http.HandlerFunc(s.handleMe))))
	mux.HandleFunc("GET /healthz", httpx.Healthz)
	mux.Handle("GET /_trace", s.cfg.Trace.Handler())
	return mux
}

// ServeHTTP implements http.Handler.
func (s *APIServer) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Close releases nothing today; it exists so every service stops the same
// way.
func (s *APIServer) Close() error { return nil }

// Trace returns the service's step recorder.
func (s *APIServer) Trace() *trace.Recorder { return s.cfg.Trace }

// apiMe is the response body of GET /api/me: the user's claims from the JWT.
type apiMe struct {
	Subject       string `json:"sub"`
	Name          string `json:"name"`
	Email         string `json:"email"`
	EmailVerified bool   `json:"email_verified"`
	ClientID      string `json:"client_id"`
	Scope         string `json:"scope"`
}

func (s *APIServer) handleMe(w http.ResponseWriter, r *http.Request) {
	claims, ok := jwtauth.ClaimsFromContext(r.Context())
	if !ok {
		// The middleware lets no request through without claims.
		oauth.WriteError(w, oauth.NewError(oauth.ErrServerError, "The request has no verified token."))
		return
	}
	if info, ok := r.Context().Value(apiTraceKey{}).(*apiTraceInfo); ok {
		info.subject = claims.Subject
	}
	oauth.WriteJSON(w, http.StatusOK, apiMe{
		Subject:       claims.Subject,
		Name:          claims.Name,
		Email:         claims.Email,
		EmailVerified: claims.EmailVerified,
		ClientID:      claims.ClientID,
		Scope:         claims.Scope,
	})
}

// apiTraceKey is the context key of the *apiTraceInfo that handlers fill
// in for the step 18 event.
type apiTraceKey struct{}

type apiTraceInfo struct {
	subject string
}

// traceStep18 records step 18 for each request with the JWT's fingerprint,
// the verified subject's fingerprint and the response status.
func (s *APIServer) traceStep18(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		step := s.cfg.Trace.Start(r, "18")
		if scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
			step.Set(trace.KeyJWT, strings.TrimLeft(token, " "))
		}
		info := &apiTraceInfo{}
		sw := &httpx.StatusRecorder{ResponseWriter: w}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), apiTraceKey{}, info)))

		note := "jwt accepted"
		if info.subject == "" {
			note = "jwt rejected"
		}
		step.Set(trace.KeySubject, info.subject).End(sw.Status, note)
	})
}
