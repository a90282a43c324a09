package gateway

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/oidcstack/oidcstack/internal/oauth"
	"github.com/oidcstack/oidcstack/internal/trace"
)

// jwtExpiryMargin is how long before the JWT's expiry the gateway stops
// forwarding it from the cache, so the JWT is still valid when the
// upstream checks it.
const jwtExpiryMargin = 10 * time.Second

// authorize returns the result of steps 16 and 17 for token and the
// route's audience, from the cache or from the authorization server.
// Concurrent requests that miss the cache for the same token and audience
// share one introspection and one exchange.
//
// In push mode the result comes from what the authorization server pushed,
// and the gateway never calls it.
func (s *Server) authorize(r *http.Request, rt *route, token, tokenFP string) (*tokenResult, error) {
	key := cacheKey{tokenHash: oauth.HashToken(token), audience: rt.Audience}
	if s.cfg.Mode == ModePush {
		res, err := s.pushed.lookup(key, s.cfg.Clock())
		if err == nil {
			s.traceReuse(r, tokenFP, res, "from push")
		}
		return res, err
	}
	if res, ok := s.cache.get(key, s.cfg.Clock()); ok {
		s.metrics.cacheHits.Inc()
		s.traceReuse(r, tokenFP, res, "from cache")
		return res, nil
	}
	s.metrics.cacheMisses.Inc()

	// Only the first caller's function runs, so the other callers keep
	// this note.
	reuseNote := "shared with a concurrent request"
	value, err, _ := s.flight.Do(key.tokenHash+"\x00"+key.audience, func() (any, error) {
		// A request that finished just before this call started may have
		// filled the cache.
		if res, ok := s.cache.get(key, s.cfg.Clock()); ok {
			reuseNote = "from cache"
			return res, nil
		}
		reuseNote = ""
		// The shared call must not fail because the first client went
		// away. The HTTP client's timeout bounds it.
		return s.resolve(context.WithoutCancel(r.Context()), key, token)
	})
	if err != nil {
		return nil, err
	}
	res := value.(*tokenResult)
	if reuseNote != "" {
		s.traceReuse(r, tokenFP, res, reuseNote)
	}
	return res, nil
}

// resolve performs steps 16 and 17 and caches the result.
func (s *Server) resolve(ctx context.Context, key cacheKey, token string) (*tokenResult, error) {
	// Read before the calls, so a revocation pushed while they run keeps
	// their result out of the cache.
	generation := s.cache.currentGeneration()
	now := s.cfg.Clock()
	expires := now.Add(s.cfg.CacheWindow)

	info, err := s.auth.introspect(ctx, token)
	if err != nil {
		return nil, err
	}
	if reason := info.rejection(now, key.audience); reason != "" {
		s.cfg.Logger.InfoContext(ctx, "token rejected", "step", "16", "reason", reason,
			"audience", key.audience, trace.KeyAccessToken+"_fp", trace.Fingerprint(token))
		res := &tokenResult{expires: expires}
		s.cache.put(key, res, now, generation)
		return res, nil
	}
	if info.Expiry != 0 {
		expires = earliest(expires, time.Unix(info.Expiry, 0))
	}

	exchanged, err := s.auth.exchange(ctx, token, key.audience)
	if errors.Is(err, errTokenRejected) {
		s.cfg.Logger.InfoContext(ctx, "token exchange rejected", "step", "17", "err", err,
			"audience", key.audience, trace.KeyAccessToken+"_fp", trace.Fingerprint(token))
		res := &tokenResult{expires: expires}
		s.cache.put(key, res, now, generation)
		return res, nil
	}
	if err != nil {
		return nil, err
	}

	// A JWT of unknown lifetime is used once and not cached.
	if jwtExpiry := exchanged.expiry(now); jwtExpiry.IsZero() {
		expires = time.Time{}
	} else {
		expires = earliest(expires, jwtExpiry.Add(-jwtExpiryMargin))
	}
	res := &tokenResult{
		active: true, scope: info.Scope, subject: info.Subject,
		jwt: exchanged.AccessToken, jwtFP: trace.Fingerprint(exchanged.AccessToken),
		kid: jwtKeyID(exchanged.AccessToken), expires: expires,
	}
	s.cache.put(key, res, now, generation)
	return res, nil
}

// rejection returns why the introspected token may not be exchanged for
// audience at now, or "" when it may.
func (i *introspection) rejection(now time.Time, audience string) string {
	// RFC 7662 section 2.2: only an active token may be used. The gateway
	// also checks exp against its own clock.
	if !i.Active {
		return "inactive"
	}
	if i.Expiry != 0 && !now.Before(time.Unix(i.Expiry, 0)) {
		return "expired"
	}

	// A token of another type, such as a refresh token, is no bearer
	// access token.
	if i.TokenType != "" && !strings.EqualFold(i.TokenType, oauth.TokenTypeBearer) {
		return "token_type " + i.TokenType + " is not Bearer"
	}

	// RFC 6750 section 3.1: a token issued for other resources is an
	// invalid_token here. The exchange checks the audience again.
	if len(i.Audience) > 0 && !i.Audience.contains(audience) {
		return "not issued for this audience; register it in the client's audiences at the authorization server"
	}
	return ""
}

// expiry returns when the exchanged JWT expires: the earlier of now plus
// expires_in and the JWT's exp claim, or the zero time when neither is
// known.
func (r *exchangeResult) expiry(now time.Time) time.Time {
	var exp time.Time
	// Values beyond about 68 years are ignored rather than overflowing.
	if r.ExpiresIn > 0 && r.ExpiresIn < 1<<31 {
		exp = now.Add(time.Duration(r.ExpiresIn) * time.Second)
	}
	if claimed, ok := jwtExpiry(r.AccessToken); ok && (exp.IsZero() || claimed.Before(exp)) {
		exp = claimed
	}
	return exp
}

// jwtExpiry returns the exp claim of a compact JWT without verifying it.
// The gateway uses it only to shorten its cache window.
func jwtExpiry(jwt string) (time.Time, bool) {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		Expiry float64 `json:"exp"`
	}
	if json.Unmarshal(payload, &claims) != nil || claims.Expiry <= 0 || claims.Expiry > 1<<40 {
		return time.Time{}, false
	}
	return time.Unix(int64(claims.Expiry), 0), true
}

// jwtKeyID returns the kid header of a compact JWT without verifying it, or
// "" when it has none. The gateway uses it to drop cached JWTs whose
// signing key has been retired.
func jwtKeyID(jwt string) string {
	header, _, ok := strings.Cut(jwt, ".")
	if !ok {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(header)
	if err != nil {
		return ""
	}
	var h struct {
		KeyID string `json:"kid"`
	}
	if json.Unmarshal(raw, &h) != nil {
		return ""
	}
	return h.KeyID
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// traceReuse records steps 16 and 17 of a request served with a result
// that another request obtained.
func (s *Server) traceReuse(r *http.Request, tokenFP string, res *tokenResult, note string) {
	s.cfg.Trace.Start(r, "16").SetFingerprint(trace.KeyAccessToken, tokenFP).End(0, "introspection result "+note)
	if res.active {
		s.cfg.Trace.Start(r, "17").SetFingerprint(trace.KeyAccessToken, tokenFP).SetFingerprint(trace.KeyJWT, res.jwtFP).End(0, "jwt "+note)
	}
}
