package jwtauth_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/oidcstack/oidcstack/gateway/jwtauth"
	"github.com/oidcstack/oidcstack/internal/keys"
)

// Example protects a service's route with the gateway's JWT, as the README
// shows. The authorization server here is a test server that publishes one
// key; the JWT is the kind the gateway forwards in step 18.
func Example() {
	key, err := keys.Generate()
	if err != nil {
		log.Fatal(err)
	}
	authServer := httptest.NewServer(keys.NewSet(key).Handler())
	defer authServer.Close()
	issuer := "http://localhost:9001"

	verifier, err := jwtauth.New(jwtauth.Config{
		Issuer:   issuer,
		Audience: "orders-api",
		JWKSURL:  authServer.URL, // empty discovers it from the issuer's metadata
	})
	if err != nil {
		log.Fatal(err)
	}
	service := verifier.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := jwtauth.ClaimsFromContext(r.Context())
		fmt.Fprintf(w, "orders of %s\n", claims.Subject)
	}))

	now := time.Now()
	jwt, err := key.Sign(map[string]any{
		"iss": issuer, "sub": "user-42", "aud": "orders-api", "client_id": "demo-web",
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(), "jti": "example",
	}, "at+jwt")
	if err != nil {
		log.Fatal(err)
	}

	for _, token := range []string{jwt, "not-a-jwt"} {
		req := httptest.NewRequest(http.MethodGet, "/api/orders", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		service.ServeHTTP(rec, req)
		if rec.Code == http.StatusOK {
			body, _ := io.ReadAll(rec.Body)
			fmt.Printf("%d %s", rec.Code, body)
			continue
		}
		fmt.Println(rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
	// Output:
	// 200 orders of user-42
	// 401 Bearer realm="oidcstack", error="invalid_token"
}
