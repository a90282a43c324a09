package mockidp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oidcstack/oidcstack/internal/oauth"
	"github.com/oidcstack/oidcstack/internal/trace"
)

// StartTB starts a server for cfg as [Start] does and closes it when the
// test and its subtests end (tb.Cleanup). It stops the test with tb.Fatal
// if the server cannot start.
func StartTB(tb testing.TB, cfg Config) *Server {
	tb.Helper()
	s, err := Start(cfg)
	if err != nil {
		tb.Fatalf("mockidp: start: %v", err)
	}
	tb.Cleanup(s.Close)
	return s
}

// Login completes the authorization request authURL, an authorization URL
// of one of the server's issuers, as if the user whose subject or email
// address is user had logged in and consented in a browser. It returns the
// URL the browser would be sent to: the client's redirect URI with code,
// state and iss, or with error and state when the request is rejected or
// an authorization fault applies. It needs no browser and no cookie; each
// call is a fresh login with auth_time now, so prompt and max_age are
// satisfied. For response_mode=form_post the parameters come in the URL's
// query too.
//
// Login fails without a redirect URL when the request names an unknown
// client or an unregistered redirect URI, as the authorization endpoint
// then shows an error page instead of redirecting.
func (s *Server) Login(ctx context.Context, authURL, user string) (*url.URL, error) {
	start := time.Now()
	iss, err := s.issuerOfAuthURL(authURL)
	if err != nil {
		return nil, err
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, fmt.Errorf("mockidp: invalid authorization URL: %w", err)
	}
	now := s.now()
	s.recordRequest(r, iss, now)
	u, ok := iss.findUser(user)
	if !ok {
		return nil, fmt.Errorf("mockidp: issuer %q has no user with subject or email %q", iss.name, user)
	}

	req, out, ok := parseAuthorize(r, iss, "8b")
	if ok {
		// A session that exists only for this call: the user has just
		// logged in and consented to this very request.
		sess := newSession(u.Subject, now, s.cfg.SessionTTL)
		sess.loggedInFor[req.key()] = now
		sess.consentedFor[req.key()] = now
		out = s.authorizeWithSession(r, iss, req, sess, now, "8b")
	}
	s.record(r, start, out.step, http.StatusFound, strings.TrimSpace("login without browser "+out.note),
		trace.KeyUpstreamState, req.State, trace.KeyCode, out.code)
	if out.response == nil {
		desc := "the request was rejected"
		if out.errorPage != nil {
			desc = out.errorPage.Description
		}
		return nil, fmt.Errorf("mockidp: authorization request rejected: %s", desc)
	}
	return url.Parse(oauth.AddParams(out.response.redirectURI, out.response.params, false))
}

// issuerOfAuthURL returns the issuer whose authorization endpoint authURL
// addresses.
func (s *Server) issuerOfAuthURL(authURL string) (*issuer, error) {
	endpoint, _, _ := strings.Cut(authURL, "?")
	for _, iss := range s.issuers {
		if endpoint == iss.url+"/authorize" {
			return iss, nil
		}
	}
	return nil, fmt.Errorf("mockidp: %q is not the authorization endpoint of an issuer of %s", endpoint, s.cfg.BaseURL)
}

// defaultScope is the scope of tokens minted without a login.
var defaultScope = []string{"openid", "email", "profile"}

// AccessToken returns an access token of the issuer called issuerName for
// the user whose subject or email address is user and for clientID,
// without a login. It is a JWT (RFC 9068, typ "at+jwt") with iss, sub,
// aud and client_id (clientID), scope "openid email profile", iat, exp and
// jti. Claims in override replace or add to these; a nil value removes a
// claim. The userinfo and tokeninfo endpoints accept the token until its
// exp, as they accept tokens from the token endpoint.
func (s *Server) AccessToken(issuerName, clientID, user string, override map[string]any) (string, error) {
	iss, u, err := s.issuerUser(issuerName, user)
	if err != nil {
		return "", err
	}
	now := s.now()
	claims := map[string]any{
		"iss":       iss.url,
		"sub":       u.Subject,
		"aud":       clientID,
		"client_id": clientID,
		"scope":     strings.Join(defaultScope, " "),
		"iat":       now.Unix(),
		"exp":       now.Add(s.cfg.TokenTTL).Unix(),
		"jti":       oauth.NewToken(),
	}
	applyOverride(claims, override)
	token, err := iss.keys.Sign(claims, "at+jwt")
	if err != nil {
		return "", err
	}

	expiry := now.Add(s.cfg.TokenTTL)
	if exp, ok := unixClaim(claims["exp"]); ok {
		expiry = time.Unix(exp, 0)
	}
	g := &grant{clientID: clientID, subject: u.Subject, scope: slices.Clone(defaultScope), authTime: now}
	iss.mu.Lock()
	defer iss.mu.Unlock()
	iss.access[oauth.HashToken(token)] = &accessToken{grant: g, expiry: expiry}
	return token, nil
}

// unixClaim returns a numeric claim value as whole Unix seconds.
func unixClaim(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case float64:
		return int64(n), true
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	}
	return 0, false
}
