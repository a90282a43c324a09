package gateway

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/oidcstack/oidcstack/internal/oauth"
)

// readyTimeout bounds the fetches a readiness check may trigger.
const readyTimeout = 2 * time.Second

// readiness is the body of GET /readyz.
type readiness struct {
	Ready  bool              `json:"ready"`
	Mode   Mode              `json:"mode"`
	Checks map[string]string `json:"checks"`
}

// handleReady reports whether the gateway can serve API requests: 200 when
// it can, 503 otherwise, with each check's result. In pull mode the
// authorization server's metadata must have been read and its JWKS
// loaded. In push mode the JWKS must be loaded, because pushed SETs are
// verified with it, and a state-synced event must have arrived, which
// ends a full push cycle.
// A check that failed before is tried again, within readyTimeout.
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	res := readiness{Ready: true, Mode: s.cfg.Mode, Checks: map[string]string{}}
	check := func(name string, err error) {
		if err != nil {
			res.Ready = false
			res.Checks[name] = "failed"
			s.cfg.Logger.DebugContext(ctx, "readiness check failed", "check", name, "err", err)
			return
		}
		res.Checks[name] = "ok"
	}

	if s.cfg.Mode == ModePull {
		_, err := s.auth.discovery.metadata(ctx)
		check("authserver_metadata", err)
	}
	if !s.keys.Loaded() {
		check("jwks", s.keys.Refresh(ctx))
	} else {
		check("jwks", nil)
	}
	if s.cfg.Mode == ModePush {
		var err error
		if !s.pushed.isSynced() {
			err = errNotSynced
		}
		check("push_state", err)
	}

	status := http.StatusOK
	if !res.Ready {
		status = http.StatusServiceUnavailable
	}
	oauth.WriteJSON(w, status, res)
}

// errNotSynced means no full push cycle has arrived since the gateway
// started.
var errNotSynced = errors.New("gateway: no state-synced event received yet")
