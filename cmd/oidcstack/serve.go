package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"syscall"

	"golang.org/x/sync/errgroup"

	"github.com/oidcstack/oidcstack/internal/httpx"
)

// listener is one bound address of a subcommand and what it serves.
type listener struct {
	name    string // key of its URL in the ready line, such as "authserver"
	ln      net.Listener
	url     string // public base URL
	handler http.Handler
}

// serve reports the bound URLs (stdout and -ready-file), then serves every
// listener until ctx is done or one of them fails.
func serve(ctx context.Context, env *environment, logger *slog.Logger, readyFile string, listeners ...listener) error {
	urls := map[string]string{}
	for _, l := range listeners {
		urls[l.name] = l.url
	}
	if err := httpx.WriteReady(env.stdout, readyFile, urls); err != nil {
		return err
	}

	g, gctx := errgroup.WithContext(ctx)
	for _, l := range listeners {
		logger.Info("listening", "listener", l.name, "addr", l.ln.Addr().String(), "url", l.url)
		g.Go(func() error { return httpx.Serve(gctx, l.ln, l.handler, logger) })
	}
	err := g.Wait()
	logger.Info("stopped")
	return err
}

// bind listens on addr and returns the listener with its public base URL:
// publicURL if set, else http://HOST:PORT with the bound port.
func bind(addr, host, publicURL string) (net.Listener, string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", addrInUseHint(err, "-addr")
	}
	if publicURL != "" {
		return ln, publicURL, nil
	}
	return ln, httpx.BaseURL(ln, host), nil
}

// addrInUseHint adds advice to a listen error when the port is taken.
// The net error already names the address.
func addrInUseHint(err error, flags string) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("%w (is another oidcstack running? %s chooses another address, port 0 a free one)", err, flags)
	}
	return err
}
