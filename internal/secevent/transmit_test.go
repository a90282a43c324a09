package secevent

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/internal/keys"
	"github.com/oidcstack/oidcstack/internal/keys/keytest"
	"github.com/oidcstack/oidcstack/internal/nettest"
)

// recordingReceiver is an RFC 8935 endpoint that verifies and keeps every
// SET it gets.
type recordingReceiver struct {
	srv      *httptest.Server
	verifier *Verifier

	mu   sync.Mutex
	sets []*SET
	got  chan struct{}
}

func newRecordingReceiver(t *testing.T, k *keys.Key, audience string, start bool) *recordingReceiver {
	t.Helper()
	rr := &recordingReceiver{
		verifier: NewVerifier(testIssuer, audience, time.Minute, 5*time.Second, keyFuncOf(k), time.Now),
		got:      make(chan struct{}, 16),
	}
	rr.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, err := ReadRequest(w, r)
		if err == nil {
			var set *SET
			set, err = rr.verifier.Verify(r.Context(), raw)
			if err == nil {
				rr.mu.Lock()
				rr.sets = append(rr.sets, set)
				rr.mu.Unlock()
				w.WriteHeader(http.StatusAccepted)
				rr.got <- struct{}{}
				return
			}
		}
		WriteError(w, err.(*Error))
	}))
	if start {
		rr.srv.Start()
	}
	t.Cleanup(rr.srv.Close)
	return rr
}

func (rr *recordingReceiver) received() []*SET {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	return append([]*SET(nil), rr.sets...)
}

func (rr *recordingReceiver) wait(t *testing.T) {
	t.Helper()
	select {
	case <-rr.got:
	case <-time.After(5 * time.Second):
		t.Fatal("no SET delivered within 5 s")
	}
}

func TestTransmitterRetriesUntilReceiverIsUp(t *testing.T) {
	k := keytest.Key(t)

	// The receiver drops every connection until the third backoff.
	rr := newRecordingReceiver(t, k, testAudience, false)
	down := nettest.NewDownListener(rr.srv.Listener)
	rr.srv.Listener = down
	rr.srv.Start()

	var mu sync.Mutex
	var waits []time.Duration
	wait := func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		waits = append(waits, d)
		if len(waits) == 3 {
			down.Up()
		}
		return ctx.Err()
	}
	tr, err := NewTransmitter(TransmitterConfig{
		Issuer: testIssuer, Signer: k,
		Receivers:  []Receiver{{URL: rr.srv.URL + "/_push", Audience: testAudience}},
		MinBackoff: 100 * time.Millisecond, MaxBackoff: 300 * time.Millisecond,
		Wait: wait,
	})
	require.NoError(t, err)
	t.Cleanup(tr.Close)

	done := tr.Send(Events{TokenRevoked: &TokenRevoked{TokenHashes: []string{testHash}}})
	<-done
	rr.wait(t)

	mu.Lock()
	assert.Equal(t, []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond}, waits,
		"the backoff doubles up to MaxBackoff")
	mu.Unlock()
	sets := rr.received()
	require.Len(t, sets, 1)
	assert.Equal(t, testAudience, sets[0].Audience)
	assert.Equal(t, []string{testHash}, sets[0].Events.TokenRevoked.TokenHashes)
}

func TestTransmitterSendsPushOnlyEventsToPushReceivers(t *testing.T) {
	k := keytest.Key(t)
	pull := newRecordingReceiver(t, k, "gateway-pull", true)
	push := newRecordingReceiver(t, k, "gateway-push", true)
	tr, err := NewTransmitter(TransmitterConfig{
		Issuer: testIssuer, Signer: k,
		Receivers: []Receiver{
			{URL: pull.srv.URL, Audience: "gateway-pull"},
			{URL: push.srv.URL, Audience: "gateway-push", PushMode: true},
		},
	})
	require.NoError(t, err)
	t.Cleanup(tr.Close)

	issued := &TokenIssued{TokenHash: testHash, Subject: "u1", ClientID: "demo-web", Scope: "openid",
		Expiry: time.Now().Add(time.Hour).Unix(), JWTs: map[string]string{"demo-api": "a.b.c"}}
	<-tr.Send(Events{TokenIssued: issued})
	<-tr.Send(Events{UserChanged: &UserChanged{Subject: "u1"}})
	push.wait(t)
	push.wait(t)
	pull.wait(t)

	pushSets := push.received()
	require.Len(t, pushSets, 2)
	assert.Equal(t, issued, pushSets[0].Events.TokenIssued, "delivered in order")
	assert.NotNil(t, pushSets[1].Events.UserChanged)
	assert.NotEqual(t, pushSets[0].ID, pushSets[1].ID, "every SET has its own jti")

	pullSets := pull.received()
	require.Len(t, pullSets, 1, "a pull-mode receiver gets no token-issued events")
	assert.Equal(t, "u1", pullSets[0].Events.UserChanged.Subject)
}

func TestTransmitterDropsRejectedSET(t *testing.T) {
	k := keytest.Key(t)
	// The receiver expects another audience, so it rejects every SET with
	// 400, which a retry cannot fix.
	rr := newRecordingReceiver(t, k, "someone-else", true)
	var waits int
	tr, err := NewTransmitter(TransmitterConfig{
		Issuer: testIssuer, Signer: k,
		Receivers: []Receiver{{URL: rr.srv.URL, Audience: testAudience}},
		Wait:      func(context.Context, time.Duration) error { waits++; return nil },
	})
	require.NoError(t, err)
	t.Cleanup(tr.Close)

	<-tr.Send(Events{UserChanged: &UserChanged{Subject: "u1"}})
	tr.Close()
	assert.Zero(t, waits, "no retry after 400")
	assert.Empty(t, rr.received())
}

func TestPostReportsReceiverError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := ReadRequest(w, r); err != nil {
			WriteError(w, err.(*Error))
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)

	req, err := http.NewRequest(http.MethodPost, srv.URL, nil)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/jwt")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)

	require.NoError(t, Post(context.Background(), http.DefaultClient, srv.URL, "a.b.c"), "Post sends the SET content type")

	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, ContentType, r.Header.Get("Content-Type"))
		WriteError(w, &Error{Code: ErrInvalidAudience, Description: "not me"})
	}))
	t.Cleanup(ok.Close)
	err = Post(context.Background(), http.DefaultClient, ok.URL, "a.b.c")
	var derr *DeliveryError
	require.ErrorAs(t, err, &derr)
	assert.Equal(t, http.StatusBadRequest, derr.Status)
	assert.Equal(t, ErrInvalidAudience, derr.Code)
	assert.Equal(t, "not me", derr.Description)
}

func TestTransmitterSendAfterClose(t *testing.T) {
	k := keytest.Key(t)
	tr, err := NewTransmitter(TransmitterConfig{
		Issuer: testIssuer, Signer: k,
		Receivers: []Receiver{{URL: "http://127.0.0.1:1/_push", Audience: testAudience}},
	})
	require.NoError(t, err)
	tr.Close()

	select {
	case <-tr.Send(Events{UserChanged: &UserChanged{Subject: "u1"}}):
	case <-time.After(time.Second):
		t.Fatal("Send after Close must not leave the caller waiting")
	}
}
