-- Initial schema. Times are Unix nanoseconds (0 = unset); lists are
-- space-separated strings, as scopes are on the wire.

CREATE TABLE users (
	id             TEXT PRIMARY KEY,
	issuer         TEXT NOT NULL,
	subject        TEXT NOT NULL,
	email          TEXT NOT NULL DEFAULT '',
	email_verified INTEGER NOT NULL DEFAULT 0,
	name           TEXT NOT NULL DEFAULT '',
	given_name     TEXT NOT NULL DEFAULT '',
	family_name    TEXT NOT NULL DEFAULT '',
	picture        TEXT NOT NULL DEFAULT '',
	created_at     INTEGER NOT NULL,
	updated_at     INTEGER NOT NULL,
	UNIQUE (issuer, subject)
);

CREATE TABLE sessions (
	id          TEXT PRIMARY KEY,
	user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	upstream_id TEXT NOT NULL,
	auth_time   INTEGER NOT NULL,
	created_at  INTEGER NOT NULL,
	expires_at  INTEGER NOT NULL
);

CREATE TABLE transactions (
	id                    TEXT PRIMARY KEY,
	client_id             TEXT NOT NULL,
	redirect_uri          TEXT NOT NULL,
	response_type         TEXT NOT NULL,
	scope                 TEXT NOT NULL,
	state                 TEXT NOT NULL,
	nonce                 TEXT NOT NULL,
	code_challenge        TEXT NOT NULL,
	code_challenge_method TEXT NOT NULL,
	prompt                TEXT NOT NULL,
	max_age               INTEGER NOT NULL,
	csrf_token            TEXT NOT NULL,
	upstream_id           TEXT NOT NULL DEFAULT '',
	upstream_state        TEXT NOT NULL DEFAULT '',
	upstream_nonce        TEXT NOT NULL DEFAULT '',
	upstream_verifier     TEXT NOT NULL DEFAULT '',
	session_id            TEXT NOT NULL DEFAULT '',
	created_at            INTEGER NOT NULL,
	expires_at            INTEGER NOT NULL
);

CREATE TABLE auth_codes (
	hash                  TEXT PRIMARY KEY,
	client_id             TEXT NOT NULL,
	redirect_uri          TEXT NOT NULL,
	user_id               TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	session_id            TEXT NOT NULL,
	scope                 TEXT NOT NULL,
	nonce                 TEXT NOT NULL,
	code_challenge        TEXT NOT NULL,
	code_challenge_method TEXT NOT NULL,
	auth_time             INTEGER NOT NULL,
	created_at            INTEGER NOT NULL,
	expires_at            INTEGER NOT NULL,
	used                  INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE access_tokens (
	hash       TEXT PRIMARY KEY,
	client_id  TEXT NOT NULL,
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	scope      TEXT NOT NULL,
	audiences  TEXT NOT NULL,
	grant_id   TEXT NOT NULL,
	issued_at  INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	revoked    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX access_tokens_grant ON access_tokens (grant_id);

CREATE TABLE refresh_tokens (
	hash       TEXT PRIMARY KEY,
	client_id  TEXT NOT NULL,
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	scope      TEXT NOT NULL,
	audiences  TEXT NOT NULL,
	grant_id   TEXT NOT NULL,
	auth_time  INTEGER NOT NULL,
	issued_at  INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	used       INTEGER NOT NULL DEFAULT 0,
	revoked    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX refresh_tokens_grant ON refresh_tokens (grant_id);

CREATE TABLE signing_keys (
	id         TEXT PRIMARY KEY,
	pem        BLOB NOT NULL,
	created_at INTEGER NOT NULL
);
