package gateway

import (
	"context"
	"net/http"
	"net/http/httputil"
	"strings"
	"time"

	"github.com/oidcstack/oidcstack/internal/httpx"
	"github.com/oidcstack/oidcstack/internal/oauth"
	"github.com/oidcstack/oidcstack/internal/trace"
)

// handleRoute serves one API request under rt: CORS preflight, then steps
// 15 to 18. It counts every response by status.
func (s *Server) handleRoute(rt *route, proxy *httputil.ReverseProxy) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &httpx.StatusRecorder{ResponseWriter: w}
		s.serveRoute(sw, r, rt, proxy)
		rt.metrics.count(sw.StatusOrOK())
	})
}

// serveRoute runs the CORS check and steps 15 to 18 for one request.
func (s *Server) serveRoute(w *httpx.StatusRecorder, r *http.Request, rt *route, proxy *httputil.ReverseProxy) {
	// Step 15 starts with the preflight, which carries no token, so the
	// gateway responds to it before any token check.
	if isPreflight(r) {
		status := rt.writePreflight(w, r)
		s.cfg.Trace.Start(r, "15").End(status, "cors preflight")
		return
	}
	rt.setCORS(w, r)

	token, err := bearerToken(r, rt.InsecureAllowQueryToken)
	if err != nil {
		status := s.writeTokenError(w, err)
		s.cfg.Trace.Start(r, "15").End(status, "no valid bearer token")
		return
	}
	// The token's fingerprint is computed once; steps 15 to 18 all carry it.
	tokenFP := trace.Fingerprint(token)
	s.cfg.Trace.Start(r, "15").SetFingerprint(trace.KeyAccessToken, tokenFP).End(0, "api request received")

	res, err := s.authorize(r, rt, token, tokenFP)
	if err != nil {
		s.writeAuthError(w, r, err, token)
		return
	}
	if !res.active {
		s.writeBearerError(w, invalidToken(), "")
		return
	}

	// RFC 6750 section 3: the scope attribute lists every scope the
	// request needs, not only the missing ones. The check runs on
	// every request, cached result or not.
	required := rt.requiredScopes(r.Method)
	if missing := missingScopes(res.scope, required); len(missing) > 0 {
		s.cfg.Logger.InfoContext(r.Context(), "insufficient scope", "step", "16",
			"missing_scopes", missing, trace.KeyAccessToken+"_fp", tokenFP)
		s.writeBearerError(w, oauth.NewError(oauth.ErrInsufficientScope,
			"The access token lacks a scope this request needs."), strings.Join(required, " "))
		return
	}
	s.forward(w, r, rt, proxy, tokenFP, res)
}

// forward sends the request to the route's upstream with the JWT (step 18)
// and records the upstream's status.
func (s *Server) forward(w *httpx.StatusRecorder, r *http.Request, rt *route, proxy *httputil.ReverseProxy, tokenFP string, res *tokenResult) {
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.UpstreamTimeout)
	defer cancel()
	ctx = context.WithValue(ctx, jwtKey{}, res.jwt)

	step := s.cfg.Trace.Start(r, "18").SetFingerprint(trace.KeyAccessToken, tokenFP).SetFingerprint(trace.KeyJWT, res.jwtFP)
	start := time.Now()
	proxy.ServeHTTP(w, r.WithContext(ctx))
	rt.metrics.upstream.Observe(time.Since(start).Seconds())
	step.End(w.Status, "forwarded with jwt")
}

// jwtKey is the context key under which forward hands the JWT to the
// proxy's Rewrite hook.
type jwtKey struct{}
