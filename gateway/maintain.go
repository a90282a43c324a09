package gateway

import (
	"context"
	"time"
)

// maintainTimeout bounds one run of maintain.
const maintainTimeout = 10 * time.Second

// startMaintenance runs maintain every KeyCheckInterval until Close.
func (s *Server) startMaintenance() {
	if s.cfg.KeyCheckInterval < 0 {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	s.stopMaintenance = func() {
		cancel()
		<-done
	}
	go func() {
		defer close(done)
		ticker := time.NewTicker(s.cfg.KeyCheckInterval)
		defer ticker.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
				runCtx, cancelRun := context.WithTimeout(ctx, maintainTimeout)
				s.maintain(runCtx)
				cancelRun()
			}
		}
	}()
}

// maintain sweeps expired entries, re-reads the authorization server's
// JWKS and drops the cached or pushed JWTs whose signing key is no longer
// published. A retired key means its JWTs no longer verify at the
// services, so forwarding them would only produce rejections. When the
// JWKS cannot be read, the entries stay, and the next run tries again.
func (s *Server) maintain(ctx context.Context) {
	now := s.cfg.Clock()
	s.cache.sweepExpired(now)
	if s.pushed != nil {
		s.pushed.sweep(now)
	}

	published, err := s.publishedKeyIDs(ctx)
	if err != nil {
		s.cfg.Logger.WarnContext(ctx, "jwks refresh failed", "err", err)
		return
	}
	dropped := s.cache.dropRetiredKeys(published)
	if s.pushed != nil {
		stale := s.pushed.retireKeys(published)
		s.metrics.evicted(evictKeyRetired, stale)
		dropped += stale
	}
	if dropped > 0 {
		s.cfg.Logger.InfoContext(ctx, "jwts of retired signing keys dropped", "dropped", dropped, "published_keys", len(published))
	}
}
