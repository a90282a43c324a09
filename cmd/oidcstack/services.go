package main

import (
	"flag"
)

// Default public URLs of the services, as `oidcstack run` serves them. A
// service started alone expects its peers there unless flags name other
// URLs.
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

func (c *commonFlags) register(fs *flag.FlagSet, defaultAddr, publicURLHelp string) {
	fs.StringVar(&c.addr, "addr", defaultAddr, "listen address host:port; port 0 picks a free port")
	fs.StringVar(&c.publicURL, "public-url", "", publicURLHelp+"; empty derives it from the bound port")
	fs.StringVar(&c.readyFile, "ready-file", "", "file to write the service's URLs to, as one JSON line, once it listens")
	fs.BoolVar(&c.allowDemoSecrets, "allow-demo-secrets", false, "allow the built-in demo secrets on a non-loopback address")
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
