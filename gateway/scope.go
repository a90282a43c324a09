package gateway

import (
	"fmt"
	"net/http"
	"strings"
)

// AnyMethod is the Route.RequiredScopes key for the methods that have no
// entry of their own.
const AnyMethod = "*"

// requiredScopes returns the scopes rt requires for method: the method's
// own entry, for HEAD the entry of GET (Go servers serve HEAD with the GET
// handler), and otherwise the AnyMethod entry.
func (rt *route) requiredScopes(method string) []string {
	if scopes, ok := rt.RequiredScopes[method]; ok {
		return scopes
	}
	if method == http.MethodHead {
		if scopes, ok := rt.RequiredScopes[http.MethodGet]; ok {
			return scopes
		}
	}
	return rt.RequiredScopes[AnyMethod]
}

// missingScopes returns the scopes of required that are not in granted, a
// space-separated scope value (RFC 6749 section 3.3).
func missingScopes(granted string, required []string) []string {
	have := strings.Fields(granted)
	var missing []string
	for _, want := range required {
		found := false
		for _, g := range have {
			if g == want {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, want)
		}
	}
	return missing
}

// validateScopes checks the keys and scope names of a RequiredScopes map.
func validateScopes(required map[string][]string) []error {
	var errs []error
	for method, scopes := range required {
		if method != AnyMethod && !isMethodToken(method) {
			errs = append(errs, fmt.Errorf("method %q must be an upper-case HTTP method or %q", method, AnyMethod))
		}
		for _, scope := range scopes {
			if !isScopeToken(scope) {
				errs = append(errs, fmt.Errorf("method %q: scope %q is not a valid scope token (RFC 6749 section 3.3)", method, scope))
			}
		}
	}
	return errs
}

func isMethodToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// isScopeToken reports whether s matches scope-token = 1*NQCHAR with
// NQCHAR = %x21 / %x23-5B / %x5D-7E (RFC 6749 section 3.3). Such a token
// needs no escaping inside the challenge's quoted scope attribute.
func isScopeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
