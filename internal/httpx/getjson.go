package httpx

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// MaxDocumentBytes bounds the JSON documents that GetJSON decodes, such as
// server metadata and key sets. Real ones are a few kilobytes.
const MaxDocumentBytes = 1 << 20

// GetJSON fetches target with client and decodes its JSON body into v. A
// status other than 200 is an error. The body is decoded from its first
// MaxDocumentBytes only, so a longer document fails to decode. Errors
// quote target and never contain the body.
func GetJSON(ctx context.Context, client *http.Client, target string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("build request for %q: %w", target, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("get %q: %w", target, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("get %q: status %d, want 200", target, resp.StatusCode)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, MaxDocumentBytes)).Decode(v); err != nil {
		return fmt.Errorf("decode %q: %w", target, err)
	}
	return nil
}
