package mockidp

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkStartReady measures the time from New with the default
// two-issuer configuration to the first discovery document served. Key
// generation dominates; the two issuers' keys are generated concurrently.
//
//	go test -run '^$' -bench BenchmarkStartReady -benchtime 20x ./mockidp
func BenchmarkStartReady(b *testing.B) {
	for b.Loop() {
		srv, err := New(Config{})
		if err != nil {
			b.Fatal(err)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/google/.well-known/openid-configuration", nil))
		if rec.Code != http.StatusOK {
			b.Fatalf("discovery status %d", rec.Code)
		}
		srv.Close()
	}
}
