package mockidp

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// adminIssuerInfo describes one issuer in GET /_admin/issuers.
type adminIssuerInfo struct {
	Name         string `json:"name"`
	SigningKeyID string `json:"signing_key_id"`
	Endpoints
}

func (s *Server) handleAdminIssuers(w http.ResponseWriter, _ *http.Request) {
	var out []adminIssuerInfo
	for _, name := range s.order {
		out = append(out, adminIssuerInfo{Name: name, SigningKeyID: s.SigningKeyID(name), Endpoints: s.Endpoints(name)})
	}
	writeAdminResult(w, map[string]any{"issuers": out})
}

func (s *Server) handleAdminAddUser(w http.ResponseWriter, r *http.Request, iss *issuer) {
	var u FileUser
	if err := decodeAdminJSON(r, &u); err != nil {
		writeAdminError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := s.AddUser(iss.name, User(u)); err != nil {
		writeAdminError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeAdminResult(w, map[string]string{"sub": u.Subject})
}

func (s *Server) handleAdminAddClient(w http.ResponseWriter, r *http.Request, iss *issuer) {
	var c FileClient
	if err := decodeAdminJSON(r, &c); err != nil {
		writeAdminError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := s.AddClient(iss.name, Client(c)); err != nil {
		writeAdminError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeAdminResult(w, map[string]string{"client_id": c.ID})
}

// adminNextLogin is the body of POST .../next-login: exactly one of
// ClientID and LoginHint.
type adminNextLogin struct {
	User      string `json:"user"` // subject or email address
	ClientID  string `json:"client_id"`
	LoginHint string `json:"login_hint"`
}

func (s *Server) handleAdminNextLogin(w http.ResponseWriter, r *http.Request, iss *issuer) {
	var req adminNextLogin
	if err := decodeAdminJSON(r, &req); err != nil {
		writeAdminError(w, http.StatusBadRequest, err.Error())
		return
	}
	var err error
	switch {
	case (req.ClientID == "") == (req.LoginHint == ""):
		err = fmt.Errorf("send exactly one of client_id and login_hint")
	case req.ClientID != "":
		err = s.LoginNext(iss.name, req.ClientID, req.User)
	default:
		err = s.LoginNextHint(iss.name, req.LoginHint, req.User)
	}
	if err != nil {
		writeAdminError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeAdminResult(w, nil)
}

// adminLogin is the body of POST .../login.
type adminLogin struct {
	AuthorizationURL string `json:"authorization_url"`
	User             string `json:"user"` // subject or email address
}

// adminLoginResult is the response of POST .../login: the redirect and
// the parameters in it.
type adminLoginResult struct {
	RedirectURL      string `json:"redirect_url"`
	Code             string `json:"code,omitempty"`
	State            string `json:"state,omitempty"`
	Error            string `json:"error,omitempty"`
	ErrorDescription string `json:"error_description,omitempty"`
}

func (s *Server) handleAdminLogin(w http.ResponseWriter, r *http.Request, iss *issuer) {
	var req adminLogin
	if err := decodeAdminJSON(r, &req); err != nil {
		writeAdminError(w, http.StatusBadRequest, err.Error())
		return
	}
	// Login finds the issuer from the URL, which must be the one of the
	// route.
	if !strings.HasPrefix(req.AuthorizationURL, iss.url+"/authorize") {
		writeAdminError(w, http.StatusBadRequest, fmt.Sprintf("authorization_url must start with %s/authorize", iss.url))
		return
	}
	redirect, err := s.Login(r.Context(), req.AuthorizationURL, req.User)
	if err != nil {
		writeAdminError(w, http.StatusBadRequest, err.Error())
		return
	}
	q := redirect.Query()
	writeAdminResult(w, adminLoginResult{
		RedirectURL:      redirect.String(),
		Code:             q.Get("code"),
		State:            q.Get("state"),
		Error:            q.Get("error"),
		ErrorDescription: q.Get("error_description"),
	})
}

// adminMint is the body of POST .../id-token and .../access-token.
type adminMint struct {
	ClientID string         `json:"client_id"`
	User     string         `json:"user"` // subject or email address
	Claims   map[string]any `json:"claims"`
}

func (s *Server) handleAdminIDToken(w http.ResponseWriter, r *http.Request, iss *issuer) {
	var req adminMint
	if err := decodeAdminJSON(r, &req); err != nil {
		writeAdminError(w, http.StatusBadRequest, err.Error())
		return
	}
	token, err := s.IDToken(iss.name, req.ClientID, req.User, req.Claims)
	if err != nil {
		writeAdminError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeAdminResult(w, map[string]string{"id_token": token})
}

func (s *Server) handleAdminAccessToken(w http.ResponseWriter, r *http.Request, iss *issuer) {
	var req adminMint
	if err := decodeAdminJSON(r, &req); err != nil {
		writeAdminError(w, http.StatusBadRequest, err.Error())
		return
	}
	token, err := s.AccessToken(iss.name, req.ClientID, req.User, req.Claims)
	if err != nil {
		writeAdminError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeAdminResult(w, map[string]string{"access_token": token})
}

func (s *Server) handleAdminSign(w http.ResponseWriter, r *http.Request, iss *issuer) {
	var req struct {
		Claims map[string]any `json:"claims"`
	}
	if err := decodeAdminJSON(r, &req); err != nil {
		writeAdminError(w, http.StatusBadRequest, err.Error())
		return
	}
	token, err := s.SignClaims(iss.name, req.Claims)
	if err != nil {
		writeAdminError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeAdminResult(w, map[string]string{"jwt": token})
}

func (s *Server) handleAdminRotateKey(w http.ResponseWriter, _ *http.Request, iss *issuer) {
	if err := s.RotateKey(iss.name, nil); err != nil {
		s.log.Error("key rotation failed", "issuer", iss.name, "err", err)
		writeAdminError(w, http.StatusInternalServerError, "key generation failed")
		return
	}
	writeAdminResult(w, map[string]string{"signing_key_id": s.SigningKeyID(iss.name)})
}

// adminFault is a [Fault] in JSON; Delay is a Go duration string.
type adminFault struct {
	Name     FaultName `json:"name"`
	Count    int       `json:"count,omitempty"`
	ClientID string    `json:"client_id,omitempty"`
	Delay    string    `json:"delay,omitempty"`
}

func (s *Server) handleAdminListFaults(w http.ResponseWriter, _ *http.Request, iss *issuer) {
	out := []adminFault{}
	for _, f := range s.Faults(iss.name) {
		af := adminFault{Name: f.Name, Count: f.Count, ClientID: f.ClientID}
		if f.Delay > 0 {
			af.Delay = f.Delay.String()
		}
		out = append(out, af)
	}
	writeAdminResult(w, map[string]any{"faults": out})
}

func (s *Server) handleAdminInjectFault(w http.ResponseWriter, r *http.Request, iss *issuer) {
	var req adminFault
	if err := decodeAdminJSON(r, &req); err != nil {
		writeAdminError(w, http.StatusBadRequest, err.Error())
		return
	}
	f := Fault{Name: req.Name, Count: req.Count, ClientID: req.ClientID}
	if req.Delay != "" {
		d, err := time.ParseDuration(req.Delay)
		if err != nil {
			writeAdminError(w, http.StatusBadRequest, fmt.Sprintf("invalid delay %q (want a duration such as \"200ms\")", req.Delay))
			return
		}
		f.Delay = d
	}
	if err := s.InjectFault(iss.name, f); err != nil {
		writeAdminError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeAdminResult(w, nil)
}

func (s *Server) handleAdminClearFaults(w http.ResponseWriter, _ *http.Request, iss *issuer) {
	_ = s.ClearFaults(iss.name)
	writeAdminResult(w, nil)
}

func (s *Server) handleAdminFaultCatalog(w http.ResponseWriter, _ *http.Request) {
	type entry struct {
		Name  FaultName  `json:"name"`
		Group FaultGroup `json:"group"`
	}
	var out []entry
	for _, n := range FaultNames() {
		out = append(out, entry{Name: n, Group: n.Group()})
	}
	writeAdminResult(w, map[string]any{"faults": out})
}

func (s *Server) handleAdminClock(w http.ResponseWriter, _ *http.Request) {
	writeAdminResult(w, map[string]string{"now": s.Now().UTC().Format(time.RFC3339Nano)})
}

// adminClock is the body of POST /_admin/clock: exactly one of Time
// (RFC 3339; stops the clock there) and Advance (a Go duration).
type adminClock struct {
	Time    string `json:"time"`
	Advance string `json:"advance"`
}

func (s *Server) handleAdminSetClock(w http.ResponseWriter, r *http.Request) {
	var req adminClock
	if err := decodeAdminJSON(r, &req); err != nil {
		writeAdminError(w, http.StatusBadRequest, err.Error())
		return
	}
	switch {
	case (req.Time == "") == (req.Advance == ""):
		writeAdminError(w, http.StatusBadRequest, "send exactly one of time and advance")
		return
	case req.Time != "":
		t, err := time.Parse(time.RFC3339, req.Time)
		if err != nil {
			writeAdminError(w, http.StatusBadRequest, fmt.Sprintf("invalid time %q (want RFC 3339, such as \"2030-01-02T15:04:05Z\")", req.Time))
			return
		}
		s.SetTime(t)
	default:
		d, err := time.ParseDuration(req.Advance)
		if err != nil {
			writeAdminError(w, http.StatusBadRequest, fmt.Sprintf("invalid advance %q (want a duration such as \"10m\")", req.Advance))
			return
		}
		s.Advance(d)
	}
	s.log.Info("clock set", "now", s.Now())
	s.handleAdminClock(w, r)
}

func (s *Server) handleAdminRequests(w http.ResponseWriter, r *http.Request) {
	issuerName := r.URL.Query().Get("issuer")
	out := []Request{}
	for _, req := range s.Requests() {
		if issuerName == "" || req.Issuer == issuerName {
			out = append(out, req)
		}
	}
	writeAdminResult(w, map[string]any{"requests": out})
}

func (s *Server) handleAdminClearRequests(w http.ResponseWriter, _ *http.Request) {
	s.ClearRequests()
	writeAdminResult(w, nil)
}
