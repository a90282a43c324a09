// Package httpx holds the HTTP plumbing every oidcstack service shares:
// serving on a bound listener with timeouts and graceful shutdown, security
// headers for pages, the health check, fetching JSON documents such as
// metadata and key sets, and checking configured URLs.
package httpx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"
)

// Timeouts of every server: slow clients cannot hold connections open.
const (
	ReadHeaderTimeout = 10 * time.Second
	ReadTimeout       = 30 * time.Second
	IdleTimeout       = 120 * time.Second
	ShutdownTimeout   = 10 * time.Second
)

// Serve serves h on ln until ctx is done, then shuts down gracefully,
// waiting up to ShutdownTimeout for requests in flight. It returns nil
// after a shutdown caused by ctx.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, logger *slog.Logger) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		IdleTimeout:       IdleTimeout,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}

	shutdownCtx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shut down %s: %w", ln.Addr(), err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	}
	return nil
}

// BaseURL returns "http://HOST:PORT" for the port ln is bound to. host is
// the name browsers should use ("localhost" or "127.0.0.1"), which may
// differ from the bound address.
func BaseURL(ln net.Listener, host string) string {
	_, port, err := net.SplitHostPort(ln.Addr().String())
	if err != nil {
		return "http://" + ln.Addr().String()
	}
	return "http://" + net.JoinHostPort(host, port)
}

// Healthz responds 200 "ok": the process is up and serving.
func Healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ok\n"))
}

// PageHeaders sets the headers every HTML page of a login flow needs: no
// framing (clickjacking), no MIME sniffing, no Referer (URLs may carry codes
// or state), and no caching.
func PageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

// WriteReady reports a started service: one JSON line on stdout, and the
// same line in readyFile unless it is empty. The file is written to a
// temporary name and renamed, so a reader polling for it never reads half a
// line.
func WriteReady(stdout io.Writer, readyFile string, urls map[string]string) error {
	line, err := json.Marshal(struct {
		Ready bool              `json:"ready"`
		URLs  map[string]string `json:"urls"`
	}{true, urls})
	if err != nil {
		return fmt.Errorf("encode ready line: %w", err)
	}
	line = append(line, '\n')
	if _, err := stdout.Write(line); err != nil {
		return fmt.Errorf("write ready line: %w", err)
	}
	if readyFile == "" {
		return nil
	}
	tmp := readyFile + ".tmp"
	if err := os.WriteFile(tmp, line, 0o644); err != nil {
		return fmt.Errorf("write ready file: %w", err)
	}
	if err := os.Rename(tmp, readyFile); err != nil {
		return fmt.Errorf("write ready file: %w", err)
	}
	return nil
}
