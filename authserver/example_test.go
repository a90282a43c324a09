package authserver_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/oidcstack/oidcstack/authserver"
)

// The server's issuer must be its public URL, so the listener is bound
// first and the server is configured with the bound address.
func ExampleNew() {
	hs := httptest.NewUnstartedServer(nil)
	issuer := "http://" + hs.Listener.Addr().String()
	srv, err := authserver.New(authserver.Config{
		Issuer:    issuer,
		Clients:   authserver.DemoClients("http://localhost:8080"),
		Upstreams: authserver.DemoUpstreams("http://127.0.0.1:9000"),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	hs.Config.Handler = srv
	hs.Start()
	defer hs.Close()

	resp, err := http.Get(issuer + "/.well-known/openid-configuration")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var metadata struct {
		Issuer        string `json:"issuer"`
		TokenEndpoint string `json:"token_endpoint"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&metadata); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(metadata.Issuer == issuer, metadata.TokenEndpoint == issuer+"/token")
	// Output: true true
}
