package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/oidcstack/oidcstack/authserver"
	"github.com/oidcstack/oidcstack/authserver/store"
	"github.com/oidcstack/oidcstack/demoapp"
	"github.com/oidcstack/oidcstack/gateway"
	"github.com/oidcstack/oidcstack/internal/stack"
	"github.com/oidcstack/oidcstack/mockidp"
)

// Default public URLs of the other services, as `oidcstack run` serves
// them; a service started alone finds its peers there unless told
// otherwise.
const (
	defaultMockIDPURL    = "http://127.0.0.1:9000"
	defaultAuthServerURL = "http://localhost:9001"
	defaultGatewayURL    = "http://localhost:8000"
	defaultWebAppURL     = "http://localhost:8080"
	defaultAPIURL        = "http://localhost:8081"
)

// commonFlags are the flags every single-service subcommand has.
type commonFlags struct {
	addr             string
	publicURL        string
	readyFile        string
	allowDemoSecrets bool
	logs             logFlags
}

func (c *commonFlags) register(fs *flag.FlagSet, defaultAddr string) {
	fs.StringVar(&c.addr, "addr", defaultAddr, "listen address host:port; port 0 picks a free port")
	fs.StringVar(&c.publicURL, "public-url", "", "public base URL of the service (its issuer for the IDP and the authorization server); empty derives it from the bound port")
	fs.StringVar(&c.readyFile, "ready-file", "", "file to write the service's URLs to, as one JSON line, once it listens")
	fs.BoolVar(&c.allowDemoSecrets, "allow-demo-secrets", false, "allow the built-in demo secrets on a non-loopback address")
}

func runMockIDP(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "mockidp")
	var (
		common        commonFlags
		configFile    string
		keyDir        string
		authserverURL string
		admin         mockidp.AdminConfig
		adminCIDRs    string
		https         bool
		caFile        string
	)
	common.register(fs, stack.DefaultMockIDPAddr)
	common.logs.register(fs)
	fs.StringVar(&configFile, "config", "", "JSON configuration file (users, clients, issuers); empty serves the demo issuers /google and /corp")
	fs.StringVar(&keyDir, "key-dir", "", "directory to load the issuers' signing keys from and save new ones to; empty keeps keys in memory")
	fs.StringVar(&authserverURL, "authserver-url", defaultAuthServerURL, "authorization server whose demo client the demo issuers register")
	fs.BoolVar(&admin.Enabled, "admin", false, "serve the admin API under /_admin/ (loopback clients only unless -admin-cidrs or -admin-token is set)")
	fs.StringVar(&adminCIDRs, "admin-cidrs", "", "comma-separated networks (CIDR) whose clients may use the admin API instead of loopback only, such as 172.17.0.0/16")
	fs.StringVar(&admin.Token, "admin-token", "", "bearer token every admin request must carry; without -admin-cidrs it opens the admin API to every address (prefer OIDCSTACK_ADMIN_TOKEN to keep it out of the process list)")
	fs.BoolVar(&https, "https", false, "serve HTTPS with a certificate from a CA generated at start, for clients that reject http issuers")
	fs.StringVar(&caFile, "ca-file", "", "file to write the generated CA certificate to (PEM), with -https")
	if err := parseFlags(env, fs, args); err != nil {
		return err
	}
	logger, err := common.logs.logger(env)
	if err != nil {
		return err
	}
	if !admin.Enabled && (admin.Token != "" || adminCIDRs != "") {
		return errors.New("-admin-token and -admin-cidrs need -admin")
	}
	if admin.AllowedNetworks, err = parseCIDRs(adminCIDRs); err != nil {
		return err
	}

	fileConfig := mockidp.FileConfig{AuthserverURL: authserverURL}
	if configFile != "" {
		data, err := os.ReadFile(configFile)
		if err != nil {
			return err
		}
		if fileConfig, err = mockidp.ParseFileConfig(data); err != nil {
			return fmt.Errorf("%s: %w", configFile, err)
		}
	}
	cfg, err := fileConfig.Config()
	if err != nil {
		return fmt.Errorf("%s: %w", configFile, err)
	}

	ln, url, err := bind(common.addr, "127.0.0.1", firstNonEmpty(common.publicURL, fileConfig.BaseURL))
	if err != nil {
		return err
	}
	defer ln.Close()
	if err := checkDemoSecrets(ln, usesMockIDPDemoSecrets(cfg), common.allowDemoSecrets); err != nil {
		return err
	}
	if https && firstNonEmpty(common.publicURL, fileConfig.BaseURL) == "" {
		url = "https://" + strings.TrimPrefix(url, "http://")
	}
	cfg.BaseURL = url
	cfg.Logger = logger
	cfg.Admin = admin
	cfg.HTTPS = https
	cfg.CAFile = caFile
	if keyDir != "" {
		cfg.KeyDir = keyDir
	}
	srv, err := mockidp.New(cfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	for _, iss := range srv.Issuers() {
		logger.Info("serving issuer", "issuer", iss)
	}
	if admin.Enabled {
		logger.Info("admin api enabled", "networks", adminCIDRs, "token_required", admin.Token != "")
	}
	served := ln
	if https {
		served = tls.NewListener(ln, srv.TLSConfig())
	}
	return serve(ctx, env, logger, common.readyFile, listener{name: "mockidp", ln: served, url: url, handler: srv})
}

// parseCIDRs parses a comma-separated list of networks; empty gives nil.
func parseCIDRs(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, field := range strings.Split(list, ",") {
		field = strings.TrimSpace(field)
		if field == "" {
			continue
		}
		p, err := netip.ParsePrefix(field)
		if err != nil {
			return nil, fmt.Errorf("-admin-cidrs: invalid network %q (want CIDR notation such as 10.0.0.0/8)", field)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func usesMockIDPDemoSecrets(cfg mockidp.Config) bool {
	for _, iss := range cfg.Issuers {
		for _, c := range iss.Clients {
			if c.Secret == mockidp.DemoClientSecret {
				return true
			}
		}
		for _, u := range iss.Users {
			for _, demo := range mockidp.DemoUsers() {
				if u.Email == demo.Email && u.Password == demo.Password {
					return true
				}
			}
		}
	}
	return false
}

func runAuthServer(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "authserver")
	var (
		common     commonFlags
		configFile string
		dataDir    string
		idpURL     string
		webApp     string
		upstream   authserver.Upstream
		scopes     string
	)
	common.register(fs, stack.DefaultAuthServerAddr)
	common.logs.register(fs)
	fs.StringVar(&configFile, "config", "", "JSON configuration file (issuer, clients, upstreams, lifetimes); flags override it, and the demo clients and upstreams apply where it lists none")
	fs.StringVar(&dataDir, "data-dir", "data", "directory of the SQLite database; empty keeps everything in memory")
	fs.StringVar(&idpURL, "mockidp-url", defaultMockIDPURL, "mock IDP whose /google and /corp issuers are the demo upstreams (unused with -upstream-issuer or upstreams in -config)")
	fs.StringVar(&webApp, "webapp-url", defaultWebAppURL, "web app URL registered for the demo-web client (unused with clients in -config)")
	fs.StringVar(&upstream.Issuer, "upstream-issuer", "", "issuer URL of a real OpenID provider to sign users in with, instead of the mock IDP or the upstreams in -config")
	fs.StringVar(&upstream.ClientID, "upstream-client-id", "", "client ID at -upstream-issuer")
	fs.StringVar(&upstream.ClientSecret, "upstream-client-secret", "", "client secret at -upstream-issuer; empty for a public client")
	fs.StringVar(&upstream.ID, "upstream-id", "idp", "path segment of the upstream's callback: {issuer}/callback/{id}")
	fs.StringVar(&upstream.DisplayName, "upstream-name", "", "name on the login page's button; empty uses -upstream-issuer")
	fs.StringVar(&scopes, "upstream-scopes", "openid email profile", "space-separated scopes requested from -upstream-issuer")
	if err := parseFlags(env, fs, args); err != nil {
		return err
	}
	logger, err := common.logs.logger(env)
	if err != nil {
		return err
	}

	cfg, err := loadAuthServerConfig(configFile)
	if err != nil {
		return err
	}
	// Flags override the file; the demo registrations fill what both leave
	// empty.
	switch {
	case upstream.Issuer != "":
		upstream.Scopes = strings.Fields(scopes)
		upstream.DisplayName = firstNonEmpty(upstream.DisplayName, upstream.Issuer)
		cfg.Upstreams = []authserver.Upstream{upstream}
	case len(cfg.Upstreams) == 0:
		cfg.Upstreams = authserver.DemoUpstreams(strings.TrimSuffix(idpURL, "/"))
	}
	if len(cfg.Clients) == 0 {
		cfg.Clients = authserver.DemoClients(strings.TrimSuffix(webApp, "/"))
	}

	ln, url, err := bind(common.addr, "localhost", firstNonEmpty(common.publicURL, cfg.Issuer))
	if err != nil {
		return err
	}
	defer ln.Close()
	if err := checkDemoSecrets(ln, usesAuthServerDemoSecrets(cfg), common.allowDemoSecrets); err != nil {
		return err
	}

	db, err := openStore(ctx, dataDir)
	if err != nil {
		return err
	}
	defer db.Close()
	cfg.Issuer = strings.TrimSuffix(url, "/")
	cfg.Store = db
	cfg.Logger = logger
	srv, err := authserver.New(cfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	for _, up := range cfg.Upstreams {
		logger.Info("upstream identity provider", "id", up.ID, "issuer", up.Issuer, "redirect_uri", cfg.Issuer+"/callback/"+up.ID)
	}
	return serve(ctx, env, logger, common.readyFile, listener{name: "authserver", ln: ln, url: url, handler: srv})
}

// loadAuthServerConfig reads the authorization server's configuration
// file; an empty path gives an empty configuration.
func loadAuthServerConfig(path string) (authserver.Config, error) {
	if path == "" {
		return authserver.Config{}, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return authserver.Config{}, err
	}
	fc, err := authserver.ParseFileConfig(data)
	if err != nil {
		return authserver.Config{}, fmt.Errorf("%s: %w", path, err)
	}
	cfg, err := fc.Config()
	if err != nil {
		return authserver.Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// usesAuthServerDemoSecrets reports whether cfg contains a built-in demo
// secret: the gateway's client secret or the secret of the authorization
// server's registration at the mock IDP.
func usesAuthServerDemoSecrets(cfg authserver.Config) bool {
	for _, c := range cfg.Clients {
		if c.Secret == authserver.DemoGatewaySecret {
			return true
		}
	}
	for _, up := range cfg.Upstreams {
		if up.ClientSecret == authserver.DemoUpstreamSecret {
			return true
		}
	}
	return false
}

func openStore(ctx context.Context, dataDir string) (*store.SQLite, error) {
	if dataDir == "" {
		return store.OpenSQLiteMemory(ctx, "authserver")
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	return store.OpenSQLiteFile(ctx, filepath.Join(dataDir, "authserver.db"))
}

func runGateway(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "gateway")
	var (
		common commonFlags
		cfg    gateway.Config
		route  gateway.Route
	)
	common.register(fs, stack.DefaultGatewayAddr)
	common.logs.register(fs)
	fs.StringVar(&cfg.AuthServer, "authserver-url", defaultAuthServerURL, "issuer URL of the authorization server")
	fs.StringVar(&cfg.ClientID, "client-id", authserver.DemoGatewayClientID, "the gateway's client ID at the authorization server")
	fs.StringVar(&cfg.ClientSecret, "client-secret", authserver.DemoGatewaySecret, "the gateway's client secret")
	fs.StringVar(&route.Prefix, "route-prefix", "/api/", "path prefix forwarded to -upstream-url")
	fs.StringVar(&route.Upstream, "upstream-url", defaultAPIURL, "service that receives the calls under -route-prefix")
	fs.StringVar(&route.Audience, "audience", authserver.DemoAudience, "audience of the JWTs minted for -upstream-url")
	origin := fs.String("web-origin", defaultWebAppURL, "web origin allowed to call the route from a browser (CORS)")
	if err := parseFlags(env, fs, args); err != nil {
		return err
	}
	logger, err := common.logs.logger(env)
	if err != nil {
		return err
	}
	if *origin != "" {
		route.AllowedOrigins = []string{*origin}
	}
	cfg.Routes = []gateway.Route{route}
	cfg.Logger = logger

	ln, url, err := bind(common.addr, "localhost", common.publicURL)
	if err != nil {
		return err
	}
	defer ln.Close()
	if err := checkDemoSecrets(ln, cfg.ClientSecret == authserver.DemoGatewaySecret, common.allowDemoSecrets); err != nil {
		return err
	}
	srv, err := gateway.New(cfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	return serve(ctx, env, logger, common.readyFile, listener{name: "gateway", ln: ln, url: url, handler: srv})
}

func runDemoApp(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "demoapp")
	var (
		common       commonFlags
		apiAddr      string
		apiPublicURL string
		web          demoapp.Config
		api          demoapp.APIConfig
		gatewayURL   string
	)
	common.register(fs, stack.DefaultWebAppAddr)
	common.logs.register(fs)
	fs.StringVar(&apiAddr, "api-addr", stack.DefaultAPIAddr, "listen address of the demo API; port 0 picks a free port")
	fs.StringVar(&apiPublicURL, "api-public-url", "", "public base URL of the demo API; empty derives it from the bound port")
	fs.StringVar(&web.Issuer, "authserver-url", defaultAuthServerURL, "issuer URL of the authorization server")
	fs.StringVar(&web.ClientID, "client-id", authserver.DemoWebClientID, "the web app's client ID at the authorization server")
	fs.StringVar(&gatewayURL, "gateway-url", defaultGatewayURL, "gateway the web app calls the API through")
	fs.StringVar(&api.Audience, "audience", authserver.DemoAudience, "audience the demo API requires in the gateway's JWTs")
	if err := parseFlags(env, fs, args); err != nil {
		return err
	}
	logger, err := common.logs.logger(env)
	if err != nil {
		return err
	}

	webLn, webURL, err := bind(common.addr, "localhost", common.publicURL)
	if err != nil {
		return err
	}
	defer webLn.Close()
	apiLn, apiURL, err := bind(apiAddr, "localhost", apiPublicURL)
	if err != nil {
		return err
	}
	defer apiLn.Close()

	web.BaseURL = webURL
	web.APIURL = strings.TrimSuffix(gatewayURL, "/") + stack.APIPath
	web.Logger = logger.With("service", demoapp.ServiceName)
	webSrv, err := demoapp.New(web)
	if err != nil {
		return err
	}
	defer webSrv.Close()

	api.Issuer = web.Issuer
	api.Logger = logger.With("service", demoapp.APIServiceName)
	apiSrv, err := demoapp.NewAPI(api)
	if err != nil {
		return err
	}
	defer apiSrv.Close()

	return serve(ctx, env, logger, common.readyFile,
		listener{name: "webapp", ln: webLn, url: webURL, handler: webSrv},
		listener{name: "api", ln: apiLn, url: apiURL, handler: apiSrv})
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
