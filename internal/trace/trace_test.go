package trace

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFingerprint(t *testing.T) {
	assert.Empty(t, Fingerprint(""))
	fp := Fingerprint("secret-token")
	assert.Len(t, fp, 16)
	assert.Equal(t, fp, Fingerprint("secret-token"), "a fingerprint must be stable")
	assert.NotEqual(t, fp, Fingerprint("secret-tokem"))
	assert.NotContains(t, fp, "secret")
}

func TestRecorderKeepsNewestEventsInOrder(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	rec := NewRecorder("authserver", nil, func() time.Time { return now }, 3)
	for i := 1; i <= 5; i++ {
		rec.Record(context.Background(), Event{Step: strconv.Itoa(i)})
	}

	events := rec.Events()
	require.Len(t, events, 3)
	for i, want := range []string{"3", "4", "5"} {
		assert.Equal(t, want, events[i].Step)
		assert.Equal(t, "authserver", events[i].Service)
		assert.Equal(t, now, events[i].Time)
	}
}

func TestStepRecordsFingerprintsNotValues(t *testing.T) {
	rec := NewRecorder("gateway", nil, nil, 0)
	req := httptest.NewRequest(http.MethodGet, "/api/me", nil)
	rec.Start(req, "16").Set(KeyAccessToken, "opaque-value").Set(KeyCode, "").End(http.StatusOK, "active")

	events := rec.Events()
	require.Len(t, events, 1)
	e := events[0]
	assert.Equal(t, "16", e.Step)
	assert.Equal(t, http.MethodGet, e.Method)
	assert.Equal(t, "/api/me", e.Path)
	assert.Equal(t, http.StatusOK, e.Status)
	assert.Equal(t, map[string]string{KeyAccessToken: Fingerprint("opaque-value")}, e.Fingerprints)
}

func TestHandlerServesLoopbackOnly(t *testing.T) {
	rec := NewRecorder("mockidp", nil, nil, 0)
	rec.Record(context.Background(), Event{Step: "6"})

	tests := []struct {
		name       string
		remoteAddr string
		forwarded  string
		wantStatus int
	}{
		{name: "ipv4 loopback", remoteAddr: "127.0.0.1:5000", wantStatus: http.StatusOK},
		{name: "ipv6 loopback", remoteAddr: "[::1]:5000", wantStatus: http.StatusOK},
		{name: "private address", remoteAddr: "10.1.2.3:5000", wantStatus: http.StatusForbidden},
		{name: "forwarded header is ignored", remoteAddr: "192.0.2.7:5000", forwarded: "127.0.0.1", wantStatus: http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/_trace", nil)
			req.RemoteAddr = tt.remoteAddr
			if tt.forwarded != "" {
				req.Header.Set("X-Forwarded-For", tt.forwarded)
			}
			w := httptest.NewRecorder()
			rec.Handler().ServeHTTP(w, req)
			require.Equal(t, tt.wantStatus, w.Code)
			if tt.wantStatus != http.StatusOK {
				return
			}
			var body struct {
				Service string  `json:"service"`
				Events  []Event `json:"events"`
			}
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
			assert.Equal(t, "mockidp", body.Service)
			require.Len(t, body.Events, 1)
			assert.Equal(t, "6", body.Events[0].Step)
		})
	}
}

func TestTransportAddsTraceparent(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get(TraceparentHeader))
	}))
	defer srv.Close()
	client := &http.Client{Transport: &Transport{}}

	resp, err := client.Get(srv.URL)
	require.NoError(t, err)
	resp.Body.Close()

	req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
	require.NoError(t, err)
	const existing = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	req.Header.Set(TraceparentHeader, existing)
	resp, err = client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()

	require.Len(t, got, 2)
	assert.Len(t, TraceID(got[0]), 32, "a new traceparent has a 16-byte trace ID")
	assert.Equal(t, existing, got[1], "an existing traceparent is kept")
	assert.Equal(t, "0af7651916cd43dd8448eb211c80319c", TraceID(existing))
	assert.Empty(t, TraceID("garbage"))
}
