package redact

import (
	"encoding/base64"
	"hash/crc32"
	"math"
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// verifier refines or rejects a match. m holds the submatch indexes of the
// rule's pattern in s and [start, end) the default secret span (the first
// capture group that took part). It returns the span to redact.
type verifier func(s string, m []int, start, end int) (int, int, bool)

// entropy is the Shannon entropy of s in bits per byte.
func entropy(s string) float64 {
	if s == "" {
		return 0
	}
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	n := float64(len(s))
	h := 0.0
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

// placeholderMarks are substrings that only documentation, templates and
// earlier redaction put into a credential-shaped value. Each is unlikely
// enough in random base64 (at most one in 10^9 per position) that a real
// key of a few kilobytes is not mistaken for a placeholder.
var placeholderMarks = []string{
	"xxxxxx", "****", "####", "•••", "...", "…", "example", "redacted", "placeholder",
	"your-", "your_", "your ", "yourapi", "yourkey", "yourtoken", "yoursecret", "yourpass",
	"changeme", "replaceme", "replace_me", "replace-me", "insert", "<", ">", "${", "{{", "}}",
}

// looksLikePlaceholder reports whether a credential-shaped value is a
// documentation placeholder rather than a secret. It applies to every rule.
func looksLikePlaceholder(secret string) bool {
	if publicKeys[secret] {
		return true
	}
	l := strings.ToLower(secret)
	for _, p := range placeholderMarks {
		if strings.Contains(l, p) {
			return true
		}
	}
	return false
}

// sequential reports whether s was typed rather than generated: it holds a
// run of six or more consecutive letters or digits, up or down and ignoring
// case (abcdef, 123456, 7890, ZYXWVU), or at least half of its neighbouring
// pairs are such steps (AbCeFG123, abcd1234). In random base62 a run of six
// starts at a given position about once in 6*10^7, so a real key of a few
// hundred bytes is almost never taken for filler.
//
// Only the context rules that judge a bare value (valueOK) apply it. A
// value in a provider's own format (xoxb-123456789012-…, the team id
// counts up) or assigned under the provider's name keeps its finding:
// there the format is the evidence, and gitleaks' examples use such
// filler as real keys.
func sequential(s string) bool {
	longest, steps := countSteps(s)
	return longest >= 6 || steps >= 4 && 2*steps >= len(s)-1
}

// mostlySequential is the weaker test of sequential: at least half of the
// neighbouring pairs are counting steps. It suits rules with stronger
// evidence than a key name, where one run (…AbCdEf…) in an otherwise
// random value is not enough to drop it.
func mostlySequential(s string) bool {
	_, steps := countSteps(s)
	return steps >= 4 && 2*steps >= len(s)-1
}

// countSteps returns the longest run of counting steps in s (in bytes)
// and the number of neighbouring pairs that are steps.
func countSteps(s string) (longest, steps int) {
	if len(s) < 2 {
		return len(s), 0
	}
	up, down := 1, 1
	longest = 1
	for i := 1; i < len(s); i++ {
		a, b := foldTable[s[i-1]], foldTable[s[i]]
		if succ(a) == b && b != 0 {
			up++
			steps++
		} else {
			up = 1
		}
		if succ(b) == a && a != 0 {
			down++
			steps++
		} else {
			down = 1
		}
		longest = max(longest, up, down)
	}
	return longest, steps
}

// mixedCaseHex reports whether s is hex digits written in both cases
// (acdeFf05…). Encoders write hex in one case, so such a value was typed
// or edited by hand. A random base62 token of 16 bytes or more consists of
// hex digits alone less than once in 10^7.
func mixedCaseHex(s string) bool {
	if len(s) < 16 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isHexByte(s[i]) {
			return false
		}
	}
	return hasUpper(s) && hasLower(s)
}

func isHexByte(b byte) bool {
	return b >= '0' && b <= '9' || b >= 'a' && b <= 'f' || b >= 'A' && b <= 'F'
}

// succ is the byte after a lower-case letter or digit in counting order
// (9 wraps to 0, as in 1234567890), or 0.
func succ(c byte) byte {
	switch {
	case c == '9':
		return '0'
	case c >= '0' && c < '9', c >= 'a' && c < 'z':
		return c + 1
	}
	return 0
}

// publicKeys are credential-shaped values published as examples or shipped
// in public clients on purpose; they grant nothing a reader of the
// documentation does not already have.
var publicKeys = set(
	// AWS documentation examples.
	"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	// Example and test keys in the Firebase Android SDK
	// (github.com/firebase/firebase-android-sdk), copied into many apps.
	"AIzaSyabcdefghijklmnopqrstuvwxyz1234567",
	"AIzaSyAnLA7NfeLquW1tJFpx_eQCxoX-oo6YyIs", "AIzaSyCkEhVjf3pduRDt6d1yKOMitrUEke8agEM",
	"AIzaSyDMAScliyLx7F0NPDEJi1QmyCgHIAODrlU", "AIzaSyD3asb-2pEZVqMkmL6M9N6nHZRR_znhrh0",
	"AIzayDNSXIbFmlXbIE6mCzDLQAqITYefhixbX4A", "AIzaSyAdOS2zB6NCsk1pCdZ4-P6GBdi_UUPwX7c",
	"AIzaSyASWm6HmTMdYWpgMnjRBjxcQ9CKctWmLd4", "AIzaSyANUvH9H9BsUccjsu2pCmEkOPjjaXeDQgY",
	"AIzaSyA5_iVawFQ8ABuTZNUdcwERLJv_a_p4wtM", "AIzaSyA4UrcGxgwQFTfaI3no3t7Lt1sjmdnP5sQ",
	"AIzaSyDSb51JiIcB6OJpwwMicseKRhhrOq1cS7g", "AIzaSyBF2RrAIm4a0mO64EShQfqfd2AFnzAvvuU",
	"AIzaSyBcE-OOIbhjyR83gm4r2MFCu4MJmprNXsw", "AIzaSyB8qGxt4ec15vitgn44duC5ucxaOi4FmqE",
	"AIzaSyA8vmApnrHNFE0bApF4hoZ11srVL_n0nvY",
	// The search-only Algolia key of the public npm package index, used by
	// yarn and many package browsers (github.com/yarnpkg/berry/issues/6201).
	"6fe4476ee5a1832882e326b506d14126",
)

// weakValues are values that name a credential instead of being one.
var weakValues = set(
	"password", "passwd", "pass", "pwd", "secret", "token", "apikey", "api_key", "api-key",
	"key", "changeme", "test", "testing", "user", "username", "root", "admin", "none", "null", "nil",
	"true", "false", "undefined", "empty", "string", "str", "required", "optional", "yes",
	"no", "on", "off", "xxx", "yyy", "zzz", "foo", "bar", "baz", "abc", "123", "1234",
	"12345", "123456", "secret123", "password123", "mypassword", "mysecret", "value",
	"default", "bearer", "basic", "env", "var", "hidden", "masked", "omitted", "unset",
)

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// isReference reports whether v refers to a secret kept elsewhere (an
// environment variable, a template, a file) instead of containing it.
func isReference(v string) bool {
	if v == "" {
		return true
	}
	switch v[0] {
	case '$':
		return len(v) == 1 || isIdentStart(v[1]) || v[1] == '{' || v[1] == '(' || v[1] == '$' || (v[1] >= '0' && v[1] <= '9')
	case '%':
		return strings.Count(v, "%") >= 2 && v[len(v)-1] == '%'
	case '[':
		return v[len(v)-1] == ']'
	case '{':
		return strings.HasPrefix(v, "{{")
	case '#':
		return strings.HasPrefix(v, "#{")
	}
	return strings.Contains(v, "${") || strings.Contains(v, "$(") || strings.Contains(v, "{{")
}

func isIdentStart(b byte) bool {
	return b == '_' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

func isIdentByte(b byte) bool {
	return isIdentStart(b) || b >= '0' && b <= '9'
}

// isCodePath reports whether an unquoted value reads as a variable, a
// dotted member path (var.db_password, settings.SECRET, os.environ) or a
// name with slash-separated parts (TestList/pagination in go test output,
// vault/prod) rather than a literal.
func isCodePath(v string) bool {
	if v == "" || !isIdentStart(v[0]) {
		return false
	}
	dot, digit := false, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '.' || c == '/':
			if i == len(v)-1 || v[i-1] == '.' || v[i-1] == '/' {
				return false
			}
			dot = true
		case c >= '0' && c <= '9':
			digit = true
		case isIdentByte(c):
		default:
			return false
		}
	}
	return dot || !digit
}

// looksLikePath reports whether v is a file path or a URL.
func looksLikePath(v string) bool {
	if strings.Contains(v, "://") {
		return true
	}
	p := strings.TrimLeft(v, "~.")
	return strings.HasPrefix(p, "/") && strings.Count(p, "/") >= 2 && !strings.ContainsAny(p, "+=")
}

func hasDigit(s string) bool { return strings.ContainsAny(s, "0123456789") }
func hasLower(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r >= 'a' && r <= 'z' })
}
func hasUpper(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r >= 'A' && r <= 'Z' })
}
func hasLetter(s string) bool { return hasLower(s) || hasUpper(s) }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// mixedCase accepts secrets with both upper- and lower-case letters, which
// random tokens have and identifiers of one case do not.
func mixedCase(s string, _ []int, start, end int) (int, int, bool) {
	v := s[start:end]
	return start, end, hasUpper(v) && hasLower(v)
}

// mixedAlnum accepts secrets with upper case, lower case and digits.
func mixedAlnum(s string, _ []int, start, end int) (int, int, bool) {
	v := s[start:end]
	return start, end, hasUpper(v) && hasLower(v) && hasDigit(v)
}

// randomTail accepts secrets whose part after the first skip bytes holds
// both a letter and a digit and is not mostly counting steps.
func randomTail(skip int) verifier {
	ld := letterAndDigit(skip)
	return func(s string, m []int, start, end int) (int, int, bool) {
		start, end, ok := ld(s, m, start, end)
		return start, end, ok && !mostlySequential(s[start+skip:end])
	}
}

// letterAndDigit accepts secrets whose part after the first skip bytes
// holds both a letter and a digit.
func letterAndDigit(skip int) verifier {
	return func(s string, _ []int, start, end int) (int, int, bool) {
		if end-start <= skip {
			return start, end, false
		}
		v := s[start+skip : end]
		return start, end, hasLetter(v) && hasDigit(v)
	}
}

// pemBody accepts a private key block only when it holds key material (a
// run of base64), and trims the whitespace a truncated block ends with.
func pemBody(s string, _ []int, start, end int) (int, int, bool) {
	run, best := 0, 0
	for i := start; i < end; i++ {
		if isBase64Byte(s[i]) {
			run++
			best = max(best, run)
		} else {
			run = 0
		}
	}
	if best < 40 {
		return start, end, false
	}
	for end > start {
		switch {
		case strings.ContainsRune(" \t\r\n", rune(s[end-1])):
			end--
		case end-start >= 2 && s[end-2] == '\\' && (s[end-1] == 'n' || s[end-1] == 'r'):
			end -= 2
		default:
			return start, end, true
		}
	}
	return start, end, false
}

func isBase64Byte(b byte) bool {
	return isIdentByte(b) && b != '_' || b == '+' || b == '/'
}

// kind classifies a key name.
type kind int

const (
	kindNone  kind = iota
	kindToken      // token, secret, API key: needs a random-looking value
	kindPass       // password: any literal value
)

var (
	passWords = set("password", "passwd", "pwd", "pass", "passphrase", "passcode", "pw")
	// CSRF and XSRF tokens are missing on purpose: they are bound to a
	// session and worthless without its cookie.
	tokenWords = set("token", "secret", "secrets", "credential", "credentials", "creds", "cred",
		"apikey", "apikeys", "accesskey", "secretkey", "privatekey", "authtoken", "accesstoken",
		"refreshtoken", "clientsecret", "auth", "sessionid", "sessiontoken")
	// csrfWords make a key name a CSRF token's, not a credential's.
	csrfWords = set("csrf", "xsrf", "csrftoken", "xsrftoken")
	// prepositions end the head of a compound name: keyVaultToStoreSecrets
	// names a vault, pathToSecret a path, secretForApp a secret.
	// ("in", "on" and "at" are left out: sign_in_token, add_on_secret.)
	prepositions = set("to", "for", "from", "of", "by", "with", "into")
	// a "key" preceded by one of these is not a credential.
	plainKeys = set(
		"primary", "foreign", "public", "pub", "sort", "partition", "bucket", "schema", "sequence",
		"cache", "row", "map", "object", "lookup", "registry", "i18n", "translation", "message",
		"react", "unique", "index", "dict", "hot", "short", "composite", "idempotency", "routing",
		"shard", "group", "item", "entity", "natural", "surrogate", "parent", "child", "next", "prev",
		"previous", "last", "first", "start", "end", "host", "issuer", "column", "field", "table",
		"attribute", "property", "config", "setting", "query", "param", "lang", "locale", "state",
		"label", "tag", "node", "cluster", "display", "list", "sorting", "dedup", "dedupe", "hash",
		"crypto", "s3", "file", "data", "meta", "metadata", "lock", "mutex", "redis", "kv", "json",
		"yaml", "dns", "ssh", "gpg", "pgp", "verification", "verify", "hotkey", "keyboard", "press",
		"down", "up", "event", "menu")
	// a key whose last word is one of these names something about a
	// credential, not the credential.
	descriptorWords = set(
		"id", "ids", "name", "names", "type", "types", "size", "length", "len", "count", "file",
		"files", "filename", "path", "paths", "dir", "directory", "url", "urls", "uri", "endpoint",
		"host", "env", "var", "variable", "vars", "field", "fields", "label", "prefix", "suffix",
		"format", "policy", "policies", "mode", "enabled", "enable", "disabled", "required", "expiry",
		"expires", "expiration", "expire", "expired", "ttl", "timeout", "version", "header", "headers",
		"param", "params", "parameter", "rule", "rules", "regex", "pattern", "hint", "min", "max",
		"ref", "reference", "arn", "location", "mount", "provider", "manager", "store", "method",
		"algorithm", "alg", "scheme", "style", "index", "position", "offset", "status", "state",
		"fingerprint", "kind", "class", "schema", "template", "description", "desc", "help", "text",
		"message", "msg", "title", "placeholder", "validator", "validation", "strength", "rotation",
		"reset", "changed", "updated", "created", "at", "date", "time", "duration", "lifetime",
		"limit", "usage", "used", "cost", "counter", "input", "prompt", "server", "service", "source",
		"flag", "option", "options", "exists", "valid", "invalid", "error", "errors", "err", "column",
		"table", "attr", "attribute", "property", "callback", "handler", "fn", "func", "function",
		"generator", "factory", "loader", "reader", "writer", "timestamp", "issued", "issuer",
		"audience", "scope", "scopes", "grant", "realm", "domain", "region", "zone", "request",
		"response", "result", "payload", "info", "details", "config", "cfg", "conf", "settings",
		"opts", "spec", "meta", "metadata", "list", "map", "dict", "array", "queue", "cache", "pool",
		"level", "bits", "bytes", "chars", "charset", "alphabet", "encoding", "encoder", "decoder",
		"parser", "total", "num", "check", "checker", "user", "username", "login", "email", "owner",
		"account", "role", "tab", "page", "form", "button", "link", "btn", "dialog", "modal", "view",
		"screen", "component", "route", "mock", "stub", "test", "tests", "example", "sample", "demo",
		"doc", "docs")
	publicWords = set("public", "pub", "publishable")
	// words that may follow "key" in a credential's name (secret_key_base).
	keyTails = set("value", "base", "str", "string", "data", "b64", "base64", "hex", "raw", "plain", "secret", "token")
)

// classifyKey tells whether a key name (password, aws_secret_access_key,
// X-Api-Key, mySecretString) names a credential, and which kind.
func classifyKey(key string) kind {
	words := splitWords(key)
	for i := 1; i < len(words); i++ {
		if prepositions[words[i]] {
			words = words[:i]
			break
		}
	}
	for len(words) > 0 && allDigits(words[len(words)-1]) {
		words = words[:len(words)-1]
	}
	if len(words) == 0 || descriptorWords[words[len(words)-1]] {
		return kindNone
	}
	k := kindNone
	for i, w := range words {
		if publicWords[w] || csrfWords[w] {
			return kindNone
		}
		switch {
		case passWords[w] || strings.HasSuffix(w, "password") || strings.HasSuffix(w, "passwd"):
			k = kindPass
		case k == kindPass:
		case tokenWords[w] || hasAnySuffix(w, "token", "secret", "apikey", "accesskey", "secretkey", "privatekey", "credentials"):
			k = kindToken
		case (w == "key" || w == "keys") && i > 0 && !plainKeys[words[i-1]] && (i == len(words)-1 || keyTails[words[i+1]]):
			k = kindToken
		}
	}
	return k
}

func hasAnySuffix(w string, suffixes ...string) bool {
	for _, s := range suffixes {
		if strings.HasSuffix(w, s) {
			return true
		}
	}
	return false
}

// splitWords splits an identifier into lower-case words at separators,
// case changes (apiKey, APIKey) and letter-digit boundaries.
func splitWords(s string) []string {
	var words []string
	start := -1
	flush := func(i int) {
		if start >= 0 && i > start {
			words = append(words, strings.ToLower(s[start:i]))
		}
		start = -1
	}
	cls := func(b byte) int {
		switch {
		case b >= 'a' && b <= 'z':
			return 1
		case b >= 'A' && b <= 'Z':
			return 2
		case b >= '0' && b <= '9':
			return 3
		}
		return 0
	}
	for i := 0; i < len(s); i++ {
		c := cls(s[i])
		if c == 0 {
			flush(i)
			continue
		}
		if start < 0 {
			start = i
			continue
		}
		p := cls(s[i-1])
		switch {
		case p == 1 && c == 2, (p == 3) != (c == 3):
			flush(i)
			start = i
		case p == 2 && c == 2 && i+1 < len(s) && cls(s[i+1]) == 1:
			flush(i)
			start = i
		}
	}
	flush(len(s))
	return words
}

// valueOK decides whether the value assigned to a credential-named key is
// a literal secret.
func valueOK(k kind, v string, quoted bool) bool {
	v = strings.TrimSpace(v)
	l := strings.ToLower(v)
	if weakValues[l] || isReference(v) || looksLikePath(v) {
		return false
	}
	if !quoted && isCodePath(v) {
		return false
	}
	if sequential(v) || mixedCaseHex(v) {
		return false
	}
	switch k {
	case kindPass:
		return len(v) >= 4
	case kindToken:
		if len(v) < 8 || strings.ContainsAny(v, " \t") || allDigits(v) || entropy(v) < minEntropy(len(v)) || strings.HasSuffix(v, "..") {
			return false
		}
		for _, w := range []string{"token", "secret", "password", "apikey", "api_key", "api-key"} {
			if strings.Contains(l, w) {
				return false
			}
		}
		return hasDigit(v) || len(v) >= 16 && hasUpper(v) && hasLower(v)
	}
	return false
}

// minEntropy is the entropy a random token of n bytes comfortably exceeds;
// short tokens cannot reach the 3 bits a long one does.
func minEntropy(n int) float64 {
	if n < 20 {
		return 2.75
	}
	return 3
}

// keyedValue verifies key/value matches: group 1 is the key, the first
// other group that took part is the value. Group unquoted (0 for none)
// holds a value written without quotes. With extend, the key is grown to
// the left over identifier bytes: the pattern starts at the credential
// word (secret in my_secret_key) so that it is tried only there.
func keyedValue(unquoted int, extend bool) verifier {
	return func(s string, m []int, _, _ int) (int, int, bool) {
		ks, ke := m[2], m[3]
		if ks < 0 {
			return 0, 0, false
		}
		if extend {
			ks = extendKey(s, ks, 80)
		}
		g := 4
		for ; g+1 < len(m); g += 2 {
			if m[g] >= 0 {
				break
			}
		}
		if g+1 >= len(m) {
			return 0, 0, false
		}
		vs, ve := m[g], m[g+1]
		quoted := unquoted == 0 || g/2 != unquoted
		if !quoted && vs > 0 && s[vs-1] == ':' {
			return 0, 0, false // key:value without a space reads as a name (group:artifact, host:port)
		}
		k := classifyKey(s[ks:ke])
		if k == kindNone || !valueOK(k, s[vs:ve], quoted) {
			return 0, 0, false
		}
		vs, ve = trimSpan(s, vs, ve)
		return vs, ve, vs < ve
	}
}

// trimSpan drops surrounding white space from s[start:end].
func trimSpan(s string, start, end int) (int, int) {
	for start < end && (s[start] == ' ' || s[start] == '\t') {
		start++
	}
	for end > start && (s[end-1] == ' ' || s[end-1] == '\t') {
		end--
	}
	return start, end
}

// plainValue rejects references and weak values in contexts where the
// key is already known to hold a credential (a --password flag, a URL's
// password, an Authorization header).
func plainValue(s string, _ []int, start, end int) (int, int, bool) {
	start, end = trimSpan(s, start, end)
	v := s[start:end]
	l := strings.ToLower(v)
	if v == "" || weakValues[l] || isReference(v) || strings.Trim(v, "*") == "" {
		return start, end, false
	}
	return start, end, true
}

// schemeWords are Authorization schemes; a header holding only a scheme
// has no credential.
var schemeWords = set("bearer", "basic", "token", "api-token", "apikey", "api-key", "digest",
	"ssws", "sso-key", "key", "negotiate", "ntlm", "hmac", "otp", "session", "bot", "dpop")

func authValue(s string, m []int, start, end int) (int, int, bool) {
	if schemeWords[strings.ToLower(s[start:end])] {
		return start, end, false
	}
	return plainValue(s, m, start, end)
}

// userPass finds the password in a curl-style user:password argument. When
// the password is empty and the user part is random-looking, the user part
// is the credential (an API key passed as the user name).
func userPass(s string, _ []int, start, end int) (int, int, bool) {
	arg := s[start:end]
	c := strings.IndexByte(arg, ':')
	if c < 0 {
		return start, end, false
	}
	us, ue := trimQuotes(s, start, start+c)
	ps, pe := trimQuotes(s, start+c+1, end)
	user, pass := s[us:ue], s[ps:pe]
	if pass == "" {
		if len(user) >= 10 && entropy(user) >= 3.2 && !isReference(user) && hasDigit(user) {
			return us, ue, true
		}
		return start, end, false
	}
	if allDigits(user) && allDigits(pass) {
		return start, end, false // uid:gid
	}
	if looksLikePlaceholder(pass) {
		return start, end, false
	}
	return plainValue(s, nil, ps, pe)
}

// trimQuotes narrows [start, end) past surrounding quote characters.
func trimQuotes(s string, start, end int) (int, int) {
	for start < end && (s[start] == '"' || s[start] == '\'') {
		start++
	}
	for end > start && (s[end-1] == '"' || s[end-1] == '\'') {
		end--
	}
	return start, end
}

// k8sData accepts an indented "name: base64" line only inside a data:
// block of a Kubernetes Secret, and only for well-formed base64.
func k8sData(s string, m []int, _, _ int) (int, int, bool) {
	vs, ve := m[6], m[7]
	v := s[vs:ve]
	if len(v)%4 != 0 || len(v) < 8 {
		return 0, 0, false
	}
	// A value of a few bytes (bar, admin) is a name or a flag, not a
	// credential.
	if dec, err := base64.StdEncoding.DecodeString(v); err != nil || len(strings.TrimSpace(string(dec))) < 6 {
		return 0, 0, false
	}
	indent := m[3] - m[2]
	lineStart := m[2]
	// Look back a bounded distance: a data: block of a few dozen entries is
	// found, and a hostile text of many lines costs a constant per line.
	for n := 0; n < 64 && lineStart > 0 && m[2]-lineStart < 8192; n++ {
		prevEnd := lineStart - 1 // the '\n' before the line
		prevStart := strings.LastIndexByte(s[:prevEnd], '\n') + 1
		line := strings.TrimRight(s[prevStart:prevEnd], " \t\r")
		lineStart = prevStart
		body := strings.TrimLeft(line, " \t")
		if body == "" || body[0] == '#' {
			continue
		}
		if len(line)-len(body) >= indent {
			continue
		}
		return vs, ve, body == "data:"
	}
	return 0, 0, false
}

// signatureKeys are query parameters that carry a request signature or a
// session credential under a name classifyKey does not know.
var signatureKeys = set("sig", "signature", "x-amz-signature", "x-amz-security-token",
	"x-goog-signature", "x-goog-credential", "code_verifier", "client_assertion")

// queryValue verifies a URL query parameter (?access_token=…).
func queryValue(s string, m []int, _, _ int) (int, int, bool) {
	if m[2] == 0 || !strings.ContainsRune("?&;", rune(s[m[2]-1])) {
		return 0, 0, false
	}
	key, vs, ve := s[m[2]:m[3]], m[4], m[5]
	k := classifyKey(key)
	if signatureKeys[strings.ToLower(key)] {
		k = kindToken
	}
	if k == kindNone || !valueOK(k, s[vs:ve], false) {
		return 0, 0, false
	}
	return vs, ve, true
}

// xmlValue verifies <add key="…Password" value="…"/> and
// <password>…</password>.
func xmlValue(s string, m []int, _, _ int) (int, int, bool) {
	kg, vg := 2, 4
	ks := m[2]
	if ks < 0 {
		kg, vg = 6, 8
		if m[kg] < 0 {
			return 0, 0, false
		}
		ks = extendKey(s, m[kg], 40)
		if ks == 0 || s[ks-1] != '<' {
			return 0, 0, false
		}
	}
	if m[vg] < 0 {
		return 0, 0, false
	}
	k := classifyKey(s[ks:m[kg+1]])
	if k == kindNone || !valueOK(k, s[m[vg]:m[vg+1]], true) {
		return 0, 0, false
	}
	vs, ve := trimSpan(s, m[vg], m[vg+1])
	return vs, ve, vs < ve
}

// cliValue verifies command-line credentials: curl's -u user:password, a
// --password or --token flag, mysql -pSECRET and sshpass -p.
func cliValue(s string, m []int, start, end int) (int, int, bool) {
	if s[m[0]] == '-' && m[0] > 0 && !strings.ContainsRune(" \t\r\n'\"", rune(s[m[0]-1])) {
		return 0, 0, false // a flag starts a word
	}
	if m[2] >= 0 {
		return userPass(s, m, start, end)
	}
	if m[6] >= 0 && !mysqlCommand(s, m[0]) {
		return start, end, false // -pVALUE is a password only for the MySQL clients
	}
	return plainValue(s, m, start, end)
}

// mysqlCommand reports whether the -p flag at i belongs to a mysql,
// mysqldump or mysqladmin command on the same line.
func mysqlCommand(s string, i int) bool {
	line := s[max(0, i-200):i]
	if nl := strings.LastIndexAny(line, "\n|;&"); nl >= 0 {
		line = line[nl+1:]
	}
	for _, w := range strings.Fields(line) {
		w = w[strings.LastIndexByte(w, '/')+1:]
		switch w {
		case "mysql", "mysqldump", "mysqladmin", "mysqlsh", "mariadb", "mariadb-dump":
			return true
		}
	}
	return false
}

// afterDelimiter accepts a match that starts the text or follows a quote,
// white space or punctuation that delimits values.
func afterDelimiter(s string, m []int, start, end int) (int, int, bool) {
	if m[0] > 0 && !strings.ContainsRune("\\'\"`>=:(,) \t\r\n", rune(s[m[0]-1])) {
		return start, end, false
	}
	return start, end, true
}

// notAfterLetter rejects a match that begins inside a word (rookTable is
// not Okta).
func notAfterLetter(s string, m []int, start, end int) (int, int, bool) {
	if m[0] > 0 && (s[m[0]-1] >= 'a' && s[m[0]-1] <= 'z' || s[m[0]-1] >= 'A' && s[m[0]-1] <= 'Z') {
		return start, end, false
	}
	return start, end, true
}

// extendKey moves a key's start left over at most limit identifier bytes.
func extendKey(s string, start, limit int) int {
	for n := 0; n < limit && start > 0; n++ {
		c := s[start-1]
		if !isIdentByte(c) && c != '.' && c != '-' && c != ':' {
			break
		}
		start--
	}
	return start
}

// jwtShape accepts a header.payload[.signature] token whose payload is
// also base64url JSON (it starts with "ey").
func jwtShape(s string, _ []int, start, end int) (int, int, bool) {
	parts := strings.Split(s[start:end], ".")
	return start, end, len(parts) >= 2 && len(parts[1]) >= 8 && strings.HasPrefix(parts[1], "ey")
}

// assignmentAhead reports whether the key name at q is followed, past
// closing quotes or brackets and blanks, by an assignment operator or a
// comma, as the generic rule's pattern requires.
func assignmentAhead(s string, q int) bool {
	i := q
	for i < len(s) && (isIdentByte(s[i]) || s[i] == '.' || s[i] == '-') {
		i++
	}
	for n := 0; n < 4 && i < len(s) && strings.IndexByte(`'"\])`, s[i]) >= 0; n++ {
		i++
	}
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i < len(s) && strings.IndexByte(":=?,", s[i]) >= 0
}

// xmlAhead reports whether the name at q can open an XML element (it is
// followed by white space or '>') or is the <add key=… form.
func xmlAhead(s string, q int) bool {
	if s[q] == '<' {
		return true
	}
	i := q
	for i < len(s) && (isIdentByte(s[i]) || strings.IndexByte(".-:", s[i]) >= 0) {
		i++
	}
	return i < len(s) && (s[i] == '>' || s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')
}

// userinfoAhead reports whether the URL whose scheme starts at q has a
// user:password@ part: after "://", a ':' and then an '@' before the
// authority ends.
func userinfoAhead(s string, q int) bool {
	i := strings.Index(s[q:min(len(s), q+40)], "://")
	if i < 0 {
		return false
	}
	colon := false
	for i += q + 3; i < len(s); i++ {
		switch s[i] {
		case ':':
			colon = true
		case '@':
			return colon
		case ' ', '\t', '\r', '\n', '/', '?', '#', '\'', '"', '<', '>':
			return false
		}
	}
	return false
}

// windowFor is the attempt window of a rule: room for its longest match
// and the byte before it when that is bounded, else rule.window or
// defaultWindow.
func windowFor(r *rule, re *syntax.Regexp) int {
	if n := maxLen(re); n >= 0 && n+utf8.UTFMax < defaultWindow {
		return max(64, n+utf8.UTFMax)
	}
	if r.window > 0 {
		return r.window
	}
	return defaultWindow
}

// maxLen is the longest text in bytes that re can match, or -1 when that
// is unbounded.
func maxLen(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary, syntax.OpNoMatch:
		return 0
	case syntax.OpLiteral:
		n := 0
		for _, r := range re.Rune {
			n += utf8.RuneLen(r)
		}
		return n
	case syntax.OpCharClass:
		n := 1
		for i := 1; i < len(re.Rune); i += 2 {
			n = max(n, utf8.RuneLen(re.Rune[i]))
		}
		return n
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return utf8.UTFMax
	case syntax.OpCapture, syntax.OpQuest:
		return maxLen(re.Sub[0])
	case syntax.OpStar, syntax.OpPlus:
		return -1
	case syntax.OpRepeat:
		n := maxLen(re.Sub[0])
		if n < 0 || re.Max < 0 {
			return -1
		}
		return n * re.Max
	case syntax.OpConcat, syntax.OpAlternate:
		total := 0
		for _, sub := range re.Sub {
			n := maxLen(sub)
			if n < 0 {
				return -1
			}
			if re.Op == syntax.OpConcat {
				total += n
			} else {
				total = max(total, n)
			}
		}
		return total
	}
	return -1
}

// literalPrefix is the case-sensitive literal every match of re starts
// with, after leading assertions such as \b; "" when there is none.
func literalPrefix(re *syntax.Regexp) string {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return ""
		}
		return string(re.Rune)
	case syntax.OpCapture:
		return literalPrefix(re.Sub[0])
	case syntax.OpConcat:
		var b strings.Builder
		for _, sub := range re.Sub {
			switch sub.Op {
			case syntax.OpWordBoundary, syntax.OpBeginText, syntax.OpBeginLine:
				if b.Len() == 0 {
					continue
				}
			case syntax.OpLiteral:
				if p := literalPrefix(sub); p != "" {
					b.WriteString(p)
					continue
				}
			case syntax.OpCapture:
				b.WriteString(literalPrefix(sub))
			}
			return b.String()
		}
		return b.String()
	}
	return ""
}

// base62CRC reports whether a GitHub (ghp_, gho_, ghu_, ghs_) or npm
// (npm_) token ends in its check digits: the CRC32 of the random part
// after the prefix, as six base62 digits (0-9A-Za-z) padded with zeros.
func base62CRC(token string) bool {
	body := token[strings.LastIndexByte(token, '_')+1:]
	if len(body) <= 6 {
		return false
	}
	var n uint64
	for i := len(body) - 6; i < len(body); i++ {
		d := strings.IndexByte(base62Digits, body[i])
		if d < 0 {
			return false
		}
		n = n*62 + uint64(d)
	}
	return n == uint64(crc32.ChecksumIEEE([]byte(body[:len(body)-6])))
}

const base62Digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// withCRC appends check digits to a token's random part, as GitHub and
// npm do; the rule examples use it to build tokens that pass base62CRC.
func withCRC(prefix, random string) string {
	n := crc32.ChecksumIEEE([]byte(random))
	var d [6]byte
	for i := 5; i >= 0; i-- {
		d[i] = base62Digits[n%62]
		n /= 62
	}
	return prefix + random + string(d[:])
}

// base64JWT accepts a base64-encoded JSON Web Token (ZXlK… is "eyJ"
// encoded again), as Kubernetes secrets and CI variables hold them.
func base64JWT(s string, _ []int, start, end int) (int, int, bool) {
	v := strings.TrimRight(s[start:end], "=")
	dec, err := base64.RawStdEncoding.DecodeString(v[:len(v)/4*4])
	if err != nil {
		return start, end, false
	}
	d := string(dec)
	return start, end, jwtParts(d)
}

// jwtParts reports whether t starts as header.payload with both parts
// base64url JSON objects.
func jwtParts(t string) bool {
	dot := strings.IndexByte(t, '.')
	return strings.HasPrefix(t, "eyJ") && dot > 8 && len(t) > dot+8 && strings.HasPrefix(t[dot+1:], "eyJ")
}

// lineStartValue accepts a configuration line's value (.npmrc, .netrc)
// only when its key starts a line, follows white space, or follows the
// ':' of a registry-scoped npm key (//registry.npmjs.org/:_authToken).
func lineStartValue(s string, m []int, start, end int) (int, int, bool) {
	if q := m[0]; q > 0 && !strings.ContainsRune(" \t\r\n:", rune(s[q-1])) {
		return start, end, false
	}
	return plainValue(s, m, start, end)
}
