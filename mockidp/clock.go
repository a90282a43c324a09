package mockidp

import (
	"sync"
	"time"
)

// serverClock is the server's time: Config.Clock moved by SetTime and
// Advance.
type serverClock struct {
	base func() time.Time

	mu     sync.Mutex
	frozen bool
	at     time.Time     // the frozen time, when frozen
	offset time.Duration // added to base when not frozen
}

func (c *serverClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frozen {
		return c.at
	}
	return c.base().Add(c.offset)
}

// Now returns the server's current time: the time it puts in tokens and
// checks expiry against.
func (s *Server) Now() time.Time { return s.clock.now() }

// SetTime stops the server's clock at t. It stays there until the next
// SetTime or Advance, so a test controls every timestamp the server issues.
func (s *Server) SetTime(t time.Time) {
	s.clock.mu.Lock()
	defer s.clock.mu.Unlock()
	s.clock.frozen, s.clock.at = true, t
}

// Advance moves the server's clock forward by d (backward for a negative
// d). A stopped clock stays stopped at its new time; a running clock keeps
// running d ahead of Config.Clock.
func (s *Server) Advance(d time.Duration) {
	s.clock.mu.Lock()
	defer s.clock.mu.Unlock()
	if s.clock.frozen {
		s.clock.at = s.clock.at.Add(d)
		return
	}
	s.clock.offset += d
}
