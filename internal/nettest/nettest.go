// Package nettest helps tests simulate network peers that are down.
package nettest

import (
	"net"
	"sync/atomic"
)

// DownListener is a listener that closes every connection it accepts until
// Up is called, as a server that is down would to a client. The port stays
// bound the whole time, so no other process can take it between a refused
// delivery and the one that succeeds. Closing a port and binding it again
// later has that race.
type DownListener struct {
	net.Listener
	up atomic.Bool
}

// NewDownListener wraps ln, starting down.
func NewDownListener(ln net.Listener) *DownListener {
	return &DownListener{Listener: ln}
}

// Up makes the listener hand out connections from now on.
func (l *DownListener) Up() { l.up.Store(true) }

// Accept implements net.Listener.
func (l *DownListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil || l.up.Load() {
			return c, err
		}
		_ = c.Close()
	}
}
