package mockidp

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"

	"github.com/oidcstack/oidcstack/internal/oauth"
)

// maxAdminBody bounds the JSON body of an admin request.
const maxAdminBody = 1 << 20

// adminRealm is the realm of the admin API's Bearer challenge.
const adminRealm = "mockidp-admin"

// admin wraps an admin handler with the access check: by default loopback
// clients only; Config.Admin can allow networks or require a token.
func (s *Server) admin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if status, msg := s.checkAdminAccess(r); status != 0 {
			if status == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="`+adminRealm+`"`)
			}
			s.log.Info("admin request rejected", "remote_addr", r.RemoteAddr, "path", r.URL.Path, "reason", msg)
			writeAdminError(w, status, msg)
			return
		}
		h(w, r)
	}
}

// adminIssuer is admin for routes with an {issuer} path segment.
func (s *Server) adminIssuer(h func(http.ResponseWriter, *http.Request, *issuer)) http.HandlerFunc {
	return s.admin(func(w http.ResponseWriter, r *http.Request) {
		iss, ok := s.issuers[r.PathValue("issuer")]
		if !ok {
			writeAdminError(w, http.StatusNotFound, fmt.Sprintf("no issuer named %q", r.PathValue("issuer")))
			return
		}
		h(w, r, iss)
	})
}

// checkAdminAccess returns 0 if r may use the admin API, or the status
// and message of the rejection. The peer address comes from the
// connection, never from forwarding headers.
func (s *Server) checkAdminAccess(r *http.Request) (int, string) {
	cfg := s.cfg.Admin
	addrPort, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return http.StatusForbidden, "the client address is unknown"
	}
	addr := addrPort.Addr().Unmap()

	switch {
	case len(cfg.AllowedNetworks) > 0:
		allowed := false
		for _, p := range cfg.AllowedNetworks {
			allowed = allowed || p.Contains(addr)
		}
		if !allowed {
			return http.StatusForbidden, "the admin API does not answer this client address"
		}
	case cfg.Token == "" && !addr.IsLoopback():
		return http.StatusForbidden, "the admin API answers loopback clients only"
	}

	if cfg.Token != "" {
		scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		// Comparing hashes keeps the comparison constant-time whatever
		// the lengths.
		got, want := sha256.Sum256([]byte(strings.TrimSpace(token))), sha256.Sum256([]byte(cfg.Token))
		if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			return http.StatusUnauthorized, "the admin API needs its bearer token"
		}
	}
	return 0, ""
}

// decodeAdminJSON decodes the JSON body of r into v. Unknown fields are
// errors, so a misspelled name does not pass silently; numbers stay exact.
// An empty body leaves v as it is.
func decodeAdminJSON(r *http.Request, v any) error {
	data, err := io.ReadAll(io.LimitReader(r.Body, maxAdminBody+1))
	if err != nil {
		return fmt.Errorf("read body: %w", err)
	}
	if len(data) > maxAdminBody {
		return fmt.Errorf("body larger than %d bytes", maxAdminBody)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("invalid JSON body: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("invalid JSON body: data after the JSON object")
	}
	return nil
}

// writeAdminError writes an admin error in the OAuth error format. The
// admin API is for tests, so the description carries the whole cause.
func writeAdminError(w http.ResponseWriter, status int, description string) {
	code := oauth.ErrInvalidRequest
	switch status {
	case http.StatusUnauthorized:
		code = oauth.ErrInvalidToken
	case http.StatusForbidden:
		code = oauth.ErrAccessDenied
	}
	oauth.WriteError(w, &oauth.Error{Code: code, Description: description, Status: status})
}

// writeAdminResult writes the result of a successful admin request.
func writeAdminResult(w http.ResponseWriter, v any) {
	if v == nil {
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	oauth.WriteJSON(w, http.StatusOK, v)
}
