package main

import (
	"flag"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/authserver"
)

func TestListFlagReplacesDefault(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{name: "default kept", args: nil, want: []string{"http://default"}},
		{name: "repeated", args: []string{"-l", "http://a", "-l", "http://b"}, want: []string{"http://a", "http://b"}},
		{name: "comma separated", args: []string{"-l", "http://a, http://b,"}, want: []string{"http://a", "http://b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := listFlag{values: []string{"http://default"}}
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			fs.Var(&l, "l", "")
			require.NoError(t, fs.Parse(tt.args))
			assert.Equal(t, tt.want, l.values)
		})
	}
}

func TestPushGatewaysFromFlags(t *testing.T) {
	assert.Nil(t, pushGateways([]string{"none"}, "gateway", false), `"none" turns pushing off`)
	assert.Equal(t, []authserver.PushGateway{
		{URL: "http://a/_push", Audience: "gw", PushMode: true},
		{URL: "http://b/_push", Audience: "gw", PushMode: true},
	}, pushGateways([]string{"http://a/_push", "http://b/_push"}, "gw", true))
}

func TestGatewayRejectsUnknownMode(t *testing.T) {
	err := run(t.Context(), []string{"gateway", "-addr", "127.0.0.1:0", "-mode", "poll"},
		func(string) string { return "" }, &syncBuffer{}, &syncBuffer{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"poll"`)
}

func TestGatewayPushModeRunsAlone(t *testing.T) {
	urls, _ := startCommand(t, nil, "gateway", "-addr", "127.0.0.1:0", "-mode", "push")
	getHealthz(t, urls["gateway"])
}

func TestAuthServerPushGatewaysFromEnvironment(t *testing.T) {
	env := map[string]string{"OIDCSTACK_PUSH_GATEWAY": "http://127.0.0.1:1/_push,http://127.0.0.1:2/_push"}
	urls, _, stderr := startCommandOutput(t, env, "authserver", "-addr", "127.0.0.1:0", "-data-dir", "")
	getHealthz(t, urls["authserver"])
	logs := stderr.String()
	assert.Contains(t, logs, "url=http://127.0.0.1:1/_push")
	assert.Contains(t, logs, "url=http://127.0.0.1:2/_push")
	assert.NotContains(t, logs, "url=http://localhost:8000/_push", "the variable replaces the default")
}

func TestBusyPortErrorGivesAdvice(t *testing.T) {
	urls, _ := startCommand(t, nil, "gateway", "-addr", "127.0.0.1:0")
	busy := strings.TrimPrefix(urls["gateway"], "http://localhost:")

	err := run(t.Context(), []string{"gateway", "-addr", "127.0.0.1:" + busy},
		func(string) string { return "" }, &syncBuffer{}, &syncBuffer{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "127.0.0.1:"+busy)
	assert.Contains(t, err.Error(), "is another oidcstack running?")
	assert.Equal(t, 1, strings.Count(err.Error(), "127.0.0.1:"+busy), "the address appears once")
}
