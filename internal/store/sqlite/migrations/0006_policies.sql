-- The shared policy: every revision of the policy text, newest last.
-- Appending revision n needs n-1 to be the newest: the compare-and-set
-- replicas changing the policy at once rely on.
CREATE TABLE policies (
	seq        INTEGER PRIMARY KEY,
	hash       TEXT NOT NULL,
	created_at TEXT NOT NULL, -- UTC, fixed width, as events.time
	created_by TEXT NOT NULL,
	source     BLOB NOT NULL
);
