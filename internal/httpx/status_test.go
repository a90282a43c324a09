package httpx

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestStatusRecorder(t *testing.T) {
	tests := []struct {
		name   string
		write  func(w http.ResponseWriter)
		status int
		orOK   int
	}{
		{name: "nothing written", write: func(http.ResponseWriter) {}, status: 0, orOK: 200},
		{name: "body only", write: func(w http.ResponseWriter) { _, _ = w.Write([]byte("x")) }, status: 200, orOK: 200},
		{name: "explicit status", write: func(w http.ResponseWriter) { w.WriteHeader(404) }, status: 404, orOK: 404},
		{name: "first status wins", write: func(w http.ResponseWriter) { w.WriteHeader(502); w.WriteHeader(200) }, status: 502, orOK: 502},
		{name: "informational skipped", write: func(w http.ResponseWriter) { w.WriteHeader(103); w.WriteHeader(204) }, status: 204, orOK: 204},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &StatusRecorder{ResponseWriter: httptest.NewRecorder()}
			tt.write(w)
			assert.Equal(t, tt.status, w.Status)
			assert.Equal(t, tt.orOK, w.StatusOrOK())
		})
	}
}
