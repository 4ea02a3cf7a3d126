-- The memory context reads each kind of a scope best first (preferences,
-- rules, facts, …; sessions); memory_scope alone made it read the whole
-- layer of the scope and drop the other kinds row by row.
CREATE INDEX memory_kind ON memory (scope, layer, kind, importance DESC, created DESC, created_ns DESC);
