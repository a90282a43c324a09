-- A signing key is retired once every token it signed has expired. The
-- row stays, so its ID is never reused, but its private key is erased.
-- retired_at is Unix nanoseconds, 0 while the key is published.

ALTER TABLE signing_keys ADD COLUMN retired_at INTEGER NOT NULL DEFAULT 0;
