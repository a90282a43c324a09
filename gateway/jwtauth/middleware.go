package jwtauth

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/oidcstack/oidcstack/internal/oauth"
	"github.com/oidcstack/oidcstack/internal/trace"
)

// claimsKey is the context key of the verified claims.
type claimsKey struct{}

// ClaimsFromContext returns the claims that Middleware stored in ctx.
func ClaimsFromContext(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*Claims)
	return c, ok
}

// Middleware returns a handler that lets a request through to next only
// with a valid bearer JWT, whose claims next reads with ClaimsFromContext.
// Other requests get the RFC 6750 section 3 response: 401 with a challenge
// without error code when there is no bearer token, 400 invalid_request
// for a malformed Authorization header, 401 invalid_token for a rejected
// token. When the issuer's keys cannot be fetched, it responds 503.
func (v *Verifier) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, err := bearerToken(r.Header.Values("Authorization"))
		if err != nil {
			var oe *oauth.Error
			if errors.As(err, &oe) {
				v.writeError(w, oe)
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+v.cfg.Realm+`"`)
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusUnauthorized)
			return
		}

		claims, err := v.Verify(r.Context(), token)
		if err != nil {
			v.cfg.Logger.InfoContext(r.Context(), "jwt rejected", "step", "18", "err", err,
				trace.KeyJWT+"_fp", trace.Fingerprint(token))
			if errors.Is(err, ErrKeysUnavailable) {
				oauth.WriteError(w, oauth.Wrap(oauth.ErrTemporarilyUnavailable,
					"The token cannot be checked now. Try again later.", err))
				return
			}
			v.writeError(w, oauth.Wrap(oauth.ErrInvalidToken, "The access token is invalid or expired.", err))
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, claims)))
	})
}

// writeError writes err with a WWW-Authenticate challenge carrying its
// code (RFC 6750 section 3).
func (v *Verifier) writeError(w http.ResponseWriter, err *oauth.Error) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="`+v.cfg.Realm+`", error="`+err.Code+`"`)
	oauth.WriteError(w, err)
}

// errNoToken means the request has no bearer credentials.
var errNoToken = errors.New("jwtauth: no bearer token")

// bearerToken returns the token of the one Authorization header in values,
// of the form "Bearer" 1*SP token (RFC 6750 section 2.1). Verify checks
// the token's characters by parsing it.
func bearerToken(values []string) (string, error) {
	if len(values) == 0 {
		return "", errNoToken
	}
	if len(values) > 1 {
		return "", oauth.NewError(oauth.ErrInvalidRequest, "The request has more than one Authorization header.")
	}
	scheme, rest, hasSpace := strings.Cut(values[0], " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", errNoToken
	}
	token := strings.TrimLeft(rest, " ")
	if !hasSpace || token == "" || strings.Contains(token, " ") {
		return "", oauth.NewError(oauth.ErrInvalidRequest, "The Authorization header must be Bearer followed by one token.")
	}
	return token, nil
}
