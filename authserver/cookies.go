package authserver

import (
	"net/http"
	"time"
)

// Cookie names carry the service's name, because services on localhost
// share cookies across ports.
const (
	// sessionCookie holds the session token; the store keeps its hash.
	sessionCookie = "authserver_session"
	// txCookie holds the ID of the login transaction in progress, which
	// binds the login page, the upstream callback and the resume to the
	// browser that sent the authorization request.
	txCookie = "authserver_tx"
)

// setCookie sets an HttpOnly, SameSite=Lax cookie for the whole server,
// Secure when the issuer is https. Lax lets the cookie ride on the
// top-level redirects back from the upstream provider, which is another
// site, while keeping it off cross-site subrequests and POSTs.
func (s *Server) setCookie(w http.ResponseWriter, name, value string, ttl time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		MaxAge:   int(ttl / time.Second),
		HttpOnly: true,
		Secure:   s.secureCookies,
		SameSite: http.SameSiteLaxMode,
	})
}

// clearCookie sets an expired cookie, which deletes it in the browser.
func (s *Server) clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{
		Name:     name,
		Value:    "",
		Path:     "/",
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   s.secureCookies,
		SameSite: http.SameSiteLaxMode,
	})
}

// cookieValue returns the value of the named cookie, or "" if absent.
func cookieValue(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}
