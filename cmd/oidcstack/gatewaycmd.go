package main

import (
	"context"

	"github.com/oidcstack/oidcstack/authserver"
	"github.com/oidcstack/oidcstack/gateway"
	"github.com/oidcstack/oidcstack/internal/stack"
)

// runGateway runs the API gateway alone.
func runGateway(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "gateway")
	var (
		common commonFlags
		cfg    gateway.Config
		route  gateway.Route
	)
	common.register(fs, stack.DefaultGatewayAddr, "public base URL of the gateway")
	common.logs.register(fs)
	fs.StringVar(&cfg.AuthServer, "authserver-url", defaultAuthServerURL, "issuer URL of the authorization server")
	fs.StringVar(&cfg.ClientID, "client-id", authserver.DemoGatewayClientID, "the gateway's client ID at the authorization server")
	fs.StringVar(&cfg.ClientSecret, "client-secret", authserver.DemoGatewaySecret, "the gateway's client secret")
	fs.StringVar(&route.Prefix, "route-prefix", "/api/", "path prefix forwarded to -upstream-url")
	fs.StringVar(&route.Upstream, "upstream-url", defaultAPIURL, "service that receives the calls under -route-prefix")
	fs.StringVar(&route.Audience, "audience", authserver.DemoAudience, "audience of the JWTs minted for -upstream-url")
	origin := fs.String("web-origin", defaultWebAppURL, "web origin allowed to call the route from a browser (CORS)")
	mode := fs.String("mode", string(gateway.ModePull), "pull: check and exchange tokens at the authorization server; push: use only what it pushes")
	fs.StringVar(&cfg.PushAudience, "push-audience", stack.GatewayPushAudience, "the gateway's identifier in pushed security events; empty turns the /_push receiver off (pull mode only)")
	fs.DurationVar(&cfg.CacheWindow, "cache-window", gateway.DefaultCacheWindow, "longest reuse of a token check and exchange; a revoked token works at most this long without push")
	if err := parseFlags(env, fs, args); err != nil {
		return err
	}
	logger, err := common.logs.logger(env, "gateway")
	if err != nil {
		return err
	}
	if *origin != "" {
		route.AllowedOrigins = []string{*origin}
	}
	cfg.Mode = gateway.Mode(*mode)
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
