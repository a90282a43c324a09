package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
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
	urls, stdout, _ := startCommandOutput(t, env, args...)
	return urls, stdout
}

// startCommandOutput is startCommand that also returns the command's
// stderr, where its log lines go.
func startCommandOutput(t *testing.T, env map[string]string, args ...string) (map[string]string, *syncBuffer, *syncBuffer) {
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
			return ready.URLs, stdout, stderr
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

// getStatus returns the status of a GET of rawURL with client, sending
// the bearer token when it is set.
func getStatus(t *testing.T, client *http.Client, rawURL, token string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

func TestMockIDPAdminFlags(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		token      string
		wantStatus int
	}{
		{name: "off by default", wantStatus: http.StatusNotFound},
		{name: "on for loopback", args: []string{"-admin"}, wantStatus: http.StatusOK},
		{name: "token required", args: []string{"-admin", "-admin-token", "t0ken"}, wantStatus: http.StatusUnauthorized},
		{name: "token given", args: []string{"-admin", "-admin-token", "t0ken"}, token: "t0ken", wantStatus: http.StatusOK},
		{name: "networks replace loopback", args: []string{"-admin", "-admin-cidrs", "10.0.0.0/8, 192.168.0.0/16"}, wantStatus: http.StatusForbidden},
		{name: "networks with loopback", args: []string{"-admin", "-admin-cidrs", "10.0.0.0/8,127.0.0.0/8"}, wantStatus: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"mockidp", "-addr", "127.0.0.1:0"}, tt.args...)
			urls, _ := startCommand(t, nil, args...)
			got := getStatus(t, http.DefaultClient, urls["mockidp"]+"/_admin/issuers", tt.token)
			assert.Equal(t, tt.wantStatus, got)
		})
	}
}

func TestMockIDPRejectsInvalidAdminCIDR(t *testing.T) {
	err := run(t.Context(), []string{"mockidp", "-addr", "127.0.0.1:0", "-admin", "-admin-cidrs", "10.0.0.0/33"},
		func(string) string { return "" }, &syncBuffer{}, &syncBuffer{})
	assert.ErrorContains(t, err, `-admin-cidrs: invalid network "10.0.0.0/33"`)

	err = run(t.Context(), []string{"mockidp", "-addr", "127.0.0.1:0", "-admin-token", "x"},
		func(string) string { return "" }, &syncBuffer{}, &syncBuffer{})
	assert.ErrorContains(t, err, "need -admin", "a token without -admin is a mistake")
}

func TestMockIDPHTTPSFlags(t *testing.T) {
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	urls, _ := startCommand(t, nil, "mockidp", "-addr", "127.0.0.1:0", "-https", "-ca-file", caFile)
	base := urls["mockidp"]
	assert.Regexp(t, `^https://127\.0\.0\.1:\d+$`, base)

	caPEM, err := os.ReadFile(caFile)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(caPEM), "the CA file holds a PEM certificate")
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
	}}
	resp, err := client.Get(base + "/google/.well-known/openid-configuration")
	require.NoError(t, err)
	var doc struct {
		Issuer string `json:"issuer"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&doc))
	resp.Body.Close()
	assert.Equal(t, base+"/google", doc.Issuer, "the issuer is https")

	_, err = http.Get(base + "/healthz")
	assert.Error(t, err, "a client without the CA rejects the certificate")
}

// TestMockIDPAdminLoginWithCurl runs mockidp/testdata/admin_login.sh: a
// login through the admin API with curl and the built binary, as a test
// in another language would do it.
func TestMockIDPAdminLoginWithCurl(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("curl is not installed; this test drives the admin API with curl (apt-get install curl)")
	}
	gobin, err := exec.LookPath("go")
	require.NoError(t, err, "the go command builds the binary the script runs")
	bin := filepath.Join(t.TempDir(), "oidcstack")
	out, err := exec.Command(gobin, "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", filepath.Join("..", "..", "mockidp", "testdata", "admin_login.sh"))
	cmd.Env = append(os.Environ(), "OIDCSTACK_BIN="+bin)
	out, err = cmd.CombinedOutput()
	require.NoError(t, err, "admin_login.sh:\n%s", out)
	assert.Contains(t, string(out), "admin_login.sh: ok")
}
