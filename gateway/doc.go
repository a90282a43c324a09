// Package gateway is the API gateway of oidcstack: the single entry point
// for API calls, implementing the "phantom token" pattern.
//
// Clients hold only opaque, revocable access tokens issued by the
// authorization server. For each request under a configured route the
// gateway:
//
//   - responds to the CORS preflight for the route's web origins before any
//     token check (step 15);
//   - reads the bearer token from the Authorization header (RFC 6750
//     section 2.1) and records the request (step 15);
//   - checks the token with the authorization server's introspection
//     endpoint (RFC 7662, step 16);
//   - exchanges it for a short-lived JWT for the route's audience (RFC 8693
//     token exchange; the JWT follows RFC 9068, step 17);
//   - forwards the request to the route's upstream with the JWT as its
//     bearer token, without the client's cookies and with X-Forwarded-*
//     headers that the gateway sets itself (step 18).
//
// The gateway authenticates to the authorization server with
// client_secret_basic. It discovers the server's endpoints from its RFC 8414
// metadata on first use and retries discovery on the next request when it
// fails, so the gateway may start before the authorization server.
//
// A route may require scopes per HTTP method. A token without them gets
// 403 insufficient_scope. The check runs on every request, after steps 16
// and 17, so a request rejected for its scope may still have cost an
// exchange when its result was not cached.
//
// The gateway caches the result of steps 16 and 17 per token hash and
// audience for a short window (Config.CacheWindow, 5 seconds by default).
// A result is never kept past the token's expiry or the JWT's, and a
// revoked token stops working within the window. Concurrent requests that miss the cache for
// the same token share one introspection and one exchange. Results of
// inactive tokens are cached too, bounded separately from active ones.
//
// What the gateway does not do: it does not read tokens from a
// form-encoded body (RFC 6750 section 2.2), it does not forward cookies in
// either direction, and it does not yet drop cached results when the
// authorization server revokes a token.
package gateway
