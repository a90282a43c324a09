package authserver

import (
	"context"
	"fmt"
	"net/url"
	"slices"
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

// pushWait is how long an issuing request waits for the first delivery
// attempt of its token to push-mode gateways, so the client's first API
// call finds the token there.
const pushWait = 2 * time.Second

// pusher keeps a registry of the live access tokens this process issued.
// With it, a revoked grant names its tokens, push-mode gateways get fresh
// JWTs before the earlier ones expire, and a user change reaches the
// gateways only when the user holds live tokens.
//
// NOTE: the registry lives in memory. Tokens issued before a restart are
// not in it: revoking their grant pushes nothing (pull-mode gateways stop
// them at the end of their cache window), and push-mode gateways get no
// fresh JWTs for them.
type pusher struct {
	tx       *secevent.Transmitter
	pushMode bool // at least one gateway is in push mode
	interval time.Duration

	mu       sync.Mutex
	tokens   map[string]*liveToken    // by token hash
	profiles map[string]store.Profile // by user ID, as of the last login

	stop func()
}

// liveToken is an issued access token as the registry keeps it.
type liveToken struct {
	record store.AccessToken
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
	p := &pusher{
		interval: durationOr(cfg.PushInterval, s.exchangedTTL/2),
		tokens:   make(map[string]*liveToken),
		profiles: make(map[string]store.Profile),
	}
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
			// without waiting a whole interval.
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

// pushIssued registers a newly issued access token and, for push-mode
// gateways, pushes its hash with one JWT per audience. It waits up to
// pushWait for the first delivery attempt, so the client's first API call
// finds the token at the gateway. A failed push is logged and retried in
// the background; the token is issued anyway.
func (s *Server) pushIssued(ctx context.Context, at store.AccessToken) {
	p := s.push
	if p == nil {
		return
	}
	lt := &liveToken{record: at}
	var ev *secevent.TokenIssued
	if p.pushMode {
		var err error
		if ev, err = s.tokenIssuedEvent(ctx, lt); err != nil {
			s.log.Error("push token issued failed", "err", err, "access_token_fp", hashFingerprint(at.Hash))
		}
	}

	p.mu.Lock()
	p.tokens[at.Hash] = lt
	var delivered <-chan struct{}
	if ev != nil {
		delivered = p.tx.Send(secevent.Events{TokenIssued: ev})
	}
	p.mu.Unlock()
	if delivered == nil {
		return
	}
	timer := time.NewTimer(pushWait)
	defer timer.Stop()
	select {
	case <-delivered:
	case <-timer.C:
		s.log.Warn("push token issued not yet delivered", "access_token_fp", hashFingerprint(at.Hash), "waited", pushWait)
	case <-ctx.Done():
	}
}

// pushRevoked pushes the revocation of the access tokens with the given
// hashes to every gateway.
func (s *Server) pushRevoked(hashes ...string) {
	p := s.push
	if p == nil || len(hashes) == 0 {
		return
	}
	// The registry entries go under the same lock as the event is queued,
	// so a push cycle cannot queue a token-issued event after it.
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, h := range hashes {
		delete(p.tokens, h)
	}
	p.tx.Send(secevent.Events{TokenRevoked: &secevent.TokenRevoked{TokenHashes: hashes}})
	for _, h := range hashes {
		s.log.Info("push token revoked", "access_token_fp", hashFingerprint(h))
	}
}

// pushGrantRevoked pushes the revocation of every access token of the
// grant that the registry contains.
func (s *Server) pushGrantRevoked(grantID string) {
	p := s.push
	if p == nil {
		return
	}
	p.mu.Lock()
	var hashes []string
	for h, lt := range p.tokens {
		if lt.record.GrantID == grantID {
			hashes = append(hashes, h)
		}
	}
	p.mu.Unlock()
	slices.Sort(hashes)
	s.pushRevoked(hashes...)
}

// pushUserLogin records the profile a login brought and, when it differs
// from the one before and the user holds live tokens, pushes a user change
// to every gateway and fresh JWTs to push-mode gateways.
func (s *Server) pushUserLogin(ctx context.Context, user store.User) {
	p := s.push
	if p == nil {
		return
	}
	p.mu.Lock()
	old, known := p.profiles[user.ID]
	p.profiles[user.ID] = user.Profile
	var live []*liveToken
	for _, lt := range p.tokens {
		if lt.record.UserID == user.ID {
			live = append(live, lt)
		}
	}
	// An unknown previous profile with live tokens counts as a change:
	// the tokens' JWTs may carry anything.
	changed := len(live) > 0 && (!known || old != user.Profile)
	if changed {
		p.tx.Send(secevent.Events{UserChanged: &secevent.UserChanged{Subject: user.ID}})
	}
	p.mu.Unlock()
	if !changed {
		return
	}
	s.log.Info("push user changed", "sub_fp", trace.Fingerprint(user.ID), "live_tokens", len(live))
	if p.pushMode {
		s.repush(ctx, live)
	}
}

// pushCycle drops expired tokens from the registry. For push-mode gateways
// it then pushes fresh JWTs for every live token, followed by a
// state-synced event. So a delivered JWT is replaced before it expires,
// and a restarted gateway learns every live token within one interval.
func (s *Server) pushCycle(ctx context.Context) {
	p := s.push
	now := s.now()
	p.mu.Lock()
	var live []*liveToken
	holders := map[string]bool{}
	for h, lt := range p.tokens {
		if !now.Before(lt.record.ExpiresAt) {
			delete(p.tokens, h)
			continue
		}
		live = append(live, lt)
		holders[lt.record.UserID] = true
	}
	for id := range p.profiles {
		if !holders[id] {
			delete(p.profiles, id)
		}
	}
	p.mu.Unlock()
	if !p.pushMode {
		return
	}
	s.repush(ctx, live)
	p.mu.Lock()
	p.tx.Send(secevent.Events{StateSynced: &secevent.StateSynced{}})
	p.mu.Unlock()
}

// repush pushes fresh JWTs for the tokens that are still registered.
func (s *Server) repush(ctx context.Context, tokens []*liveToken) {
	p := s.push
	for _, lt := range tokens {
		if ctx.Err() != nil {
			return
		}
		ev, err := s.tokenIssuedEvent(ctx, lt)
		if err != nil {
			s.log.Error("push fresh jwts failed", "err", err, "access_token_fp", hashFingerprint(lt.record.Hash))
			continue
		}
		if ev == nil {
			continue
		}
		p.mu.Lock()
		// A token revoked while its JWTs were signed is not pushed again.
		if p.tokens[lt.record.Hash] == lt {
			p.tx.Send(secevent.Events{TokenIssued: ev})
		}
		p.mu.Unlock()
	}
}

// tokenIssuedEvent returns the token-issued event of lt with a fresh JWT
// for each of its audiences. The JWTs carry the claims of an exchanged
// JWT except act, because no party exchanged a token for them. A token
// without audiences gets no event (nil), since no gateway route can
// accept it.
func (s *Server) tokenIssuedEvent(ctx context.Context, lt *liveToken) (*secevent.TokenIssued, error) {
	at := lt.record
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
