package e2e

import (
	"net/url"
	"strings"
	"sync"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/proto"
)

// hop is one HTTP exchange the browser made, as the DevTools protocol
// reports it: each redirect is a hop of its own.
type hop struct {
	Method   string
	URL      string
	Status   int
	Location string
}

// networkLog records every request the page makes, with its status, in
// the order the browser sent them.
type networkLog struct {
	mu      sync.Mutex
	hops    []hop
	pending map[proto.NetworkRequestID]int // request ID to index in hops
}

// recordNetwork records page's requests until the page closes.
func recordNetwork(page *rod.Page) *networkLog {
	l := &networkLog{pending: map[proto.NetworkRequestID]int{}}
	_ = proto.NetworkEnable{}.Call(page)
	wait := page.EachEvent(
		func(e *proto.NetworkRequestWillBeSent) {
			l.mu.Lock()
			defer l.mu.Unlock()
			// A redirect reuses the request ID: its response ends the
			// previous hop.
			if e.RedirectResponse != nil {
				if i, ok := l.pending[e.RequestID]; ok {
					l.hops[i].Status = e.RedirectResponse.Status
					l.hops[i].Location = headerValue(e.RedirectResponse.Headers, "Location")
				}
			}
			l.hops = append(l.hops, hop{Method: e.Request.Method, URL: e.Request.URL})
			l.pending[e.RequestID] = len(l.hops) - 1
		},
		func(e *proto.NetworkResponseReceived) {
			l.mu.Lock()
			defer l.mu.Unlock()
			if i, ok := l.pending[e.RequestID]; ok {
				l.hops[i].Status = e.Response.Status
			}
		},
	)
	go wait()
	return l
}

func headerValue(h proto.NetworkHeaders, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v.String()
		}
	}
	return ""
}

// Hops returns a copy of the recorded exchanges.
func (l *networkLog) Hops() []hop {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]hop(nil), l.hops...)
}

// endpoints are the URLs of the stack under test, for classifying hops.
type endpoints struct {
	WebApp     string
	AuthServer string
	Issuer     string // the mock IDP's issuer
	Gateway    string
}

// classify returns the step names of FLOW's wire table that h shows, such
// as ["2a", "2b"] for the first authorization request, or nil for a hop
// that is no step (a script, a style sheet, the app's configuration).
// seenAuthorize and seenIDPAuthorize tell first from second visits.
func (ep endpoints) classify(h hop, seenAuthorize, seenIDPAuthorize bool) []string {
	u, err := url.Parse(h.URL)
	if err != nil {
		return nil
	}
	base := u.Scheme + "://" + u.Host
	path := u.Path
	switch {
	case base == ep.WebApp && path == "/" && h.Method == "GET":
		return []string{"1"}
	case base == ep.WebApp && path == "/callback":
		return []string{"14a"}
	case base == ep.AuthServer && path == "/authorize" && !seenAuthorize:
		return []string{"2a", "2b"}
	case base == ep.AuthServer && path == "/login" && h.Method == "GET":
		return []string{"3"}
	case base == ep.AuthServer && path == "/login" && h.Method == "POST":
		return []string{"4a", "4b"}
	case strings.HasPrefix(h.URL, ep.Issuer+"/") && strings.HasSuffix(path, "/authorize") && !seenIDPAuthorize:
		return []string{"5a", "5b"}
	case strings.HasPrefix(h.URL, ep.Issuer+"/") && strings.HasSuffix(path, "/authorize"):
		return []string{"8a", "8b"}
	case strings.HasPrefix(h.URL, ep.Issuer+"/") && strings.Contains(path, "/login") && h.Method == "GET":
		return []string{"6"}
	case strings.HasPrefix(h.URL, ep.Issuer+"/") && strings.Contains(path, "/login") && h.Method == "POST":
		return []string{"7a", "7b"}
	case base == ep.AuthServer && strings.HasPrefix(path, "/callback/"):
		return []string{"9a", "11b"}
	case base == ep.AuthServer && path == "/authorize/resume":
		return []string{"12a", "13b"}
	case base == ep.AuthServer && path == "/token" && h.Method == "POST":
		return []string{"14c"}
	case base == ep.Gateway && strings.HasPrefix(path, "/api/") && h.Method != "OPTIONS":
		return []string{"15"}
	}
	return nil
}

// steps turns the recorded hops into the sequence of FLOW steps.
func (ep endpoints) steps(hops []hop) []string {
	var out []string
	var seenAuthorize, seenIDPAuthorize bool
	for _, h := range hops {
		names := ep.classify(h, seenAuthorize, seenIDPAuthorize)
		if len(names) > 0 && names[0] == "2a" {
			seenAuthorize = true
		}
		if len(names) > 0 && names[0] == "5a" {
			seenIDPAuthorize = true
		}
		out = append(out, names...)
	}
	return out
}
