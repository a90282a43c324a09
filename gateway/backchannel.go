package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/oidcstack/oidcstack/internal/oauth"
	"github.com/oidcstack/oidcstack/internal/trace"
)

// errTokenRejected means the authorization server refused to exchange the
// access token (invalid_grant), for example because it was revoked after
// the introspection. Clients get 401 invalid_token for it.
var errTokenRejected = errors.New("gateway: authorization server rejected the access token")

// authClient makes the gateway's back-channel calls to the authorization
// server: introspection (step 16) and token exchange (step 17).
type authClient struct {
	discovery    *discovery
	clientID     string
	clientSecret string
	client       *http.Client
	trace        *trace.Recorder
	// observe records how long a call took, by call name.
	observe func(call string, d time.Duration)
}

// introspection is the part of an RFC 7662 section 2.2 response that the
// gateway uses.
type introspection struct {
	Active    bool     `json:"active"`
	Scope     string   `json:"scope"`
	ClientID  string   `json:"client_id"`
	Subject   string   `json:"sub"`
	Expiry    int64    `json:"exp"`
	TokenType string   `json:"token_type"`
	Audience  audience `json:"aud"`
}

// audience is a JWT-style "aud" value: one string or an array of strings.
type audience []string

func (a *audience) UnmarshalJSON(data []byte) error {
	var single string
	if err := json.Unmarshal(data, &single); err == nil {
		*a = audience{single}
		return nil
	}
	var list []string
	if err := json.Unmarshal(data, &list); err != nil {
		return fmt.Errorf("aud is neither a string nor an array of strings: %w", err)
	}
	*a = list
	return nil
}

func (a audience) contains(name string) bool {
	for _, v := range a {
		if v == name {
			return true
		}
	}
	return false
}

// exchangeResult is a successful RFC 8693 section 2.2.1 response.
type exchangeResult struct {
	AccessToken     string `json:"access_token"`
	IssuedTokenType string `json:"issued_token_type"`
	TokenType       string `json:"token_type"`
	ExpiresIn       int64  `json:"expires_in"`
}

// introspect sends token to the authorization server's introspection
// endpoint (step 16). An inactive token is a result, not an error.
func (c *authClient) introspect(ctx context.Context, token string) (*introspection, error) {
	meta, err := c.discovery.metadata(ctx)
	if err != nil {
		return nil, err
	}
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	req, err := c.newPost(ctx, meta.IntrospectionEndpoint, form)
	if err != nil {
		return nil, err
	}
	step := c.trace.Start(req, "16").Set(trace.KeyAccessToken, token)

	status, body, err := c.do(req, "introspection")
	if err != nil {
		step.End(status, "introspection failed")
		return nil, fmt.Errorf("%w: introspection: %w", errAuthServer, err)
	}
	if status != http.StatusOK {
		step.End(status, "introspection failed")
		return nil, fmt.Errorf("%w: introspection: status %d, want 200 (%s)", errAuthServer, status, errorCode(body))
	}
	var result introspection
	if err := json.Unmarshal(body, &result); err != nil {
		step.End(status, "introspection answer malformed")
		return nil, fmt.Errorf("%w: decode introspection response: %w", errAuthServer, err)
	}
	if result.Active {
		step.End(status, "token active")
	} else {
		step.End(status, "token inactive")
	}
	return &result, nil
}

// exchange trades token for a JWT for audience (step 17, RFC 8693 section
// 2.1).
func (c *authClient) exchange(ctx context.Context, token, audience string) (*exchangeResult, error) {
	meta, err := c.discovery.metadata(ctx)
	if err != nil {
		return nil, err
	}
	form := url.Values{
		"grant_type":         {oauth.GrantTokenExchange},
		"subject_token":      {token},
		"subject_token_type": {oauth.TokenTypeAccessToken},
		"audience":           {audience},
	}
	req, err := c.newPost(ctx, meta.TokenEndpoint, form)
	if err != nil {
		return nil, err
	}
	step := c.trace.Start(req, "17").Set(trace.KeyAccessToken, token)

	status, body, err := c.do(req, "token_exchange")
	if err != nil {
		step.End(status, "token exchange failed")
		return nil, fmt.Errorf("%w: token exchange: %w", errAuthServer, err)
	}
	if status != http.StatusOK {
		step.End(status, "token exchange refused")
		code := errorCode(body)
		if status == http.StatusBadRequest && code == oauth.ErrInvalidGrant {
			return nil, errTokenRejected
		}
		return nil, fmt.Errorf("%w: token exchange: status %d, want 200 (%s)", errAuthServer, status, code)
	}

	var result exchangeResult
	if err := json.Unmarshal(body, &result); err != nil {
		step.End(status, "token exchange answer malformed")
		return nil, fmt.Errorf("%w: decode token exchange response: %w", errAuthServer, err)
	}
	if err := result.check(); err != nil {
		step.End(status, "token exchange answer malformed")
		return nil, fmt.Errorf("%w: %w", errAuthServer, err)
	}
	step.Set(trace.KeyJWT, result.AccessToken).End(status, "jwt issued")
	return &result, nil
}

// check verifies the fields of RFC 8693 section 2.2.1 that the gateway
// relies on.
func (r *exchangeResult) check() error {
	if r.AccessToken == "" {
		return errors.New("token exchange response has no access_token")
	}
	if r.IssuedTokenType != oauth.TokenTypeAccessToken {
		return fmt.Errorf("token exchange issued_token_type %q, want %q", r.IssuedTokenType, oauth.TokenTypeAccessToken)
	}
	if !strings.EqualFold(r.TokenType, oauth.TokenTypeBearer) {
		return fmt.Errorf("token exchange token_type %q, want %q", r.TokenType, oauth.TokenTypeBearer)
	}
	if r.ExpiresIn < 0 {
		return fmt.Errorf("token exchange expires_in %d is negative", r.ExpiresIn)
	}
	return nil
}

// newPost builds a form POST to endpoint authenticated with
// client_secret_basic. RFC 6749 section 2.3.1 requires the client ID and
// secret to be form-encoded before they go into the Basic credentials.
func (c *authClient) newPost(ctx context.Context, endpoint string, form url.Values) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("%w: build request for %q: %w", errAuthServer, endpoint, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(url.QueryEscape(c.clientID), url.QueryEscape(c.clientSecret))
	return req, nil
}

// do sends req and returns the status and at most maxResponseBytes of the
// body. It records the call's duration under call.
func (c *authClient) do(req *http.Request, call string) (int, []byte, error) {
	start := time.Now()
	resp, err := c.client.Do(req)
	if err != nil {
		c.observe(call, time.Since(start))
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	c.observe(call, time.Since(start))
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("read response: %w", err)
	}
	return resp.StatusCode, body, nil
}

// errorCode returns the "error" member of an OAuth error response body,
// cut to 64 bytes, or "no error code" when the body has none, for log
// messages.
func errorCode(body []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error == "" {
		return "no error code"
	}
	if len(e.Error) > 64 {
		return e.Error[:64]
	}
	return e.Error
}
