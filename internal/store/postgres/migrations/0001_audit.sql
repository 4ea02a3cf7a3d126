-- The audit chain: one row per sealed event. Tables are created in the
-- store's schema, which the connection's search_path names.
CREATE TABLE events (
	seq         BIGINT PRIMARY KEY,
	hash        TEXT NOT NULL,
	prev_hash   TEXT NOT NULL,
	time        TIMESTAMPTZ NOT NULL, -- microsecond precision
	event_id    TEXT NOT NULL,
	type        TEXT NOT NULL,
	decision_id TEXT NOT NULL,
	session     TEXT NOT NULL,
	agent       TEXT NOT NULL,
	tool        TEXT NOT NULL,
	kind        TEXT NOT NULL,
	action      TEXT NOT NULL,
	risk        DOUBLE PRECISION NOT NULL,
	verify      TEXT NOT NULL,
	body        BYTEA NOT NULL
);
-- Each filter index ends in seq, so that a filtered page comes out in
-- seq order without sorting.
CREATE INDEX events_time ON events (time);
CREATE INDEX events_session ON events (session, seq);
CREATE INDEX events_agent ON events (agent, seq);
CREATE INDEX events_tool ON events (tool, seq);
CREATE INDEX events_action ON events (action, seq);
CREATE INDEX events_decision_id ON events (decision_id);

-- Signed checkpoints, including the anchor a pruned chain starts from.
CREATE TABLE checkpoints (
	seq  BIGINT PRIMARY KEY,
	hash TEXT NOT NULL,
	body BYTEA NOT NULL
);

-- The end of the chain, and the lock every writer takes (SELECT … FOR
-- UPDATE) before reading it. It outlives the records it names, so pruning
-- every record keeps the chain's place.
CREATE TABLE audit_head (
	id   INTEGER PRIMARY KEY CHECK (id = 1),
	seq  BIGINT NOT NULL,
	hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');
