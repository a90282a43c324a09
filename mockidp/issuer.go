package mockidp

import (
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/oidcstack/oidcstack/internal/keys"
)

// issuer is the state of one issuer. Everything below mu is guarded by it;
// the fields above are set in New and never change.
type issuer struct {
	name string
	url  string // the issuer identifier, BaseURL + "/" + name
	keys *keys.Set
	// secure marks an https issuer, whose cookies get the Secure flag.
	secure bool

	mu       sync.Mutex
	users    map[string]User   // by subject
	emails   map[string]string // lower-case email to subject
	clients  map[string]Client // by client ID
	sessions map[string]*session
	logins   map[string]*loginTx
	codes    map[string]*authCode
	access   map[string]*accessToken
	refresh  map[string]*grant
	// queued maps a client ID to the subjects LoginNext queued for it,
	// and hinted maps a lower-case login_hint to the subjects
	// LoginNextHint queued for it.
	queued map[string][]string
	hinted map[string][]string
	// faults are the injected faults still to apply, oldest first.
	faults []*Fault
	// retireAt maps the ID of a rotated-out key to the time it leaves the
	// JWKS.
	retireAt map[string]time.Time
	// extraJWKS are published keys that never sign (the decoy of the
	// kid_missing_several_keys fault).
	extraJWKS []jose.JSONWebKey

	// faultKeys holds the keys that faults sign with or publish, made on
	// first use because generating one takes a while.
	faultKeys faultKeys
}

func newIssuer(baseURL string, ic IssuerConfig, set *keys.Set) *issuer {
	iss := &issuer{
		name:     ic.Name,
		url:      baseURL + "/" + ic.Name,
		keys:     set,
		users:    map[string]User{},
		emails:   map[string]string{},
		clients:  map[string]Client{},
		sessions: map[string]*session{},
		logins:   map[string]*loginTx{},
		codes:    map[string]*authCode{},
		access:   map[string]*accessToken{},
		refresh:  map[string]*grant{},
		queued:   map[string][]string{},
		hinted:   map[string][]string{},
		retireAt: map[string]time.Time{},
	}
	for _, u := range ic.Users {
		iss.putUser(u)
	}
	for _, c := range ic.Clients {
		iss.clients[c.ID] = cloneClient(c)
	}
	return iss
}

// putUser stores u, replacing a user with the same subject. The caller holds
// mu or owns iss exclusively.
func (iss *issuer) putUser(u User) {
	if old, ok := iss.users[u.Subject]; ok {
		delete(iss.emails, strings.ToLower(old.Email))
	}
	iss.users[u.Subject] = u
	iss.emails[strings.ToLower(u.Email)] = u.Subject
}

func (iss *issuer) client(id string) (Client, bool) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	c, ok := iss.clients[id]
	return c, ok
}

func (iss *issuer) user(subject string) (User, bool) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	u, ok := iss.users[subject]
	return u, ok
}

// usersByEmail returns the issuer's users sorted by email, for the login
// page's account chooser.
func (iss *issuer) usersByEmail() []User {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	out := make([]User, 0, len(iss.users))
	for _, u := range iss.users {
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Email < out[j].Email })
	return out
}

func (iss *issuer) userByEmail(email string) (User, bool) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	u, ok := iss.users[iss.emails[strings.ToLower(email)]]
	return u, ok
}

// clear drops every session, pending login, code and token.
func (iss *issuer) clear() {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	clear(iss.sessions)
	clear(iss.logins)
	clear(iss.codes)
	clear(iss.access)
	clear(iss.refresh)
	clear(iss.queued)
	clear(iss.hinted)
	iss.faults = nil
}

// sweep drops expired entries, so a long-running server does not grow
// without bound. Refresh tokens do not expire and are dropped only when
// revoked.
func (iss *issuer) sweep(now time.Time) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	for k, s := range iss.sessions {
		if !now.Before(s.expiry) {
			delete(iss.sessions, k)
		}
	}
	for k, tx := range iss.logins {
		if !now.Before(tx.expiry) {
			delete(iss.logins, k)
		}
	}
	for k, c := range iss.codes {
		if !now.Before(c.forgetAt) {
			delete(iss.codes, k)
		}
	}
	for k, t := range iss.access {
		if !now.Before(t.expiry) || t.grant.isRevoked() {
			delete(iss.access, k)
		}
	}
	for k, g := range iss.refresh {
		if g.revoked {
			delete(iss.refresh, k)
		}
	}
}

func cloneClient(c Client) Client {
	c.RedirectURIs = append([]string(nil), c.RedirectURIs...)
	c.PostLogoutRedirectURIs = append([]string(nil), c.PostLogoutRedirectURIs...)
	return c
}

func (c Client) hasRedirectURI(uri string) bool {
	for _, r := range c.RedirectURIs {
		if r == uri {
			return true
		}
	}
	return false
}

// takeQueuedLogin removes and returns the first subject queued for the
// login hint, or else the first one queued for clientID.
func (iss *issuer) takeQueuedLogin(clientID, loginHint string) (string, bool) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	if loginHint != "" {
		if subject, ok := popFirst(iss.hinted, strings.ToLower(loginHint)); ok {
			return subject, true
		}
	}
	return popFirst(iss.queued, clientID)
}

func popFirst(queues map[string][]string, key string) (string, bool) {
	subjects := queues[key]
	if len(subjects) == 0 {
		return "", false
	}
	if len(subjects) == 1 {
		delete(queues, key)
	} else {
		queues[key] = subjects[1:]
	}
	return subjects[0], true
}

// findUser returns the user whose subject or email address is id.
func (iss *issuer) findUser(id string) (User, bool) {
	if u, ok := iss.user(id); ok {
		return u, true
	}
	return iss.userByEmail(id)
}

// rotate makes k the signing key; the previous one leaves the JWKS at
// retireAt.
func (iss *issuer) rotate(k *keys.Key, retireAt time.Time) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	iss.retireAt[iss.keys.Signing().ID] = retireAt
	iss.keys.Rotate(k)
}

// retireKeys removes the rotated-out keys whose grace period is over.
func (iss *issuer) retireKeys(now time.Time) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	for id, at := range iss.retireAt {
		if !now.Before(at) {
			iss.keys.Retire(id)
			delete(iss.retireAt, id)
		}
	}
}
