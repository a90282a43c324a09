package stack

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func freePorts() Options {
	return Options{
		MockIDPAddr:    "127.0.0.1:0",
		AuthServerAddr: "127.0.0.1:0",
		GatewayAddr:    "127.0.0.1:0",
		WebAppAddr:     "127.0.0.1:0",
		APIAddr:        "127.0.0.1:0",
	}
}

func TestStartServesEveryService(t *testing.T) {
	st, err := Start(context.Background(), freePorts())
	require.NoError(t, err)
	defer st.Close()

	urls := st.URLs
	assert.Regexp(t, `^http://127\.0\.0\.1:\d+$`, urls.MockIDP, "the IDP is on 127.0.0.1, a site of its own")
	for _, u := range []string{urls.AuthServer, urls.Gateway, urls.WebApp, urls.API} {
		assert.Regexp(t, `^http://localhost:\d+$`, u)
		resp, err := http.Get(u + "/healthz")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, u)
	}
	assert.Equal(t, []string{urls.MockIDP + "/google", urls.MockIDP + "/corp"}, urls.Issuers)

	// The authorization server publishes the issuer the stack was built
	// with, not one taken from the request.
	resp, err := http.Get(urls.AuthServer + "/.well-known/oauth-authorization-server")
	require.NoError(t, err)
	defer resp.Body.Close()
	var meta struct {
		Issuer string `json:"issuer"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&meta))
	assert.Equal(t, urls.AuthServer, meta.Issuer)
}

func TestStartFailsOnBusyPort(t *testing.T) {
	first, err := Start(context.Background(), freePorts())
	require.NoError(t, err)
	defer first.Close()

	busy, err := url.Parse(first.URLs.Gateway)
	require.NoError(t, err)
	opts := freePorts()
	opts.GatewayAddr = "127.0.0.1:" + busy.Port()
	_, err = Start(context.Background(), opts)
	require.Error(t, err)
	assert.Contains(t, err.Error(), opts.GatewayAddr)
}

func TestStartKeepsDataInDataDir(t *testing.T) {
	opts := freePorts()
	opts.DataDir = t.TempDir()
	st, err := Start(context.Background(), opts)
	require.NoError(t, err)
	require.NoError(t, st.Close())

	_, err = os.Stat(filepath.Join(opts.DataDir, "authserver.db"))
	assert.NoError(t, err, "the authorization server's database is a file in the data directory")
	keys, err := os.ReadDir(filepath.Join(opts.DataDir, "mockidp-keys"))
	require.NoError(t, err)
	assert.NotEmpty(t, keys, "the IDP saves its keys")
}

func TestStackStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	st, err := Start(ctx, freePorts())
	require.NoError(t, err)

	cancel()
	require.Eventually(t, func() bool {
		_, err := http.Get(st.URLs.Gateway + "/healthz")
		return err != nil
	}, 10*time.Second, 20*time.Millisecond, "the servers stop when the context ends")
	assert.NoError(t, st.Close(), "Close after a stop is safe")
}
