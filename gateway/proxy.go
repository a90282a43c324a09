package gateway

import (
	"log/slog"
	"net/http"
	"net/http/httputil"

	"github.com/oidcstack/oidcstack/internal/trace"
)

// newProxy returns the reverse proxy of rt. Every request it forwards
// carries the JWT that forward put in the request's context.
func (s *Server) newProxy(rt *route) *httputil.ReverseProxy {
	// rewrite sets traceparent on the outbound request, which the proxy
	// owns, so the proxy skips trace.Transport and its per-request clone.
	// A nil transport means http.DefaultTransport here as there.
	transport := s.cfg.HTTPClient.Transport
	if tt, ok := transport.(*trace.Transport); ok {
		transport = tt.Base
	}
	return &httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { rewrite(pr, rt) },
		Transport: transport,
		ModifyResponse: func(resp *http.Response) error {
			dropUpstreamCORS(resp.Header)
			// Services share cookies with every other service on the same
			// host name, so no upstream may set one through the gateway.
			resp.Header.Del("Set-Cookie")
			return nil
		},
		ErrorHandler: s.upstreamError,
		ErrorLog:     slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelWarn),
	}
}

// rewrite turns the client's request into the request to the upstream.
// httputil.ReverseProxy has already removed hop-by-hop headers and the
// client's X-Forwarded-For, X-Forwarded-Host and X-Forwarded-Proto.
func rewrite(pr *httputil.ProxyRequest, rt *route) {
	pr.SetURL(rt.upstream)
	pr.SetXForwarded()

	out := pr.Out.Header
	// Other forwarding headers a client could spoof.
	out.Del("Forwarded")
	out.Del("X-Real-Ip")
	// Cookies belong to the browser's session with other services on the
	// same host name and never reach an upstream.
	out.Del("Cookie")

	jwt, _ := pr.In.Context().Value(jwtKey{}).(string)
	out.Set("Authorization", "Bearer "+jwt)

	// W3C Trace Context: keep the caller's trace, or start one.
	if out.Get(trace.TraceparentHeader) == "" {
		out.Set(trace.TraceparentHeader, trace.NewTraceparent())
	}

	if rt.InsecureAllowQueryToken {
		q := pr.Out.URL.Query()
		if q.Has(queryTokenParam) {
			q.Del(queryTokenParam)
			pr.Out.URL.RawQuery = q.Encode()
		}
	}
}
