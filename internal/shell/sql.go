package shell

import (
	"strings"
)

// DestructiveSQL reports whether sql contains a statement that destroys
// data: DROP TABLE/DATABASE/SCHEMA/…, TRUNCATE, DELETE or UPDATE without a
// WHERE clause, ALTER … DROP, Redis FLUSHALL/FLUSHDB, MongoDB
// dropDatabase()/drop() and Cypher DETACH DELETE without WHERE. code
// names the kind: "drop", "truncate", "delete_without_where",
// "update_without_where", "alter_drop", "flush", "drop_database".
//
// Comments and string literals are ignored, so "SELECT 'DROP TABLE x'"
// is not destructive. The scan is bounded by the input length.
func DestructiveSQL(sql string) (code string, ok bool) {
	if len(sql) > 1<<20 {
		sql = sql[:1<<20]
	}
	lower := strings.ToLower(sql)
	// MongoDB shell.
	if strings.Contains(lower, ".dropdatabase(") {
		return "drop_database", true
	}
	if strings.Contains(lower, ".drop()") || strings.Contains(lower, ".deletemany({})") || strings.Contains(lower, ".remove({})") {
		return "drop", true
	}
	for _, stmt := range splitStatements(stripSQL(sql)) {
		toks := strings.Fields(strings.ToUpper(stmt))
		if len(toks) == 0 {
			continue
		}
		// Skip EXPLAIN and WITH … prefixes conservatively: look at the
		// first keyword that starts a data statement.
		first := toks[0]
		switch first {
		case "DROP":
			if len(toks) > 1 {
				switch toks[1] {
				case "DATABASE", "SCHEMA":
					return "drop_database", true
				case "TABLE", "VIEW", "INDEX", "COLLECTION", "KEYSPACE", "USER", "ROLE", "MATERIALIZED", "TEMPORARY", "TRIGGER", "FUNCTION", "PROCEDURE", "SEQUENCE", "TYPE", "EXTENSION", "OWNED", "CONSTRAINT":
					return "drop", true
				}
			}
		case "TRUNCATE":
			return "truncate", true
		case "DELETE":
			if !hasWord(toks, "WHERE") {
				return "delete_without_where", true
			}
		case "UPDATE":
			if !hasWord(toks, "WHERE") {
				return "update_without_where", true
			}
		case "ALTER":
			if hasWord(toks, "DROP") {
				return "alter_drop", true
			}
		case "FLUSHALL", "FLUSHDB":
			return "flush", true
		case "MATCH", "OPTIONAL":
			if (hasWord(toks, "DELETE") || hasWord(toks, "DETACH")) && !hasWord(toks, "WHERE") && !strings.Contains(stmt, "{") {
				return "delete_without_where", true
			}
		}
	}
	return "", false
}

// stripSQL removes comments and the contents of string literals.
func stripSQL(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '-' && i+1 < len(s) && s[i+1] == '-', c == '#':
			for i < len(s) && s[i] != '\n' {
				i++
			}
			b.WriteByte('\n')
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return b.String()
			}
			i += end + 3
			b.WriteByte(' ')
		case c == '\'' || c == '"' || c == '`':
			q := c
			j := i + 1
			for j < len(s) && s[j] != q {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			if q == '\'' {
				b.WriteString("''")
			} else {
				// Quoted identifiers keep their text.
				if j <= len(s) {
					b.WriteString(s[i+1 : min(j, len(s))])
				}
			}
			i = j
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func splitStatements(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ';' })
}
