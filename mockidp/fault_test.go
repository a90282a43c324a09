package mockidp

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/internal/keys"
	"github.com/oidcstack/oidcstack/internal/keys/keytest"
)

const aliceSubject = "104293871234509876543"

// faultIDP starts an IDP whose issuer "google" signs with k and draws
// further keys from the test pool.
func faultIDP(t *testing.T, k *keys.Key) *Server {
	t.Helper()
	// Built here rather than by testIssuers, which draws a key of its own.
	issuer := IssuerConfig{
		Name:  "google",
		Users: DemoUsers(),
		Clients: []Client{
			{ID: rpClientID, Secret: rpSecret, RedirectURIs: []string{rpRedirectURI}},
			{ID: spaClientID, Public: true, RedirectURIs: []string{spaRedirectURI}},
		},
		Keys: []*keys.Key{k},
	}
	srv, _ := startIDP(t, Config{
		Issuers:     []IssuerConfig{issuer},
		GenerateKey: func() (*keys.Key, error) { return keytest.Key(t), nil },
	})
	return srv
}

// TestFaultsAgainstReferenceRP shows, for every fault, that the reference
// relying party (go-oidc plus the checks of OpenID Connect Core section
// 3.1.3.7) reacts as the fault's group requires. It rejects the login at
// the expected stage or accepts it. For the "either" group it may do both,
// but without a server error.
func TestFaultsAgainstReferenceRP(t *testing.T) {
	rejectStage := map[FaultName]string{
		FaultBadSignature:      stageIDToken,
		FaultAlgNone:           stageIDToken,
		FaultAlgHS256PublicKey: stageIDToken,
		FaultIssOtherHost:      stageIDToken,
		FaultIssTrailingSlash:  stageIDToken,
		FaultIssNoScheme:       stageIDToken,
		FaultAudOtherClient:    stageIDToken,
		FaultAudMultipleNoAZP:  stageIDToken,
		FaultAZPOtherClient:    stageIDToken,
		FaultExpPast:           stageIDToken,
		FaultIatMissing:        stageIDToken,
		FaultIatFuture:         stageIDToken,
		FaultNbfFuture:         stageIDToken,
		FaultSubMissing:        stageIDToken,
		FaultSubEmpty:          stageIDToken,
		FaultNonceWrong:        stageIDToken,
		FaultNonceMissing:      stageIDToken,
		FaultKidUnknown:        stageIDToken,
		FaultAtHashWrong:       stageIDToken,
		FaultUserinfoSubOther:  stageUserinfo,
		FaultAccessDenied:      stageAuthorization,
		FaultLoginRequired:     stageAuthorization,
		FaultTokenInvalidGrant: stageToken,
		FaultTokenServerError:  stageToken,
		FaultTokenHTML:         stageToken,
		FaultTokenSlow:         stageToken,
	}
	key := keytest.Key(t)
	for _, name := range FaultNames() {
		t.Run(string(name), func(t *testing.T) {
			srv := faultIDP(t, key)
			ctx := context.Background()
			timeout := 5 * time.Second
			fault := Fault{Name: name}
			if name == FaultTokenSlow {
				// The client gives up long before the response arrives.
				// The server notices, so the test stays fast.
				timeout, fault.Delay = 500*time.Millisecond, 10*time.Second
			}
			rp := newReferenceRP(t, srv.Issuer("google"), timeout)

			// A JWKS fault must apply to the first JWKS fetch. The other
			// faults follow a clean login, so the relying party has
			// cached the JWKS before (key_rotated needs that).
			if faultSpecs[name].target != targetJWKS {
				sub, err := rp.login(ctx, srv, "alice@example.com")
				require.NoError(t, err, "login before the fault")
				require.Equal(t, aliceSubject, sub)
			}
			require.NoError(t, srv.InjectFault("google", fault))

			began := time.Now()
			sub, err := rp.login(ctx, srv, "alice@example.com")
			assert.Empty(t, srv.Faults("google"), "the login used the fault up")
			t.Logf("relying party: sub %q, err %v", sub, err)

			switch name.Group() {
			case GroupReject:
				var rpErr *rpError
				require.ErrorAs(t, err, &rpErr, "the relying party must reject %s", name)
				assert.Equal(t, rejectStage[name], rpErr.stage, "%v", err)
			case GroupAccept:
				require.NoError(t, err, "the relying party must accept %s", name)
				assert.Equal(t, aliceSubject, sub)
				assertNoServerError(t, srv)
			case GroupEither:
				var rpErr *rpError
				if err != nil {
					require.ErrorAs(t, err, &rpErr)
					assert.Equal(t, stageIDToken, rpErr.stage, "%v", err)
				} else {
					assert.Equal(t, aliceSubject, sub)
				}
				assertNoServerError(t, srv)
			default:
				t.Fatalf("fault %s has no group", name)
			}

			if name == FaultTokenSlow {
				var netErr net.Error
				require.ErrorAs(t, err, &netErr)
				assert.True(t, netErr.Timeout(), "the client timed out: %v", err)
				assert.Less(t, time.Since(began), fault.Delay/2, "the client did not wait for the slow answer")
			}
		})
	}
}

// assertNoServerError checks that the IDP sent no 5xx response.
func assertNoServerError(t *testing.T, srv *Server) {
	t.Helper()
	for _, e := range srv.Trace().Events() {
		assert.Less(t, e.Status, http.StatusInternalServerError, "step %s %s", e.Step, e.Path)
	}
}

func TestEveryFaultHasGroupAndTarget(t *testing.T) {
	groups := map[FaultGroup]int{}
	for _, name := range FaultNames() {
		groups[name.Group()]++
	}
	assert.Equal(t, 26, groups[GroupReject])
	assert.Equal(t, 9, groups[GroupAccept])
	assert.Equal(t, 1, groups[GroupEither])
	assert.Equal(t, FaultGroup(""), FaultName("nope").Group())
}

func TestInjectFaultErrors(t *testing.T) {
	srv := faultIDP(t, keytest.Key(t))
	tests := []struct {
		name  string
		fault Fault
		want  string
	}{
		{"unknown name", Fault{Name: "nope"}, `unknown fault "nope"`},
		{"negative count", Fault{Name: FaultAlgNone, Count: -1}, "negative"},
		{"negative delay", Fault{Name: FaultTokenSlow, Delay: -time.Second}, "negative"},
		{"jwks with client", Fault{Name: FaultJWKSUnusableKeys, ClientID: rpClientID}, "name no client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.ErrorContains(t, srv.InjectFault("google", tt.fault), tt.want)
		})
	}
	assert.ErrorContains(t, srv.InjectFault("nope", Fault{Name: FaultAlgNone}), "no issuer")
	assert.Empty(t, srv.Faults("google"))
}

func TestFaultCountAndClient(t *testing.T) {
	srv := faultIDP(t, keytest.Key(t))
	ctx := context.Background()
	rp := newReferenceRP(t, srv.Issuer("google"), 5*time.Second)

	// Count 2: two logins fail, the third succeeds.
	require.NoError(t, srv.InjectFault("google", Fault{Name: FaultNonceWrong, Count: 2}))
	for i := range 2 {
		_, err := rp.login(ctx, srv, aliceSubject)
		assert.Error(t, err, "login %d", i+1)
	}
	_, err := rp.login(ctx, srv, aliceSubject)
	require.NoError(t, err, "the fault is used up")

	// A fault for another client leaves this one alone and stays pending.
	require.NoError(t, srv.InjectFault("google", Fault{Name: FaultNonceWrong, ClientID: spaClientID}))
	_, err = rp.login(ctx, srv, aliceSubject)
	require.NoError(t, err)
	require.Len(t, srv.Faults("google"), 1)

	// A client-bound fault without Count applies to every response.
	require.NoError(t, srv.InjectFault("google", Fault{Name: FaultAccessDenied, ClientID: rpClientID}))
	for range 3 {
		_, err := rp.login(ctx, srv, aliceSubject)
		var rpErr *rpError
		require.True(t, errors.As(err, &rpErr))
		assert.Equal(t, stageAuthorization, rpErr.stage)
	}
	require.NoError(t, srv.ClearFaults("google"))
	_, err = rp.login(ctx, srv, aliceSubject)
	assert.NoError(t, err, "cleared faults no longer apply")
}

// TestDocsListEveryFault keeps docs/mockidp.md in step with the code:
// every fault appears once, in the table of its group.
func TestDocsListEveryFault(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "docs", "mockidp.md"))
	require.NoError(t, err)
	sections := map[string]FaultGroup{
		"### Must reject":   GroupReject,
		"### Must accept":   GroupAccept,
		"### May do either": GroupEither,
	}
	documented := map[FaultName]FaultGroup{}
	var group FaultGroup
	row := regexp.MustCompile("^\\| `([a-z0-9_]+)` \\|")
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "#") {
			group = sections[line]
			continue
		}
		if m := row.FindStringSubmatch(line); m != nil && group != "" {
			_, dup := documented[FaultName(m[1])]
			assert.False(t, dup, "fault %s is documented twice", m[1])
			documented[FaultName(m[1])] = group
		}
	}
	for _, name := range FaultNames() {
		assert.Equal(t, name.Group(), documented[name], "fault %s", name)
	}
	assert.Len(t, documented, len(FaultNames()), "the docs list no unknown fault")
}
