// Package e2e drives the whole oidcstack stack in headless Chromium.
//
// The tests start every service in-process on free loopback ports, with
// real HTTP between them and a real SQLite database, then log in through
// the real pages with go-rod. They need Debian's Chromium (`apt-get install
// chromium`) or another Chrome or Chromium named by OIDCSTACK_CHROMIUM; when
// none is found they fail with instructions instead of skipping.
package e2e
