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
// revoked token stops working within the window. Concurrent requests that
// miss the cache for the same token share one introspection and one
// exchange. Results of inactive tokens are cached too, bounded separately
// from active ones.
//
// Push: with Config.PushAudience set, the gateway receives Security Event
// Tokens from the authorization server at POST /_push (RFC 8417 SETs sent
// by RFC 8935 HTTP POST; see package internal/secevent for the events).
// It verifies each against the server's JWKS and rejects replayed or old
// ones. In the default pull mode a pushed revocation or user change drops
// the cached results at once. In push mode (Config.Mode = ModePush) the
// server pushes every issued token's hash with one JWT per audience, and
// fresh JWTs before the earlier ones expire. The gateway then never
// introspects or exchanges, and rejects a token that was never pushed to
// it with 401 invalid_token. A known token whose JWT ran out before a fresh
// one arrived gets 503. Push mode still reads the server's metadata and
// JWKS, to verify the SETs.
//
// A background task (Config.KeyCheckInterval) re-reads the JWKS and drops
// cached and pushed JWTs whose signing key is no longer published, since
// services would reject them.
//
// Operations: GET /healthz reports that the process serves. GET /readyz
// reports whether it can serve API requests: in pull mode once the
// metadata is read and the JWKS loaded, in push mode once the JWKS is
// loaded and a state-synced event arrived. GET /metrics serves Prometheus
// metrics from a registry of the Server's own. Logs name tokens only by fingerprint.
//
// What the gateway does not do: it does not read tokens from a
// form-encoded body (RFC 6750 section 2.2), and it does not forward
// cookies in either direction. /metrics is served to any client; put it
// behind the network's access control if the route prefixes and request
// counts are not for everyone.
package gateway
