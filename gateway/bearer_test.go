package gateway

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/internal/oauth"
)

func TestParseBearer(t *testing.T) {
	tests := []struct {
		name    string
		values  []string
		want    string
		noToken bool // errNoToken: 401 without error code
	}{
		{name: "valid", values: []string{"Bearer abc-._~+/9="}, want: "abc-._~+/9="},
		{name: "scheme case-insensitive", values: []string{"bEARER abc"}, want: "abc"},
		{name: "several spaces allowed by 1*SP", values: []string{"Bearer   abc"}, want: "abc"},
		{name: "padding only at end", values: []string{"Bearer abc=="}, want: "abc=="},
		{name: "no header", values: nil, noToken: true},
		{name: "basic scheme", values: []string{"Basic x"}, noToken: true},
		{name: "empty header", values: []string{""}, noToken: true},
		{name: "scheme prefix only", values: []string{"Bearerabc"}, noToken: true},
		{name: "bearer alone", values: []string{"Bearer"}},
		{name: "bearer and space", values: []string{"Bearer "}},
		{name: "two credentials", values: []string{"Bearer abc def"}},
		{name: "trailing space", values: []string{"Bearer abc "}},
		{name: "tab separator", values: []string{"Bearer\tabc"}, noToken: true},
		{name: "tab in token", values: []string{"Bearer \tabc"}},
		{name: "comma", values: []string{"Bearer abc,def"}},
		{name: "quote", values: []string{`Bearer "abc"`}},
		{name: "padding in middle", values: []string{"Bearer ab=c"}},
		{name: "padding only", values: []string{"Bearer ==="}},
		{name: "non-ASCII", values: []string{"Bearer abcé"}},
		{name: "control character", values: []string{"Bearer abc\x00"}},
		{name: "oversize", values: []string{"Bearer " + strings.Repeat("a", MaxTokenLength+1)}},
		{name: "two headers", values: []string{"Bearer abc", "Bearer abc"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseBearer(tt.values)
			switch {
			case tt.want != "":
				require.NoError(t, err)
				assert.Equal(t, tt.want, got)
			case tt.noToken:
				assert.ErrorIs(t, err, errNoToken)
				assert.Empty(t, got)
			default:
				var oe *oauth.Error
				require.ErrorAs(t, err, &oe)
				assert.Equal(t, oauth.ErrInvalidRequest, oe.Code)
				assert.Empty(t, got)
			}
		})
	}
}

func TestParseBearerMaxLength(t *testing.T) {
	token := strings.Repeat("a", MaxTokenLength)
	got, err := parseBearer([]string{"Bearer " + token})
	require.NoError(t, err)
	assert.Equal(t, token, got)
}

func TestGatewayMalformedAuthorization(t *testing.T) {
	tests := []struct {
		name      string
		headers   []string
		status    int
		challenge string
	}{
		{"bearer alone", []string{"Bearer"}, http.StatusBadRequest, `Bearer realm="oidcstack", error="invalid_request"`},
		{"basic scheme", []string{"Basic x"}, http.StatusUnauthorized, `Bearer realm="oidcstack"`},
		{"two credentials", []string{"Bearer abc def"}, http.StatusBadRequest, `Bearer realm="oidcstack", error="invalid_request"`},
		{"bad characters", []string{"Bearer abc<>"}, http.StatusBadRequest, `Bearer realm="oidcstack", error="invalid_request"`},
		{"oversize", []string{"Bearer " + strings.Repeat("a", MaxTokenLength+1)}, http.StatusBadRequest, `Bearer realm="oidcstack", error="invalid_request"`},
		{"two headers", []string{"Bearer abc", "Bearer def"}, http.StatusBadRequest, `Bearer realm="oidcstack", error="invalid_request"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newTestGateway(t, nil)
			req := apiRequest(http.MethodGet, "/api/me", "")
			for _, h := range tt.headers {
				req.Header.Add("Authorization", h)
			}
			rec := g.do(req)

			assert.Equal(t, tt.status, rec.Code)
			assert.Equal(t, tt.challenge, rec.Header().Get("WWW-Authenticate"))
			introspections, _ := g.auth.calls()
			assert.Zero(t, introspections, "a malformed credential must not reach the authorization server")
			assert.Empty(t, g.upstream.received())
		})
	}
}

// FuzzParseBearer checks that the parser never panics, and that every
// token it accepts is a b64token within the length limit that the header
// really carried.
func FuzzParseBearer(f *testing.F) {
	seeds := []string{
		"Bearer abc", "bearer abc==", "Bearer  abc", "Bearer", "Bearer ", "Basic x",
		"Bearer a b", "Bearer a,b", "Bearer \x00", "Bearer é", "Bearer =", "",
		"Bearer " + strings.Repeat("a", MaxTokenLength+1),
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		token, err := parseBearer([]string{value})
		if err != nil {
			var oe *oauth.Error
			if !errors.Is(err, errNoToken) && !errors.As(err, &oe) {
				t.Fatalf("parseBearer(%q) returned an unexpected error type: %v", value, err)
			}
			if token != "" {
				t.Fatalf("parseBearer(%q) returned token %q with error %v", value, token, err)
			}
			return
		}
		if len(token) == 0 || len(token) > MaxTokenLength || !isB64Token(token) {
			t.Fatalf("parseBearer(%q) accepted invalid token %q", value, token)
		}
		scheme, rest, _ := strings.Cut(value, " ")
		if !strings.EqualFold(scheme, "Bearer") || strings.TrimLeft(rest, " ") != token {
			t.Fatalf("parseBearer(%q) returned %q, which is not the header's token", value, token)
		}
	})
}
