package httpx

import "net/http"

// StatusRecorder is an http.ResponseWriter that records the status of the
// response it passes on, for logs, metrics and step traces.
type StatusRecorder struct {
	http.ResponseWriter
	// Status is the final status written, or zero before any. An
	// informational (1xx) status is no final status and is not recorded.
	Status int
}

// WriteHeader implements http.ResponseWriter.
func (w *StatusRecorder) WriteHeader(status int) {
	if w.Status == 0 && status >= 200 {
		w.Status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

// Write implements http.ResponseWriter; a body without a header means 200.
func (w *StatusRecorder) Write(b []byte) (int, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap returns the underlying writer, so http.ResponseController can
// reach it (to flush, for example).
func (w *StatusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// StatusOrOK returns the recorded status, or 200 when the handler wrote
// nothing, which net/http then sends as 200.
func (w *StatusRecorder) StatusOrOK() int {
	if w.Status == 0 {
		return http.StatusOK
	}
	return w.Status
}
