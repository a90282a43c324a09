// Command oidcstack runs the oidcstack reference stack, or one of its
// services alone.
//
//	oidcstack run          start every service (the demo stack)
//	oidcstack mockidp      the mock OpenID provider
//	oidcstack authserver   the authorization server
//	oidcstack gateway      the API gateway
//	oidcstack demoapp      the demo web app and the demo API
//
// Every flag can also be set through an environment variable: OIDCSTACK_
// followed by the flag name in upper case with '-' turned into '_' (for
// example -ready-file and OIDCSTACK_READY_FILE). A flag on the command line
// wins over the environment.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "oidcstack:", err)
		}
		os.Exit(1)
	}
}

// command is one subcommand of oidcstack.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *environment, args []string) error
}

func commands() []command {
	return []command{
		{"run", "start every service of the demo stack", runStack},
		{"mockidp", "run the mock OpenID provider alone", runMockIDP},
		{"authserver", "run the authorization server alone", runAuthServer},
		{"gateway", "run the API gateway alone", runGateway},
		{"demoapp", "run the demo web app and the demo API alone", runDemoApp},
	}
}

// environment contains the parts of the process a subcommand may use: its
// environment variables and output streams.
type environment struct {
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
}

// run dispatches args to a subcommand. It returns when ctx is done and the
// services have shut down.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	env := &environment{getenv: getenv, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		usage(stderr)
		return errors.New("no command given")
	}
	name := args[0]
	if name == "-h" || name == "-help" || name == "--help" || name == "help" {
		usage(stdout)
		return nil
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(ctx, env, args[1:])
		}
	}
	usage(stderr)
	return fmt.Errorf("unknown command %q", name)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: oidcstack COMMAND [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'oidcstack COMMAND -h' for the flags of a command. Every flag can be")
	fmt.Fprintln(w, "set through OIDCSTACK_<FLAG> too, such as OIDCSTACK_ADDR for -addr.")
}
