// Package interop tests the authorization server against OpenID Connect
// implementations written elsewhere. It is a module of its own, with its
// own go.mod, so users of oidcstack never inherit these test dependencies.
//
// The upstream provider is the example OpenID provider of
// github.com/zitadel/oidc (packages example/server/exampleop and
// example/server/storage), started in-process on a loopback port.
package interop
