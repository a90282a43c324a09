package trace

import (
	"encoding/json"
	"net"
	"net/http"
)

// Handler serves the kept events as {"service": ..., "events": [...]} to
// loopback clients and responds 403 to everyone else: the trace shows the
// shape of every login on the server, so it is for the operator's machine
// only.
func (r *Recorder) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !IsLoopback(req) {
			http.Error(w, "the step trace is served to loopback clients only", http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(struct {
			Service string  `json:"service"`
			Events  []Event `json:"events"`
		}{r.service, r.Events()})
	})
}

// IsLoopback reports whether the request's peer address is a loopback
// address. It looks only at the connection, never at forwarding headers,
// which a client can set to anything.
func IsLoopback(req *http.Request) bool {
	host, _, err := net.SplitHostPort(req.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
