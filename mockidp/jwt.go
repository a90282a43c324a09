package mockidp

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// verifiedJWT is a JWT whose signature and issuer were checked.
type verifiedJWT struct {
	header jose.Header
	claims map[string]any // numbers as json.Number
}

// verifyJWT checks that raw is an RS256 JWT signed by one of the issuer's
// keys and issued by it. It does not check exp: callers decide whether an
// expired token will do.
func (iss *issuer) verifyJWT(raw string) (verifiedJWT, error) {
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return verifiedJWT{}, fmt.Errorf("mockidp: parse JWT: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return verifiedJWT{}, errors.New("mockidp: JWT must have exactly one signature")
	}
	header := jws.Signatures[0].Header

	var payload []byte
	for _, k := range iss.keys.Keys() {
		if k.ID != header.KeyID {
			continue
		}
		if payload, err = jws.Verify(&k.Private.PublicKey); err != nil {
			return verifiedJWT{}, fmt.Errorf("mockidp: verify JWT: %w", err)
		}
	}
	if payload == nil {
		return verifiedJWT{}, fmt.Errorf("mockidp: JWT key %q is not a key of issuer %q", header.KeyID, iss.name)
	}

	var claims map[string]any
	dec := json.NewDecoder(strings.NewReader(string(payload)))
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil {
		return verifiedJWT{}, fmt.Errorf("mockidp: decode JWT claims: %w", err)
	}
	if claims["iss"] != iss.url {
		return verifiedJWT{}, fmt.Errorf("mockidp: JWT issuer %v, want %q", claims["iss"], iss.url)
	}
	return verifiedJWT{header: header, claims: claims}, nil
}

// audience returns the JWT's aud claim as a list.
func (v verifiedJWT) audience() []string {
	switch aud := v.claims["aud"].(type) {
	case string:
		return []string{aud}
	case []any:
		var out []string
		for _, a := range aud {
			if s, ok := a.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// expiry returns the exp claim in Unix seconds, or 0 if it is missing.
func (v verifiedJWT) expiry() int64 {
	n, ok := v.claims["exp"].(json.Number)
	if !ok {
		return 0
	}
	exp, err := n.Int64()
	if err != nil {
		return 0
	}
	return exp
}
