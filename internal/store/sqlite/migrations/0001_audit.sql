-- The audit chain: one row per sealed event. seq is the rowid, so the
-- single-column indexes below also order by seq within a value.
CREATE TABLE events (
	seq         INTEGER PRIMARY KEY,
	hash        TEXT NOT NULL,
	prev_hash   TEXT NOT NULL,
	time        TEXT NOT NULL, -- UTC, fixed width: 2006-01-02T15:04:05.000000000Z
	event_id    TEXT NOT NULL,
	type        TEXT NOT NULL,
	decision_id TEXT NOT NULL,
	session     TEXT NOT NULL,
	agent       TEXT NOT NULL,
	tool        TEXT NOT NULL,
	kind        TEXT NOT NULL,
	action      TEXT NOT NULL,
	risk        REAL NOT NULL,
	verify      TEXT NOT NULL,
	body        BLOB NOT NULL
);
-- Every index costs each append a B-tree insert (measured: six indexes
-- cut raw insert throughput by about a third). Time (ranges, retention),
-- session and decision_id (a decision's outcome events) are indexed; agent,
-- tool and action filters scan backwards by seq, which suits "the latest
-- N" queries and stays linear otherwise.
CREATE INDEX events_time ON events (time);
CREATE INDEX events_session ON events (session);
CREATE INDEX events_decision_id ON events (decision_id);

-- Signed checkpoints, including the anchor a pruned chain starts from.
CREATE TABLE checkpoints (
	seq  INTEGER PRIMARY KEY,
	hash TEXT NOT NULL,
	body BLOB NOT NULL
);

-- The end of the chain. It outlives the records it names, so pruning
-- every record keeps the chain's place.
CREATE TABLE audit_head (
	id   INTEGER PRIMARY KEY CHECK (id = 1),
	seq  INTEGER NOT NULL,
	hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');
