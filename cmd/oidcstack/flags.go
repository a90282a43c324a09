package main

import (
	"flag"
	"fmt"
	"log/slog"
	"net"
	"strings"
)

// newFlagSet returns a flag set for subcommand name that writes its usage
// to the environment's stderr.
func newFlagSet(env *environment, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("oidcstack "+name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	return fs
}

// parseFlags parses args, then fills every flag that is not on the command
// line from its OIDCSTACK_* environment variable, if set.
func parseFlags(env *environment, fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	var errs []string
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] {
			return
		}
		name := envName(f.Name)
		value := env.getenv(name)
		if value == "" {
			return
		}
		if err := f.Value.Set(value); err != nil {
			errs = append(errs, fmt.Sprintf("%s=%q: %v", name, value, err))
		}
	})
	if len(errs) > 0 {
		return fmt.Errorf("invalid environment variable: %s", strings.Join(errs, "; "))
	}
	return nil
}

// envName returns the environment variable of flag name: "ready-file"
// becomes OIDCSTACK_READY_FILE.
func envName(flagName string) string {
	return "OIDCSTACK_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// logFlags are the logging flags every subcommand has.
type logFlags struct {
	format string
	level  string
}

func (l *logFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&l.format, "log-format", "text", "log format: text or json")
	fs.StringVar(&l.level, "log-level", "info", "minimum log level: debug, info, warn or error")
}

// logger returns the logger the flags select. A non-empty service adds a
// "service" attribute to every line, as the stack's loggers have.
func (l *logFlags) logger(env *environment, service string) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(l.level)); err != nil {
		return nil, fmt.Errorf("-log-level %q: want debug, info, warn or error", l.level)
	}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	switch l.format {
	case "text":
		h = slog.NewTextHandler(env.stderr, opts)
	case "json":
		h = slog.NewJSONHandler(env.stderr, opts)
	default:
		return nil, fmt.Errorf("-log-format %q: want text or json", l.format)
	}
	logger := slog.New(h)
	if service != "" {
		logger = logger.With("service", service)
	}
	return logger, nil
}

// checkDemoSecrets rejects the built-in demo secrets on a listener that is
// reachable from other machines, unless allowed is set: the secrets are
// printed in the README, so they protect nothing there.
func checkDemoSecrets(ln net.Listener, usesDemoSecrets, allowed bool) error {
	if !usesDemoSecrets || allowed {
		return nil
	}
	addr, ok := ln.Addr().(*net.TCPAddr)
	if ok && addr.IP.IsLoopback() {
		return nil
	}
	return fmt.Errorf("listening on %s with the built-in demo secrets: bind a loopback address, configure your own secrets, or pass -allow-demo-secrets", ln.Addr())
}

// listFlag is a flag that may be repeated, or set to a comma-separated
// list (as an environment variable must be). The first value given
// replaces the default.
type listFlag struct {
	values []string
	set    bool
}

func (l *listFlag) String() string { return strings.Join(l.values, ",") }

// Set implements flag.Value.
func (l *listFlag) Set(value string) error {
	if !l.set {
		l.values, l.set = nil, true
	}
	for _, v := range strings.Split(value, ",") {
		if v = strings.TrimSpace(v); v != "" {
			l.values = append(l.values, v)
		}
	}
	return nil
}
