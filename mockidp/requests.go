package mockidp

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/oidcstack/oidcstack/internal/trace"
)

// maxRecordedRequests bounds the requests a Server keeps for [Server.Requests].
const maxRecordedRequests = 1000

// secretParams are parameters recorded only as fingerprints.
var secretParams = map[string]bool{
	"access_token": true, "client_secret": true, "code": true, "code_verifier": true,
	"csrf_token": true, "id_token": true, "id_token_hint": true, "password": true,
	"refresh_token": true, "token": true,
}

// Request is a request an issuer received, recorded so a test can assert
// what a relying party sent. The values of secret parameters (code,
// code_verifier, client_secret, tokens, passwords), the credentials of the
// Authorization header and cookie values are replaced by their
// fingerprints (the first 16 hex digits of their SHA-256).
type Request struct {
	Time   time.Time  `json:"time"`
	Issuer string     `json:"issuer"` // the issuer's name, such as "google"
	Method string     `json:"method"`
	Path   string     `json:"path"`   // the path below the issuer URL, such as "/token"
	Params url.Values `json:"params"` // query and form parameters
	// AuthScheme is the scheme of the Authorization header ("Basic",
	// "Bearer"), or "" without one.
	AuthScheme string `json:"auth_scheme,omitempty"`
	// Header holds the request headers, with the credentials of
	// Authorization and Proxy-Authorization and every cookie value
	// replaced by fingerprints.
	Header http.Header `json:"header"`
}

// requestLog keeps the most recent requests.
type requestLog struct {
	mu       sync.Mutex
	requests []Request
}

func (l *requestLog) add(req Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.requests) >= maxRecordedRequests {
		l.requests = append(l.requests[:0:0], l.requests[1:]...)
	}
	l.requests = append(l.requests, req)
}

// Requests returns the requests the server's issuers received, oldest
// first, at most the last 1000.
func (s *Server) Requests() []Request {
	s.requests.mu.Lock()
	defer s.requests.mu.Unlock()
	return append([]Request(nil), s.requests.requests...)
}

// ClearRequests deletes the recorded requests.
func (s *Server) ClearRequests() {
	s.requests.mu.Lock()
	defer s.requests.mu.Unlock()
	s.requests.requests = nil
}

// maskedHeader returns a copy of h with credentials and cookie values
// replaced by their fingerprints.
func maskedHeader(h http.Header) http.Header {
	out := h.Clone()
	for _, name := range []string{"Authorization", "Proxy-Authorization"} {
		for i, v := range out[name] {
			scheme, credentials, ok := strings.Cut(v, " ")
			if !ok {
				scheme, credentials = "", v
			}
			out[name][i] = strings.TrimSpace(scheme + " " + trace.Fingerprint(credentials))
		}
	}
	for i, v := range out["Cookie"] {
		var masked []string
		for _, pair := range strings.Split(v, ";") {
			name, value, _ := strings.Cut(strings.TrimSpace(pair), "=")
			masked = append(masked, name+"="+trace.Fingerprint(value))
		}
		out["Cookie"][i] = strings.Join(masked, "; ")
	}
	return out
}

// recordRequest adds r to the request log. It parses the form, which the
// handlers then read from r.Form and r.PostForm.
func (s *Server) recordRequest(r *http.Request, iss *issuer, now time.Time) {
	// A form that fails to parse is recorded without parameters; the
	// handler reports the error.
	_ = r.ParseForm()
	params := url.Values{}
	for name, values := range r.Form {
		for _, v := range values {
			if secretParams[name] {
				v = trace.Fingerprint(v)
			}
			params.Add(name, v)
		}
	}
	scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	s.requests.add(Request{
		Time:       now,
		Issuer:     iss.name,
		Method:     r.Method,
		Path:       strings.TrimPrefix(r.URL.Path, "/"+iss.name),
		Params:     params,
		AuthScheme: scheme,
		Header:     maskedHeader(r.Header),
	})
}
