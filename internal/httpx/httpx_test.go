package httpx

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestServeShutsDownWhenContextEnds(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, http.HandlerFunc(Healthz), slog.New(slog.DiscardHandler)) }()

	resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err, "a shutdown caused by the context is no error")
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return within 5 s of cancellation")
	}
	_, err = http.Get("http://" + ln.Addr().String() + "/healthz")
	assert.Error(t, err, "the listener is closed after shutdown")
}

func TestServeReportsListenerFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	require.NoError(t, ln.Close())

	err = Serve(context.Background(), ln, http.HandlerFunc(Healthz), slog.New(slog.DiscardHandler))
	require.Error(t, err)
	assert.Contains(t, err.Error(), ln.Addr().String())
}

func TestBaseURLUsesBoundPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port

	assert.Equal(t, "http://localhost:"+strconv.Itoa(port), BaseURL(ln, "localhost"))
	assert.Equal(t, "http://127.0.0.1:"+strconv.Itoa(port), BaseURL(ln, "127.0.0.1"))
}

func TestWriteReadyWritesLineAndFile(t *testing.T) {
	var stdout bytes.Buffer
	file := filepath.Join(t.TempDir(), "ready.json")
	urls := map[string]string{"gateway": "http://localhost:8000"}

	require.NoError(t, WriteReady(&stdout, file, urls))

	want := `{"ready":true,"urls":{"gateway":"http://localhost:8000"}}` + "\n"
	assert.Equal(t, want, stdout.String())
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Equal(t, want, string(data))
	_, err = os.Stat(file + ".tmp")
	assert.True(t, os.IsNotExist(err), "the temporary file is renamed away")
}

func TestPageHeaders(t *testing.T) {
	rec := httptest.NewRecorder()
	PageHeaders(rec)
	for header, want := range map[string]string{
		"X-Frame-Options":         "DENY",
		"Content-Security-Policy": "frame-ancestors 'none'",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"Cache-Control":           "no-store",
	} {
		assert.Equal(t, want, rec.Header().Get(header), header)
	}
}
