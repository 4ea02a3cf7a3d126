-- Human approvals: one row per approval, its JSON in body. The columns
-- beside it are copies the queries need; version is the compare-and-set
-- key every update names.
CREATE TABLE approvals (
	id         TEXT PRIMARY KEY,
	status     TEXT NOT NULL,
	call_hash  TEXT NOT NULL,
	session    TEXT NOT NULL,
	created_at TEXT NOT NULL, -- UTC, fixed width, as events.time
	expires_at TEXT NOT NULL,
	version    INTEGER NOT NULL,
	body       BLOB NOT NULL
);
-- At most one pending approval per call: replicas asked for the same call
-- at once share one approval instead of asking operators twice.
CREATE UNIQUE INDEX approvals_pending_call ON approvals (call_hash) WHERE status = 'pending';
CREATE INDEX approvals_status ON approvals (status, created_at);
CREATE INDEX approvals_status_expiry ON approvals (status, expires_at);
CREATE INDEX approvals_session ON approvals (session, created_at);
CREATE INDEX approvals_created ON approvals (created_at);

-- Grants: a shape of call allowed in a session until expires_at.
CREATE TABLE grants (
	id          TEXT PRIMARY KEY,
	session     TEXT NOT NULL,
	tool        TEXT NOT NULL,
	shape       TEXT NOT NULL,
	approval_id TEXT NOT NULL,
	created_at  TEXT NOT NULL,
	expires_at  TEXT NOT NULL,
	body        BLOB NOT NULL
);
CREATE INDEX grants_lookup ON grants (session, tool, shape, expires_at);
