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
	s.stopSweeper = runEvery(sweepInterval, s.sweep)
}

// runEvery calls fn every interval in a goroutine of its own, and returns a
// function that stops it and waits until it has stopped. fn's context is
// canceled by the stop.
func runEvery(interval time.Duration, fn func(ctx context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		ticker := time.NewTicker(interval)
		defer ticker.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
				fn(ctx)
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
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
