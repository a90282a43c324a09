package mockidp

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/oidcstack/oidcstack/internal/oauth"
)

// invalidValue is the error_description Google's tokeninfo endpoint sends
// for a token it does not accept.
const invalidValue = "Invalid Value"

// handleTokeninfo serves a stand-in for Google's tokeninfo endpoint: given
// ?id_token= or ?access_token= (query or form), it returns what the issuer
// stores about a live token. Like Google's, every value in the response is
// a JSON string, numbers and booleans included, and a rejected token gets
// 400 invalid_token.
func (s *Server) handleTokeninfo(w http.ResponseWriter, r *http.Request, iss *issuer) {
	info, oerr := s.tokeninfo(r, iss)
	if oerr != nil {
		s.log.Info("tokeninfo request rejected", "issuer", iss.name, "err", oerr)
		oauth.WriteError(w, oerr)
		return
	}
	oauth.WriteJSON(w, http.StatusOK, info)
}

// tokeninfo decides a tokeninfo request without writing anything.
func (s *Server) tokeninfo(r *http.Request, iss *issuer) (map[string]string, *oauth.Error) {
	if err := r.ParseForm(); err != nil {
		return nil, oauth.NewError(oauth.ErrInvalidRequest, "The request could not be parsed.")
	}
	idToken, accessToken := r.Form.Get("id_token"), r.Form.Get("access_token")
	switch {
	case idToken != "" && accessToken != "":
		return nil, oauth.NewError(oauth.ErrInvalidRequest, "Send either id_token or access_token, not both.")
	case idToken != "":
		return s.idTokenInfo(iss, idToken)
	case accessToken != "":
		return s.accessTokenInfo(iss, accessToken)
	default:
		return nil, oauth.NewError(oauth.ErrInvalidRequest, "The request has no id_token or access_token.")
	}
}

// idTokenInfo returns the claims and header of a valid, unexpired ID token.
func (s *Server) idTokenInfo(iss *issuer, raw string) (map[string]string, *oauth.Error) {
	jwt, err := iss.verifyJWT(raw)
	if err != nil || jwt.expiry() <= s.now().Unix() {
		return nil, &oauth.Error{Code: oauth.ErrInvalidToken, Description: invalidValue, Status: http.StatusBadRequest, Cause: err}
	}
	info := map[string]string{
		"alg": jwt.header.Algorithm,
		"kid": jwt.header.KeyID,
	}
	if typ, ok := jwt.header.ExtraHeaders["typ"].(string); ok {
		info["typ"] = typ
	}
	for name, value := range jwt.claims {
		info[name] = claimString(value)
	}
	return info, nil
}

// accessTokenInfo describes a live access token the way Google does.
func (s *Server) accessTokenInfo(iss *issuer, token string) (map[string]string, *oauth.Error) {
	now := s.now()
	g, expiry, ok := iss.lookupAccessToken(token, now)
	if !ok {
		return nil, &oauth.Error{Code: oauth.ErrInvalidToken, Description: invalidValue, Status: http.StatusBadRequest}
	}
	accessType := g.accessType
	if accessType == "" {
		accessType = "online"
	}
	info := map[string]string{
		"azp":         g.clientID,
		"aud":         g.clientID,
		"scope":       strings.Join(g.scope, " "),
		"exp":         strconv.FormatInt(expiry.Unix(), 10),
		"expires_in":  strconv.FormatInt(int64(expiry.Sub(now).Seconds()), 10),
		"access_type": accessType,
	}
	if g.subject == "" {
		return info, nil
	}
	info["sub"] = g.subject
	if user, ok := iss.user(g.subject); ok && slices.Contains(g.scope, "email") {
		info["email"] = user.Email
		info["email_verified"] = strconv.FormatBool(user.EmailVerified)
	}
	return info, nil
}

// claimString renders a claim value as Google's tokeninfo does: strings
// as they are, numbers and booleans in their JSON form, arrays and objects
// as JSON text.
func claimString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	default:
		data, err := json.Marshal(v)
		if err != nil {
			return fmt.Sprint(v)
		}
		return string(data)
	}
}
