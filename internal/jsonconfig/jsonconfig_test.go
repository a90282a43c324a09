package jsonconfig

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeRejectsUnknownAndTrailing(t *testing.T) {
	type file struct {
		Name string `json:"name"`
	}
	tests := []struct {
		name    string
		data    string
		wantErr string
	}{
		{name: "valid", data: `{"name": "a"}`},
		{name: "unknown field", data: `{"nmae": "a"}`, wantErr: `unknown field "nmae"`},
		{name: "trailing object", data: `{} {}`, wantErr: "data after the JSON object"},
		{name: "not JSON", data: `name: a`, wantErr: "invalid character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f file
			err := Decode([]byte(tt.data), &f)
			if tt.wantErr == "" {
				require.NoError(t, err)
				assert.Equal(t, "a", f.Name)
				return
			}
			assert.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestDurationsCollectsEveryError(t *testing.T) {
	d := NewDurations("svc: config file")
	assert.Equal(t, time.Minute, d.Parse("code_ttl", "1m"))
	assert.Zero(t, d.Parse("token_ttl", ""))
	assert.Zero(t, d.Parse("session_ttl", "5"))
	assert.Zero(t, d.Parse("key_rotation", "1 day"))

	errs := d.Errs()
	require.Len(t, errs, 2)
	assert.EqualError(t, errs[0], `svc: config file: invalid session_ttl "5" (want a duration such as "60s")`)
	assert.ErrorContains(t, errs[1], `invalid key_rotation "1 day"`)
}
