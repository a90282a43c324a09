package trace

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"
)

// TraceparentHeader is the W3C Trace Context request header.
const TraceparentHeader = "traceparent"

// NewTraceparent returns a fresh W3C traceparent value (version 00, sampled).
func NewTraceparent() string {
	var id [16]byte
	var span [8]byte
	_, _ = rand.Read(id[:])
	_, _ = rand.Read(span[:])
	return "00-" + hex.EncodeToString(id[:]) + "-" + hex.EncodeToString(span[:]) + "-01"
}

// TraceID returns the trace ID of a traceparent value, or "" if the value
// is malformed.
func TraceID(traceparent string) string {
	parts := strings.Split(traceparent, "-")
	if len(parts) != 4 || len(parts[1]) != 32 {
		return ""
	}
	return parts[1]
}

// Transport adds a traceparent header to each outgoing request that has
// none, so back-channel calls can be matched across services.
type Transport struct {
	// Base is the transport used for the request; nil means
	// http.DefaultTransport.
	Base http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	if req.Header.Get(TraceparentHeader) == "" {
		req = req.Clone(req.Context())
		req.Header.Set(TraceparentHeader, NewTraceparent())
	}
	return base.RoundTrip(req)
}
