package authserver

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/internal/oauth"
)

func (e *testEnv) introspect(token, user, pass string) *http.Response {
	e.t.Helper()
	return e.postForm("/introspect", url.Values{"token": {token}}, user, pass, nil)
}

func (e *testEnv) exchange(token, audience string) *http.Response {
	e.t.Helper()
	return e.postForm("/token", url.Values{
		"grant_type":         {oauth.GrantTokenExchange},
		"subject_token":      {token},
		"subject_token_type": {oauth.TokenTypeAccessToken},
		"audience":           {audience},
	}, DemoGatewayClientID, DemoGatewaySecret, nil)
}

func TestIntrospectActiveToken(t *testing.T) {
	env := newTestEnv(t, nil)
	user := env.seedUser("user-1")
	token := env.seedAccessToken(user.ID, time.Hour)

	resp := env.introspect(token, DemoGatewayClientID, DemoGatewaySecret)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	now := env.clock.Now()
	assert.JSONEq(t, `{"active":true,"scope":"openid profile email","client_id":"demo-web",`+
		`"sub":"user-1","exp":`+itoa(now.Add(time.Hour).Unix())+`,"iat":`+itoa(now.Unix())+
		`,"token_type":"Bearer","iss":"`+env.url+`","aud":["demo-api"]}`, readBody(t, resp))
}

func TestIntrospectInactiveTokens(t *testing.T) {
	env := newTestEnv(t, nil)
	user := env.seedUser("user-1")
	expired := env.seedAccessToken(user.ID, time.Minute)
	revoked := env.seedAccessToken(user.ID, time.Hour)
	require.NoError(t, env.store.RevokeAccessToken(t.Context(), oauth.HashToken(revoked)))
	env.clock.Advance(time.Minute)

	for name, token := range map[string]string{"unknown": "no-such-token", "expired": expired, "revoked": revoked} {
		t.Run(name, func(t *testing.T) {
			resp := env.introspect(token, DemoGatewayClientID, DemoGatewaySecret)
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, "{\"active\":false}\n", readBody(t, resp))
		})
	}
}

func TestIntrospectRejectsClients(t *testing.T) {
	env := newTestEnv(t, nil)
	user := env.seedUser("user-1")
	token := env.seedAccessToken(user.ID, time.Hour)

	t.Run("public client", func(t *testing.T) {
		resp := env.postForm("/introspect", url.Values{"token": {token}, "client_id": {DemoWebClientID}}, "", "", nil)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		assert.Equal(t, oauth.ErrInvalidClient, decodeJSON(t, resp)["error"])
	})
	t.Run("public client with Basic", func(t *testing.T) {
		resp := env.introspect(token, DemoWebClientID, "")
		assert.Equal(t, oauth.ErrInvalidClient, decodeJSON(t, resp)["error"])
	})
	t.Run("no authentication", func(t *testing.T) {
		resp := env.postForm("/introspect", url.Values{"token": {token}}, "", "", nil)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		assert.Equal(t, `Basic realm="token"`, resp.Header.Get("WWW-Authenticate"))
	})
	t.Run("missing token", func(t *testing.T) {
		resp := env.introspect("", DemoGatewayClientID, DemoGatewaySecret)
		assert.Equal(t, oauth.ErrInvalidRequest, decodeJSON(t, resp)["error"])
	})
}

func TestExchangeIssuesJWT(t *testing.T) {
	env := newTestEnv(t, nil)
	user := env.seedUser("user-1")
	token := env.seedAccessToken(user.ID, time.Hour)

	resp := env.exchange(token, DemoAudience)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body := decodeJSON(t, resp)
	assert.Equal(t, oauth.TokenTypeAccessToken, body["issued_token_type"])
	assert.Equal(t, "Bearer", body["token_type"])
	assert.Equal(t, float64(60), body["expires_in"])
	assert.NotContains(t, body, "refresh_token")

	header, claims := verifyJWT(t, env, body["access_token"].(string))
	assert.Equal(t, "at+jwt", header.ExtraHeaders["typ"])
	assert.Equal(t, env.key.ID, header.KeyID)
	assert.Equal(t, "RS256", header.Algorithm)

	now := env.clock.Now().Unix()
	assert.Equal(t, env.url, claims["iss"])
	assert.Equal(t, "user-1", claims["sub"])
	assert.Equal(t, DemoAudience, claims["aud"])
	assert.Equal(t, DemoWebClientID, claims["client_id"])
	assert.Equal(t, float64(now), claims["iat"])
	assert.Equal(t, float64(now+60), claims["exp"])
	assert.Equal(t, "openid profile email", claims["scope"])
	assert.Equal(t, "Alice Liddell", claims["name"])
	assert.Equal(t, "alice@example.com", claims["email"])
	assert.Equal(t, true, claims["email_verified"])
	assert.Equal(t, map[string]any{"sub": DemoGatewayClientID}, claims["act"])
	assert.NotEmpty(t, claims["jti"])
}

func TestExchangeNeverOutlivesSubjectToken(t *testing.T) {
	env := newTestEnv(t, nil)
	user := env.seedUser("user-1")
	token := env.seedAccessToken(user.ID, 25*time.Second)

	resp := env.exchange(token, DemoAudience)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body := decodeJSON(t, resp)
	assert.Equal(t, float64(25), body["expires_in"])
	_, claims := verifyJWT(t, env, body["access_token"].(string))
	assert.Equal(t, float64(env.clock.Now().Unix()+25), claims["exp"])
}

func TestExchangeRejections(t *testing.T) {
	env := newTestEnv(t, func(c *Config) {
		c.Clients = append(c.Clients, Client{
			ID: "other-gateway", Secret: "other-secret",
			GrantTypes: []string{oauth.GrantTokenExchange}, Audiences: []string{"billing-api"},
		})
	})
	user := env.seedUser("user-1")
	token := env.seedAccessToken(user.ID, time.Hour)
	revoked := env.seedAccessToken(user.ID, time.Hour)
	require.NoError(t, env.store.RevokeAccessToken(t.Context(), oauth.HashToken(revoked)))

	exchangeForm := func(token, audience string) url.Values {
		return url.Values{
			"grant_type": {oauth.GrantTokenExchange}, "subject_token": {token},
			"subject_token_type": {oauth.TokenTypeAccessToken}, "audience": {audience},
		}
	}
	tests := []struct {
		name       string
		form       url.Values
		user, pass string
		wantCode   string
	}{
		{"audience not allowed", exchangeForm(token, "admin-api"), DemoGatewayClientID, DemoGatewaySecret, oauth.ErrInvalidTarget},
		{"audience not in subject token", exchangeForm(token, "billing-api"), "other-gateway", "other-secret", oauth.ErrInvalidTarget},
		{"public client", func() url.Values {
			f := exchangeForm(token, DemoAudience)
			f.Set("client_id", DemoWebClientID)
			return f
		}(), "", "", oauth.ErrUnauthorizedClient},
		{"revoked subject token", exchangeForm(revoked, DemoAudience), DemoGatewayClientID, DemoGatewaySecret, oauth.ErrInvalidRequest},
		{"unknown subject token", exchangeForm("unknown", DemoAudience), DemoGatewayClientID, DemoGatewaySecret, oauth.ErrInvalidRequest},
		{"missing audience", exchangeForm(token, ""), DemoGatewayClientID, DemoGatewaySecret, oauth.ErrInvalidRequest},
		{"wrong subject token type", func() url.Values {
			f := exchangeForm(token, DemoAudience)
			f.Set("subject_token_type", oauth.TokenTypeIDToken)
			return f
		}(), DemoGatewayClientID, DemoGatewaySecret, oauth.ErrInvalidRequest},
		{"two audiences", func() url.Values {
			f := exchangeForm(token, DemoAudience)
			f.Add("audience", "admin-api")
			return f
		}(), DemoGatewayClientID, DemoGatewaySecret, oauth.ErrInvalidTarget},
		{"scope wider than subject", func() url.Values {
			f := exchangeForm(token, DemoAudience)
			f.Set("scope", "openid admin")
			return f
		}(), DemoGatewayClientID, DemoGatewaySecret, oauth.ErrInvalidScope},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.form.Get("audience") == "" {
				tt.form.Del("audience")
			}
			resp := env.postForm("/token", tt.form, tt.user, tt.pass, nil)
			assert.Equal(t, tt.wantCode, decodeJSON(t, resp)["error"])
		})
	}
}

// verifyJWT checks the JWT's signature with the server's published JWKS
// and returns its header and claims.
func verifyJWT(t *testing.T, env *testEnv, raw string) (jose.Header, map[string]any) {
	t.Helper()
	var set jose.JSONWebKeySet
	resp := env.get("/jwks")
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&set))

	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	require.NoError(t, err)
	require.Len(t, jws.Signatures, 1)
	header := jws.Signatures[0].Header
	keys := set.Key(header.KeyID)
	require.Len(t, keys, 1, "kid published in the JWKS")
	payload, err := jws.Verify(keys[0])
	require.NoError(t, err)
	var claims map[string]any
	require.NoError(t, json.Unmarshal(payload, &claims))
	return header, claims
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
