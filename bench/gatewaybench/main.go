// Command gatewaybench starts the servers that bench/wrk.sh loads with wrk,
// all on loopback ports chosen by the kernel:
//
//   - an upstream service that responds to every request with a small JSON body;
//   - a real authorization server with an in-memory database;
//   - a bare httputil.ReverseProxy to the upstream with a tuned transport,
//     the baseline;
//   - a pull-mode gateway with the default cache window ("hit");
//   - a pull-mode gateway without a cache, so every request introspects
//     and exchanges ("miss");
//   - a push-mode gateway that the authorization server pushes to ("push").
//
// It then obtains -tokens access tokens with the client credentials grant,
// writes them one per line to -tokens-file, and writes the URLs and the
// first token as shell variable assignments to -ready-file. The tokens are
// only valid at this process's authorization server, whose database lives
// in memory. It stops after -lifetime or on SIGINT or SIGTERM.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/oidcstack/oidcstack/authserver"
	"github.com/oidcstack/oidcstack/gateway"
	"github.com/oidcstack/oidcstack/internal/httpx"
	"github.com/oidcstack/oidcstack/internal/oauth"
	"github.com/oidcstack/oidcstack/internal/trace"
)

// Registrations of the benchmark.
const (
	serviceClientID = "bench-service"
	serviceSecret   = "bench-service-secret"
	pushAudience    = "gateway-push"
	apiPath         = "/api/bench"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "gatewaybench:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	flags := flag.NewFlagSet("gatewaybench", flag.ContinueOnError)
	readyFile := flags.String("ready-file", "", "write the URLs and the token as shell assignments to this file")
	lifetime := flags.Duration("lifetime", 10*time.Minute, "stop after this long")
	tokensFile := flags.String("tokens-file", "", "write the access tokens, one per line, to this file")
	tokenCount := flags.Int("tokens", 500, "number of access tokens to obtain")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *readyFile == "" || *tokensFile == "" || *tokenCount < 1 {
		return errors.New("-ready-file, -tokens-file and a positive -tokens are required")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *lifetime)
	defer cancel()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	names := []string{"upstream", "authserver", "bare", "hit", "miss", "push"}
	lns := map[string]net.Listener{}
	urls := map[string]string{}
	for _, name := range names {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("listen: %w", err)
		}
		defer ln.Close()
		lns[name] = ln
		urls[name] = httpx.BaseURL(ln, "127.0.0.1")
	}

	handlers, closeAll, err := build(urls, logger)
	defer closeAll()
	if err != nil {
		return err
	}
	errc := make(chan error, len(names))
	for _, name := range names {
		go func() { errc <- httpx.Serve(ctx, lns[name], handlers[name], logger.With("server", name)) }()
	}

	var tokens []string
	for range *tokenCount {
		token, err := clientCredentialsToken(ctx, urls["authserver"])
		if err != nil {
			return err
		}
		tokens = append(tokens, token)
	}
	if err := os.WriteFile(*tokensFile, []byte(strings.Join(tokens, "\n")+"\n"), 0o600); err != nil {
		return fmt.Errorf("write tokens file: %w", err)
	}
	var lines []string
	for _, name := range names {
		lines = append(lines, fmt.Sprintf("%s_URL='%s%s'", strings.ToUpper(name), urls[name], apiPath))
	}
	lines = append(lines, fmt.Sprintf("TOKEN='%s'", tokens[0]))
	if err := os.WriteFile(*readyFile, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		return fmt.Errorf("write ready file: %w", err)
	}

	<-ctx.Done()
	for range names {
		if err := <-errc; err != nil {
			logger.Error("server stopped", "err", err)
		}
	}
	return nil
}

// build creates every server's handler. closeAll closes the services it
// created, also after an error.
func build(urls map[string]string, logger *slog.Logger) (map[string]http.Handler, func(), error) {
	var closers []func()
	closeAll := func() {
		for _, c := range closers {
			c()
		}
	}
	upstream, err := url.Parse(urls["upstream"])
	if err != nil {
		return nil, closeAll, err
	}
	handlers := map[string]http.Handler{
		"upstream": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"ok":true}` + "\n"))
		}),
		"bare": &httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(upstream)
				pr.SetXForwarded()
			},
			Transport: tunedTransport(),
		},
	}

	clients := append(authserver.DemoClients("http://localhost:8080"), authserver.Client{
		ID: serviceClientID, Secret: serviceSecret,
		GrantTypes: []string{oauth.GrantClientCredentials},
		Audiences:  []string{authserver.DemoAudience},
	})
	auth, err := authserver.New(authserver.Config{
		Issuer:  urls["authserver"],
		Clients: clients,
		// Never contacted: the benchmark's token comes from the client
		// credentials grant.
		Upstreams:    []authserver.Upstream{{ID: "unused", Issuer: "http://127.0.0.1:1/unused", ClientID: "unused"}},
		PushGateways: []authserver.PushGateway{{URL: urls["push"] + "/_push", Audience: pushAudience, PushMode: true}},
		Logger:       logger,
	})
	if err != nil {
		return nil, closeAll, err
	}
	closers = append(closers, auth.Close)
	handlers["authserver"] = auth

	for _, gw := range []struct {
		name string
		edit func(*gateway.Config)
	}{
		{"hit", nil},
		{"miss", func(c *gateway.Config) { c.CacheWindow = -1 }},
		{"push", func(c *gateway.Config) { c.Mode, c.PushAudience = gateway.ModePush, pushAudience }},
	} {
		cfg := gateway.Config{
			AuthServer:   urls["authserver"],
			ClientID:     authserver.DemoGatewayClientID,
			ClientSecret: authserver.DemoGatewaySecret,
			Routes:       []gateway.Route{{Prefix: "/api/", Upstream: urls["upstream"], Audience: authserver.DemoAudience}},
			HTTPClient:   &http.Client{Timeout: 10 * time.Second, Transport: &trace.Transport{Base: tunedTransport()}},
			Logger:       logger,
		}
		if gw.edit != nil {
			gw.edit(&cfg)
		}
		srv, err := gateway.New(cfg)
		if err != nil {
			return nil, closeAll, err
		}
		closers = append(closers, func() { _ = srv.Close() })
		handlers[gw.name] = srv
	}
	return handlers, closeAll, nil
}

// tunedTransport keeps enough idle connections per host for every wrk
// connection, so no request pays for a new TCP connection.
func tunedTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 1024
	t.MaxIdleConnsPerHost = 1024
	t.IdleConnTimeout = 90 * time.Second
	return t
}

// clientCredentialsToken obtains an access token for the benchmark. The
// push-mode gateway gets its hash and JWT before the response returns.
func clientCredentialsToken(ctx context.Context, issuer string) (string, error) {
	form := url.Values{"grant_type": {oauth.GrantClientCredentials}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, issuer+"/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(serviceClientID, serviceSecret)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return "", fmt.Errorf("token request: %w", err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK || body.AccessToken == "" {
		return "", fmt.Errorf("token request: status %d, want 200 with an access token (%v)", resp.StatusCode, err)
	}
	return body.AccessToken, nil
}
