package authserver

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/oidcstack/oidcstack/authserver/store"
	"github.com/oidcstack/oidcstack/internal/oauth"
)

func TestTokenRedeemsCode(t *testing.T) {
	env := newTestEnv(t, nil)
	user := env.seedUser("user-1")
	code, verifier := env.seedCode(user.ID, "openid profile email", "app-nonce")

	resp := env.redeem(code, verifier, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	body := decodeJSON(t, resp)
	assert.Equal(t, "Bearer", body["token_type"])
	assert.Equal(t, float64(3600), body["expires_in"])
	assert.Equal(t, "openid profile email", body["scope"])
	assert.Len(t, body["access_token"], 43, "256 bits, base64url")
	assert.NotContains(t, body, "refresh_token", "demo-web has no refresh grant")

	// The ID token verifies with go-oidc against the server's own JWKS.
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, env.url)
	require.NoError(t, err)
	verifier2 := provider.Verifier(&oidc.Config{ClientID: DemoWebClientID, Now: env.clock.Now})
	idToken, err := verifier2.Verify(ctx, body["id_token"].(string))
	require.NoError(t, err)
	assert.Equal(t, user.ID, idToken.Subject)
	assert.Equal(t, "app-nonce", idToken.Nonce)
	require.NoError(t, idToken.VerifyAccessToken(body["access_token"].(string)))
	var claims struct {
		Email         string `json:"email"`
		EmailVerified bool   `json:"email_verified"`
		Name          string `json:"name"`
		AuthTime      int64  `json:"auth_time"`
	}
	require.NoError(t, idToken.Claims(&claims))
	assert.Equal(t, "alice@example.com", claims.Email)
	assert.True(t, claims.EmailVerified)
	assert.Equal(t, "Alice Liddell", claims.Name)
	assert.Equal(t, env.clock.Now().Unix(), claims.AuthTime)

	// The stored token is the hash only.
	at, err := env.store.GetAccessToken(ctx, oauth.HashToken(body["access_token"].(string)))
	require.NoError(t, err)
	assert.Equal(t, []string{DemoAudience}, at.Audiences)
}

func TestTokenWithOAuth2Client(t *testing.T) {
	env := newTestEnv(t, nil)
	user := env.seedUser("user-1")
	code, verifier := env.seedCode(user.ID, "openid", "")

	conf := &oauth2.Config{
		ClientID:    DemoWebClientID,
		Endpoint:    oauth2.Endpoint{TokenURL: env.url + "/token", AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL: testWebApp + "/callback",
	}
	tok, err := conf.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
	require.NoError(t, err)
	assert.NotEmpty(t, tok.AccessToken)
	assert.Equal(t, "Bearer", tok.TokenType)
	assert.WithinDuration(t, time.Now().Add(time.Hour), tok.Expiry, time.Minute)
}

func TestTokenRejectsBadRedemptions(t *testing.T) {
	env := newTestEnv(t, nil)
	user := env.seedUser("user-1")

	t.Run("code replay revokes the first token", func(t *testing.T) {
		code, verifier := env.seedCode(user.ID, "openid", "")
		first := env.redeem(code, verifier, nil)
		require.Equal(t, http.StatusOK, first.StatusCode)
		token := decodeJSON(t, first)["access_token"].(string)

		replay := env.redeem(code, verifier, nil)
		assert.Equal(t, http.StatusBadRequest, replay.StatusCode)
		assert.Equal(t, oauth.ErrInvalidGrant, decodeJSON(t, replay)["error"])

		at, err := env.store.GetAccessToken(context.Background(), oauth.HashToken(token))
		require.NoError(t, err)
		assert.True(t, at.Revoked, "RFC 6749 section 4.1.2")
	})

	t.Run("wrong verifier", func(t *testing.T) {
		code, _ := env.seedCode(user.ID, "openid", "")
		resp := env.redeem(code, oauth.NewToken(), nil)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		assert.Equal(t, oauth.ErrInvalidGrant, decodeJSON(t, resp)["error"])
	})

	t.Run("missing verifier", func(t *testing.T) {
		code, _ := env.seedCode(user.ID, "openid", "")
		resp := env.redeem(code, "", nil)
		assert.Equal(t, oauth.ErrInvalidGrant, decodeJSON(t, resp)["error"])
	})

	t.Run("other redirect URI", func(t *testing.T) {
		code, verifier := env.seedCode(user.ID, "openid", "")
		resp := env.postForm("/token", url.Values{
			"grant_type": {"authorization_code"}, "code": {code}, "client_id": {DemoWebClientID},
			"redirect_uri": {testWebApp + "/other"}, "code_verifier": {verifier},
		}, "", "", nil)
		assert.Equal(t, oauth.ErrInvalidGrant, decodeJSON(t, resp)["error"])
	})

	t.Run("expired code", func(t *testing.T) {
		code, verifier := env.seedCode(user.ID, "openid", "")
		env.clock.Advance(DefaultCodeTTL)
		resp := env.redeem(code, verifier, nil)
		assert.Equal(t, oauth.ErrInvalidGrant, decodeJSON(t, resp)["error"])
	})

	t.Run("unknown code", func(t *testing.T) {
		resp := env.redeem("no-such-code", oauth.NewToken(), nil)
		assert.Equal(t, oauth.ErrInvalidGrant, decodeJSON(t, resp)["error"])
	})

	t.Run("code of another client", func(t *testing.T) {
		code, verifier := env.seedCode(user.ID, "openid", "")
		resp := env.postForm("/token", url.Values{
			"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {testWebApp + "/callback"}, "code_verifier": {verifier},
		}, DemoGatewayClientID, DemoGatewaySecret, nil)
		assert.Equal(t, oauth.ErrUnauthorizedClient, decodeJSON(t, resp)["error"])
	})

	t.Run("unknown grant type", func(t *testing.T) {
		resp := env.postForm("/token", url.Values{"grant_type": {"password"}, "client_id": {DemoWebClientID}}, "", "", nil)
		assert.Equal(t, oauth.ErrUnsupportedGrantType, decodeJSON(t, resp)["error"])
	})

	t.Run("confidential client without secret", func(t *testing.T) {
		resp := env.postForm("/token", url.Values{"grant_type": {oauth.GrantTokenExchange}, "client_id": {DemoGatewayClientID}}, "", "", nil)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		assert.Equal(t, oauth.ErrInvalidClient, decodeJSON(t, resp)["error"])
	})

	t.Run("wrong secret", func(t *testing.T) {
		resp := env.postForm("/token", url.Values{"grant_type": {oauth.GrantTokenExchange}}, DemoGatewayClientID, "wrong", nil)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		body := readBody(t, resp)
		assert.Contains(t, body, oauth.ErrInvalidClient)
		assert.NotContains(t, body, "wrong", "submitted secrets are never echoed")
	})
}

func TestTokenCORS(t *testing.T) {
	env := newTestEnv(t, nil)
	user := env.seedUser("user-1")

	t.Run("registered origin", func(t *testing.T) {
		code, verifier := env.seedCode(user.ID, "openid", "")
		resp := env.redeem(code, verifier, http.Header{"Origin": {testWebApp}})
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, testWebApp, resp.Header.Get("Access-Control-Allow-Origin"))
		assert.Contains(t, resp.Header.Values("Vary"), "Origin")
		assert.Empty(t, resp.Header.Get("Access-Control-Allow-Credentials"))
	})

	t.Run("foreign origin", func(t *testing.T) {
		code, verifier := env.seedCode(user.ID, "openid", "")
		resp := env.redeem(code, verifier, http.Header{"Origin": {"http://evil.example"}})
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		assert.Equal(t, oauth.ErrInvalidRequest, decodeJSON(t, resp)["error"])
		assert.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))

		// The rejected request did not use up the code.
		retry := env.redeem(code, verifier, nil)
		assert.Equal(t, http.StatusOK, retry.StatusCode)
	})

	t.Run("confidential client from a browser", func(t *testing.T) {
		resp := env.postForm("/token", url.Values{"grant_type": {oauth.GrantTokenExchange}},
			DemoGatewayClientID, DemoGatewaySecret, http.Header{"Origin": {testWebApp}})
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		assert.Equal(t, oauth.ErrInvalidRequest, decodeJSON(t, resp)["error"])
	})

	t.Run("preflight", func(t *testing.T) {
		tests := []struct {
			origin    string
			status    int
			allowedAs string
		}{
			{testWebApp, http.StatusNoContent, testWebApp},
			{"http://evil.example", http.StatusForbidden, ""},
			{"", http.StatusForbidden, ""},
		}
		for _, tt := range tests {
			req, err := http.NewRequest(http.MethodOptions, env.url+"/token", nil)
			require.NoError(t, err)
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			req.Header.Set("Access-Control-Request-Method", "POST")
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, tt.status, resp.StatusCode, tt.origin)
			assert.Equal(t, tt.allowedAs, resp.Header.Get("Access-Control-Allow-Origin"), tt.origin)
			if tt.allowedAs != "" {
				assert.Equal(t, "POST", resp.Header.Get("Access-Control-Allow-Methods"))
				assert.Equal(t, "Content-Type", resp.Header.Get("Access-Control-Allow-Headers"))
			}
		}
	})
}

func TestMetadata(t *testing.T) {
	env := newTestEnv(t, nil)
	for _, path := range []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"} {
		resp := env.get(path)
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		var m map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
		assert.Equal(t, env.url, m["issuer"])
		assert.Equal(t, env.url+"/authorize", m["authorization_endpoint"])
		assert.Equal(t, env.url+"/token", m["token_endpoint"])
		assert.Equal(t, env.url+"/introspect", m["introspection_endpoint"])
		assert.Equal(t, env.url+"/jwks", m["jwks_uri"])
		assert.Equal(t, []any{"S256"}, m["code_challenge_methods_supported"])
		assert.Equal(t, []any{"client_secret_basic"}, m["introspection_endpoint_auth_methods_supported"])
		assert.Equal(t, []any{"RS256"}, m["id_token_signing_alg_values_supported"])
		assert.Contains(t, m["grant_types_supported"], oauth.GrantTokenExchange)
		assert.Contains(t, m["response_types_supported"], "code")
		assert.Contains(t, m["subject_types_supported"], "public")
		assert.Contains(t, m["scopes_supported"], "openid")
		assert.Contains(t, m["token_endpoint_auth_methods_supported"], "client_secret_basic")
	}

	jwks := env.get("/jwks")
	require.Equal(t, http.StatusOK, jwks.StatusCode)
	body := readBody(t, jwks)
	assert.Contains(t, body, `"kid":"`+env.key.ID+`"`)
	assert.False(t, strings.Contains(body, `"d":`), "no private key material")
}

func TestHealthzAndTrace(t *testing.T) {
	env := newTestEnv(t, nil)
	resp := env.get("/healthz")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "ok\n", readBody(t, resp))

	resp = env.get("/_trace")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, readBody(t, resp), `"service":"authserver"`)
}

func TestTokenPublicClientInBasicHeader(t *testing.T) {
	env := newTestEnv(t, nil)
	user := env.seedUser("user-1")
	code, verifier := env.seedCode(user.ID, "openid", "")

	// x/oauth2's default style tries the Basic header first.
	conf := &oauth2.Config{
		ClientID:    DemoWebClientID,
		Endpoint:    oauth2.Endpoint{TokenURL: env.url + "/token", AuthStyle: oauth2.AuthStyleInHeader},
		RedirectURL: testWebApp + "/callback",
	}
	tok, err := conf.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
	require.NoError(t, err)
	assert.NotEmpty(t, tok.AccessToken)

	// A public client has no secret to send.
	code, verifier = env.seedCode(user.ID, "openid", "")
	resp := env.postForm("/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {testWebApp + "/callback"}, "code_verifier": {verifier},
	}, DemoWebClientID, "guessed-secret", nil)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

func TestTokenConcurrentRedeemOneWins(t *testing.T) {
	env := newTestEnv(t, func(c *Config) {
		st, err := store.OpenSQLiteFile(context.Background(), filepath.Join(t.TempDir(), "authserver.db"))
		require.NoError(t, err)
		t.Cleanup(func() { _ = st.Close() })
		c.Store = st
	})
	user := env.seedUser("user-1")
	code, verifier := env.seedCode(user.ID, "openid", "")

	const attempts = 6
	statuses := make([]int, attempts)
	var wg sync.WaitGroup
	for i := range attempts {
		wg.Go(func() {
			form := url.Values{
				"grant_type": {"authorization_code"}, "code": {code}, "client_id": {DemoWebClientID},
				"redirect_uri": {testWebApp + "/callback"}, "code_verifier": {verifier},
			}
			resp, err := http.PostForm(env.url+"/token", form)
			if err != nil {
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		})
	}
	wg.Wait()

	ok, rejected := 0, 0
	for _, status := range statuses {
		switch status {
		case http.StatusOK:
			ok++
		case http.StatusBadRequest:
			rejected++
		}
	}
	assert.Equal(t, 1, ok, "exactly one redemption succeeds: %v", statuses)
	assert.Equal(t, attempts-1, rejected, "the others get invalid_grant: %v", statuses)
}

// faultyStore fails GetUser and remembers the tokens stored at the last
// code redemption.
type faultyStore struct {
	store.Store
	mu     sync.Mutex
	issued store.Tokens
}

func (f *faultyStore) GetUser(context.Context, string) (store.User, error) {
	return store.User{}, errors.New("injected failure")
}

func (f *faultyStore) RedeemAuthCode(ctx context.Context, hash string, issue func(store.AuthCode) (store.Tokens, error)) error {
	return f.Store.RedeemAuthCode(ctx, hash, func(c store.AuthCode) (store.Tokens, error) {
		tokens, err := issue(c)
		f.mu.Lock()
		f.issued = tokens
		f.mu.Unlock()
		return tokens, err
	})
}

func TestTokenFailureRevokesStoredTokens(t *testing.T) {
	var faulty *faultyStore
	env := newTestEnv(t, func(c *Config) {
		faulty = &faultyStore{Store: c.Store}
		c.Store = faulty
	})
	user := env.seedUser("user-1")
	code, verifier := env.seedCode(user.ID, "openid", "")

	// The ID token needs the user, whom the store fails to read.
	resp := env.redeem(code, verifier, nil)
	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	assert.Equal(t, oauth.ErrServerError, decodeJSON(t, resp)["error"])

	faulty.mu.Lock()
	hash := faulty.issued.Access.Hash
	faulty.mu.Unlock()
	require.NotEmpty(t, hash)
	at, err := faulty.Store.GetAccessToken(context.Background(), hash)
	require.NoError(t, err)
	assert.True(t, at.Revoked, "no usable token that the client never received")
}
