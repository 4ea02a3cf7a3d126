-- Sessions' taint flags, shared by replicas: one row per source (what set
-- a flag, and when), its JSON in body. Rows older than the flags' life
-- are pruned.
CREATE TABLE session_flags (
	session TEXT NOT NULL,
	flag    TEXT NOT NULL,
	at      TEXT NOT NULL, -- UTC, fixed width, as events.time
	body    BLOB NOT NULL
);
CREATE INDEX session_flags_session ON session_flags (session, at);
CREATE INDEX session_flags_at ON session_flags (at);
