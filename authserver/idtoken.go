package authserver

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/oidcstack/oidcstack/internal/jwks"
)

// idTokenSkew is the clock difference tolerated between this server and an
// upstream provider when iat and auth_time are compared with the current
// time. A minute absorbs ordinary NTP drift without letting a token dated
// far ahead pass.
const idTokenSkew = 60 * time.Second

// maxSubjectLength is the longest sub an ID token may carry (OpenID
// Connect Core section 2: at most 255 ASCII characters).
const maxSubjectLength = 255

// errIDToken marks every rejection of an upstream ID token; the wrapping
// error names the failed check.
var errIDToken = errors.New("upstream ID token rejected")

// idTokenExpectations are the values one login's ID token must match.
type idTokenExpectations struct {
	clientID string
	// nonce was sent in this login's authentication request and is
	// stored only in its transaction, which the callback consumed.
	nonce string
	// accessToken came in the same token response, for the at_hash check.
	accessToken string
	// maxAge is the max_age sent upstream in seconds, or -1 when none was.
	maxAge int
	now    time.Time
}

// idTokenClaims are the claims the checklist reads beyond go-oidc's IDToken.
type idTokenClaims struct {
	Subject         string   `json:"sub"`
	AuthorizedParty string   `json:"azp"`
	IssuedAt        *float64 `json:"iat"`
	AuthTime        *float64 `json:"auth_time"`
}

// verifyIDToken checks raw, an ID token from the provider's token
// endpoint, against OpenID Connect Core section 3.1.3.7, one block per
// item, with the signature checked before any claim is read. Every failure
// wraps errIDToken, except an unreachable key set, which wraps
// jwks.ErrUnavailable instead, so the caller can distinguish a provider
// outage from a bad token.
//
// Not checked: acr (item 12), because no acr_values are requested.
func verifyIDToken(ctx context.Context, disc *discovered, raw string, want idTokenExpectations) (*oidc.IDToken, error) {
	// Item 1: an encrypted ID token (a JWE) is never expected, because no
	// encryption key is registered, and fails to parse in the next step.

	// Items 6 to 8: the signature, by a key of the provider's JWKS, with
	// RS256 only. go-oidc checks it again below against the same cached
	// keys. This first pass exists because go-oidc's error drops the
	// cause, and an unreachable key set must not count as a bad token.
	if _, err := disc.keySet.VerifySignature(ctx, raw); err != nil {
		if errors.Is(err, jwks.ErrUnavailable) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: signature: %w", errIDToken, err)
	}

	// Items 2, 3 and 9: go-oidc checks that iss is the provider's issuer,
	// that aud contains our client ID, and that exp is in the future (and
	// nbf, if present, is not ahead by more than 5 minutes).
	idToken, err := disc.verifier.Verify(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errIDToken, err)
	}
	var claims idTokenClaims
	if err := idToken.Claims(&claims); err != nil {
		return nil, fmt.Errorf("%w: decode claims: %w", errIDToken, err)
	}

	// Section 2: sub is required, and it is the user's key here.
	if claims.Subject == "" || len(claims.Subject) > maxSubjectLength {
		return nil, fmt.Errorf("%w: sub is missing, empty or longer than %d characters", errIDToken, maxSubjectLength)
	}

	// Items 4 and 5: with several audiences, the token must name our
	// client as the authorized party (azp). An azp must name our client
	// in any case. Other audiences are trusted only when azp names us.
	if len(idToken.Audience) > 1 && claims.AuthorizedParty == "" {
		return nil, fmt.Errorf("%w: aud has %d values but azp is missing", errIDToken, len(idToken.Audience))
	}
	if claims.AuthorizedParty != "" && claims.AuthorizedParty != want.clientID {
		return nil, fmt.Errorf("%w: azp %q, want %q", errIDToken, claims.AuthorizedParty, want.clientID)
	}

	// Item 10: iat is required (section 2) and may not lie in the future
	// beyond the tolerated skew.
	if claims.IssuedAt == nil {
		return nil, fmt.Errorf("%w: iat is missing", errIDToken)
	}
	if iat := unixTime(*claims.IssuedAt); iat.After(want.now.Add(idTokenSkew)) {
		return nil, fmt.Errorf("%w: iat %s is in the future (now %s)", errIDToken, iat.Format(time.RFC3339), want.now.Format(time.RFC3339))
	}

	// Item 11: the nonce must be the one of this login's request. Its
	// transaction is consumed with the state, so a token replayed into
	// another login carries a nonce that login never sent.
	if want.nonce == "" || subtle.ConstantTimeCompare([]byte(idToken.Nonce), []byte(want.nonce)) != 1 {
		return nil, fmt.Errorf("%w: nonce does not match the authentication request", errIDToken)
	}

	// Item 13: with max_age, auth_time is required (section 2) and must be
	// recent enough; it may not lie in the future either.
	if want.maxAge >= 0 {
		if err := checkAuthTime(claims.AuthTime, want.maxAge, want.now); err != nil {
			return nil, err
		}
	}

	// Section 3.1.3.8: an at_hash, when present, must be the hash of the
	// access token from the same token response.
	if idToken.AccessTokenHash != "" {
		if err := idToken.VerifyAccessToken(want.accessToken); err != nil {
			return nil, fmt.Errorf("%w: at_hash: %w", errIDToken, err)
		}
	}
	return idToken, nil
}

// checkAuthTime checks auth_time for a request with max_age seconds.
func checkAuthTime(authTime *float64, maxAge int, now time.Time) error {
	if authTime == nil {
		return fmt.Errorf("%w: auth_time is missing although max_age was sent", errIDToken)
	}
	at := unixTime(*authTime)
	if at.After(now.Add(idTokenSkew)) {
		return fmt.Errorf("%w: auth_time %s is in the future", errIDToken, at.Format(time.RFC3339))
	}
	// Whole seconds, with the skew subtracted from the age rather than
	// added to max_age, so a huge max_age cannot overflow.
	age := int64(now.Sub(at)/time.Second) - int64(idTokenSkew/time.Second)
	if age > int64(maxAge) {
		return fmt.Errorf("%w: auth_time %s is older than max_age %d s", errIDToken, at.Format(time.RFC3339), maxAge)
	}
	return nil
}

// unixTime converts a NumericDate (RFC 7519 section 2) to a time. Values
// beyond about 34,800 years either way are clamped, so the conversion to
// int64 cannot overflow.
func unixTime(seconds float64) time.Time {
	const limit = 1 << 40
	return time.Unix(int64(math.Max(-limit, math.Min(limit, seconds))), 0)
}
