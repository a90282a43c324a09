-- Each access and refresh token records the login session it was issued
-- under, so a logout can revoke every token of the session. Tokens issued
-- before this migration, and tokens of the client credentials grant, have
-- the empty session ID, which no session has.

ALTER TABLE access_tokens ADD COLUMN session_id TEXT NOT NULL DEFAULT '';
ALTER TABLE refresh_tokens ADD COLUMN session_id TEXT NOT NULL DEFAULT '';
CREATE INDEX access_tokens_session ON access_tokens (session_id);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

-- The push to gateways lists the live access tokens of all users or of
-- one user.
CREATE INDEX access_tokens_expiry ON access_tokens (expires_at);
CREATE INDEX access_tokens_user ON access_tokens (user_id);
