package httpx

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ParseHTTPURL parses raw and checks that it is an absolute http or https
// URL with a host, as configured issuer, endpoint and upstream URLs must
// be. The error quotes raw, and the caller adds which setting it is and
// any rule of its own (no query, no path, ...).
func ParseHTTPURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("invalid URL %q: %w", raw, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("URL %q must be absolute with scheme http or https", raw)
	}
	return u, nil
}

// WellKnownURL returns the URL of the well-known document at path (such
// as "/.well-known/oauth-authorization-server") for issuer. Following RFC
// 8414 section 3.1, path goes between the issuer's host and its own path,
// so "https://as.example/tenant" yields
// "https://as.example/.well-known/oauth-authorization-server/tenant".
func WellKnownURL(issuer, path string) (string, error) {
	u, err := url.Parse(issuer)
	if err != nil {
		return "", fmt.Errorf("parse issuer %q: %w", issuer, err)
	}
	u.Path = path + strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u.String(), nil
}
