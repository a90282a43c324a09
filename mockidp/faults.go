package mockidp

import (
	"fmt"
	"slices"
	"time"

	"github.com/oidcstack/oidcstack/internal/oauth"
)

// FaultName names a fault an issuer can inject into its responses. The
// values are the names the admin API and the docs use.
type FaultName string

// FaultGroup names the reaction a correct relying party must show to a
// fault.
type FaultGroup string

// Fault groups.
const (
	// GroupReject faults must make the relying party reject the login.
	GroupReject FaultGroup = "must_reject"
	// GroupAccept faults are legal variations a relying party must accept.
	GroupAccept FaultGroup = "must_accept"
	// GroupEither faults may be accepted or rejected, but never with a
	// crash or a server error.
	GroupEither FaultGroup = "may_do_either"
)

// Faults a correct relying party must reject. Times are relative to the
// server's clock. Ten minutes is twice the 5-minute leeway go-oidc v3
// allows for nbf.
const (
	FaultBadSignature      FaultName = "bad_signature"        // ID token: lowest bit of the signature's first byte flipped
	FaultAlgNone           FaultName = "alg_none"             // ID token: header alg "none", empty signature
	FaultAlgHS256PublicKey FaultName = "alg_hs256_public_key" // ID token: HS256, keyed with the PEM of the RSA public key
	FaultIssOtherHost      FaultName = "iss_other_host"       // ID token: iss with host "mockidp.invalid" (port and path kept)
	FaultIssTrailingSlash  FaultName = "iss_trailing_slash"   // ID token: iss + "/"
	FaultIssNoScheme       FaultName = "iss_no_scheme"        // ID token: iss without "http://" or "https://", as Google's "accounts.google.com"
	FaultAudOtherClient    FaultName = "aud_other_client"     // ID token: aud "mockidp-other-client", no azp
	FaultAudMultipleNoAZP  FaultName = "aud_multiple_no_azp"  // ID token: aud [client, "mockidp-other-client"], no azp
	FaultAZPOtherClient    FaultName = "azp_other_client"     // ID token: aud [client, "mockidp-other-client"], azp "mockidp-other-client"
	FaultExpPast           FaultName = "exp_past"             // ID token: exp 10 minutes ago (iat one TokenTTL before that)
	FaultIatMissing        FaultName = "iat_missing"          // ID token: no iat
	FaultIatFuture         FaultName = "iat_future"           // ID token: iat 10 minutes ahead (exp moves with it)
	FaultNbfFuture         FaultName = "nbf_future"           // ID token: nbf 10 minutes ahead
	FaultSubMissing        FaultName = "sub_missing"          // ID token: no sub
	FaultSubEmpty          FaultName = "sub_empty"            // ID token: sub ""
	FaultNonceWrong        FaultName = "nonce_wrong"          // ID token: nonce "mockidp-wrong-nonce"
	FaultNonceMissing      FaultName = "nonce_missing"        // ID token: no nonce
	FaultKidUnknown        FaultName = "kid_unknown"          // ID token: signed by a key that no JWKS response contains
	FaultAtHashWrong       FaultName = "at_hash_wrong"        // ID token: at_hash of another access token
	FaultUserinfoSubOther  FaultName = "userinfo_sub_other"   // userinfo: sub of the ID token + "-other"
	FaultAccessDenied      FaultName = "error_access_denied"  // authorization: error=access_denied redirect
	FaultLoginRequired     FaultName = "error_login_required" // authorization: error=login_required redirect
	FaultTokenInvalidGrant FaultName = "token_invalid_grant"  // token: 400 {"error":"invalid_grant"}, code not used up
	FaultTokenServerError  FaultName = "token_server_error"   // token: 500 {"error":"server_error"}, code not used up
	FaultTokenHTML         FaultName = "token_html"           // token: 200 text/html page, code not used up
	FaultTokenSlow         FaultName = "token_slow"           // token: the response waits Fault.Delay (default 30 s) first
)

// Faults a correct relying party must accept.
const (
	FaultKeyRotated       FaultName = "key_rotated"         // ID token: signed by a new key that appears in the JWKS only now
	FaultKidMissingOneKey FaultName = "kid_missing_one_key" // ID token: no kid; other keys leave the JWKS, which keeps one
	FaultIatAhead30s      FaultName = "iat_ahead_30s"       // ID token: iat 30 seconds ahead (exp moves with it)
	FaultNbfAhead30s      FaultName = "nbf_ahead_30s"       // ID token: nbf 30 seconds ahead
	FaultAudString        FaultName = "aud_string"          // ID token: aud as the string "client"
	FaultAudArray         FaultName = "aud_array"           // ID token: aud as the array ["client"]
	FaultExpiresInString  FaultName = "expires_in_string"   // token: expires_in as a JSON string, "3600"
	FaultExtraClaims      FaultName = "extra_claims"        // ID token: unknown claims, nested and namespaced
	FaultJWKSUnusableKeys FaultName = "jwks_unusable_keys"  // JWKS: also an EC P-256 encryption key and a secp256k1 key
)

// Faults a relying party may accept or reject.
const (
	FaultKidMissingSeveralKeys FaultName = "kid_missing_several_keys" // ID token: no kid while the JWKS contains two or more keys
)

// Magnitudes of the time faults.
const (
	faultFarOff = 10 * time.Minute
	faultNear   = 30 * time.Second
)

// otherClientID is the foreign audience and azp of the audience faults.
const otherClientID = "mockidp-other-client"

// faultTarget is the kind of response a fault changes.
type faultTarget int

const (
	targetAuthorize faultTarget = iota // the authorization response
	targetToken                        // the token response as a whole
	targetIDToken                      // the ID token in a token response
	targetUserinfo                     // the userinfo response
	targetJWKS                         // the JWKS response
)

// faultSpec describes one fault.
type faultSpec struct {
	group  FaultGroup
	target faultTarget
}

var faultSpecs = map[FaultName]faultSpec{
	FaultBadSignature:      {GroupReject, targetIDToken},
	FaultAlgNone:           {GroupReject, targetIDToken},
	FaultAlgHS256PublicKey: {GroupReject, targetIDToken},
	FaultIssOtherHost:      {GroupReject, targetIDToken},
	FaultIssTrailingSlash:  {GroupReject, targetIDToken},
	FaultIssNoScheme:       {GroupReject, targetIDToken},
	FaultAudOtherClient:    {GroupReject, targetIDToken},
	FaultAudMultipleNoAZP:  {GroupReject, targetIDToken},
	FaultAZPOtherClient:    {GroupReject, targetIDToken},
	FaultExpPast:           {GroupReject, targetIDToken},
	FaultIatMissing:        {GroupReject, targetIDToken},
	FaultIatFuture:         {GroupReject, targetIDToken},
	FaultNbfFuture:         {GroupReject, targetIDToken},
	FaultSubMissing:        {GroupReject, targetIDToken},
	FaultSubEmpty:          {GroupReject, targetIDToken},
	FaultNonceWrong:        {GroupReject, targetIDToken},
	FaultNonceMissing:      {GroupReject, targetIDToken},
	FaultKidUnknown:        {GroupReject, targetIDToken},
	FaultAtHashWrong:       {GroupReject, targetIDToken},
	FaultUserinfoSubOther:  {GroupReject, targetUserinfo},
	FaultAccessDenied:      {GroupReject, targetAuthorize},
	FaultLoginRequired:     {GroupReject, targetAuthorize},
	FaultTokenInvalidGrant: {GroupReject, targetToken},
	FaultTokenServerError:  {GroupReject, targetToken},
	FaultTokenHTML:         {GroupReject, targetToken},
	FaultTokenSlow:         {GroupReject, targetToken},

	FaultKeyRotated:       {GroupAccept, targetIDToken},
	FaultKidMissingOneKey: {GroupAccept, targetIDToken},
	FaultIatAhead30s:      {GroupAccept, targetIDToken},
	FaultNbfAhead30s:      {GroupAccept, targetIDToken},
	FaultAudString:        {GroupAccept, targetIDToken},
	FaultAudArray:         {GroupAccept, targetIDToken},
	FaultExpiresInString:  {GroupAccept, targetToken},
	FaultExtraClaims:      {GroupAccept, targetIDToken},
	FaultJWKSUnusableKeys: {GroupAccept, targetJWKS},

	FaultKidMissingSeveralKeys: {GroupEither, targetIDToken},
}

// Group returns the group of the fault, or "" for an unknown name.
func (n FaultName) Group() FaultGroup { return faultSpecs[n].group }

// FaultNames returns the name of every fault.
func FaultNames() []FaultName {
	names := make([]FaultName, 0, len(faultSpecs))
	for n := range faultSpecs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Fault is a fault injected into an issuer's responses with
// [Server.InjectFault]. Each fault changes one kind of response: the
// authorization response, the token response, the ID token in it, the
// userinfo response or the JWKS.
type Fault struct {
	Name FaultName
	// Count is the number of responses the fault changes. Zero means one,
	// or every response to ClientID when ClientID is set. [Server.Faults]
	// reports the responses still to change.
	Count int
	// ClientID limits the fault to the responses to this client. JWKS
	// requests name no client, so jwks_unusable_keys takes none.
	ClientID string
	// Delay is how long token_slow delays the response; zero means
	// DefaultFaultDelay. Other faults ignore it. The delay uses real
	// time, not the server's clock, and ends early when the client
	// disconnects.
	Delay time.Duration
}

// unlimited reports whether f applies to every response to its client.
func (f *Fault) unlimited() bool { return f.Count == 0 && f.ClientID != "" }

// InjectFault makes the issuer called issuerName apply f to its next
// matching responses. Faults apply in the order they were injected; a
// response gets at most one fault of each kind.
func (s *Server) InjectFault(issuerName string, f Fault) error {
	iss, ok := s.issuers[issuerName]
	if !ok {
		return issuerNotFound(issuerName)
	}
	spec, ok := faultSpecs[f.Name]
	switch {
	case !ok:
		return fmt.Errorf("mockidp: unknown fault %q", f.Name)
	case f.Count < 0:
		return fmt.Errorf("mockidp: fault %q: Count %d is negative", f.Name, f.Count)
	case f.Delay < 0:
		return fmt.Errorf("mockidp: fault %q: Delay %v is negative", f.Name, f.Delay)
	case spec.target == targetJWKS && f.ClientID != "":
		return fmt.Errorf("mockidp: fault %q changes JWKS responses, which name no client; leave ClientID empty", f.Name)
	}
	if f.Count == 0 && f.ClientID == "" {
		f.Count = 1
	}
	if f.Name == FaultTokenSlow && f.Delay == 0 {
		f.Delay = DefaultFaultDelay
	}

	iss.mu.Lock()
	defer iss.mu.Unlock()
	iss.faults = append(iss.faults, &f)
	s.log.Info("fault injected", "issuer", iss.name, "fault", f.Name, "count", f.Count, "client_id", f.ClientID)
	return nil
}

// Faults returns the faults of the issuer called issuerName that are still
// to apply, with the number of responses each still changes.
func (s *Server) Faults(issuerName string) []Fault {
	iss, ok := s.issuers[issuerName]
	if !ok {
		return nil
	}
	iss.mu.Lock()
	defer iss.mu.Unlock()
	out := make([]Fault, 0, len(iss.faults))
	for _, f := range iss.faults {
		out = append(out, *f)
	}
	return out
}

// ClearFaults drops every fault of the issuer called issuerName.
func (s *Server) ClearFaults(issuerName string) error {
	iss, ok := s.issuers[issuerName]
	if !ok {
		return issuerNotFound(issuerName)
	}
	iss.mu.Lock()
	defer iss.mu.Unlock()
	iss.faults = nil
	return nil
}

// takeFault returns the oldest fault that changes a response of kind
// target to clientID, and counts the response against it.
func (iss *issuer) takeFault(target faultTarget, clientID string) (Fault, bool) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	for i, f := range iss.faults {
		if faultSpecs[f.Name].target != target || (f.ClientID != "" && f.ClientID != clientID) {
			continue
		}
		applied := *f
		if !f.unlimited() {
			f.Count--
			if f.Count == 0 {
				iss.faults = slices.Delete(iss.faults, i, i+1)
			}
		}
		return applied, true
	}
	return Fault{}, false
}

// authorizeFaultError is the error an authorization fault sends to the
// client.
func authorizeFaultError(name FaultName) *oauth.Error {
	if name == FaultLoginRequired {
		return oauth.NewError(oauth.ErrLoginRequired, "The user must log in.")
	}
	return oauth.NewError(oauth.ErrAccessDenied, "The user denied access.")
}
