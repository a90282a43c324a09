package oauth

// Error codes of RFC 6749 section 4.1.2.1 and 5.2, RFC 6750 section 3.1,
// RFC 8693 section 2.2.2 and OpenID Connect Core section 3.1.2.6.
const (
	ErrInvalidRequest          = "invalid_request"
	ErrInvalidClient           = "invalid_client"
	ErrInvalidGrant            = "invalid_grant"
	ErrUnauthorizedClient      = "unauthorized_client"
	ErrUnsupportedGrantType    = "unsupported_grant_type"
	ErrUnsupportedResponseType = "unsupported_response_type"
	ErrInvalidScope            = "invalid_scope"
	ErrAccessDenied            = "access_denied"
	ErrServerError             = "server_error"
	ErrTemporarilyUnavailable  = "temporarily_unavailable"
	ErrInvalidTarget           = "invalid_target"
	ErrInvalidToken            = "invalid_token"
	ErrInsufficientScope       = "insufficient_scope"
	ErrLoginRequired           = "login_required"
	ErrConsentRequired         = "consent_required"
	ErrInteractionRequired     = "interaction_required"
	ErrRequestNotSupported     = "request_not_supported"
	ErrRequestURINotSupported  = "request_uri_not_supported"
)

// Grant types of RFC 6749 section 4 and RFC 8693 section 2.1.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
	GrantImplicit          = "implicit"
	GrantTokenExchange     = "urn:ietf:params:oauth:grant-type:token-exchange"
)

// Token type identifiers of RFC 8693 section 3.
const (
	TokenTypeAccessToken = "urn:ietf:params:oauth:token-type:access_token"
	TokenTypeIDToken     = "urn:ietf:params:oauth:token-type:id_token"
	TokenTypeJWT         = "urn:ietf:params:oauth:token-type:jwt"
)

// Response types of RFC 6749 section 3.1.1.
const (
	ResponseTypeCode  = "code"
	ResponseTypeToken = "token"
)

// PKCE code challenge methods of RFC 7636 section 4.2.
const (
	PKCEMethodS256  = "S256"
	PKCEMethodPlain = "plain"
)

// JWT "typ" header values.
const (
	// JWTTypeAccessToken marks a JWT access token (RFC 9068 section 2.1).
	JWTTypeAccessToken = "at+jwt"
	// JWTTypeSecEvent marks a Security Event Token (RFC 8417 section 2.3).
	JWTTypeSecEvent = "secevent+jwt"
)

// TokenTypeBearer is the token_type of every access token (RFC 6750).
const TokenTypeBearer = "Bearer"
