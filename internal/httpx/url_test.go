package httpx

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseHTTPURL(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		wantErr string
	}{
		{name: "http", raw: "http://localhost:9001"},
		{name: "https with path and query", raw: "https://idp.example/tenant?x=1"},
		{name: "empty", raw: "", wantErr: "required"},
		{name: "unparsable", raw: "http://[::1", wantErr: `invalid URL "http://[::1"`},
		{name: "relative", raw: "/jwks", wantErr: `URL "/jwks" must be absolute with scheme http or https`},
		{name: "other scheme", raw: "ftp://idp", wantErr: `URL "ftp://idp" must be absolute`},
		{name: "no host", raw: "http:///path", wantErr: `URL "http:///path" must be absolute`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := ParseHTTPURL(tt.raw)
			if tt.wantErr != "" {
				assert.ErrorContains(t, err, tt.wantErr)
				assert.Nil(t, u)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.raw, u.String())
		})
	}
}

func TestWellKnownURL(t *testing.T) {
	const path = "/.well-known/oauth-authorization-server"
	tests := []struct{ issuer, want string }{
		{"http://localhost:9001", "http://localhost:9001/.well-known/oauth-authorization-server"},
		{"http://localhost:9001/", "http://localhost:9001/.well-known/oauth-authorization-server"},
		{"https://as.example/tenant", "https://as.example/.well-known/oauth-authorization-server/tenant"},
	}
	for _, tt := range tests {
		got, err := WellKnownURL(tt.issuer, path)
		require.NoError(t, err)
		assert.Equal(t, tt.want, got, tt.issuer)
	}

	_, err := WellKnownURL("http://[::1", path)
	assert.ErrorContains(t, err, `parse issuer "http://[::1"`)
}
