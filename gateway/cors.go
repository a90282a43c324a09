package gateway

import (
	"net/http"
	"slices"
	"strings"
)

// CORS settings the gateway sends for allowed origins. Credentials
// (cookies) are never allowed: the token travels in the Authorization
// header, and the gateway does not forward cookies anyway.
const (
	corsAllowMethods  = "GET, HEAD, POST, PUT, PATCH, DELETE"
	corsAllowHeaders  = "Authorization, Content-Type"
	corsExposeHeaders = "WWW-Authenticate"
	corsMaxAge        = "600" // seconds a browser may cache the preflight
)

// isPreflight reports whether r is a CORS preflight request: OPTIONS with
// Origin and Access-Control-Request-Method (Fetch standard, section 3.2.2).
func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions &&
		r.Header.Get("Origin") != "" &&
		r.Header.Get("Access-Control-Request-Method") != ""
}

// allowedOrigin returns the request's Origin if the route allows it, or ""
// otherwise. Origins are compared exactly, as browsers serialize them.
func (rt *route) allowedOrigin(r *http.Request) string {
	origin := r.Header.Get("Origin")
	if origin == "" || !slices.Contains(rt.AllowedOrigins, origin) {
		return ""
	}
	return origin
}

// writePreflight responds to a CORS preflight. An allowed origin gets 204 with
// the CORS headers. Any other origin gets 403 without them, so the browser
// blocks the actual request.
func (rt *route) writePreflight(w http.ResponseWriter, r *http.Request) int {
	h := w.Header()
	h.Add("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
	origin := rt.allowedOrigin(r)
	if origin == "" {
		w.WriteHeader(http.StatusForbidden)
		return http.StatusForbidden
	}
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Methods", corsAllowMethods)
	h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
	h.Set("Access-Control-Max-Age", corsMaxAge)
	w.WriteHeader(http.StatusNoContent)
	return http.StatusNoContent
}

// setCORS adds the CORS headers of an actual (non-preflight) request from
// an allowed origin. They go on every response, errors included, so the
// calling script can read the status and the challenge.
func (rt *route) setCORS(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Add("Vary", "Origin")
	origin := rt.allowedOrigin(r)
	if origin == "" {
		return
	}
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
}

// dropUpstreamCORS removes the CORS headers of an upstream response, so
// that only the gateway's own settings reach the browser.
func dropUpstreamCORS(h http.Header) {
	for name := range h {
		if strings.HasPrefix(http.CanonicalHeaderKey(name), "Access-Control-") {
			h.Del(name)
		}
	}
}
