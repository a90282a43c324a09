package authserver

import (
	"context"
	"time"
)

// sweepInterval is how often expired sessions, transactions, codes and
// tokens are deleted from the store.
const sweepInterval = 10 * time.Minute

// startSweeper deletes expired records every sweepInterval until Close.
func (s *Server) startSweeper() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	s.stopSweeper = func() {
		cancel()
		<-done
	}
	go func() {
		defer close(done)
		ticker := time.NewTicker(sweepInterval)
		defer ticker.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
				s.sweep(ctx)
			}
		}
	}()
}

// sweep deletes the records that expired before now. Deleted tokens and
// codes are ones that fail their expiry check anyway.
func (s *Server) sweep(ctx context.Context) {
	n, err := s.store.DeleteExpired(ctx, s.now())
	if err != nil {
		s.log.Warn("delete expired records failed", "err", err)
		return
	}
	if n > 0 {
		s.log.Info("expired records deleted", "count", n)
	}
}
