package authserver

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/oidcstack/oidcstack/authserver/store"
	"github.com/oidcstack/oidcstack/internal/oauth"
	"github.com/oidcstack/oidcstack/internal/secevent"
	"github.com/oidcstack/oidcstack/internal/trace"
)

// PushGateway is a gateway instance that the server pushes Security Event
// Tokens to (RFC 8417 SETs, delivered by RFC 8935 HTTP POST): every
// revocation and user change, and in push mode every issued token with its
// JWTs.
type PushGateway struct {
	// URL is the gateway's push endpoint, such as
	// "http://localhost:8000/_push". Required.
	URL string
	// Audience is the gateway's identifier, the aud of the SETs it gets;
	// it must equal the gateway's PushAudience. Required.
	Audience string
	// PushMode marks a gateway in push mode. Such a gateway never calls
	// the server for steps 16 and 17, so it also receives each live
	// access token's hash with one JWT per audience, at issuance and then
	// every PushInterval.
	PushMode bool
}

// pushWait is the maximum time a request waits for the first delivery
// attempt of its push. An issuing request waits so the client's first API
// call finds the token at push-mode gateways, and a logout waits so the
// client's tokens fail at every gateway once the browser is back.
const pushWait = 2 * time.Second

// pusher sends security events to the gateways. It keeps no list of
// tokens: the live tokens, a grant's or a session's tokens and a user's
// tokens all come from the store, so the push works the same for tokens
// issued before a restart of this server.
type pusher struct {
	tx       *secevent.Transmitter
	pushMode bool // at least one gateway is in push mode
	interval time.Duration

	// mu orders the events that name one token. A revocation is stored
	// before its event is queued under mu, and a token-issued event is
	// queued under mu only after the store shows the token unrevoked, so
	// a gateway never receives a token's JWTs after its revocation.
	// NOTE: the order holds within one process; replicas sharing a store
	// do not coordinate their pushes.
	mu sync.Mutex

	stop func()
}

func validatePushGateways(gateways []PushGateway, interval, exchangedTTL time.Duration) []error {
	var errs []error
	seen := map[string]bool{}
	for i, g := range gateways {
		u, err := url.Parse(g.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("push gateway %d: URL %q must be an absolute http(s) URL", i, g.URL))
		}
		if g.Audience == "" {
			errs = append(errs, fmt.Errorf("push gateway %d: empty Audience", i))
		}
		if seen[g.URL] {
			errs = append(errs, fmt.Errorf("push gateway %d: duplicate URL %q", i, g.URL))
		}
		seen[g.URL] = true
	}
	if interval < 0 {
		errs = append(errs, fmt.Errorf("push interval is negative: %s", interval))
	}
	// A pushed JWT must be replaced before it expires.
	if interval >= exchangedTTL {
		errs = append(errs, fmt.Errorf("push interval %s must be shorter than the exchanged token TTL %s", interval, exchangedTTL))
	}
	return errs
}

// startPush starts the transmitter and, when some gateway is in push mode,
// the cycle that re-pushes live tokens. It does nothing without gateways.
func (s *Server) startPush(cfg Config) error {
	if len(cfg.PushGateways) == 0 {
		return nil
	}
	p := &pusher{interval: durationOr(cfg.PushInterval, s.exchangedTTL/2)}
	var receivers []secevent.Receiver
	for _, g := range cfg.PushGateways {
		receivers = append(receivers, secevent.Receiver{URL: g.URL, Audience: g.Audience, PushMode: g.PushMode})
		p.pushMode = p.pushMode || g.PushMode
		s.log.Info("push gateway configured", "url", g.URL, "audience", g.Audience, "push_mode", g.PushMode)
	}
	tx, err := secevent.NewTransmitter(secevent.TransmitterConfig{
		Issuer: s.issuer, Signer: s.keys, Receivers: receivers,
		Clock: s.now, HTTPClient: s.client, Logger: s.log,
	})
	if err != nil {
		return fmt.Errorf("authserver: %w", err)
	}
	p.tx = tx
	s.push = p
	if !p.pushMode {
		p.stop = tx.Close
		return nil
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	p.stop = func() {
		cancel()
		<-done
		tx.Close()
	}
	go func() {
		defer close(done)
		ticker := time.NewTicker(p.interval)
		defer ticker.Stop()
		for {
			// The first cycle runs at start, so gateways learn the state
			// without waiting a whole interval, including the tokens
			// issued before a restart.
			s.pushCycle(ctx)
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
			}
		}
	}()
	return nil
}

// stopPush stops the push cycle and the transmitter.
func (s *Server) stopPush() {
	if s.push != nil && s.push.stop != nil {
		s.push.stop()
		s.push.stop = nil
	}
}

// pushIssued pushes a newly issued access token's hash with one JWT per
// audience to push-mode gateways. It waits up to pushWait for the first
// delivery attempt, so the client's first API call finds the token at the
// gateway. A failed push is logged and retried in the background; the
// token is issued anyway.
func (s *Server) pushIssued(ctx context.Context, at store.AccessToken) {
	p := s.push
	if p == nil || !p.pushMode {
		return
	}
	ev, err := s.tokenIssuedEvent(ctx, at)
	if err != nil {
		s.log.Error("push token issued failed", "err", err, "access_token_fp", hashFingerprint(at.Hash))
		return
	}
	if ev == nil {
		return
	}
	delivered := s.sendIssued(ctx, []*secevent.TokenIssued{ev})
	s.waitDelivered(ctx, delivered, "push token issued not yet delivered", "access_token_fp", hashFingerprint(at.Hash))
}

// pushRevoked pushes the revocation of the access tokens with the given
// hashes to every gateway, and returns a channel that is closed once the
// first delivery attempt to each gateway has finished. The caller must
// have stored the revocation first. Without hashes or gateways the
// channel is closed at once.
func (s *Server) pushRevoked(hashes ...string) <-chan struct{} {
	p := s.push
	if p == nil || len(hashes) == 0 {
		done := make(chan struct{})
		close(done)
		return done
	}
	p.mu.Lock()
	delivered := p.tx.Send(secevent.Events{TokenRevoked: &secevent.TokenRevoked{TokenHashes: hashes}})
	p.mu.Unlock()
	for _, h := range hashes {
		s.log.Info("push token revoked", "access_token_fp", hashFingerprint(h))
	}
	return delivered
}

// pushUserLogin pushes a user change to every gateway, and fresh JWTs to
// push-mode gateways, when a login changed the user's profile and the
// user holds live tokens. before is the user as stored before the login,
// nil for a new user.
func (s *Server) pushUserLogin(ctx context.Context, before *store.User, user store.User) {
	p := s.push
	if p == nil || before == nil || before.Profile == user.Profile {
		return
	}
	live, err := s.store.LiveAccessTokensOfUser(ctx, user.ID, s.now())
	if err != nil {
		s.log.Error("push user changed failed", "err", err, "sub_fp", trace.Fingerprint(user.ID))
		return
	}
	if len(live) == 0 {
		return
	}
	p.mu.Lock()
	p.tx.Send(secevent.Events{UserChanged: &secevent.UserChanged{Subject: user.ID}})
	p.mu.Unlock()
	s.log.Info("push user changed", "sub_fp", trace.Fingerprint(user.ID), "live_tokens", len(live))
	if p.pushMode {
		s.repush(ctx, live)
	}
}

// pushCycle pushes fresh JWTs for every live token in the store to
// push-mode gateways, followed by a state-synced event. So a delivered JWT
// is replaced before it expires, and a restarted gateway learns every live
// token within one interval.
func (s *Server) pushCycle(ctx context.Context) {
	p := s.push
	if p == nil || !p.pushMode {
		return
	}
	live, err := s.store.LiveAccessTokens(ctx, s.now())
	if err != nil {
		// Without the list, state-synced would claim what is not true.
		s.log.Error("push cycle failed", "err", err)
		return
	}
	s.repush(ctx, live)
	p.mu.Lock()
	p.tx.Send(secevent.Events{StateSynced: &secevent.StateSynced{}})
	p.mu.Unlock()
}

// repush pushes fresh JWTs for tokens to push-mode gateways.
func (s *Server) repush(ctx context.Context, tokens []store.AccessToken) {
	var events []*secevent.TokenIssued
	for _, at := range tokens {
		if ctx.Err() != nil {
			return
		}
		ev, err := s.tokenIssuedEvent(ctx, at)
		if err != nil {
			s.log.Error("push fresh jwts failed", "err", err, "access_token_fp", hashFingerprint(at.Hash))
			continue
		}
		if ev != nil {
			events = append(events, ev)
		}
	}
	s.sendIssued(ctx, events)
}

// sendIssued queues the token-issued events whose tokens the store still
// shows unrevoked, and returns a channel closed once the first delivery
// attempt of the last queued event has finished. Checking the store under
// p.mu keeps a token revoked while its JWTs were signed from being pushed
// after its revocation.
func (s *Server) sendIssued(ctx context.Context, events []*secevent.TokenIssued) <-chan struct{} {
	p := s.push
	done := make(chan struct{})
	close(done)
	var delivered <-chan struct{} = done
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, ev := range events {
		at, err := s.store.GetAccessToken(ctx, ev.TokenHash)
		if err != nil {
			s.log.Warn("push skipped a token the store could not return", "err", err, "access_token_fp", hashFingerprint(ev.TokenHash))
			continue
		}
		if at.Revoked {
			continue
		}
		delivered = p.tx.Send(secevent.Events{TokenIssued: ev})
	}
	return delivered
}

// waitDelivered waits up to pushWait for delivered to close, and logs msg
// with attrs when it does not.
func (s *Server) waitDelivered(ctx context.Context, delivered <-chan struct{}, msg string, attrs ...any) {
	timer := time.NewTimer(pushWait)
	defer timer.Stop()
	select {
	case <-delivered:
	case <-timer.C:
		s.log.Warn(msg, append(attrs, "waited", pushWait)...)
	case <-ctx.Done():
	}
}

// tokenIssuedEvent returns the token-issued event of at with a fresh JWT
// for each of its audiences. The JWTs carry the claims of an exchanged
// JWT except act, because no party exchanged a token for them. A token
// without audiences gets no event (nil), since no gateway route can
// accept it.
func (s *Server) tokenIssuedEvent(ctx context.Context, at store.AccessToken) (*secevent.TokenIssued, error) {
	if len(at.Audiences) == 0 {
		return nil, nil
	}
	claims := map[string]any{}
	if at.UserID != "" {
		user, err := s.store.GetUser(ctx, at.UserID)
		if err != nil {
			return nil, fmt.Errorf("load user of pushed token: %w", err)
		}
		claims = userClaims(user.Profile, at.Scope)
	}

	// Each JWT lives ExchangedTokenTTL, never past the access token.
	now := s.now()
	iat := now.Unix()
	exp := min(now.Add(s.exchangedTTL).Unix(), at.ExpiresAt.Unix())
	claims["iss"] = s.issuer
	claims["sub"] = tokenSubject(&at)
	claims["client_id"] = at.ClientID
	claims["iat"] = iat
	claims["exp"] = exp
	claims["scope"] = at.Scope
	ev := &secevent.TokenIssued{
		TokenHash: at.Hash, Subject: tokenSubject(&at), ClientID: at.ClientID,
		Scope: at.Scope, Expiry: at.ExpiresAt.Unix(), JWTs: make(map[string]string, len(at.Audiences)),
	}
	for _, aud := range at.Audiences {
		claims["aud"] = aud
		claims["jti"] = oauth.NewToken()
		jwt, err := s.keys.Sign(claims, oauth.JWTTypeAccessToken)
		if err != nil {
			return nil, fmt.Errorf("sign pushed jwt: %w", err)
		}
		ev.JWTs[aud] = jwt
	}
	return ev, nil
}

// hashFingerprint returns the trace fingerprint of the token whose hex
// SHA-256 is hash: trace.Fingerprint is the first 8 bytes of that hash, so
// push log lines match the lines that name the token itself.
func hashFingerprint(hash string) string {
	return hash[:min(16, len(hash))]
}
