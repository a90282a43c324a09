// Package keys holds RSA signing keys with their key IDs, signs JWTs with
// them, and publishes their public halves as a JWKS (RFC 7517).
//
// Only RS256 is used: it is what Google and most OpenID providers sign with,
// and what every relying party library accepts.
package keys

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/go-jose/go-jose/v4"
)

// Bits is the size of generated RSA keys.
const Bits = 2048

// Key is an RSA signing key and its key ID.
type Key struct {
	ID      string
	Private *rsa.PrivateKey
}

// Generate returns a fresh 2048-bit RSA key. It takes about 70 ms; tests
// should draw keys from keytest instead.
func Generate() (*Key, error) {
	priv, err := rsa.GenerateKey(rand.Reader, Bits)
	if err != nil {
		return nil, fmt.Errorf("keys: generate RSA key: %w", err)
	}
	return FromRSA(priv), nil
}

// FromRSA wraps priv, deriving its key ID from the public key's RFC 7638
// thumbprint, so the same key always has the same ID.
func FromRSA(priv *rsa.PrivateKey) *Key {
	jwk := jose.JSONWebKey{Key: &priv.PublicKey}
	thumb, err := jwk.Thumbprint(crypto256)
	if err != nil {
		// An RSA public key always has a thumbprint.
		panic(fmt.Sprintf("keys: thumbprint of RSA key: %v", err))
	}
	return &Key{ID: base64.RawURLEncoding.EncodeToString(thumb[:12]), Private: priv}
}

// PublicJWK returns the public half of k as a JWK with kid, use "sig" and
// alg RS256.
func (k *Key) PublicJWK() jose.JSONWebKey {
	return jose.JSONWebKey{
		Key:       &k.Private.PublicKey,
		KeyID:     k.ID,
		Algorithm: string(jose.RS256),
		Use:       "sig",
	}
}

// Sign returns claims signed with k as a compact JWS with the given typ
// header ("JWT" if empty) and the key's kid.
func (k *Key) Sign(claims any, typ string) (string, error) {
	if typ == "" {
		typ = "JWT"
	}
	opts := (&jose.SignerOptions{}).WithType(jose.ContentType(typ)).WithHeader(jose.HeaderKey("kid"), k.ID)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: k.Private}, opts)
	if err != nil {
		return "", fmt.Errorf("keys: new signer: %w", err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("keys: encode claims: %w", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("keys: sign: %w", err)
	}
	return jws.CompactSerialize()
}

// Set is an ordered set of keys: the first signs, the others stay published
// so tokens they signed still verify. It is safe for concurrent use.
type Set struct {
	mu   sync.RWMutex
	keys []*Key
}

// NewSet returns a set whose first key signs. It panics if keys is empty,
// since a set without a signing key is a programming error.
func NewSet(keys ...*Key) *Set {
	if len(keys) == 0 {
		panic("keys: NewSet needs at least one key")
	}
	return &Set{keys: append([]*Key(nil), keys...)}
}

// Signing returns the key that signs new tokens.
func (s *Set) Signing() *Key {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.keys[0]
}

// Rotate makes k the signing key and keeps the previous keys published.
func (s *Set) Rotate(k *Key) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = append([]*Key{k}, s.keys...)
}

// Retire removes the key with the given ID unless it is the signing key,
// and reports whether it removed one.
func (s *Set) Retire(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, k := range s.keys {
		if i > 0 && k.ID == id {
			s.keys = append(s.keys[:i:i], s.keys[i+1:]...)
			return true
		}
	}
	return false
}

// Keys returns the keys, signing key first.
func (s *Set) Keys() []*Key {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]*Key(nil), s.keys...)
}

// JWKS returns the public keys as a JSON Web Key Set.
func (s *Set) JWKS() jose.JSONWebKeySet {
	var set jose.JSONWebKeySet
	for _, k := range s.Keys() {
		set.Keys = append(set.Keys, k.PublicJWK())
	}
	return set
}

// Sign signs claims with the signing key; see [Key.Sign].
func (s *Set) Sign(claims any, typ string) (string, error) {
	return s.Signing().Sign(claims, typ)
}

// Handler serves the JWKS with a short public cache lifetime, so relying
// parties see a rotation within minutes.
func (s *Set) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_ = json.NewEncoder(w).Encode(s.JWKS())
	})
}
