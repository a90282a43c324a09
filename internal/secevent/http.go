package secevent

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// maxErrorBytes bounds the error response a transmitter reads.
const maxErrorBytes = 4 << 10

// DeliveryError is a push request that the receiver did not accept.
type DeliveryError struct {
	Status int
	// Code and Description are the receiver's RFC 8935 error, when the
	// response carried one.
	Code        string
	Description string
}

func (e *DeliveryError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("secevent: push status %d, want 202", e.Status)
	}
	return fmt.Sprintf("secevent: push status %d, want 202: %s: %s", e.Status, e.Code, e.Description)
}

// errorBody is the RFC 8935 section 2.3 error response.
type errorBody struct {
	Code        string `json:"err"`
	Description string `json:"description"`
}

// Post delivers one SET to a receiver's endpoint (RFC 8935 section 2.1).
// It returns nil when the receiver responds 202 Accepted and a
// *DeliveryError for any other status.
func Post(ctx context.Context, client *http.Client, endpoint, set string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(set))
	if err != nil {
		return fmt.Errorf("secevent: build push request for %q: %w", endpoint, err)
	}
	req.Header.Set("Content-Type", ContentType)
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("secevent: push to %q: %w", endpoint, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusAccepted {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBytes))
		return nil
	}
	derr := &DeliveryError{Status: resp.StatusCode}
	var body errorBody
	if json.NewDecoder(io.LimitReader(resp.Body, maxErrorBytes)).Decode(&body) == nil {
		derr.Code, derr.Description = body.Code, body.Description
	}
	return derr
}

// ReadRequest returns the SET of a push request: a POST with Content-Type
// application/secevent+jwt and a body of at most MaxSETBytes.
func ReadRequest(w http.ResponseWriter, r *http.Request) (string, error) {
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != ContentType {
		return "", reject(ErrInvalidRequest, "The Content-Type must be "+ContentType+".",
			fmt.Errorf("content type %q", r.Header.Get("Content-Type")))
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxSETBytes))
	if err != nil {
		return "", reject(ErrInvalidRequest, "The request body could not be read.", err)
	}
	return string(body), nil
}

// WriteError writes the RFC 8935 section 2.3 error response for err: 400
// with the error code and description.
func WriteError(w http.ResponseWriter, err *Error) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(errorBody{Code: err.Code, Description: err.Description})
}
