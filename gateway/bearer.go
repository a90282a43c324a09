package gateway

import (
	"errors"
	"net/http"
	"strings"

	"github.com/oidcstack/oidcstack/internal/oauth"
)

// MaxTokenLength is the length of the longest bearer token the gateway
// accepts. The authorization server's opaque tokens have 43 characters, so
// the limit only stops oversized input before it reaches the back channel.
const MaxTokenLength = 4096

// queryTokenParam is the URI query parameter of RFC 6750 section 2.3.
const queryTokenParam = "access_token"

// errNoToken means the request carries no bearer credentials at all: no
// Authorization header, or one with another scheme such as Basic. RFC 6750
// section 3.1 then requires a challenge without error code.
var errNoToken = errors.New("gateway: no bearer token in the request")

// bearerToken returns the request's bearer token from its Authorization
// header or, when allowQuery is true, from the access_token query
// parameter. It returns errNoToken when there is none and an invalid_request
// *oauth.Error when the credentials are malformed or sent more than once.
func bearerToken(r *http.Request, allowQuery bool) (string, error) {
	headers := r.Header.Values("Authorization")
	queryTokens, inQuery := r.URL.Query()[queryTokenParam]

	// RFC 6750 section 2: a client must not use more than one method to
	// send the token.
	if len(headers) > 0 && inQuery {
		return "", oauth.NewError(oauth.ErrInvalidRequest, "The access token must be sent in one way only.")
	}

	if inQuery {
		if !allowQuery {
			return "", oauth.NewError(oauth.ErrInvalidRequest, "Send the access token in the Authorization header, not in the URL.")
		}
		if len(queryTokens) != 1 {
			return "", oauth.NewError(oauth.ErrInvalidRequest, "The request has more than one access_token parameter.")
		}
		return checkToken(queryTokens[0])
	}
	return parseBearer(headers)
}

// parseBearer returns the token of the one Authorization header in values,
// which must have the form `"Bearer" 1*SP b64token` (RFC 6750 section 2.1).
// The scheme name is case-insensitive (RFC 9110 section 11.1).
func parseBearer(values []string) (string, error) {
	if len(values) == 0 {
		return "", errNoToken
	}
	if len(values) > 1 {
		return "", oauth.NewError(oauth.ErrInvalidRequest, "The request has more than one Authorization header.")
	}
	value := values[0]

	scheme, rest, hasSpace := strings.Cut(value, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		// Another scheme, or a malformed one, is not a bearer credential.
		return "", errNoToken
	}
	if !hasSpace {
		return "", oauth.NewError(oauth.ErrInvalidRequest, "The Authorization header has no token after Bearer.")
	}
	return checkToken(strings.TrimLeft(rest, " "))
}

// checkToken returns token if it is a b64token (RFC 6750 section 2.1) of
// at most MaxTokenLength characters.
func checkToken(token string) (string, error) {
	if token == "" {
		return "", oauth.NewError(oauth.ErrInvalidRequest, "The access token is empty.")
	}
	if len(token) > MaxTokenLength {
		return "", oauth.NewError(oauth.ErrInvalidRequest, "The access token is too long.")
	}
	if !isB64Token(token) {
		return "", oauth.NewError(oauth.ErrInvalidRequest, "The access token contains characters that a bearer token cannot contain.")
	}
	return token, nil
}

// isB64Token reports whether s matches
// b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isB64Token(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-', c == '.', c == '_', c == '~', c == '+', c == '/':
		default:
			return false
		}
	}
	return true
}
