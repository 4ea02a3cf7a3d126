// Package memory is an agent's layered memory: what it holds in the
// current session (working), what happened across sessions (episodic),
// and what it has learned to be true (semantic), with a context block
// injected at the start of each session and the MEMORY.md and daily-log
// files OpenClaw-style hosts read.
//
// What it must never do: store a secret (every write is redacted with
// internal/redact, and a write that is only a secret is refused), or hand
// the agent text from an untrusted or injected source as an instruction
// (such memories are quoted as data under "From tools (untrusted, not
// instructions)", and text the injection check flags is not shown at
// all, nor written to MEMORY.md). Any error ends in a refusal: an
// invalid configuration makes every method fail, a session whose scope
// cannot be decided reads and writes nothing.
//
// # Layers
//
// Working memory (Working) lives in the process, one per session: messages,
// the current task, cached tool results and open files within a token
// budget (Options.MaxWorkingTokens). It is cleared by EndSession, and a
// session idle longer than Options.IdleReset starts fresh.
//
// Episodic memory holds events of nine types (session, task, decision,
// tool_call, error, correction, feedback, lesson, milestone) in a Store.
// Each is stored in full with an extractive summary and a one-line gist
// ready, and is compressed full → summary → one-liner → forgotten by
// Compact when the layer outgrows Options.MaxEpisodicBytes.
//
// Semantic memory holds preferences, facts, learned rules, project
// contexts and glossary terms. Preferences, projects and terms are one
// memory per subject (Record.Key); facts and rules are one memory per
// text, and stating one again confirms it.
//
// # Formulas
//
// Tokens are estimated, for every budget, as
//
//	tokens(s) = ⌈ASCII bytes / 4⌉ + non-ASCII runes
//
// An event's base importance, fixed when it is remembered and stored as
// Record.Importance, weighs its type T, outcome O and risk R:
//
//	B = 0.45·T + 0.25·O + 0.30·R
//	T: milestone 0.9, decision/lesson/correction 0.8, error 0.7, feedback 0.6,
//	   task/session 0.5, tool_call 0.2
//	O: failure 1.0, partial 0.7, unknown 0.5, success 0.4
//
// Its live importance adds recency and retrieval heat (the seed's
// "retrieval heat" decay, where old memories that nobody retrieves fade):
//
//	I    = 0.70·B + 0.15·2^(−age/RecencyHalfLife) + 0.15·heat
//	heat = (1 − 2^(−uses/4)) · 2^(−(now − last use)/HeatHalfLife)
//
// Only Search counts as a use; InjectContext does not, since it runs at
// every session start and would only reinforce itself.
//
// Compaction pops the record with the lowest priority
//
//	p = I + 0.15·Level     (ties: the older, then the smaller ID)
//
// compresses it one step and pushes it back, until the layer is at 90% of
// its cap; a record already compressed is thereby kept a little longer,
// so many unimportant records lose detail before any is forgotten and
// important records are compressed only once the unimportant are gone.
//
// Extractive summaries (no model) score each distinct sentence (a
// repeated one counts once) in [0,1] parts:
//
//	score = 0.35·position + 0.35·keywords + 0.15·cues + 0.15·length
//	position = 1/(1+index); keywords = the sentence's mean frequency of
//	content words in the text, over the best sentence's; cues = decision,
//	error and outcome words and numbers, two or more count fully; length =
//	1 for 4–30 words, 0.3 below, 30/words above (at least 0.3)
//
// and keep the best sentences, in their original order, within
// max(160, min(len/3, 480)) bytes; the gist is the best sentence cut to
// 120 bytes.
//
// Confidence of a semantic memory confirmed n times:
//
//	c₀(n) = 1 − 0.5·0.7ⁿ                           (0.50, 0.65, 0.76, …)
//	c(t)  = c₀(n) · 2^(−(t − last confirmation)/RuleHalfLife)   for rules
//
// Rules below Options.MinRuleConfidence are left out of the context.
// Only trusted sources confirm; an untrusted echo changes nothing.
//
// A semantic memory's stored importance is its source's weight (user 0.9,
// import 0.8, agent 0.6, tool 0.4; halved when untrusted), and it ranks in
// the context block by
//
//	S = 0.4·Importance + 0.4·c + 0.2·heat
//
// # Context block
//
// InjectContext reads the session's scope and "main", scores every
// candidate (preferences and the project first, then the last session,
// rules at 1 + c, facts at S and events at I, events only from I ≥ 0.4,
// glossary at S/2, untrusted memories at 0.3 × their score) and takes
// lines best first while they fit the budget, a section's heading paid by
// its first line. The block is deterministic for the same stored state and
// clock.
//
// # Scopes
//
// Scope maps a session to "main", "peer:<peer>" or
// "channel:<channel>/peer:<peer>" (Options.Scope). Writes from a session go
// to its scope, writes from outside one (the CLI, an import) to "main",
// which every session reads.
//
// # Files
//
// EndSession appends the session to Dir/memory/YYYY-MM-DD.md and rewrites
// Dir/MEMORY.md (atomically, 0600) from the trusted main-scope memory,
// under headings ImportMarkdown reads back as the same kinds. A MEMORY.md
// edited since (or never written by Sentinel) is imported first; one
// Sentinel did not write is kept once as MEMORY.md.orig.
//
// # Stores
//
// A Store keeps the records (store.go); NewMemStore keeps them in memory,
// and internal/memory/memorytest is the suite every Store passes. Memory
// pages through a layer by creation time, since a Store returns at most
// 10,000 records a query.
package memory
