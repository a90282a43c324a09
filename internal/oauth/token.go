package oauth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
)

// NewToken returns a random, URL-safe string carrying 256 bits of entropy,
// for codes, access and refresh tokens, state, nonce and PKCE verifiers.
func NewToken() string {
	b := make([]byte, 32)
	// crypto/rand.Read never returns an error since Go 1.24; it aborts the
	// program instead of returning predictable bytes.
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashToken returns the hex SHA-256 of token: the form in which tokens are
// stored and looked up, so a copy of the database yields no usable token.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// S256Challenge returns the PKCE S256 code challenge of verifier (RFC 7636
// section 4.2): BASE64URL(SHA256(ASCII(code_verifier))).
func S256Challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// VerifyPKCE reports whether verifier matches challenge under method, in
// constant time. An empty method means plain (RFC 7636 section 4.3).
func VerifyPKCE(method, challenge, verifier string) bool {
	if !ValidVerifier(verifier) {
		return false
	}
	var computed string
	switch method {
	case PKCEMethodS256:
		computed = S256Challenge(verifier)
	case PKCEMethodPlain, "":
		computed = verifier
	default:
		return false
	}
	return subtle.ConstantTimeCompare([]byte(computed), []byte(challenge)) == 1
}

// ValidVerifier reports whether v has the length (43 to 128) and the
// characters (unreserved: A-Z a-z 0-9 - . _ ~) that RFC 7636 section 4.1
// requires of a code verifier. The same rule applies to an S256 challenge,
// which is always 43 characters.
func ValidVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-', c == '.', c == '_', c == '~':
		default:
			return false
		}
	}
	return true
}
