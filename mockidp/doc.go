// Package mockidp is a fake Google-style OpenID Connect provider for tests
// and demos. One [Server] hosts several issuers under one base URL (by
// default http://127.0.0.1:9000/google and /corp), each with its own signing
// keys, users, clients, sessions, codes and tokens.
//
// Each issuer serves, under its issuer URL:
//
//	GET  /.well-known/openid-configuration   discovery (OpenID Connect Discovery 1.0)
//	GET  /jwks                               public signing keys (RS256)
//	GET  /authorize                          authorization endpoint (steps 5a/5b, 8a/8b)
//	GET  /login, POST /login                 login page and credentials (steps 6, 7a/7b)
//	GET  /consent, POST /consent             consent screen and decision
//	POST /token                              token endpoint (step 10a)
//	GET  /userinfo, POST /userinfo           userinfo endpoint (step 10b)
//	POST /revoke                             revocation (RFC 7009)
//	GET  /tokeninfo, POST /tokeninfo         Google's token inspection endpoint
//	GET  /logout, POST /logout               RP-initiated logout
//
// The server root serves /healthz, /_trace, /_admin/ when enabled, and the
// RFC 8414 path-inserted metadata locations (/.well-known/openid-configuration/{issuer} and
// /.well-known/oauth-authorization-server/{issuer}).
//
// A Go test starts a server with [StartTB], which binds 127.0.0.1:0 and
// closes the server when the test ends, or with [Start] or [New]. While it
// runs, the test controls it like net/http/httptest's servers:
// [Server.AddUser] and [Server.AddClient] register accounts;
// [Server.LoginNext] and [Server.LoginNextHint] choose the user of the next
// login per client or per login_hint; [Server.Login] completes an
// authorization URL without a browser; [Server.IDToken],
// [Server.AccessToken] and [Server.SignClaims] mint signed tokens;
// [Server.SetTime] and [Server.Advance] move its clock; [Server.RotateKey]
// changes the signing key; [Server.InjectFault] makes responses wrong in
// named ways (see [FaultName]); [Server.Requests] lists what the relying
// party sent. The login page's form fields are named by the Field
// constants.
//
// With Config.Admin.Enabled the server also serves an admin API under
// /_admin/ that mirrors these methods over HTTP, for tests in other
// languages; by default it accepts requests from loopback clients only.
// With Config.HTTPS it generates a local CA and serves HTTPS.
//
// What it does not do: it never persists sessions, codes or tokens (they
// live in memory and die with the Server), it signs only with RS256, it
// supports only the authorization code flow (no implicit or hybrid
// response types), it rejects request objects, and it ignores the claims
// parameter. Passwords are compared in plain text, because this is a test
// double, not an identity store.
package mockidp
