package gateway

import (
	"errors"
	"net/http"
	"time"

	"github.com/oidcstack/oidcstack/internal/secevent"
	"github.com/oidcstack/oidcstack/internal/trace"
)

// Results of a pushed event, the values of the metric's result label.
const (
	pushApplied  = "applied"
	pushIgnored  = "ignored"
	pushRejected = "rejected"
)

// handlePush is the RFC 8935 push endpoint: it verifies a Security Event
// Token from the authorization server, applies its events and responds 202.
// A SET that fails verification gets 400 with the RFC 8935 error code. A
// SET that could not be checked, because the JWKS is unavailable, gets 503,
// so the authorization server tries again.
func (s *Server) handlePush(w http.ResponseWriter, r *http.Request) {
	raw, err := secevent.ReadRequest(w, r)
	var set *secevent.SET
	if err == nil {
		set, err = s.setVerifier.Verify(r.Context(), raw)
	}
	var rejected *secevent.Error
	switch {
	case errors.As(err, &rejected):
		s.cfg.Logger.WarnContext(r.Context(), "push rejected", "code", rejected.Code, "err", err)
		s.metrics.pushEvents.WithLabelValues("unknown", pushRejected).Inc()
		secevent.WriteError(w, rejected)
		return
	case err != nil:
		s.cfg.Logger.ErrorContext(r.Context(), "push not checked", "err", err)
		w.Header().Set("Retry-After", "1")
		http.Error(w, "The authorization server's keys are unavailable.", http.StatusServiceUnavailable)
		return
	}

	now := s.cfg.Clock()
	s.metrics.pushDelay.Observe(max(0, now.Sub(time.Unix(set.IssuedAt, 0)).Seconds()))
	s.applyEvents(r, set.Events, now)
	w.WriteHeader(http.StatusAccepted)
}

// applyEvents applies the events of a verified SET. In pull mode a
// revocation or a user change drops the cached results at once, so the
// next request introspects the token again. In push mode they change the
// pushed tokens. A user change needs nothing there, because the
// authorization server follows it with token-issued events that carry
// fresh JWTs and replace the old ones.
func (s *Server) applyEvents(r *http.Request, ev secevent.Events, now time.Time) {
	log := s.cfg.Logger
	push := s.cfg.Mode == ModePush

	if ti := ev.TokenIssued; ti != nil {
		result := pushIgnored
		if push {
			result = pushApplied
			if err := s.pushed.add(ti, now); err != nil {
				result = pushRejected
				log.ErrorContext(r.Context(), "pushed token not stored", "err", err,
					trace.KeyAccessToken+"_fp", hashFingerprint(ti.TokenHash))
			}
		}
		log.DebugContext(r.Context(), "push token issued", "result", result,
			trace.KeyAccessToken+"_fp", hashFingerprint(ti.TokenHash), "audiences", len(ti.JWTs))
		s.metrics.pushEvents.WithLabelValues("token-issued", result).Inc()
	}

	if tr := ev.TokenRevoked; tr != nil {
		var dropped int
		if push {
			dropped = s.pushed.drop(tr.TokenHashes)
		} else {
			dropped = s.cache.dropTokens(tr.TokenHashes)
		}
		for _, h := range tr.TokenHashes {
			log.InfoContext(r.Context(), "push token revoked", trace.KeyAccessToken+"_fp", hashFingerprint(h))
		}
		log.DebugContext(r.Context(), "push revocation applied", "dropped", dropped)
		s.metrics.pushEvents.WithLabelValues("token-revoked", pushApplied).Inc()
	}

	if uc := ev.UserChanged; uc != nil {
		result := pushIgnored
		if !push {
			result = pushApplied
			dropped := s.cache.dropSubject(uc.Subject)
			log.InfoContext(r.Context(), "push user changed", trace.KeySubject+"_fp", trace.Fingerprint(uc.Subject), "dropped", dropped)
		}
		s.metrics.pushEvents.WithLabelValues("user-changed", result).Inc()
	}

	if ev.StateSynced != nil {
		result := pushIgnored
		if push {
			result = pushApplied
			if !s.pushed.isSynced() {
				log.InfoContext(r.Context(), "push state synced", "tokens", s.pushed.len())
			}
			s.pushed.markSynced()
		}
		s.metrics.pushEvents.WithLabelValues("state-synced", result).Inc()
	}
}

// hashFingerprint returns the trace fingerprint of the token whose hex
// SHA-256 is hash: trace.Fingerprint is the first 8 bytes of the same
// hash, so the push log lines match the request log lines.
func hashFingerprint(hash string) string {
	if len(hash) < 16 {
		return ""
	}
	return hash[:16]
}
