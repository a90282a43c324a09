package main

import (
	"context"
	"strings"

	"github.com/oidcstack/oidcstack/authserver"
	"github.com/oidcstack/oidcstack/demoapp"
	"github.com/oidcstack/oidcstack/internal/stack"
)

// runDemoApp runs the demo web app and the demo API, each on its own
// listener.
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
	common.register(fs, stack.DefaultWebAppAddr, "public base URL of the web app (its redirect URI is this URL + /callback)")
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
	logger, err := common.logs.logger(env, "")
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
