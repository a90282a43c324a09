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
// The server root serves /healthz, /_trace and the RFC 8414 path-inserted
// metadata locations (/.well-known/openid-configuration/{issuer} and
// /.well-known/oauth-authorization-server/{issuer}).
//
// A test starts a Server on an httptest listener with BaseURL set to the
// listener's URL. [Server.AddUser], [Server.AddClient], [Server.RotateKey],
// [Server.IDToken] and [Server.SignClaims] change or use an issuer while
// it runs. The login page's form fields are named by the Field constants.
//
// What it does not do: it never persists sessions, codes or tokens (they
// live in memory and die with the Server), it signs only with RS256, it
// supports only the authorization code flow (no implicit or hybrid
// response types), it rejects request objects, and it ignores the claims
// parameter. Passwords are compared in plain text, because this is a test
// double, not an identity store.
package mockidp
