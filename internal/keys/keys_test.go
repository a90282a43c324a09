package keys_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/internal/keys"
	"github.com/oidcstack/oidcstack/internal/keys/keytest"
)

func TestSignVerifiesWithPublishedKey(t *testing.T) {
	k := keytest.Key(t)
	set := keys.NewSet(k)

	token, err := set.Sign(map[string]any{"sub": "alice"}, "at+jwt")
	require.NoError(t, err)

	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256})
	require.NoError(t, err)
	header := jws.Signatures[0].Header
	assert.Equal(t, k.ID, header.KeyID)
	assert.Equal(t, "at+jwt", header.ExtraHeaders[jose.HeaderType])

	jwks := set.JWKS()
	matches := (&jwks).Key(k.ID)
	require.Len(t, matches, 1)
	payload, err := jws.Verify(matches[0])
	require.NoError(t, err)
	assert.JSONEq(t, `{"sub":"alice"}`, string(payload))
}

func TestRotateKeepsOldKeyPublished(t *testing.T) {
	oldKey, newKey := keytest.Key(t), keytest.Key(t)
	set := keys.NewSet(oldKey)
	set.Rotate(newKey)

	assert.Equal(t, newKey.ID, set.Signing().ID)
	assert.Len(t, set.JWKS().Keys, 2)

	assert.False(t, set.Retire(newKey.ID), "the signing key cannot be retired")
	assert.True(t, set.Retire(oldKey.ID))
	jwks := set.JWKS()
	assert.Empty(t, (&jwks).Key(oldKey.ID))
}

func TestJWKSHandlerPublishesPublicMembersOnly(t *testing.T) {
	k := keytest.Key(t)
	rec := httptest.NewRecorder()
	keys.NewSet(k).Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/jwks", nil))
	require.Equal(t, http.StatusOK, rec.Code)

	var raw struct {
		Keys []map[string]any `json:"keys"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &raw))
	require.Len(t, raw.Keys, 1)
	got := raw.Keys[0]
	assert.Equal(t, "RSA", got["kty"])
	assert.Equal(t, "RS256", got["alg"])
	assert.Equal(t, "sig", got["use"])
	assert.Equal(t, k.ID, got["kid"])
	for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
		assert.NotContains(t, got, private)
	}
}

func TestPEMRoundTripKeepsKeyID(t *testing.T) {
	k := keytest.Key(t)
	data, err := k.MarshalPEM()
	require.NoError(t, err)

	parsed, err := keys.ParsePEM(data)
	require.NoError(t, err)
	assert.Equal(t, k.ID, parsed.ID)
	assert.True(t, k.Private.Equal(parsed.Private))

	_, err = keys.ParsePEM([]byte("not a key"))
	assert.Error(t, err)
}
