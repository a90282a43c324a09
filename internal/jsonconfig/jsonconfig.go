// Package jsonconfig decodes the services' JSON configuration files: one
// object, no unknown fields, and Go duration strings for lifetimes.
package jsonconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Decode decodes data, which must contain exactly one JSON object, into v.
// Unknown fields are errors, so a misspelled name does not pass silently.
func Decode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("data after the JSON object")
	}
	return nil
}

// Durations parses the duration fields of one file and collects every
// invalid one, so they are all reported at once.
type Durations struct {
	prefix string
	errs   []error
}

// NewDurations returns a collector whose errors start with prefix, such
// as "mockidp: config file".
func NewDurations(prefix string) *Durations {
	return &Durations{prefix: prefix}
}

// Parse returns raw as a duration, zero for an empty raw. An invalid raw
// is recorded under the field's name and yields zero.
func (d *Durations) Parse(name, raw string) time.Duration {
	if raw == "" {
		return 0
	}
	v, err := time.ParseDuration(raw)
	if err != nil {
		d.errs = append(d.errs, fmt.Errorf("%s: invalid %s %q (want a duration such as \"60s\")", d.prefix, name, raw))
	}
	return v
}

// Errs returns the recorded errors.
func (d *Durations) Errs() []error { return d.errs }
