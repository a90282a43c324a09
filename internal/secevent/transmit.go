package secevent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oidcstack/oidcstack/internal/oauth"
	"github.com/oidcstack/oidcstack/internal/trace"
)

// Defaults of the zero values of TransmitterConfig.
const (
	DefaultMinBackoff = 200 * time.Millisecond
	DefaultMaxBackoff = 30 * time.Second
	DefaultMaxQueue   = 10000
)

// Signer signs claims as a JWT with the given typ header. *keys.Set and
// *keys.Key implement it.
type Signer interface {
	Sign(claims any, typ string) (string, error)
}

// Receiver is a gateway instance that receives SETs.
type Receiver struct {
	// URL is the receiver's push endpoint, such as
	// "http://localhost:8000/_push".
	URL string
	// Audience is the receiver's identifier, the aud of its SETs.
	Audience string
	// PushMode marks a gateway in push mode, which also receives the
	// token-issued and state-synced events.
	PushMode bool
}

// TransmitterConfig configures a Transmitter.
type TransmitterConfig struct {
	// Issuer is the iss of every SET. Required.
	Issuer string
	// Signer signs the SETs. Required.
	Signer Signer
	// Receivers are the gateways every event goes to.
	Receivers []Receiver
	// MinBackoff is the wait before the first retry of a failed delivery;
	// each further retry waits twice as long, up to MaxBackoff. Zero means
	// DefaultMinBackoff and DefaultMaxBackoff.
	MinBackoff, MaxBackoff time.Duration
	// MaxQueue bounds the undelivered token-issued and state-synced events
	// per receiver. Beyond it such events are dropped and logged, because
	// the next push cycle sends them again. Revocations and user changes
	// are never dropped. Zero means DefaultMaxQueue.
	MaxQueue int
	// Clock returns the current time, for iat. Nil means time.Now.
	Clock func() time.Time
	// Wait blocks for d or until ctx is done, before a retry. Nil means a
	// timer. Tests replace it to retry without waiting.
	Wait func(ctx context.Context, d time.Duration) error
	// HTTPClient sends the SETs. Nil means a client with a 10-second
	// timeout whose transport adds a traceparent header.
	HTTPClient *http.Client
	// Logger receives delivery failures. Nil discards them.
	Logger *slog.Logger
}

// Transmitter delivers events to every receiver, each in the order they
// were sent. Each delivery attempt is a new SET with a fresh iat and jti,
// so a retry is never mistaken for a replay or rejected as too old. It is
// safe for concurrent use.
type Transmitter struct {
	cfg    TransmitterConfig
	queues []*queue
	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed atomic.Bool
}

// NewTransmitter starts one delivery goroutine per receiver. Close stops
// them.
func NewTransmitter(cfg TransmitterConfig) (*Transmitter, error) {
	if cfg.Issuer == "" || cfg.Signer == nil {
		return nil, errors.New("secevent: transmitter needs an Issuer and a Signer")
	}
	for i, r := range cfg.Receivers {
		if r.URL == "" || r.Audience == "" {
			return nil, fmt.Errorf("secevent: receiver %d needs a URL and an Audience", i)
		}
	}
	cfg = cfg.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	t := &Transmitter{cfg: cfg, cancel: cancel}
	for _, r := range cfg.Receivers {
		q := &queue{receiver: r, wake: make(chan struct{}, 1)}
		t.queues = append(t.queues, q)
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			t.run(ctx, q)
		}()
	}
	return t, nil
}

func (c TransmitterConfig) withDefaults() TransmitterConfig {
	if c.MinBackoff == 0 {
		c.MinBackoff = DefaultMinBackoff
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.MaxQueue == 0 {
		c.MaxQueue = DefaultMaxQueue
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Wait == nil {
		c.Wait = waitTimer
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 10 * time.Second, Transport: &trace.Transport{}}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

func waitTimer(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Send queues ev for every receiver that takes it (push-only events go to
// push-mode receivers only). The returned channel is closed once the
// first delivery attempt to each of those receivers has finished, whether
// it succeeded or not, so a caller can wait briefly for the push to land.
func (t *Transmitter) Send(ev Events) <-chan struct{} {
	done := make(chan struct{})
	if t.closed.Load() {
		t.cfg.Logger.Warn("push after close, event dropped")
		close(done)
		return done
	}
	var pending sync.WaitGroup
	for _, q := range t.queues {
		if ev.PushOnly() && !q.receiver.PushMode {
			continue
		}
		pending.Add(1)
		m := &message{events: ev, attempted: pending.Done}
		if !q.push(m, t.cfg.MaxQueue) {
			pending.Done()
			t.cfg.Logger.Error("push queue full, event dropped", "receiver", q.receiver.URL, "queue", t.cfg.MaxQueue)
		}
	}
	go func() {
		pending.Wait()
		close(done)
	}()
	return done
}

// Close stops the delivery goroutines. Events not yet delivered are lost,
// and the channels Send returned for them are closed.
func (t *Transmitter) Close() {
	t.closed.Store(true)
	t.cancel()
	t.wg.Wait()
	for _, q := range t.queues {
		q.mu.Lock()
		for _, m := range q.messages {
			m.markAttempted()
		}
		q.messages = nil
		q.mu.Unlock()
	}
}

// run delivers the messages of q in order. A failed delivery is retried
// with exponential backoff until it succeeds, the receiver rejects the SET
// (400, which a retry would not change) or the transmitter closes.
func (t *Transmitter) run(ctx context.Context, q *queue) {
	for {
		m, ok := q.pop(ctx)
		if !ok {
			return
		}
		backoff := t.cfg.MinBackoff
		for attempt := 1; ; attempt++ {
			err := t.deliver(ctx, q.receiver, m.events)
			m.markAttempted()
			if err == nil {
				if attempt > 1 {
					t.cfg.Logger.Info("push delivered after retries", "receiver", q.receiver.URL, "attempts", attempt)
				}
				break
			}
			var rejected *DeliveryError
			if errors.As(err, &rejected) && rejected.Status == http.StatusBadRequest {
				t.cfg.Logger.Error("push rejected by receiver", "receiver", q.receiver.URL, "err", err)
				break
			}
			if ctx.Err() != nil {
				return
			}
			t.cfg.Logger.Warn("push delivery failed, retrying", "receiver", q.receiver.URL,
				"attempt", attempt, "retry_in", backoff, "err", err)
			if t.cfg.Wait(ctx, backoff) != nil {
				return
			}
			backoff = min(2*backoff, t.cfg.MaxBackoff)
		}
	}
}

// deliver signs a new SET with ev for r and posts it.
func (t *Transmitter) deliver(ctx context.Context, r Receiver, ev Events) error {
	set := SET{
		Issuer:   t.cfg.Issuer,
		Audience: r.Audience,
		IssuedAt: t.cfg.Clock().Unix(),
		ID:       oauth.NewToken(),
		Events:   ev,
	}
	jwt, err := t.cfg.Signer.Sign(set, oauth.JWTTypeSecEvent)
	if err != nil {
		return fmt.Errorf("secevent: sign SET: %w", err)
	}
	return Post(ctx, t.cfg.HTTPClient, r.URL, jwt)
}

// message is one queued event set.
type message struct {
	events    Events
	once      sync.Once
	attempted func()
}

func (m *message) markAttempted() { m.once.Do(m.attempted) }

// queue holds the undelivered messages of one receiver.
type queue struct {
	receiver Receiver
	wake     chan struct{}

	mu       sync.Mutex
	messages []*message
}

// push appends m unless it is a push-only message and the queue already
// holds maxQueue messages.
func (q *queue) push(m *message, maxQueue int) bool {
	q.mu.Lock()
	if m.events.PushOnly() && len(q.messages) >= maxQueue {
		q.mu.Unlock()
		return false
	}
	q.messages = append(q.messages, m)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return true
}

// pop waits for the oldest message and removes it from the queue.
func (q *queue) pop(ctx context.Context) (*message, bool) {
	for {
		q.mu.Lock()
		if len(q.messages) > 0 {
			m := q.messages[0]
			q.messages[0] = nil
			q.messages = q.messages[1:]
			q.mu.Unlock()
			return m, true
		}
		q.mu.Unlock()
		select {
		case <-q.wake:
		case <-ctx.Done():
			return nil, false
		}
	}
}
