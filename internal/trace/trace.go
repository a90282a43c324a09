// Package trace records the steps of the login flow as each service performs
// them. The step numbers are those of the project's flow description (1 to
// 18, with "a" and "b" halves). Every event carries the fingerprints that
// tie one login together across services: the web app's state, the
// authorization server's upstream state, and the codes and tokens.
//
// A Recorder logs every event through slog and keeps the most recent ones
// in memory; [Recorder.Handler] serves them at GET /_trace to loopback
// clients only. Values are never recorded, only their fingerprints.
package trace

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Correlation keys of [Event.Fingerprints].
const (
	KeyAppState      = "app_state"      // the web app's state, 2a to 13b
	KeyUpstreamState = "upstream_state" // the authorization server's state at the IDP, 4b to 9b
	KeyCode          = "code"           // an authorization code
	KeyAccessToken   = "access_token"   // the authorization server's opaque access token
	KeyJWT           = "jwt"            // a JWT minted by token exchange
	KeySubject       = "sub"            // the user's subject at the authorization server
	KeyTraceID       = "trace_id"       // the W3C trace ID of a back-channel call
)

// Fingerprint returns a short, stable, non-reversible identifier of value:
// the first 8 bytes of its SHA-256, in hex. It is empty for an empty value.
func Fingerprint(value string) string {
	if value == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(value))
	return hex.EncodeToString(sum[:8])
}

// Event is one step as a service performed it.
type Event struct {
	Time     time.Time     `json:"time"`
	Step     string        `json:"step"`
	Service  string        `json:"service"`
	Method   string        `json:"method,omitempty"`
	Path     string        `json:"path,omitempty"`
	Status   int           `json:"status,omitempty"`
	Duration time.Duration `json:"duration_ns,omitempty"`
	// Note is a short human-readable description of what happened.
	Note string `json:"note,omitempty"`
	// Fingerprints maps a correlation key (KeyAppState, ...) to the
	// fingerprint of its value.
	Fingerprints map[string]string `json:"fingerprints,omitempty"`
}

// DefaultCapacity is the number of events a Recorder keeps when its
// capacity is zero.
const DefaultCapacity = 1000

// Recorder logs events and keeps the most recent ones. It is safe for
// concurrent use.
type Recorder struct {
	service string
	logger  *slog.Logger
	now     func() time.Time

	mu     sync.Mutex
	events []Event // ring buffer of at most cap(events) entries
	next   int     // index of the slot the next event overwrites when full
}

// NewRecorder returns a recorder for service. A nil logger discards log
// lines; a nil clock means time.Now; capacity zero means DefaultCapacity.
func NewRecorder(service string, logger *slog.Logger, clock func() time.Time, capacity int) *Recorder {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if clock == nil {
		clock = time.Now
	}
	if capacity <= 0 {
		capacity = DefaultCapacity
	}
	return &Recorder{
		service: service,
		logger:  logger,
		now:     clock,
		events:  make([]Event, 0, capacity),
	}
}

// Record stores e, filling in Service and Time, and logs it at info level
// under the message "step".
func (r *Recorder) Record(ctx context.Context, e Event) {
	e.Service = r.service
	if e.Time.IsZero() {
		e.Time = r.now()
	}

	if r.logger.Enabled(ctx, slog.LevelInfo) {
		r.log(ctx, e)
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.events) < cap(r.events) {
		r.events = append(r.events, e)
		return
	}
	r.events[r.next] = e
	r.next = (r.next + 1) % len(r.events)
}

// log writes e as one log line. Record calls it only when info lines are
// enabled, so a quiet logger costs no attribute building on hot paths.
func (r *Recorder) log(ctx context.Context, e Event) {
	attrs := []slog.Attr{slog.String("step", e.Step)}
	if e.Method != "" {
		attrs = append(attrs, slog.String("method", e.Method), slog.String("path", e.Path))
	}
	if e.Status != 0 {
		attrs = append(attrs, slog.Int("status", e.Status))
	}
	if e.Duration != 0 {
		attrs = append(attrs, slog.Duration("duration", e.Duration))
	}
	if e.Note != "" {
		attrs = append(attrs, slog.String("note", e.Note))
	}
	for k, v := range e.Fingerprints {
		attrs = append(attrs, slog.String(k+"_fp", v))
	}
	r.logger.LogAttrs(ctx, slog.LevelInfo, "step", attrs...)
}

// Events returns the kept events, oldest first.
func (r *Recorder) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Event, 0, len(r.events))
	out = append(out, r.events[r.next:]...)
	out = append(out, r.events[:r.next]...)
	return out
}

// Step is an HTTP exchange being traced; see [Recorder.Start].
type Step struct {
	rec   *Recorder
	ctx   context.Context
	event Event
	start time.Time
}

// Start begins tracing step for request req. Call [Step.End] with the
// response status once the handler has decided it.
func (r *Recorder) Start(req *http.Request, step string) *Step {
	return &Step{
		rec:   r,
		ctx:   req.Context(),
		start: time.Now(),
		event: Event{Step: step, Method: req.Method, Path: req.URL.Path},
	}
}

// Set adds the fingerprint of value under key; an empty value is skipped.
func (s *Step) Set(key, value string) *Step {
	return s.SetFingerprint(key, Fingerprint(value))
}

// SetFingerprint adds fp, a value's [Fingerprint] computed earlier, under
// key; an empty fp is skipped. Hot paths use it to hash each value once
// although several steps carry it.
func (s *Step) SetFingerprint(key, fp string) *Step {
	if fp == "" {
		return s
	}
	if s.event.Fingerprints == nil {
		s.event.Fingerprints = make(map[string]string)
	}
	s.event.Fingerprints[key] = fp
	return s
}

// End records the step with its status and duration. note may be empty.
func (s *Step) End(status int, note string) {
	s.event.Status = status
	s.event.Note = note
	s.event.Duration = time.Since(s.start)
	s.rec.Record(s.ctx, s.event)
}
