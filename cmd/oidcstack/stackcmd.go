package main

import (
	"context"
	"fmt"

	"github.com/oidcstack/oidcstack/internal/httpx"
	"github.com/oidcstack/oidcstack/internal/stack"
	"github.com/oidcstack/oidcstack/mockidp"
)

// runStack starts every service of the demo stack in this process.
func runStack(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "run")
	var (
		opts      stack.Options
		readyFile string
		logs      logFlags
	)
	fs.StringVar(&opts.MockIDPAddr, "mockidp-addr", stack.DefaultMockIDPAddr, "listen address of the mock IDP")
	fs.StringVar(&opts.AuthServerAddr, "authserver-addr", stack.DefaultAuthServerAddr, "listen address of the authorization server")
	fs.StringVar(&opts.GatewayAddr, "gateway-addr", stack.DefaultGatewayAddr, "listen address of the gateway")
	fs.StringVar(&opts.WebAppAddr, "webapp-addr", stack.DefaultWebAppAddr, "listen address of the web app")
	fs.StringVar(&opts.APIAddr, "api-addr", stack.DefaultAPIAddr, "listen address of the demo API")
	fs.StringVar(&opts.DataDir, "data-dir", "data", "directory of the authorization server's database and the IDP's keys; empty keeps everything in memory")
	fs.BoolVar(&opts.PushMode, "push-mode", false, "run the gateway in push mode: the authorization server pushes each token's JWTs and the gateway never calls it")
	fs.StringVar(&readyFile, "ready-file", "", "file to write the services' URLs to, as one JSON line, once they listen")
	logs.register(fs)
	if err := parseFlags(env, fs, args); err != nil {
		return err
	}
	logger, err := logs.logger(env, "")
	if err != nil {
		return err
	}
	opts.Logger = logger

	st, err := stack.Start(ctx, opts)
	if err != nil {
		return addrInUseHint(err, "-mockidp-addr, -authserver-addr, -gateway-addr, -webapp-addr or -api-addr")
	}
	defer st.Close()

	printWelcome(env, st.URLs)
	// The ready line comes last, so a script waiting for it finds every
	// service listening.
	if err := httpx.WriteReady(env.stdout, readyFile, readyURLs(st.URLs)); err != nil {
		return err
	}

	select {
	case <-ctx.Done():
		logger.Info("shutting down")
		return st.Close()
	case err := <-st.Err():
		return err
	}
}

func readyURLs(urls stack.URLs) map[string]string {
	return map[string]string{
		"mockidp":    urls.MockIDP,
		"authserver": urls.AuthServer,
		"gateway":    urls.Gateway,
		"webapp":     urls.WebApp,
		"api":        urls.API,
	}
}

func printWelcome(env *environment, urls stack.URLs) {
	w := env.stdout
	fmt.Fprintln(w, "oidcstack is running. Open the web app and click \"Log in\":")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "    %s\n", urls.WebApp)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Demo users (at every mock IDP issuer):")
	for _, u := range mockidp.DemoUsers() {
		fmt.Fprintf(w, "    %-20s password: %s\n", u.Email, u.Password)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Services:")
	fmt.Fprintf(w, "    web app               %s\n", urls.WebApp)
	fmt.Fprintf(w, "    authorization server  %s\n", urls.AuthServer)
	for _, iss := range urls.Issuers {
		fmt.Fprintf(w, "    mock IDP issuer       %s\n", iss)
	}
	fmt.Fprintf(w, "    gateway               %s\n", urls.Gateway)
	fmt.Fprintf(w, "    demo API              %s\n", urls.API)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Each service logs its steps below and serves them at /_trace. Press Ctrl-C to stop.")
}
