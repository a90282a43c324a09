package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"

	"github.com/oidcstack/oidcstack/internal/stack"
	"github.com/oidcstack/oidcstack/mockidp"
)

// runMockIDP runs the mock OpenID provider alone.
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
	common.register(fs, stack.DefaultMockIDPAddr, "public base URL of the mock IDP; each issuer is this URL + /NAME")
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
	logger, err := common.logs.logger(env, "mockidp")
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
