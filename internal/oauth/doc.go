// Package oauth holds the protocol vocabulary that every oidcstack service
// shares: OAuth 2.0 error codes, grant and token types, the RFC 6749 error
// response and its writer, PKCE and random token helpers.
//
// It contains no policy. Each service decides which errors to return; this
// package only makes sure they are spelled and encoded the same way
// everywhere.
package oauth
