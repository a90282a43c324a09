package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a
// running command and the reads of the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startCommand runs oidcstack with args until the test ends, waits for its
// ready file and returns the URLs in it.
func startCommand(t *testing.T, env map[string]string, args ...string) (map[string]string, *syncBuffer) {
	t.Helper()
	readyFile := filepath.Join(t.TempDir(), "ready.json")
	args = append(args, "-ready-file", readyFile)
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, func(k string) string { return env[k] }, stdout, stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err, "the command must shut down cleanly")
		case <-time.After(15 * time.Second):
			t.Error("the command did not stop within 15 s of cancellation")
		}
	})

	deadline := time.Now().Add(15 * time.Second)
	for {
		data, err := os.ReadFile(readyFile)
		if err == nil {
			var ready struct {
				Ready bool              `json:"ready"`
				URLs  map[string]string `json:"urls"`
			}
			require.NoError(t, json.Unmarshal(data, &ready))
			require.True(t, ready.Ready)
			return ready.URLs, stdout
		}
		select {
		case err := <-done:
			t.Fatalf("command exited before it was ready: %v\nstderr:\n%s", err, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no ready file after 15 s\nstderr:\n%s", stderr.String())
		}
	}
}

func getHealthz(t *testing.T, baseURL string) {
	t.Helper()
	resp, err := http.Get(baseURL + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "%s/healthz", baseURL)
}

func TestEachServiceRunsAlone(t *testing.T) {
	tests := []struct {
		name string
		args []string
		urls []string
	}{
		{name: "mockidp", args: []string{"mockidp", "-addr", "127.0.0.1:0"}, urls: []string{"mockidp"}},
		{name: "authserver", args: []string{"authserver", "-addr", "127.0.0.1:0", "-data-dir", ""}, urls: []string{"authserver"}},
		{name: "gateway", args: []string{"gateway", "-addr", "127.0.0.1:0"}, urls: []string{"gateway"}},
		{name: "demoapp", args: []string{"demoapp", "-addr", "127.0.0.1:0", "-api-addr", "127.0.0.1:0"}, urls: []string{"webapp", "api"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			urls, stdout := startCommand(t, nil, tt.args...)
			require.Len(t, urls, len(tt.urls))
			for _, name := range tt.urls {
				require.Contains(t, urls, name)
				getHealthz(t, urls[name])
			}
			assert.Contains(t, stdout.String(), `"ready":true`, "the ready line is printed on stdout too")
		})
	}
}

func TestMockIDPURLUses127001(t *testing.T) {
	urls, _ := startCommand(t, nil, "mockidp", "-addr", "127.0.0.1:0")
	assert.Regexp(t, `^http://127\.0\.0\.1:\d+$`, urls["mockidp"])
}

func TestEnvironmentSetsFlags(t *testing.T) {
	env := map[string]string{"OIDCSTACK_ADDR": "127.0.0.1:0", "OIDCSTACK_PUBLIC_URL": "http://idp.test:9999"}
	urls, _ := startCommand(t, env, "mockidp")
	assert.Equal(t, "http://idp.test:9999", urls["mockidp"])
}

func TestRunStartsWholeStack(t *testing.T) {
	urls, stdout := startCommand(t, nil, "run",
		"-mockidp-addr", "127.0.0.1:0", "-authserver-addr", "127.0.0.1:0",
		"-gateway-addr", "127.0.0.1:0", "-webapp-addr", "127.0.0.1:0",
		"-api-addr", "127.0.0.1:0", "-data-dir", t.TempDir())
	for _, name := range []string{"mockidp", "authserver", "gateway", "webapp", "api"} {
		require.Contains(t, urls, name)
		getHealthz(t, urls[name])
	}
	out := stdout.String()
	assert.Contains(t, out, urls["webapp"], "the URL to open is printed")
	assert.Contains(t, out, "alice@example.com")
	assert.Contains(t, out, "alice-password")
}

func TestUnknownCommandFails(t *testing.T) {
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"frobnicate"}, func(string) string { return "" }, &bytes.Buffer{}, &stderr)
	require.ErrorContains(t, err, `unknown command "frobnicate"`)
	assert.Contains(t, stderr.String(), "usage: oidcstack COMMAND")
}

func TestInvalidEnvironmentValueFails(t *testing.T) {
	env := func(k string) string {
		if k == "OIDCSTACK_ALLOW_DEMO_SECRETS" {
			return "maybe"
		}
		return ""
	}
	err := run(context.Background(), []string{"gateway", "-addr", "127.0.0.1:0"}, env, &bytes.Buffer{}, &bytes.Buffer{})
	require.ErrorContains(t, err, "OIDCSTACK_ALLOW_DEMO_SECRETS")
}

func TestDemoSecretsRejectedOffLoopback(t *testing.T) {
	loopback, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer loopback.Close()
	assert.NoError(t, checkDemoSecrets(loopback, true, false))

	// Binding every interface makes the demo secrets reachable from other
	// machines.
	public, err := net.Listen("tcp", "0.0.0.0:0")
	require.NoError(t, err)
	defer public.Close()
	assert.ErrorContains(t, checkDemoSecrets(public, true, false), "-allow-demo-secrets")
	assert.NoError(t, checkDemoSecrets(public, true, true), "the flag allows them")
	assert.NoError(t, checkDemoSecrets(public, false, false), "own secrets are fine anywhere")
}
