package mockidp

import (
	"crypto/subtle"
	"net/http"
	"time"

	"github.com/oidcstack/oidcstack/internal/oauth"
)

// Cookie names. Each cookie's Path is the issuer's path, so the sessions of
// /google and /corp stay apart although they share a host.
const (
	sessionCookie = "mockidp_session"
	// loginCookie binds a pending login to the browser that started it, so
	// a login form posted from another browser (login CSRF) is rejected.
	loginCookie = "mockidp_login"
)

// loginTTL bounds how long a pending login or consent waits for the user.
const loginTTL = 10 * time.Minute

// maxLoginAttempts is the number of wrong passwords a pending login accepts
// before it is dropped and the relying party must start over.
const maxLoginAttempts = 5

// session is a browser's login at one issuer, stored under the hash of its
// cookie value.
type session struct {
	subject  string
	authTime time.Time
	expiry   time.Time
	// csrf protects the logout confirmation form.
	csrf string
	// loggedInFor and consentedFor map the key of an authorization request
	// (see authRequest.key) to the time the user logged in or consented for
	// it, so prompt=login and prompt=consent are satisfied once, for that
	// request only.
	loggedInFor  map[string]time.Time
	consentedFor map[string]time.Time
	// consentedClients lists the clients the user approved in this session.
	consentedClients map[string]bool
}

// loginTx is an authorization request waiting for the user to log in or to
// consent, stored under its ID.
type loginTx struct {
	consent  bool // a consent screen, not a login form
	csrf     string
	binding  string // hash of the loginCookie value of the browser
	req      authRequest
	expiry   time.Time
	attempts int
}

// sessionFor returns the live session of the request's cookie, if any.
func (iss *issuer) sessionFor(r *http.Request, now time.Time) (string, *session) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return "", nil
	}
	key := oauth.HashToken(c.Value)
	iss.mu.Lock()
	defer iss.mu.Unlock()
	s, ok := iss.sessions[key]
	if !ok || !now.Before(s.expiry) {
		return "", nil
	}
	return key, s
}

// startSession creates a session for subject, replacing the session under
// oldKey (a fresh ID on every login prevents session fixation), and returns
// the cookie value.
func (iss *issuer) startSession(oldKey, subject string, now time.Time, ttl time.Duration) (string, *session) {
	value := oauth.NewToken()
	s := newSession(subject, now, ttl)
	iss.mu.Lock()
	defer iss.mu.Unlock()
	delete(iss.sessions, oldKey)
	iss.sessions[oauth.HashToken(value)] = s
	return value, s
}

// newSession returns a session of subject that starts now.
func newSession(subject string, now time.Time, ttl time.Duration) *session {
	return &session{
		subject:          subject,
		authTime:         now,
		expiry:           now.Add(ttl),
		csrf:             oauth.NewToken(),
		loggedInFor:      map[string]time.Time{},
		consentedFor:     map[string]time.Time{},
		consentedClients: map[string]bool{},
	}
}

// endSession deletes the session stored under key.
func (iss *issuer) endSession(key string) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	delete(iss.sessions, key)
}

// startLogin stores a pending login or consent for req, bound to the
// browser's login cookie value, and returns its ID.
func (iss *issuer) startLogin(req authRequest, binding string, consent bool, now time.Time) string {
	id := oauth.NewToken()
	tx := &loginTx{
		consent: consent,
		csrf:    oauth.NewToken(),
		binding: oauth.HashToken(binding),
		req:     req,
		expiry:  now.Add(loginTTL),
	}
	iss.mu.Lock()
	defer iss.mu.Unlock()
	iss.logins[id] = tx
	return id
}

// pendingLogin returns a copy of the pending login id if it is live and
// belongs to the browser of r.
func (iss *issuer) pendingLogin(r *http.Request, id string, consent bool, now time.Time) (loginTx, bool) {
	c, err := r.Cookie(loginCookie)
	if err != nil || id == "" {
		return loginTx{}, false
	}
	iss.mu.Lock()
	defer iss.mu.Unlock()
	tx, ok := iss.logins[id]
	if !ok || tx.consent != consent || !now.Before(tx.expiry) {
		return loginTx{}, false
	}
	if subtle.ConstantTimeCompare([]byte(tx.binding), []byte(oauth.HashToken(c.Value))) != 1 {
		return loginTx{}, false
	}
	return *tx, true
}

// failLogin counts a wrong password and reports whether the pending login
// may be tried again.
func (iss *issuer) failLogin(id string) bool {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	tx, ok := iss.logins[id]
	if !ok {
		return false
	}
	tx.attempts++
	if tx.attempts >= maxLoginAttempts {
		delete(iss.logins, id)
		return false
	}
	return true
}

// finishLogin removes the pending login id and reports whether it was still
// there, so two concurrent posts of one form cannot both succeed.
func (iss *issuer) finishLogin(id string) bool {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	_, ok := iss.logins[id]
	delete(iss.logins, id)
	return ok
}

// markSession records, under mu, that the user logged in or consented for
// the request with the given key.
func (iss *issuer) markSession(s *session, key string, consent bool, now time.Time) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	if consent {
		s.consentedFor[key] = now
		return
	}
	s.loggedInFor[key] = now
}

// setCookie sets a cookie scoped to the issuer's path. maxAge 0 makes a
// browser-session cookie and a negative maxAge deletes the cookie.
func (iss *issuer) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/" + iss.name,
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   iss.secure,
		SameSite: http.SameSiteLaxMode,
	})
}

// requestMarks reports whether the user logged in or consented for the
// request with the given key within loginTTL.
func (iss *issuer) requestMarks(s *session, key string, now time.Time) (loggedIn, consented bool) {
	if s == nil {
		return false, false
	}
	iss.mu.Lock()
	defer iss.mu.Unlock()
	if t, ok := s.loggedInFor[key]; ok && now.Sub(t) < loginTTL {
		loggedIn = true
	}
	if t, ok := s.consentedFor[key]; ok && now.Sub(t) < loginTTL {
		consented = true
	}
	return loggedIn, consented
}

// hasConsented reports whether the user approved clientID in session s.
func (iss *issuer) hasConsented(s *session, clientID string) bool {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	return s.consentedClients[clientID]
}
