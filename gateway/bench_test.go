package gateway

import (
	"net/http"
	"testing"
	"time"

	"github.com/oidcstack/oidcstack/internal/oauth"
	"github.com/oidcstack/oidcstack/internal/secevent"
)

// BenchmarkServeCacheHit measures one API request served from the cache,
// forwarded to a loopback upstream.
func BenchmarkServeCacheHit(b *testing.B) {
	g := newBenchGateway(b, nil)
	if code := g.do(apiRequest(http.MethodGet, "/api/me", "Bearer "+testToken)).Code; code != http.StatusOK {
		b.Fatalf("warm-up status %d, want 200", code)
	}
	for b.Loop() {
		g.do(apiRequest(http.MethodGet, "/api/me", "Bearer "+testToken))
	}
}

// BenchmarkServePushed measures one API request in push mode.
func BenchmarkServePushed(b *testing.B) {
	g := newBenchGateway(b, func(c *Config) {
		c.Mode = ModePush
		c.PushAudience = testPushAudience
	})
	now := time.Now()
	set := g.newSET(now, g.issued(now.Add(time.Hour), "openid"))
	raw, err := g.auth.keys.Signing().Sign(set, oauth.JWTTypeSecEvent)
	if err != nil {
		b.Fatal(err)
	}
	if code := g.pushRaw(raw, secevent.ContentType).Code; code != http.StatusAccepted {
		b.Fatalf("push status %d, want 202", code)
	}
	for b.Loop() {
		g.do(apiRequest(http.MethodGet, "/api/me", "Bearer "+testToken))
	}
}

func newBenchGateway(b *testing.B, edit func(*Config)) *testGateway {
	b.Helper()
	return newTestGatewayAt(b, time.Now(), edit)
}
