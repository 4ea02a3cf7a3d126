-- The shared policy: every revision of the policy text, newest last.
-- Appending revision n needs n-1 to be the newest: the compare-and-set
-- replicas changing the policy at once rely on.
CREATE TABLE policies (
	seq        BIGINT PRIMARY KEY,
	hash       TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	created_by TEXT NOT NULL,
	source     BYTEA NOT NULL
);
