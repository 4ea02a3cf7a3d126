-- Agent memory: one row per memory.Record, every field a column. n is
-- the rowid, aliased so that VACUUM keeps it: the full-text index below
-- refers to rows by it.
CREATE TABLE memory (
	n                  INTEGER PRIMARY KEY,
	id                 TEXT NOT NULL UNIQUE,
	layer              TEXT NOT NULL,
	kind               TEXT NOT NULL,
	scope              TEXT NOT NULL,
	agent              TEXT NOT NULL,
	session            TEXT NOT NULL,
	key                TEXT NOT NULL,
	text               TEXT NOT NULL,
	summary            TEXT NOT NULL,
	one_line           TEXT NOT NULL,
	level              INTEGER NOT NULL,
	importance         REAL NOT NULL,
	confidence         REAL NOT NULL,
	confirmations      INTEGER NOT NULL,
	uses               INTEGER NOT NULL,
	source_kind        TEXT NOT NULL,
	source_tool        TEXT NOT NULL,
	source_trusted     INTEGER NOT NULL,
	source_session     TEXT NOT NULL,
	source_decision_id TEXT NOT NULL,
	created            TEXT NOT NULL, -- UTC, fixed width, as events.time
	updated            TEXT NOT NULL,
	last_used          TEXT NOT NULL
);
-- Lists without text come out by importance then recency: a scope's
-- records (what an agent recalls), a layer's (compression and forgetting
-- sweeps). A semantic record is found by its subject; retention and
-- time windows read created.
CREATE INDEX memory_scope ON memory (scope, layer, importance DESC, created DESC);
CREATE INDEX memory_layer ON memory (layer, importance DESC, created DESC);
CREATE INDEX memory_subject ON memory (layer, scope, kind, key);
CREATE INDEX memory_created ON memory (created);

-- The full-text index covers a record's subject and what it remembers at
-- its level (key and text). Summary and one-liner are not indexed: they
-- are extracts of the text, so every word they hold is found through it,
-- and indexing them again made the index a third larger and ranking
-- slower (measured: p99 of ranked searches 13 ms of CPU with them, 9 ms
-- without, over 110,000 records).
--
-- It holds no copy of the text (external content): it reads the memory
-- table, and the triggers keep it in step. unicode61 with
-- remove_diacritics 2 folds case and accents ("Café" matches "cafe") in
-- any script. No prefix indexes: queries quote whole words.
CREATE VIRTUAL TABLE memory_fts USING fts5(
	key, text,
	content = 'memory', content_rowid = 'n',
	tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER memory_fts_insert AFTER INSERT ON memory BEGIN
	INSERT INTO memory_fts (rowid, key, text) VALUES (new.n, new.key, new.text);
END;
CREATE TRIGGER memory_fts_delete AFTER DELETE ON memory BEGIN
	INSERT INTO memory_fts (memory_fts, rowid, key, text) VALUES ('delete', old.n, old.key, old.text);
END;
-- Only a change of the indexed text re-indexes the row: TouchMemory,
-- which runs on every retrieval, leaves the index alone.
CREATE TRIGGER memory_fts_update AFTER UPDATE OF key, text ON memory BEGIN
	INSERT INTO memory_fts (memory_fts, rowid, key, text) VALUES ('delete', old.n, old.key, old.text);
	INSERT INTO memory_fts (rowid, key, text) VALUES (new.n, new.key, new.text);
END;
