package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/internal/stack"
	"github.com/oidcstack/oidcstack/internal/trace"
)

// startStack starts every service on free loopback ports with a SQLite
// database file in a temporary folder, and stops it when the test ends.
// configure, if not nil, adjusts the options first.
func startStack(t *testing.T, configure func(*stack.Options)) *stack.Stack {
	t.Helper()
	opts := stack.Options{
		MockIDPAddr:    "127.0.0.1:0",
		AuthServerAddr: "127.0.0.1:0",
		GatewayAddr:    "127.0.0.1:0",
		WebAppAddr:     "127.0.0.1:0",
		APIAddr:        "127.0.0.1:0",
		DataDir:        t.TempDir(),
	}
	if configure != nil {
		configure(&opts)
	}
	st, err := stack.Start(context.Background(), opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, st.Close()) })
	return st
}

// serviceTrace is the body of a service's GET /_trace.
type serviceTrace struct {
	Service string        `json:"service"`
	Events  []trace.Event `json:"events"`
}

// fetchTrace reads the recent steps of the service at baseURL over HTTP,
// as an operator's tool would.
func fetchTrace(t *testing.T, baseURL string) serviceTrace {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(baseURL + "/_trace")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "GET %s/_trace", baseURL)
	var out serviceTrace
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return out
}

// findStep returns the first event of step whose fingerprint under key is
// fp, or an error that lists the events of that step.
func findStep(tr serviceTrace, step, key, fp string) (trace.Event, error) {
	var seen []map[string]string
	for _, e := range tr.Events {
		if e.Step != step {
			continue
		}
		if e.Fingerprints[key] == fp {
			return e, nil
		}
		seen = append(seen, e.Fingerprints)
	}
	return trace.Event{}, fmt.Errorf("%s: no step %s with %s fingerprint %s; events of that step have %v", tr.Service, step, key, fp, seen)
}
