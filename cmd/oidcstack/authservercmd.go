package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/oidcstack/oidcstack/authserver"
	"github.com/oidcstack/oidcstack/internal/stack"
)

// runAuthServer runs the authorization server alone.
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
		push       = listFlag{values: []string{defaultGatewayURL + "/_push"}}
		pushAud    string
		pushMode   bool
	)
	common.register(fs, stack.DefaultAuthServerAddr, "public base URL and issuer of the authorization server")
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
	fs.Var(&push, "push-gateway", "push endpoint of a gateway instance to send revocations to (repeat the flag or separate with commas; \"none\" sends nothing)")
	fs.StringVar(&pushAud, "push-audience", stack.GatewayPushAudience, "the gateways' identifier, the aud of the pushed security events")
	fs.BoolVar(&pushMode, "push-mode", false, "the gateways run in push mode: also push every issued token's hash with its JWTs")
	if err := parseFlags(env, fs, args); err != nil {
		return err
	}
	logger, err := common.logs.logger(env, "authserver")
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
	cfg.PushGateways = pushGateways(push.values, pushAud, pushMode)

	ln, url, err := bind(common.addr, "localhost", firstNonEmpty(common.publicURL, cfg.Issuer))
	if err != nil {
		return err
	}
	defer ln.Close()
	if err := checkDemoSecrets(ln, usesAuthServerDemoSecrets(cfg), common.allowDemoSecrets); err != nil {
		return err
	}

	db, err := stack.OpenStore(ctx, dataDir)
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
// pushGateways returns the gateway instances to push security events to;
// the single value "none" turns pushing off.
func pushGateways(urls []string, audience string, pushMode bool) []authserver.PushGateway {
	if len(urls) == 1 && urls[0] == "none" {
		return nil
	}
	var out []authserver.PushGateway
	for _, u := range urls {
		out = append(out, authserver.PushGateway{URL: u, Audience: audience, PushMode: pushMode})
	}
	return out
}

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
