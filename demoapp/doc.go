// Package demoapp is the demo web app and the demo microservice of the
// login flow.
//
// The web app ([New]) is a single-page app served by its own app server:
// a static page and a script with no build step. The script is a public
// OAuth 2.0 client of the authorization server. It builds the authorization
// request with state and a PKCE S256 challenge (step 2a) and takes the code
// from the callback URL (14b). It then redeems the code at the token
// endpoint (14c) and calls the API through the gateway with the access
// token (15). Tokens live in the script's memory only. The state and the
// PKCE verifier are kept in sessionStorage for the length of one redirect,
// because they must survive the page change and are useless once the code
// is redeemed.
//
// The app server knows nothing about tokens: it serves the page and a
// small configuration document, and records steps 1 and 14a.
//
// The demo microservice ([NewAPI]) trusts only JWTs from the gateway and
// returns the user's claims from them (step 18).
package demoapp
