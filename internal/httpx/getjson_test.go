package httpx

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGetJSON(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ok", func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "application/json", r.Header.Get("Accept"))
		_, _ = w.Write([]byte(`{"issuer":"http://localhost:9001"}`))
	})
	mux.HandleFunc("GET /down", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "secret detail", http.StatusServiceUnavailable)
	})
	mux.HandleFunc("GET /garbage", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`not json`))
	})
	mux.HandleFunc("GET /huge", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"issuer":"` + strings.Repeat("a", MaxDocumentBytes) + `"}`))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	ctx := context.Background()

	var meta struct {
		Issuer string `json:"issuer"`
	}
	require.NoError(t, GetJSON(ctx, srv.Client(), srv.URL+"/ok", &meta))
	assert.Equal(t, "http://localhost:9001", meta.Issuer)

	tests := []struct {
		name    string
		path    string
		wantErr string
	}{
		{name: "status", path: "/down", wantErr: "status 503, want 200"},
		{name: "not JSON", path: "/garbage", wantErr: "decode"},
		{name: "too long", path: "/huge", wantErr: "decode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := GetJSON(ctx, srv.Client(), srv.URL+tt.path, &meta)
			assert.ErrorContains(t, err, tt.wantErr)
			assert.ErrorContains(t, err, srv.URL+tt.path)
			assert.NotContains(t, err.Error(), "secret detail")
		})
	}

	t.Run("unreachable", func(t *testing.T) {
		dead := httptest.NewServer(http.NotFoundHandler())
		dead.Close()
		err := GetJSON(ctx, dead.Client(), dead.URL, &meta)
		assert.ErrorContains(t, err, "get ")
	})
}
