package mockidp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHTTPSModeTrustsOnlyItsCA(t *testing.T) {
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	srv := StartTB(t, Config{Issuers: testIssuers(t, "google"), HTTPS: true, CAFile: caFile})
	assert.Regexp(t, `^https://127\.0\.0\.1:\d+$`, srv.URL())

	// A client that trusts only the CA in the file.
	caPEM, err := os.ReadFile(caFile)
	require.NoError(t, err)
	assert.Equal(t, srv.CACertificate(), caPEM)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(caPEM))
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
	}}

	// go-oidc discovers the https issuer and verifies a token with it.
	ctx := oidc.ClientContext(context.Background(), client)
	provider, err := oidc.NewProvider(ctx, srv.Issuer("google"))
	require.NoError(t, err)
	token, err := srv.IDToken("google", rpClientID, aliceSubject, nil)
	require.NoError(t, err)
	_, err = provider.Verifier(&oidc.Config{ClientID: rpClientID}).Verify(ctx, token)
	require.NoError(t, err)

	// localhost is in the certificate too.
	resp, err := client.Get("https://localhost:" + srv.URL()[len("https://127.0.0.1:"):] + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	// The server's own client trusts the CA as well.
	resp, err = srv.Client().Get(srv.URL() + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()

	// A client with an empty trust store rejects the certificate.
	strict := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: x509.NewCertPool(), MinVersion: tls.VersionTLS12},
	}}
	_, err = strict.Get(srv.URL() + "/healthz")
	var unknownAuthority x509.UnknownAuthorityError
	assert.True(t, errors.As(err, &unknownAuthority), "got %v", err)
}

func TestHTTPSSessionCookieIsSecure(t *testing.T) {
	srv := StartTB(t, Config{Issuers: testIssuers(t, "google"), HTTPS: true})
	require.NoError(t, srv.LoginNext("google", rpClientID, aliceSubject))
	client := srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Get(authURL(srv.Issuer("google"), nil))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	cookies := resp.Cookies()
	require.NotEmpty(t, cookies)
	assert.True(t, cookies[0].Secure)
	assert.Nil(t, (&Server{}).TLSConfig(), "no TLS configuration without HTTPS")
}
