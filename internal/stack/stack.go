// Package stack starts every oidcstack service in one process, each on its
// own listener, talking to the others over real HTTP. The binary's `run`
// command and the end-to-end tests both start the stack through [Start], so
// what the tests prove is what a user runs.
//
// Listeners are bound first (port 0 picks a free port) and the services'
// configurations are built from the bound addresses, so every URL a
// service publishes is the one a browser reaches.
package stack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/oidcstack/oidcstack/authserver"
	"github.com/oidcstack/oidcstack/authserver/store"
	"github.com/oidcstack/oidcstack/demoapp"
	"github.com/oidcstack/oidcstack/gateway"
	"github.com/oidcstack/oidcstack/internal/httpx"
	"github.com/oidcstack/oidcstack/internal/oauth"
	"github.com/oidcstack/oidcstack/mockidp"
)

// Default listen addresses: loopback only, on the ports the docs name.
const (
	DefaultMockIDPAddr    = "127.0.0.1:9000"
	DefaultAuthServerAddr = "127.0.0.1:9001"
	DefaultGatewayAddr    = "127.0.0.1:8000"
	DefaultWebAppAddr     = "127.0.0.1:8080"
	DefaultAPIAddr        = "127.0.0.1:8081"
)

// APIPath is the demo API route the web app calls through the gateway.
const APIPath = "/api/me"

// Options configures [Start]. The zero value starts the demo stack on the
// default ports with an in-memory database.
type Options struct {
	// Listen addresses of the services. Empty means the Default*Addr
	// constant; port 0 picks a free port.
	MockIDPAddr, AuthServerAddr, GatewayAddr, WebAppAddr, APIAddr string

	// DataDir holds the authorization server's SQLite database and the
	// signing keys of the mock IDP, so a restarted stack keeps its users,
	// sessions and keys. Empty means an in-memory database and keys that
	// live as long as the process.
	DataDir string

	// WebAppGrant is the web app's grant: demoapp.GrantCode (code + PKCE,
	// the default when empty) or demoapp.GrantImplicit, which also enables
	// the legacy implicit grant for the web app's client.
	WebAppGrant string

	// Logger receives every service's log lines, each with a "service"
	// attribute. Nil discards them.
	Logger *slog.Logger
	// Clock is shared by every service. Nil means time.Now.
	Clock func() time.Time

	// PushMode runs the gateway in push mode: the authorization server
	// pushes each issued token's hash with its JWTs, and the gateway never
	// introspects or exchanges. False keeps the default pull mode, in
	// which the authorization server still pushes revocations and user
	// changes.
	PushMode bool
}

// GatewayPushAudience is the gateway's identifier in the security events
// the authorization server pushes to it.
const GatewayPushAudience = "gateway"

// URLs are the public base URLs of a started stack.
type URLs struct {
	MockIDP    string // the mock IDP's server root, http://127.0.0.1:PORT
	Issuers    []string
	AuthServer string
	Gateway    string
	WebApp     string
	API        string
}

// Stack is a running set of services.
type Stack struct {
	URLs URLs

	MockIDP    *mockidp.Server
	AuthServer *authserver.Server
	Gateway    *gateway.Server
	WebApp     *demoapp.Server
	API        *demoapp.APIServer

	store   *store.SQLite
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	errc    chan error
	closeMu sync.Mutex
	closed  bool
}

// Start binds every listener, builds the services' configurations from the
// bound addresses and serves them until [Stack.Close] or until ctx is done.
func Start(ctx context.Context, opts Options) (*Stack, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	lns, err := listen(opts)
	if err != nil {
		return nil, err
	}
	closeAll := func() {
		for _, ln := range lns {
			_ = ln.Close()
		}
	}

	urls := URLs{
		// The IDP is served at 127.0.0.1 and the rest at localhost, so the
		// hop to the IDP is cross-site as it is in production.
		MockIDP:    httpx.BaseURL(lns[0], "127.0.0.1"),
		AuthServer: httpx.BaseURL(lns[1], "localhost"),
		Gateway:    httpx.BaseURL(lns[2], "localhost"),
		WebApp:     httpx.BaseURL(lns[3], "localhost"),
		API:        httpx.BaseURL(lns[4], "localhost"),
	}

	s := &Stack{URLs: urls, errc: make(chan error, len(lns))}
	if err := s.build(ctx, opts, logger); err != nil {
		closeAll()
		s.closeServices()
		return nil, err
	}
	for _, idp := range authserver.DemoUpstreams(urls.MockIDP) {
		s.URLs.Issuers = append(s.URLs.Issuers, idp.Issuer)
	}

	serveCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	handlers := []struct {
		name string
		h    http.Handler
	}{
		{"mockidp", s.MockIDP},
		{"authserver", s.AuthServer},
		{gateway.ServiceName, s.Gateway},
		{demoapp.ServiceName, s.WebApp},
		{demoapp.APIServiceName, s.API},
	}
	for i, svc := range handlers {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			svcLogger := logger.With("service", svc.name)
			if err := httpx.Serve(serveCtx, lns[i], svc.h, svcLogger); err != nil {
				svcLogger.Error("server stopped", "err", err)
				s.errc <- fmt.Errorf("%s: %w", svc.name, err)
			}
		}()
	}
	go func() {
		<-ctx.Done()
		_ = s.Close()
	}()
	return s, nil
}

// listen binds the five listeners in the order mock IDP, authorization
// server, gateway, web app, demo API.
func listen(opts Options) ([]net.Listener, error) {
	addrs := []string{
		orDefault(opts.MockIDPAddr, DefaultMockIDPAddr),
		orDefault(opts.AuthServerAddr, DefaultAuthServerAddr),
		orDefault(opts.GatewayAddr, DefaultGatewayAddr),
		orDefault(opts.WebAppAddr, DefaultWebAppAddr),
		orDefault(opts.APIAddr, DefaultAPIAddr),
	}
	var lns []net.Listener
	for _, addr := range addrs {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			for _, l := range lns {
				_ = l.Close()
			}
			// The net error names the address.
			return nil, fmt.Errorf("stack: %w", err)
		}
		lns = append(lns, ln)
	}
	return lns, nil
}

func orDefault(v, fallback string) string {
	if v == "" {
		return fallback
	}
	return v
}

// build creates the services from the bound URLs.
func (s *Stack) build(ctx context.Context, opts Options, logger *slog.Logger) error {
	urls := s.URLs
	log := func(name string) *slog.Logger { return logger.With("service", name) }

	idpConfig := mockidp.Config{
		BaseURL: urls.MockIDP,
		Issuers: mockidp.DemoIssuers(urls.AuthServer),
		Clock:   opts.Clock,
		Logger:  log("mockidp"),
	}
	if opts.DataDir != "" {
		idpConfig.KeyDir = filepath.Join(opts.DataDir, "mockidp-keys")
		if err := os.MkdirAll(idpConfig.KeyDir, 0o700); err != nil {
			return fmt.Errorf("stack: create %s: %w", idpConfig.KeyDir, err)
		}
	}
	var err error
	if s.MockIDP, err = mockidp.New(idpConfig); err != nil {
		return err
	}

	if s.store, err = OpenStore(ctx, opts.DataDir); err != nil {
		return err
	}
	clients := authserver.DemoClients(urls.WebApp)
	if opts.WebAppGrant == demoapp.GrantImplicit {
		for i := range clients {
			if clients[i].ID == authserver.DemoWebClientID {
				clients[i].GrantTypes = []string{oauth.GrantAuthorizationCode, oauth.GrantImplicit}
			}
		}
	}
	s.AuthServer, err = authserver.New(authserver.Config{
		Issuer:    urls.AuthServer,
		Store:     s.store,
		Clients:   clients,
		Upstreams: authserver.DemoUpstreams(urls.MockIDP),
		PushGateways: []authserver.PushGateway{{
			URL: urls.Gateway + "/_push", Audience: GatewayPushAudience, PushMode: opts.PushMode,
		}},
		Clock:  opts.Clock,
		Logger: log("authserver"),
	})
	if err != nil {
		return err
	}

	mode := gateway.ModePull
	if opts.PushMode {
		mode = gateway.ModePush
	}
	s.Gateway, err = gateway.New(gateway.Config{
		AuthServer:   urls.AuthServer,
		ClientID:     authserver.DemoGatewayClientID,
		ClientSecret: authserver.DemoGatewaySecret,
		Mode:         mode,
		PushAudience: GatewayPushAudience,
		Routes: []gateway.Route{{
			Prefix:         "/api/",
			Upstream:       urls.API,
			Audience:       authserver.DemoAudience,
			AllowedOrigins: []string{urls.WebApp},
		}},
		Clock:  opts.Clock,
		Logger: log(gateway.ServiceName),
	})
	if err != nil {
		return err
	}

	s.WebApp, err = demoapp.New(demoapp.Config{
		BaseURL:  urls.WebApp,
		Issuer:   urls.AuthServer,
		ClientID: authserver.DemoWebClientID,
		Grant:    opts.WebAppGrant,
		APIURL:   urls.Gateway + APIPath,
		Clock:    opts.Clock,
		Logger:   log(demoapp.ServiceName),
	})
	if err != nil {
		return err
	}

	s.API, err = demoapp.NewAPI(demoapp.APIConfig{
		Issuer:   urls.AuthServer,
		Audience: authserver.DemoAudience,
		Clock:    opts.Clock,
		Logger:   log(demoapp.APIServiceName),
	})
	return err
}

// OpenStore opens the authorization server's SQLite database: the file
// authserver.db in dataDir, created with the directory if needed, or an
// in-memory database of its own when dataDir is empty.
func OpenStore(ctx context.Context, dataDir string) (*store.SQLite, error) {
	if dataDir == "" {
		// A random name, so two stacks in one process never share an
		// in-memory database.
		return store.OpenSQLiteMemory(ctx, "stack-"+oauth.NewToken())
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("stack: create data directory: %w", err)
	}
	return store.OpenSQLiteFile(ctx, filepath.Join(dataDir, "authserver.db"))
}

// Err returns a channel that receives an error when a server stops on its
// own (its listener failed).
func (s *Stack) Err() <-chan error { return s.errc }

// Close shuts the servers down gracefully, then closes the services and the
// database. It is safe to call more than once.
func (s *Stack) Close() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
	return s.closeServices()
}

func (s *Stack) closeServices() error {
	var errs []error
	if s.API != nil {
		errs = append(errs, s.API.Close())
	}
	if s.WebApp != nil {
		errs = append(errs, s.WebApp.Close())
	}
	if s.Gateway != nil {
		errs = append(errs, s.Gateway.Close())
	}
	if s.AuthServer != nil {
		s.AuthServer.Close()
	}
	if s.MockIDP != nil {
		s.MockIDP.Close()
	}
	if s.store != nil {
		errs = append(errs, s.store.Close())
	}
	return errors.Join(errs...)
}
