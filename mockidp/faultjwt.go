package mockidp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/oidcstack/oidcstack/internal/keys"
)

// faultKeys are the keys faults sign with or publish, made on first use.
type faultKeys struct {
	mu      sync.Mutex
	unknown *keys.Key // signs kid_unknown tokens and is never published
	decoy   *keys.Key // published by kid_missing_several_keys; never signs
}

// get returns the key in slot, generating it first if needed.
func (fk *faultKeys) get(slot **keys.Key, generate func() (*keys.Key, error)) (*keys.Key, error) {
	fk.mu.Lock()
	defer fk.mu.Unlock()
	if *slot == nil {
		k, err := generate()
		if err != nil {
			return nil, err
		}
		*slot = k
	}
	return *slot, nil
}

// signIDToken signs the claims of an ID token for clientID, changed by the
// issuer's next ID token fault for that client, if one is pending.
func (s *Server) signIDToken(iss *issuer, claims map[string]any, clientID string) (string, error) {
	f, ok := iss.takeFault(targetIDToken, clientID)
	if !ok {
		return iss.keys.Sign(claims, "JWT")
	}
	s.log.Info("fault applied", "step", "10a", "issuer", iss.name, "fault", f.Name, "client_id", clientID)
	applyClaimFault(f.Name, claims, iss.url, clientID, s.now(), s.cfg.TokenTTL)
	return s.signWithFault(iss, f.Name, claims)
}

// applyClaimFault changes the claims as the fault called name requires.
// Faults of the header or signature leave them alone.
func applyClaimFault(name FaultName, claims map[string]any, issuerURL, clientID string, now time.Time, ttl time.Duration) {
	switch name {
	case FaultIssOtherHost:
		claims["iss"] = otherHost(issuerURL)
	case FaultIssTrailingSlash:
		claims["iss"] = issuerURL + "/"
	case FaultIssNoScheme:
		claims["iss"] = strings.TrimPrefix(strings.TrimPrefix(issuerURL, "https://"), "http://")
	case FaultAudOtherClient:
		claims["aud"] = otherClientID
		delete(claims, "azp")
	case FaultAudMultipleNoAZP:
		claims["aud"] = []string{clientID, otherClientID}
		delete(claims, "azp")
	case FaultAZPOtherClient:
		claims["aud"] = []string{clientID, otherClientID}
		claims["azp"] = otherClientID
	case FaultExpPast:
		exp := now.Add(-faultFarOff)
		claims["exp"] = exp.Unix()
		claims["iat"] = exp.Add(-ttl).Unix()
	case FaultIatMissing:
		delete(claims, "iat")
	case FaultIatFuture:
		claims["iat"] = now.Add(faultFarOff).Unix()
		claims["exp"] = now.Add(faultFarOff + ttl).Unix()
	case FaultNbfFuture:
		claims["nbf"] = now.Add(faultFarOff).Unix()
	case FaultSubMissing:
		delete(claims, "sub")
	case FaultSubEmpty:
		claims["sub"] = ""
	case FaultNonceWrong:
		claims["nonce"] = "mockidp-wrong-nonce"
	case FaultNonceMissing:
		delete(claims, "nonce")
	case FaultAtHashWrong:
		claims["at_hash"] = accessTokenHash("mockidp-other-access-token")
	case FaultIatAhead30s:
		claims["iat"] = now.Add(faultNear).Unix()
		claims["exp"] = now.Add(faultNear + ttl).Unix()
	case FaultNbfAhead30s:
		claims["nbf"] = now.Add(faultNear).Unix()
	case FaultAudString:
		claims["aud"] = clientID
	case FaultAudArray:
		claims["aud"] = []string{clientID}
	case FaultExtraClaims:
		claims["mockidp_extra"] = map[string]any{"nested": map[string]any{"list": []any{1, "two", true}}}
		claims["https://mockidp.example/claims/role"] = "tester"
		claims["x_unknown_number"] = 42.5
	}
}

// otherHost returns issuerURL with its host replaced by "mockidp.invalid"
// and its port and path kept.
func otherHost(issuerURL string) string {
	u, err := url.Parse(issuerURL)
	if err != nil {
		return "http://mockidp.invalid"
	}
	port := u.Port()
	u.Host = "mockidp.invalid"
	if port != "" {
		u.Host += ":" + port
	}
	return u.String()
}

// signWithFault signs claims as the fault called name requires.
func (s *Server) signWithFault(iss *issuer, name FaultName, claims map[string]any) (string, error) {
	signing := iss.keys.Signing()
	switch name {
	case FaultBadSignature:
		token, err := signing.Sign(claims, "JWT")
		if err != nil {
			return "", err
		}
		return flipSignatureBit(token)
	case FaultAlgNone:
		return compactJWS(map[string]any{"alg": "none", "typ": "JWT"}, claims, func([]byte) ([]byte, error) { return nil, nil })
	case FaultAlgHS256PublicKey:
		der, err := x509.MarshalPKIXPublicKey(&signing.Private.PublicKey)
		if err != nil {
			return "", fmt.Errorf("mockidp: encode public key: %w", err)
		}
		secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		return compactJWS(map[string]any{"alg": "HS256", "typ": "JWT", "kid": signing.ID}, claims, func(input []byte) ([]byte, error) {
			mac := hmac.New(sha256.New, secret)
			mac.Write(input)
			return mac.Sum(nil), nil
		})
	case FaultKidUnknown:
		k, err := iss.faultKeys.get(&iss.faultKeys.unknown, s.cfg.GenerateKey)
		if err != nil {
			return "", err
		}
		return k.Sign(claims, "JWT")
	case FaultKeyRotated:
		k, err := s.cfg.GenerateKey()
		if err != nil {
			return "", err
		}
		iss.rotate(k, s.now().Add(s.cfg.KeyGracePeriod))
		s.log.Info("signing key rotated", "issuer", iss.url, "key_id", k.ID, "fault", name)
		return k.Sign(claims, "JWT")
	case FaultKidMissingOneKey:
		iss.keepOnlySigningKey()
		return compactJWS(map[string]any{"alg": "RS256", "typ": "JWT"}, claims, rs256(signing.Private))
	case FaultKidMissingSeveralKeys:
		if err := s.publishDecoy(iss); err != nil {
			return "", err
		}
		return compactJWS(map[string]any{"alg": "RS256", "typ": "JWT"}, claims, rs256(signing.Private))
	}
	return signing.Sign(claims, "JWT")
}

// compactJWS builds a JWS in compact serialization with the given header,
// signing the base64url-encoded header and payload with sign.
func compactJWS(header, claims map[string]any, sign func(input []byte) ([]byte, error)) (string, error) {
	h, err := json.Marshal(header)
	if err != nil {
		return "", fmt.Errorf("mockidp: encode JWT header: %w", err)
	}
	p, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("mockidp: encode JWT claims: %w", err)
	}
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p)
	sig, err := sign([]byte(input))
	if err != nil {
		return "", fmt.Errorf("mockidp: sign JWT: %w", err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// rs256 returns a signer of RS256 (RSASSA-PKCS1-v1_5 with SHA-256).
func rs256(priv *rsa.PrivateKey) func([]byte) ([]byte, error) {
	return func(input []byte) ([]byte, error) {
		digest := sha256.Sum256(input)
		return rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA256, digest[:])
	}
}

// flipSignatureBit flips the lowest bit of the first signature byte of a
// compact JWS.
func flipSignatureBit(token string) (string, error) {
	i := strings.LastIndexByte(token, '.')
	sig, err := base64.RawURLEncoding.DecodeString(token[i+1:])
	if err != nil || len(sig) == 0 {
		return "", errors.New("mockidp: JWT has no signature to corrupt")
	}
	sig[0] ^= 1
	return token[:i+1] + base64.RawURLEncoding.EncodeToString(sig), nil
}

// keepOnlySigningKey removes every published key but the signing key.
func (iss *issuer) keepOnlySigningKey() {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	for _, k := range iss.keys.Keys()[1:] {
		iss.keys.Retire(k.ID)
	}
	clear(iss.retireAt)
	iss.extraJWKS = nil
}

// publishDecoy adds a key that never signs to the JWKS, unless the JWKS
// already contains two keys or more.
func (s *Server) publishDecoy(iss *issuer) error {
	iss.mu.Lock()
	published := len(iss.keys.Keys()) + len(iss.extraJWKS)
	iss.mu.Unlock()
	if published >= 2 {
		return nil
	}
	decoy, err := iss.faultKeys.get(&iss.faultKeys.decoy, s.cfg.GenerateKey)
	if err != nil {
		return err
	}
	iss.mu.Lock()
	defer iss.mu.Unlock()
	iss.extraJWKS = append(iss.extraJWKS, decoy.PublicJWK())
	return nil
}

// jwks returns the issuer's published keys, with the keys of the
// jwks_unusable_keys fault when one is pending.
func (s *Server) jwks(iss *issuer) ([]any, error) {
	iss.retireKeys(s.now())
	var out []any
	for _, k := range iss.keys.JWKS().Keys {
		out = append(out, k)
	}
	iss.mu.Lock()
	for _, k := range iss.extraJWKS {
		out = append(out, k)
	}
	iss.mu.Unlock()

	if _, ok := iss.takeFault(targetJWKS, ""); !ok {
		return out, nil
	}
	s.log.Info("fault applied", "issuer", iss.name, "fault", FaultJWKSUnusableKeys)
	enc, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("mockidp: generate encryption key: %w", err)
	}
	out = append(out,
		// An encryption key: a relying party must not verify signatures
		// with it (RFC 7517 section 4.2).
		jose.JSONWebKey{Key: &enc.PublicKey, KeyID: "mockidp-enc-p256", Use: "enc", Algorithm: string(jose.ECDH_ES)},
		// A key on secp256k1, which go-jose v4 does not support. Its
		// point is the curve's generator, a public constant, and the key
		// has no "alg" member.
		map[string]string{
			"kty": "EC",
			"crv": "secp256k1",
			"kid": "mockidp-secp256k1",
			"use": "sig",
			"x":   "eb5mfvncu6xVoGKVzocLBwKb_NstzijZWfKBWxb4F5g",
			"y":   "SDradyajxGVdpPv8DhEIqP0XtEimhVQZnEfQj_sQ1Lg",
		},
	)
	return out, nil
}

// handleJWKS serves the issuer's public signing keys.
func (s *Server) handleJWKS(w http.ResponseWriter, _ *http.Request, iss *issuer) {
	set, err := s.jwks(iss)
	if err != nil {
		s.log.Error("jwks failed", "issuer", iss.name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_ = json.NewEncoder(w).Encode(map[string]any{"keys": set})
}
