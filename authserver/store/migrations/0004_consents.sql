-- The scopes each user granted each client on the consent page, so that
-- consent is asked once per client and scope.

CREATE TABLE consents (
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	client_id  TEXT NOT NULL,
	scope      TEXT NOT NULL,
	granted_at INTEGER NOT NULL,
	PRIMARY KEY (user_id, client_id)
);
