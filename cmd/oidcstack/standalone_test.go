package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/internal/oauth"
)

// freePort returns a loopback port that was free a moment ago. The four
// services must know each other's URLs before any of them starts, as
// separate processes would.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	return port
}

var (
	formAction  = regexp.MustCompile(`<form method="post" action="([^"]*)"`)
	hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)"`)
)

// submitForm posts the first form of the page at resp with the page's
// hidden fields plus fields.
func submitForm(t *testing.T, client *http.Client, resp *http.Response, fields url.Values) *http.Response {
	t.Helper()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	resp.Body.Close()
	action := formAction.FindSubmatch(body)
	require.NotNil(t, action, "no form on %s:\n%s", resp.Request.URL, body)
	target, err := resp.Request.URL.Parse(string(action[1]))
	require.NoError(t, err)
	for _, m := range hiddenInput.FindAllSubmatch(body, -1) {
		fields.Set(string(m[1]), string(m[2]))
	}
	next, err := client.PostForm(target.String(), fields)
	require.NoError(t, err)
	return next
}

func TestStandaloneServicesFormTheStack(t *testing.T) {
	ports := map[string]int{}
	for _, name := range []string{"idp", "auth", "gateway", "web", "api"} {
		ports[name] = freePort(t)
	}
	addr := func(name string) string { return "127.0.0.1:" + strconv.Itoa(ports[name]) }
	idpURL := "http://127.0.0.1:" + strconv.Itoa(ports["idp"])
	authURL := "http://localhost:" + strconv.Itoa(ports["auth"])
	gatewayURL := "http://localhost:" + strconv.Itoa(ports["gateway"])
	webURL := "http://localhost:" + strconv.Itoa(ports["web"])
	apiURL := "http://localhost:" + strconv.Itoa(ports["api"])

	startCommand(t, nil, "mockidp", "-addr", addr("idp"), "-authserver-url", authURL)
	startCommand(t, nil, "authserver", "-addr", addr("auth"), "-data-dir", t.TempDir(),
		"-mockidp-url", idpURL, "-webapp-url", webURL, "-push-gateway", gatewayURL+"/_push")
	startCommand(t, nil, "gateway", "-addr", addr("gateway"), "-authserver-url", authURL,
		"-upstream-url", apiURL, "-web-origin", webURL)
	startCommand(t, nil, "demoapp", "-addr", addr("web"), "-api-addr", addr("api"),
		"-authserver-url", authURL, "-gateway-url", gatewayURL)

	// The web app's configuration, as its script reads it.
	var app struct {
		AuthorizationEndpoint string `json:"authorization_endpoint"`
		TokenEndpoint         string `json:"token_endpoint"`
		ClientID              string `json:"client_id"`
		RedirectURI           string `json:"redirect_uri"`
		Scope                 string `json:"scope"`
		APIURL                string `json:"api_url"`
	}
	resp, err := http.Get(webURL + "/config.json")
	require.NoError(t, err)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&app))
	resp.Body.Close()

	// Steps 2a to 13b with a cookie jar in place of the browser.
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	client := &http.Client{Jar: jar}
	state, verifier := oauth.NewToken(), oauth.NewToken()
	authorize := app.AuthorizationEndpoint + "?" + url.Values{
		"response_type": {"code"}, "client_id": {app.ClientID}, "redirect_uri": {app.RedirectURI},
		"scope": {app.Scope}, "state": {state},
		"code_challenge": {oauth.S256Challenge(verifier)}, "code_challenge_method": {"S256"},
	}.Encode()
	resp, err = client.Get(authorize)
	require.NoError(t, err)
	require.Equal(t, authURL+"/login", resp.Request.URL.String(), "the authorization server's login page")
	resp = submitForm(t, client, resp, url.Values{"idp": {"google"}})
	require.True(t, strings.HasPrefix(resp.Request.URL.String(), idpURL+"/google/login"), "the IDP's login page, got %s", resp.Request.URL)
	resp = submitForm(t, client, resp, url.Values{"username": {"alice@example.com"}, "password": {"alice-password"}, "action": {"login"}})
	resp.Body.Close()
	callback := resp.Request.URL
	require.Equal(t, webURL+"/callback", callback.Scheme+"://"+callback.Host+callback.Path)
	require.Equal(t, state, callback.Query().Get("state"))

	// Step 14c, from the web app's origin.
	form := url.Values{"grant_type": {"authorization_code"}, "code": {callback.Query().Get("code")},
		"redirect_uri": {app.RedirectURI}, "client_id": {app.ClientID}, "code_verifier": {verifier}}
	req, err := http.NewRequest(http.MethodPost, app.TokenEndpoint, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", webURL)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	var token struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&token))
	resp.Body.Close()
	require.NotEmpty(t, token.AccessToken)

	// Steps 15 to 18 through the gateway.
	req, err = http.NewRequest(http.MethodGet, app.APIURL, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token.AccessToken)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var me struct {
		Email string `json:"email"`
		Name  string `json:"name"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&me))
	assert.Equal(t, "alice@example.com", me.Email)
	assert.Equal(t, "Alice Liddell", me.Name)
}
