package secevent

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSETWireFormat(t *testing.T) {
	set := SET{
		Issuer: testIssuer, Audience: testAudience, IssuedAt: 1700000000, ID: "jti-1",
		Events: Events{
			TokenIssued: &TokenIssued{
				TokenHash: testHash, Subject: "u1", ClientID: "demo-web", Scope: "openid",
				Expiry: 1700003600, JWTs: map[string]string{"demo-api": "a.b.c"},
			},
			TokenRevoked: &TokenRevoked{TokenHashes: []string{testHash}},
			UserChanged:  &UserChanged{Subject: "u1"},
			StateSynced:  &StateSynced{},
		},
	}
	data, err := json.Marshal(set)
	require.NoError(t, err)
	assert.JSONEq(t, `{
		"iss": "http://localhost:9001",
		"aud": "gateway-1",
		"iat": 1700000000,
		"jti": "jti-1",
		"events": {
			"urn:oidcstack:secevent:token-issued": {
				"token_hash": "`+testHash+`", "sub": "u1", "client_id": "demo-web",
				"scope": "openid", "exp": 1700003600, "jwts": {"demo-api": "a.b.c"}
			},
			"urn:oidcstack:secevent:token-revoked": {"token_hashes": ["`+testHash+`"]},
			"urn:oidcstack:secevent:user-changed": {"sub": "u1"},
			"urn:oidcstack:secevent:state-synced": {}
		}
	}`, string(data))
}

func TestEventsPushOnly(t *testing.T) {
	assert.True(t, Events{TokenIssued: &TokenIssued{}}.PushOnly())
	assert.True(t, Events{StateSynced: &StateSynced{}}.PushOnly())
	assert.False(t, Events{TokenRevoked: &TokenRevoked{}}.PushOnly())
	assert.False(t, Events{UserChanged: &UserChanged{}}.PushOnly())
}
