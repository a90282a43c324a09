package mockidp

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/internal/keys/keytest"
)

// faultedTokens logs alice in through Login with fault f pending and
// redeems the code; it returns the token response.
func faultedTokens(t *testing.T, srv *Server, f Fault) tokenResult {
	t.Helper()
	require.NoError(t, srv.InjectFault("google", f))
	callback, err := srv.Login(context.Background(), authURL(srv.Issuer("google"), url.Values{"nonce": {"n-1"}}), aliceSubject)
	require.NoError(t, err)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {callback.Query().Get("code")}, "redirect_uri": {rpRedirectURI}}
	return postToken(t, srv.Issuer("google"), form, rpClientID, rpSecret)
}

// jwtHeader decodes the header of a compact JWT without verifying it.
func jwtHeader(t *testing.T, jwt string) map[string]any {
	t.Helper()
	part, _, _ := strings.Cut(jwt, ".")
	data, err := base64.RawURLEncoding.DecodeString(part)
	require.NoError(t, err)
	var header map[string]any
	require.NoError(t, json.Unmarshal(data, &header))
	return header
}

// publishedKeyIDs returns the kids in the issuer's JWKS.
func publishedKeyIDs(t *testing.T, srv *Server) []string {
	t.Helper()
	resp, err := http.Get(srv.Endpoints("google").JWKS)
	require.NoError(t, err)
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&set))
	resp.Body.Close()
	var ids []string
	for _, k := range set.Keys {
		id, _ := k["kid"].(string)
		ids = append(ids, id)
	}
	return ids
}

// TestIDTokenFaultMagnitudes checks the exact change each ID token fault
// makes, on a stopped clock.
func TestIDTokenFaultMagnitudes(t *testing.T) {
	now := time.Unix(1_900_000_000, 0)
	num := func(d time.Duration) json.Number {
		return json.Number(strconv.FormatInt(now.Add(d).Unix(), 10))
	}
	type check func(t *testing.T, srv *Server, oldKID string, raw string, header, claims map[string]any)
	issuerOf := func(srv *Server) string { return srv.Issuer("google") }
	key := keytest.Key(t)
	tests := map[FaultName]check{
		FaultBadSignature: func(t *testing.T, srv *Server, _ string, raw string, _, _ map[string]any) {
			// RS256 signatures are deterministic, so the correct one is
			// the faulted one with the bit flipped back.
			i := strings.LastIndexByte(raw, '.')
			got, err := base64.RawURLEncoding.DecodeString(raw[i+1:])
			require.NoError(t, err)
			want, err := rs256(key.Private)([]byte(raw[:i]))
			require.NoError(t, err)
			assert.Equal(t, want[0]^1, got[0])
			assert.Equal(t, want[1:], got[1:])
		},
		FaultAlgNone: func(t *testing.T, _ *Server, _ string, raw string, header, _ map[string]any) {
			assert.Equal(t, "none", header["alg"])
			assert.True(t, strings.HasSuffix(raw, "."), "empty signature")
		},
		FaultAlgHS256PublicKey: func(t *testing.T, _ *Server, oldKID string, raw string, header, _ map[string]any) {
			assert.Equal(t, "HS256", header["alg"])
			assert.Equal(t, oldKID, header["kid"])
			der, err := x509.MarshalPKIXPublicKey(&key.Private.PublicKey)
			require.NoError(t, err)
			mac := hmac.New(sha256.New, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
			i := strings.LastIndexByte(raw, '.')
			mac.Write([]byte(raw[:i]))
			assert.Equal(t, base64.RawURLEncoding.EncodeToString(mac.Sum(nil)), raw[i+1:])
		},
		FaultIssOtherHost: func(t *testing.T, srv *Server, _ string, _ string, _, claims map[string]any) {
			u, err := url.Parse(issuerOf(srv))
			require.NoError(t, err)
			assert.Equal(t, "http://mockidp.invalid:"+u.Port()+"/google", claims["iss"])
		},
		FaultIssTrailingSlash: func(t *testing.T, srv *Server, _ string, _ string, _, claims map[string]any) {
			assert.Equal(t, issuerOf(srv)+"/", claims["iss"])
		},
		FaultIssNoScheme: func(t *testing.T, srv *Server, _ string, _ string, _, claims map[string]any) {
			assert.Equal(t, strings.TrimPrefix(issuerOf(srv), "http://"), claims["iss"])
		},
		FaultAudOtherClient: func(t *testing.T, _ *Server, _ string, _ string, _, claims map[string]any) {
			assert.Equal(t, otherClientID, claims["aud"])
			assert.NotContains(t, claims, "azp")
		},
		FaultAudMultipleNoAZP: func(t *testing.T, _ *Server, _ string, _ string, _, claims map[string]any) {
			assert.Equal(t, []any{rpClientID, otherClientID}, claims["aud"])
			assert.NotContains(t, claims, "azp")
		},
		FaultAZPOtherClient: func(t *testing.T, _ *Server, _ string, _ string, _, claims map[string]any) {
			assert.Equal(t, []any{rpClientID, otherClientID}, claims["aud"])
			assert.Equal(t, otherClientID, claims["azp"])
		},
		FaultExpPast: func(t *testing.T, _ *Server, _ string, _ string, _, claims map[string]any) {
			assert.Equal(t, num(-10*time.Minute), claims["exp"])
			assert.Equal(t, num(-10*time.Minute-DefaultTokenTTL), claims["iat"])
		},
		FaultIatMissing: func(t *testing.T, _ *Server, _ string, _ string, _, claims map[string]any) {
			assert.NotContains(t, claims, "iat")
		},
		FaultIatFuture: func(t *testing.T, _ *Server, _ string, _ string, _, claims map[string]any) {
			assert.Equal(t, num(10*time.Minute), claims["iat"])
			assert.Equal(t, num(10*time.Minute+DefaultTokenTTL), claims["exp"])
		},
		FaultNbfFuture: func(t *testing.T, _ *Server, _ string, _ string, _, claims map[string]any) {
			assert.Equal(t, num(10*time.Minute), claims["nbf"])
			assert.Equal(t, num(0), claims["iat"])
		},
		FaultSubMissing: func(t *testing.T, _ *Server, _ string, _ string, _, claims map[string]any) {
			assert.NotContains(t, claims, "sub")
		},
		FaultSubEmpty: func(t *testing.T, _ *Server, _ string, _ string, _, claims map[string]any) {
			assert.Equal(t, "", claims["sub"])
		},
		FaultNonceWrong: func(t *testing.T, _ *Server, _ string, _ string, _, claims map[string]any) {
			assert.Equal(t, "mockidp-wrong-nonce", claims["nonce"])
		},
		FaultNonceMissing: func(t *testing.T, _ *Server, _ string, _ string, _, claims map[string]any) {
			assert.NotContains(t, claims, "nonce")
		},
		FaultKidUnknown: func(t *testing.T, srv *Server, oldKID string, _ string, header, _ map[string]any) {
			kid, _ := header["kid"].(string)
			assert.NotEmpty(t, kid)
			assert.NotContains(t, publishedKeyIDs(t, srv), kid)
			assert.Equal(t, oldKID, srv.SigningKeyID("google"), "the signing key did not change")
		},
		FaultKeyRotated: func(t *testing.T, srv *Server, oldKID string, _ string, header, _ map[string]any) {
			assert.NotEqual(t, oldKID, header["kid"])
			assert.Equal(t, srv.SigningKeyID("google"), header["kid"])
			assert.ElementsMatch(t, []string{oldKID, srv.SigningKeyID("google")}, publishedKeyIDs(t, srv))
		},
		FaultKidMissingOneKey: func(t *testing.T, srv *Server, oldKID string, _ string, header, _ map[string]any) {
			assert.NotContains(t, header, "kid")
			assert.Equal(t, "RS256", header["alg"])
			assert.Equal(t, []string{oldKID}, publishedKeyIDs(t, srv))
		},
		FaultKidMissingSeveralKeys: func(t *testing.T, srv *Server, oldKID string, _ string, header, _ map[string]any) {
			assert.NotContains(t, header, "kid")
			ids := publishedKeyIDs(t, srv)
			assert.Len(t, ids, 2)
			assert.Contains(t, ids, oldKID)
		},
		FaultIatAhead30s: func(t *testing.T, _ *Server, _ string, _ string, _, claims map[string]any) {
			assert.Equal(t, num(30*time.Second), claims["iat"])
			assert.Equal(t, num(30*time.Second+DefaultTokenTTL), claims["exp"])
		},
		FaultNbfAhead30s: func(t *testing.T, _ *Server, _ string, _ string, _, claims map[string]any) {
			assert.Equal(t, num(30*time.Second), claims["nbf"])
		},
		FaultAudString: func(t *testing.T, _ *Server, _ string, _ string, _, claims map[string]any) {
			assert.Equal(t, rpClientID, claims["aud"])
		},
		FaultAudArray: func(t *testing.T, _ *Server, _ string, _ string, _, claims map[string]any) {
			assert.Equal(t, []any{rpClientID}, claims["aud"])
		},
		FaultExtraClaims: func(t *testing.T, _ *Server, _ string, _ string, _, claims map[string]any) {
			assert.Contains(t, claims, "mockidp_extra")
			assert.Equal(t, "tester", claims["https://mockidp.example/claims/role"])
			assert.Equal(t, json.Number("42.5"), claims["x_unknown_number"])
		},
	}
	for _, name := range FaultNames() {
		if faultSpecs[name].target != targetIDToken {
			continue
		}
		t.Run(string(name), func(t *testing.T) {
			srv := faultIDP(t, key)
			srv.SetTime(now)
			oldKID := srv.SigningKeyID("google")

			resp := faultedTokens(t, srv, Fault{Name: name})
			require.Equal(t, http.StatusOK, resp.status, "%v", resp.body)
			raw := resp.body["id_token"].(string)
			claims := jwtClaims(t, raw)
			if name == FaultAtHashWrong {
				assert.NotEqual(t, accessTokenHash(resp.body["access_token"].(string)), claims["at_hash"])
				assert.NotEmpty(t, claims["at_hash"])
				return
			}
			check, ok := tests[name]
			require.True(t, ok, "no check for ID token fault %s", name)
			check(t, srv, oldKID, raw, jwtHeader(t, raw), claims)
		})
	}
}

// TestTokenFaultResponses checks the exact token responses of the token
// faults. Faults that replace the response leave the code unused.
func TestTokenFaultResponses(t *testing.T) {
	key := keytest.Key(t)
	tests := []struct {
		fault       Fault
		wantStatus  int
		wantType    string
		wantError   string
		codeUnused  bool
		wantExpires any
	}{
		{fault: Fault{Name: FaultTokenInvalidGrant}, wantStatus: http.StatusBadRequest, wantType: "application/json", wantError: "invalid_grant", codeUnused: true},
		{fault: Fault{Name: FaultTokenServerError}, wantStatus: http.StatusInternalServerError, wantType: "application/json", wantError: "server_error", codeUnused: true},
		{fault: Fault{Name: FaultTokenHTML}, wantStatus: http.StatusOK, wantType: "text/html; charset=utf-8", codeUnused: true},
		{fault: Fault{Name: FaultTokenSlow, Delay: 20 * time.Millisecond}, wantStatus: http.StatusOK, wantType: "application/json", wantExpires: json.Number("3600")},
		{fault: Fault{Name: FaultExpiresInString}, wantStatus: http.StatusOK, wantType: "application/json", wantExpires: "3600"},
	}
	for _, tt := range tests {
		t.Run(string(tt.fault.Name), func(t *testing.T) {
			srv := faultIDP(t, key)
			require.NoError(t, srv.InjectFault("google", tt.fault))
			callback, err := srv.Login(context.Background(), authURL(srv.Issuer("google"), nil), aliceSubject)
			require.NoError(t, err)
			form := url.Values{"grant_type": {"authorization_code"}, "code": {callback.Query().Get("code")}, "redirect_uri": {rpRedirectURI}}

			began := time.Now()
			req := newFormRequest(t, srv.Issuer("google")+"/token", form)
			req.SetBasicAuth(url.QueryEscape(rpClientID), url.QueryEscape(rpSecret))
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			body := readBody(t, resp)
			assert.Equal(t, tt.wantStatus, resp.StatusCode, body)
			assert.Equal(t, tt.wantType, resp.Header.Get("Content-Type"))
			if tt.fault.Delay > 0 {
				assert.GreaterOrEqual(t, time.Since(began), tt.fault.Delay, "the answer waited")
			}

			var decoded map[string]any
			if tt.wantType == "application/json" {
				require.NoError(t, decodeJSON(body, &decoded))
			}
			if tt.wantError != "" {
				assert.Equal(t, tt.wantError, decoded["error"])
			}
			if tt.wantExpires != nil {
				assert.Equal(t, tt.wantExpires, decoded["expires_in"])
				assert.NotEmpty(t, decoded["id_token"])
			}
			if tt.codeUnused {
				again := postToken(t, srv.Issuer("google"), form, rpClientID, rpSecret)
				assert.Equal(t, http.StatusOK, again.status, "the faulted request did not use the code up: %v", again.body)
			}
		})
	}
}

func TestAuthorizeFaultRedirects(t *testing.T) {
	srv := faultIDP(t, keytest.Key(t))
	for name, code := range map[FaultName]string{FaultAccessDenied: "access_denied", FaultLoginRequired: "login_required"} {
		require.NoError(t, srv.InjectFault("google", Fault{Name: name}))
		callback, err := srv.Login(context.Background(), authURL(srv.Issuer("google"), nil), aliceSubject)
		require.NoError(t, err)
		assert.Equal(t, rpRedirectURI, callback.Scheme+"://"+callback.Host+callback.Path)
		assert.Equal(t, code, callback.Query().Get("error"))
		assert.Equal(t, "state-123", callback.Query().Get("state"))
		assert.Empty(t, callback.Query().Get("code"))
	}

	// The browser path gets the same redirect, before any login page.
	require.NoError(t, srv.InjectFault("google", Fault{Name: FaultAccessDenied}))
	resp, err := noRedirectClient().Get(authURL(srv.Issuer("google"), nil))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := resp.Location()
	require.NoError(t, err)
	assert.Equal(t, "access_denied", loc.Query().Get("error"))
}

func TestUserinfoFaultChangesSub(t *testing.T) {
	srv := faultIDP(t, keytest.Key(t))
	token, err := srv.AccessToken("google", rpClientID, aliceSubject, nil)
	require.NoError(t, err)
	require.NoError(t, srv.InjectFault("google", Fault{Name: FaultUserinfoSubOther}))

	for _, want := range []string{aliceSubject + "-other", aliceSubject} {
		resp := getUserinfo(t, srv.Issuer("google"), token)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var info map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&info))
		assert.Equal(t, want, info["sub"])
	}
}

func TestJWKSFaultAddsUnusableKeys(t *testing.T) {
	srv := faultIDP(t, keytest.Key(t))
	require.NoError(t, srv.InjectFault("google", Fault{Name: FaultJWKSUnusableKeys}))

	resp, err := http.Get(srv.Endpoints("google").JWKS)
	require.NoError(t, err)
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&set))
	resp.Body.Close()
	require.Len(t, set.Keys, 3)
	assert.Equal(t, srv.SigningKeyID("google"), set.Keys[0]["kid"])
	assert.Equal(t, map[string]any{"kty": "EC", "crv": "P-256", "use": "enc", "alg": "ECDH-ES"},
		map[string]any{"kty": set.Keys[1]["kty"], "crv": set.Keys[1]["crv"], "use": set.Keys[1]["use"], "alg": set.Keys[1]["alg"]})
	assert.Equal(t, "secp256k1", set.Keys[2]["crv"])
	assert.NotContains(t, set.Keys[2], "alg")

	assert.Equal(t, []string{srv.SigningKeyID("google")}, publishedKeyIDs(t, srv), "the next JWKS is clean")
}

// noRedirectClient returns a client that does not follow redirects.
func noRedirectClient() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
