-- Agent memory: one row per memory.Record, every field a column.
-- PostgreSQL keeps times to the microsecond; the *_ns columns hold the
-- nanoseconds beyond (0–999), so that records come back as they were put
-- and order and filter to the nanosecond, as in SQLite.
CREATE TABLE memory (
	id                 TEXT PRIMARY KEY,
	layer              TEXT NOT NULL,
	kind               TEXT NOT NULL,
	scope              TEXT NOT NULL,
	agent              TEXT NOT NULL,
	session            TEXT NOT NULL,
	key                TEXT NOT NULL,
	text               TEXT NOT NULL,
	summary            TEXT NOT NULL,
	one_line           TEXT NOT NULL,
	level              SMALLINT NOT NULL,
	importance         DOUBLE PRECISION NOT NULL,
	confidence         DOUBLE PRECISION NOT NULL,
	confirmations      BIGINT NOT NULL,
	uses               BIGINT NOT NULL,
	source_kind        TEXT NOT NULL,
	source_tool        TEXT NOT NULL,
	source_trusted     BOOLEAN NOT NULL,
	source_session     TEXT NOT NULL,
	source_decision_id TEXT NOT NULL,
	created            TIMESTAMPTZ NOT NULL,
	created_ns         SMALLINT NOT NULL,
	updated            TIMESTAMPTZ NOT NULL,
	updated_ns         SMALLINT NOT NULL,
	last_used          TIMESTAMPTZ NOT NULL,
	last_used_ns       SMALLINT NOT NULL,
	-- The words of what the record remembers at its level and of its
	-- subject. Summary and one-liner are extracts of the text: every word
	-- they hold is found through it. The 'simple' configuration
	-- lower-cases words and neither stems nor drops stop words, so text
	-- in any language is indexed as written.
	search             TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple', text || ' ' || key)) STORED
);
-- Lists without text come out by importance then recency: a scope's
-- records (what an agent recalls), a layer's (compression and forgetting
-- sweeps). A semantic record is found by its subject; retention and
-- time windows read created.
CREATE INDEX memory_scope ON memory (scope, layer, importance DESC, created DESC, created_ns DESC);
CREATE INDEX memory_layer ON memory (layer, importance DESC, created DESC, created_ns DESC);
CREATE INDEX memory_subject ON memory (layer, scope, kind, key);
CREATE INDEX memory_created ON memory (created, created_ns);
CREATE INDEX memory_search ON memory USING GIN (search);
