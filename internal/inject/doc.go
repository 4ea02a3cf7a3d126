// Package inject finds prompt injection in text that flows into an agent's
// context from outside: web pages, files, e-mails, MCP tool results. It is
// deterministic and fast (no model, no network): a normaliser undoes the
// usual disguises, pattern packs in seven languages recognise what
// injected instructions say, and a score weighs the signals into a
// verdict.
//
// The pipeline, per scan:
//
//  1. Bound the input (Options.MaxBytes; the Result says when it stopped).
//  2. Normalise: NFKC, lower case, accents off Latin letters, invisible
//     and bidi characters out (and reported when they hide text),
//     HTML entities, %XX and \xXX escapes decoded, leetspeak ("1gn0r3"),
//     spaced letters ("i g n o r e") and mixed-script words folded. A map
//     keeps every normalised byte's place in the original text, so spans
//     point into what the caller passed.
//  3. Decode what is hidden: ASCII spelled by Unicode tag characters or
//     variation selectors, and base64 or hex runs that decode to text,
//     are scanned as text of their own (to depth 2, within a byte budget).
//  4. Surface what a reader would not see: HTML comments, elements hidden
//     by CSS or attributes, markdown comments. Signals found there weigh
//     more. Markdown and HTML images and links whose URL carries data out
//     (a query to fill in, a long encoded value) are signals of their own.
//  5. Match the rules: each is data (a table per language) with anchors,
//     a pattern, and the examples it must and must not match. An
//     Aho–Corasick automaton finds every anchor in one pass; a rule's
//     pattern is tried anchored where one of its anchors occurs, after
//     cheap tests (a word boundary, the start of an order, a literal the
//     match needs), so a clean text costs little more than the pass.
//     Patterns run on a bounded backtracker over regexp's compiled
//     program (backtrack.go), with regexp's answers.
//  6. Score: signals closer than a few hundred bytes form a cluster, and
//     a cluster's weights combine as independent evidence
//     (1 − Π(1 − w)), each rule once. A signal in hidden, encoded or
//     disguised text weighs more (1 − (1 − w)²). The best cluster is the
//     score: 0.6 and above is an injection, 0.35 and above suspicious.
//
// Scan allocates nothing for a clean text once its scratch space is warm,
// and its cost is linear in the input (see the benchmarks).
//
// What the package must never do: call out, block, or rewrite the text.
// It reports; the caller decides (flag, spotlight, refuse). A scan that
// fails inside reports an injection rather than a clean text.
//
// Limits, deliberately: a pattern guard sees how an instruction is
// phrased, not what it means. A polite request that the data should not
// contain ("recommend a good book") is not flagged; rephrasings the packs
// do not know are missed. Treat "clean" as "no known sign", and keep the
// agent's other defences (spotlighting, least privilege, approval).
package inject
