-- Access tokens of the client credentials grant belong to no user, so
-- access_tokens.user_id becomes nullable (NULL for those tokens). SQLite
-- cannot change a column's constraints in place, so the table is rebuilt.

CREATE TABLE access_tokens_new (
	hash       TEXT PRIMARY KEY,
	client_id  TEXT NOT NULL,
	user_id    TEXT REFERENCES users (id) ON DELETE CASCADE,
	scope      TEXT NOT NULL,
	audiences  TEXT NOT NULL,
	grant_id   TEXT NOT NULL,
	issued_at  INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	revoked    INTEGER NOT NULL DEFAULT 0
);
INSERT INTO access_tokens_new (hash, client_id, user_id, scope, audiences, grant_id, issued_at, expires_at, revoked)
	SELECT hash, client_id, user_id, scope, audiences, grant_id, issued_at, expires_at, revoked FROM access_tokens;
DROP TABLE access_tokens;
ALTER TABLE access_tokens_new RENAME TO access_tokens;
CREATE INDEX access_tokens_grant ON access_tokens (grant_id);
