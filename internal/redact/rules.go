package redact

import (
	"strings"
	"sync"
)

// rule describes one credential type. Rules are data: adding a type means
// adding an entry here with the examples it must and must not match
// (TestRuleExamples runs them all).
type rule struct {
	id string
	// keywords are lower-case literals, found ignoring ASCII case. The
	// pattern is tried only where one occurs, so unless scan is set a
	// match must start at a keyword (or at most backMax bytes before it).
	keywords []string
	// pattern is an RE2 expression. The secret is the first capture group
	// that took part in the match, or the whole match.
	pattern string
	// entropy is the minimum Shannon entropy of the secret in bits per
	// byte; it rejects placeholders such as ghp_000…0. Zero disables it.
	entropy float64
	// scan runs the pattern over the whole input once a keyword occurs.
	// Otherwise (the default) the pattern is anchored where a keyword
	// starts, after stepping back over at most backMax bytes from back, so
	// a rule costs one short match attempt per keyword occurrence.
	scan    bool
	back    string
	backMax int
	// window, when set, is the initial attempt window of a rule whose
	// match length is unbounded. Every unbounded part of such a pattern
	// must be able to end the match, so that a match cut by the window
	// reaches its end and is retried on more text.
	window int
	// run, when set, makes keyword occurrences inside one run of these
	// bytes equivalent: only the first is tried. It suits rules whose
	// pattern consumes the rest of such a run (a key name) at any start.
	run string
	// rank orders overlapping findings: 0 for a credential recognised by
	// its own format, 1 for a credential recognised by its context (a URL
	// password, an Authorization header), 2 for a generic assignment.
	rank int
	// precheck, when set, is a cheap test at an attempt's offset that
	// must hold for the pattern to match there; it only saves time.
	precheck func(s string, q int) bool
	// verify, when set, refines or rejects each match.
	verify verifier
	// checksum, when set, recognises a secret whose check digits are
	// right (GitHub's and npm's CRC32). Such a secret is certain: the
	// entropy and placeholder checks are skipped. A secret whose check
	// digits are wrong still goes through them, because a corrupted or
	// hand-made copy of a token is redacted like any other.
	checksum func(secret string) bool
	// hits must each be found by this rule; misses must not be.
	hits, misses []string
}

// Random-looking bodies for the examples. They are spliced with prefixes
// at run time so that this file holds no literal token of any real format.
const (
	rA = "u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8dKLzdocJ2isAjIhKtJ0RlgLKOmxgJTeKdNnFRIBXuDL7DxtpYlSXpfKtHF4vUCsMehGAkWvj7FAc9QeWJKY40uvSwMFLZDe1f8rESQedUStPKR0CsTy4Qwb8DwkNh"
	rH = "f16947ccf25ec84d8dbc74254770f58904dba41ecccc3fc1626e53a13043b026c48bbf33feff9243a8f506b40928b5b7a767c76fb008f86bebb2737f6a6f0fb23c6f5da2cec255404e4fb440034d6608"
	rL = "ns6puq80idw3706i8j76b2lajlj4h9du7794g9dpmrcg629be2u66mr26846p7q9m2i0hz2uep1enthjxjqi3ogz5kok16zv0mwufxbv932byv7s6ehogfqrclri1qzj865ufrdl1erbfqfoeqh3av90ric7phkq"
	rU = "DLMTT7NS26LRWBQCAB69M64P2G158Z6TNOVMIZWDIAEQ1KDFY6SPSC3LKR2AQXV9UPCTNWLAVYF4R6MP"
	rB = "alHlsZfYcMMDktXP/tKsf2rcDkdfrUnW5gcF+Ha6ili8GjHEAD6/Wj9KfzjsQGMrb9h+ImB+LK777pzNk8cL6j5IXAAjlsHUqJoUD/+Ydua+5ZMs1SWOpQaPRYpzbLGViYXjU2JgJngKtFI3OyV2dZAkg05rK+gqv81RKMGHZEM9YpvujA/C5Q52ryFlwRlOEVHzc0X0AWIRh/JUqBlIFXZ53Ncqe28+ajY75FnCttn6kfaqDeMqG3omjMyXHCabM6JOF8EFd0Nhcy/1kGD2VD/eR1UYzaLiA/zNyD7CHLn/"
	rD = "9237609260309260026751125328704655721014"
	rZ = "fwAhJWnywXtZBfdTEmxICmuxVEbOApZOXzcycDeZdqmVeMvxrvNcqVTSurtaUWMZOebogETDXyYqBFiF"
	// uuid is a random version-4 UUID.
	uuid = "3f8e2a71-9c4b-4d2e-b6a5-0e7f1c9d8b34"
)

// Byte sets for rule.back.
const (
	digits      = "0123456789"
	hexLower    = digits + "abcdef"
	alnum       = digits + "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	identBytes  = alnum + "_.-"
	schemeBytes = alnum + "+.-"
)

// tb ends a token whose last character may be '-' or '=' where \b cannot:
// the next byte is not a token byte, or the text ends.
const tb = `(?:[^A-Za-z0-9_\-+/=]|$)`

// pemKey is a PEM private key block, redacted whole. A block without its
// END line (truncated output) is redacted up to the end of its body.
const pemKey = `-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----(?:(?s:.*?)-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----|(?:[A-Za-z0-9+/=\s]|\\[rn]|[A-Za-z-]{3,20}: [^\r\n\\]*)*)`

// Value alternatives shared by the key/value rules: double, single and
// back quoted (group per form), then unquoted.
const (
	dq = `\\?"([^"\r\n]+?)(?:\\?"|$)`
	sq = `'([^'\r\n]+)(?:'|$)`
	bq = "`([^`\\r\\n]+)(?:`|$)"
	uq = `([^\s'"` + "`" + `;,<>(){}\[\]\\&|]+)`
)

// builtinRules is the rule table: credentials recognised by their format
// or their context, then the vendor context rules (vendors.go). It is
// built when first used: the vendor rules' patterns allocate ~600 KB,
// which every process that never redacts (a hook answering a PreToolUse)
// would pay at start.
var builtinRules = sync.OnceValue(func() []rule { return append(coreRules, vendorRules()...) })

var coreRules = []rule{
	// Private keys and key files.
	{
		id:       "private-key",
		keywords: []string{"-----begin"},
		pattern:  pemKey,
		verify:   pemBody,
		hits: []string{
			"-----BEGIN RSA PRIVATE KEY-----\n" + rB[:64] + "\n" + rB[64:128] + "\n-----END RSA PRIVATE KEY-----",
			`{"private_key": "-----BEGIN PRIVATE KEY-----\n` + rB[:64] + `\n-----END PRIVATE KEY-----\n"}`,
			"cat id_ed25519\n-----BEGIN OPENSSH PRIVATE KEY-----\n" + rB[:70] + "\n" + rB[70:90],
			"-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n" + rB[:64] + "\n=8xQN\n-----END PGP PRIVATE KEY BLOCK-----",
		},
		misses: []string{
			"-----BEGIN PRIVATE KEY-----\nanything\n-----END PRIVATE KEY-----",
			"-----BEGIN OPENSSH PRIVATE KEY----------END OPENSSH PRIVATE KEY-----",
			"-----BEGIN PUBLIC KEY-----\n" + rB[:64] + "\n-----END PUBLIC KEY-----",
			`grep -r "BEGIN RSA PRIVATE KEY" .`,
		},
	},
	{
		id:       "private-key-base64",
		keywords: []string{"ls0tls1crudjti"},
		pattern:  `LS0tLS1CRUdJTi[A-Za-z0-9+/]*?(?:UFJJVkFURSBLRV|BSSVZBVEUgS0VZ|UklWQVRFIEtF)[A-Za-z0-9+/]{40,}={0,2}`,
		hits: []string{
			"tls.key: LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQo" + rA[:60],
			"LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JSUV2" + rA[:50],
		},
		misses: []string{"tls.crt: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUR4RENDQXF5Z0F" + rA[:40]},
	},
	{
		id:       "putty-private-key",
		keywords: []string{"private-lines:"},
		pattern:  `Private-Lines: \d+\r?\n((?:[A-Za-z0-9+/=]+\r?\n?)+)`,
		hits:     []string{"PuTTY-User-Key-File-3: ssh-ed25519\nPrivate-Lines: 1\n" + rB[:48] + "\nPrivate-MAC: " + rH[:64]},
		misses:   []string{"Private-Lines: see the PuTTY manual"},
	},
	{
		id:       "age-secret-key",
		keywords: []string{"age-secret-key-1"},
		pattern:  `\b(AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})\b`,
		hits:     []string{"# created: 2024\nAGE-SECRET-KEY-1" + "0GH7YQ7SWV77EFWFCQY2ZNP37CMEUGHXZGLDSMN6CK6W4P325XD3J8Y779"},
		misses:   []string{"AGE-SECRET-KEY-1" + "ABC", "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"},
	},

	// Cloud providers.
	{
		id:       "aws-access-key",
		keywords: []string{"akia", "asia", "abia", "acca", "a3t"},
		pattern:  `\b((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b`,
		entropy:  3,
		hits:     []string{"aws_access_key_id = AKIA" + "Z4QXH7N2KD5LW3YB", "ASIA" + "Q2W3E4R5T6Y7U2I3"},
		misses:   []string{"aws_access_key_id = AKIAIOSFODNN7EXAMPLE", "key = AKIAXXXXXXXXXXXXXXXX", "TODAYINASIAASACKOFRICEFELLOVER"},
	},
	{
		id:       "aws-secret-key",
		keywords: []string{"aws"},
		pattern:  `(?i)aws[a-z0-9_.-]{0,30}?secret[a-z0-9_.-]{0,30}['"\]]{0,2}[ \t]*(?:[:=]{1,2}|=>)[ \t]*['"]?([a-z0-9/+]{40})(?:[^a-z0-9/+=]|$)`,
		entropy:  3.5,
		hits:     []string{"aws_secret_access_key = " + rB[40:80], `"AwsSecretKey": "` + rB[100:140] + `"`},
		misses:   []string{"aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws_secret_access_key = " + rB[:20]},
	},
	{
		id:       "aws-bedrock-api-key",
		keywords: []string{"absk", "bedrock-api-key-"},
		pattern:  `\b(ABSK[A-Za-z0-9+/]{100,}={0,2}|bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t[A-Za-z0-9+/]*={0,2})` + tb,
		entropy:  3,
		hits:     []string{"ABSK" + rB[:132] + "=", "bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29tLz9BY3Rpb249" + rB[:40]},
		misses:   []string{"ABSK" + "QmVkcm9ja0FQSUtleS1", "bedrock-api-key-"},
	},
	{
		id:       "gcp-api-key",
		keywords: []string{"aiza"},
		pattern:  `\b(AIza[A-Za-z0-9_-]{35})` + tb,
		entropy:  3,
		hits:     []string{"key=AIza" + rA[:35], "AIza" + rA[40:74] + "-"},
		misses:   []string{`apiKey: "AIzaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"`, "AIza" + rA[:20]},
	},
	{
		id:       "gcp-private-key-id",
		keywords: []string{`"private_key_id"`},
		pattern:  `"private_key_id"\s*:\s*"([a-f0-9]{40})"`,
		entropy:  3,
		hits:     []string{`"private_key_id": "` + rH[:40] + `"`},
		misses:   []string{`"private_key_id": ""`},
	},
	{
		id:       "google-oauth-secret",
		keywords: []string{"gocspx-"},
		pattern:  `\b(GOCSPX-[A-Za-z0-9_-]{28})` + tb,
		entropy:  3,
		hits:     []string{`"client_secret":"GOCSPX-` + rA[:28] + `"`},
		misses:   []string{"GOCSPX-" + rA[:10]},
	},
	{
		id:       "google-oauth-token",
		keywords: []string{"ya29.", "1//0"},
		pattern:  `\b(ya29\.[A-Za-z0-9_-]{30,}|1//0[A-Za-z0-9_-]{40,})` + tb,
		entropy:  3.5,
		hits:     []string{"Authorization: Bearer ya29." + rA[:80], `"refresh_token": "1//0` + rA[:60] + `"`},
		misses:   []string{"ya29.short", "http://host/1//0000000000000000000000000000000000000000000000"},
	},
	{
		id:       "azure-storage-key",
		keywords: []string{"accountkey", "sharedaccesskey"},
		pattern:  `(?i)\b(?:AccountKey|SharedAccessKey)[ \t]*=[ \t]*([A-Za-z0-9+/]{30,}={0,2})`,
		entropy:  3.5,
		hits: []string{
			"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=" + rB[:86] + "==;EndpointSuffix=core.windows.net",
			"Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=" + rB[:43] + "=",
		},
		misses: []string{"AccountKey=<storage-key>", "SharedAccessKeyName=RootManageSharedAccessKey"},
	},
	{
		id:       "azure-sas-token",
		keywords: []string{"sig="},
		pattern:  `[?&]sig=([A-Za-z0-9%+/]{40,}(?:%3[Dd]|=){0,2})`,
		back:     "?&",
		backMax:  1,
		entropy:  3.5,
		hits:     []string{"https://acct.blob.core.windows.net/c/b?sv=2022-11-02&se=2030-01-01&sp=r&sig=" + rA[:43] + "%3D"},
		misses:   []string{"https://example.net/page?sig=abc"},
	},
	{
		id:       "azure-ad-client-secret",
		keywords: []string{"q~"},
		pattern:  `([a-zA-Z0-9_~.]{3}\dQ~[a-zA-Z0-9_~.-]{31,34})(?:$|[\\'"` + "`" + `\s<),])`,
		back:     alnum + "_~.",
		backMax:  4,
		verify:   afterDelimiter,
		entropy:  3,
		hits:     []string{"client_secret=" + "bP88Q~" + rA[:34], `"secret": "` + "Ab.7Q~" + rA[50:81] + `"`},
		misses:   []string{"client_secret=bP88Q~xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~"},
	},
	{
		id:       "digitalocean-token",
		keywords: []string{"dop_v1_", "doo_v1_", "dor_v1_"},
		pattern:  `\b(do[opr]_v1_[a-f0-9]{64})\b`,
		entropy:  3,
		hits:     []string{"DIGITALOCEAN_TOKEN=dop_v1_" + rH[:64]},
		misses:   []string{"dop_v1_" + rH[:20]},
	},
	{
		id:       "heroku-api-key",
		keywords: []string{"hrku-", "heroku"},
		pattern:  `\b(HRKU-AA[A-Za-z0-9_-]{58})` + tb + `|(?i)heroku[a-z0-9_ .,-]{0,25}['"]?[ \t]*(?:[:=]{1,2}|=>)[ \t]*['"]?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b`,
		entropy:  3,
		hits:     []string{"HEROKU_API_KEY=" + uuid, "export TOKEN=HRKU-AA" + rA[:58]},
		misses:   []string{"heroku apps:info --app my-app", "HRKU-AA" + rA[:10]},
	},
	{
		id:       "alibaba-access-key",
		keywords: []string{"ltai"},
		pattern:  `\b(LTAI[A-Za-z0-9]{20})\b`,
		entropy:  3,
		hits:     []string{"accessKeyId: LTAI" + rA[:20]},
		misses:   []string{"LTAI" + rA[:8]},
	},
	{
		id:       "yandex-token",
		keywords: []string{"aqvn", "t1."},
		pattern:  `\b(AQVN[A-Za-z0-9_-]{35,38}|t1\.[A-Za-z0-9_-]{1,100}={0,2}\.[A-Za-z0-9_-]{86}={0,2})` + tb,
		entropy:  3,
		hits:     []string{"YC_API_KEY=AQVN" + rA[:36], "t1.9euelZq" + "." + rA[:86]},
		misses:   []string{"AQVN" + rA[:5], "t1.small instance"},
	},

	// Source hosting and CI.
	{
		id:       "github-pat",
		keywords: []string{"ghp_"},
		pattern:  `\b(ghp_[A-Za-z0-9]{36})\b`,
		entropy:  3,
		checksum: base62CRC,
		hits: []string{
			"GITHUB_TOKEN=ghp_" + rA[:36], "https://ghp_" + rA[36:72] + "@github.com/o/r.git",
			// Right check digits make a token certain even when its random
			// part reads like filler.
			"GITHUB_TOKEN=" + withCRC("ghp_", "abcdefgh"+rA[:22]),
		},
		misses: []string{"ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "ghp_" + rA[:20]},
	},
	{
		id:       "github-oauth",
		keywords: []string{"gho_"},
		pattern:  `\b(gho_[A-Za-z0-9]{36})\b`,
		entropy:  3,
		checksum: base62CRC,
		hits:     []string{"oauth_token: gho_" + rA[5:41], withCRC("gho_", rA[50:80])},
		misses:   []string{"gho_" + "000000000000000000000000000000000000"},
	},
	{
		id:       "github-app-token",
		keywords: []string{"ghu_", "ghs_"},
		pattern:  `\b(gh[us]_[A-Za-z0-9]{36})\b`,
		entropy:  3,
		checksum: base62CRC,
		hits:     []string{"ghs_" + rA[10:46], "ghu_" + rA[20:56], withCRC("ghs_", rA[60:90])},
		misses:   []string{"ghs_" + rA[:35] + "_x"},
	},
	{
		id:       "github-refresh-token",
		keywords: []string{"ghr_"},
		pattern:  `\b(ghr_[A-Za-z0-9]{36,})\b`,
		entropy:  3,
		hits:     []string{"refresh: ghr_" + rA[30:66]},
		misses:   []string{"ghr_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},
	},
	{
		id:       "github-fine-grained-pat",
		keywords: []string{"github_pat_"},
		pattern:  `\b(github_pat_[A-Za-z0-9_]{80,90})\b`,
		entropy:  3,
		hits:     []string{"github_pat_" + rA[:22] + "_" + rA[22:81]},
		misses:   []string{"github_pat_xxxxxxxxxxxxxxxxxxxxxx_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},
	},
	{
		id:       "gitlab-pat",
		keywords: []string{"glpat-"},
		pattern:  `\b(glpat-[A-Za-z0-9_-]{20,}(?:\.[A-Za-z0-9]{2,20})?)` + tb,
		entropy:  3,
		hits:     []string{"PRIVATE-TOKEN: glpat-" + rA[:20], "glpat-" + rA[:27] + ".01" + rL[:7]},
		misses:   []string{"glpat-XXXXXXXXXXX-XXXXXXXX", "glpat-" + rA[:8]},
	},
	{
		id:       "gitlab-token",
		keywords: []string{"glptt-", "glrt-", "gldt-", "glft-", "glimt-", "gloas-", "glsoat-", "glcbt-", "glffct-", "glagent-", "glwt-", "glrtr-", "gr1348941", "_gitlab_session="},
		pattern:  `\b(gl(?:ptt|rtr?|dt|ft|imt|oas|soat|cbt|ffct|agent|wt)-[A-Za-z0-9_-]{20,}(?:\.[A-Za-z0-9]{2,20})?|GR1348941[A-Za-z0-9_-]{20})` + tb + `|_gitlab_session=([0-9a-z]{32})\b`,
		entropy:  3,
		hits:     []string{"glptt-" + rH[:40], "runner: glrt-" + rA[:20], "GR1348941" + rA[:20], "Cookie: _gitlab_session=" + rL[:32]},
		misses:   []string{"glptt-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "GR134894112312312312312312312"},
	},
	{
		id:       "atlassian-api-token",
		keywords: []string{"atatt3", "atctt3", "atbb"},
		pattern:  `\b((?:ATATT|ATCTT)3[A-Za-z0-9_=-]{150,}|ATBB[A-Za-z0-9_=.-]{28,40})` + tb,
		entropy:  3.5,
		hits:     []string{"JIRA_TOKEN=ATATT3" + rA[:150] + "=" + rH[:8], "ATBB" + rA[:32]},
		misses:   []string{"ATATT3" + rA[:20]},
	},
	{
		id:       "npm-token",
		keywords: []string{"npm_"},
		pattern:  `\b(npm_[A-Za-z0-9]{36})\b`,
		entropy:  3,
		checksum: base62CRC,
		hits:     []string{"//registry.npmjs.org/:_authToken=npm_" + rA[:36], "NPM_TOKEN=" + withCRC("npm_", rA[70:100])},
		misses:   []string{"npm_" + rA[:36] + "abc", "npm_config_cache"},
	},
	{
		id:       "pypi-token",
		keywords: []string{"pypi-ageichlwas5vcmc"},
		pattern:  `\b(pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,})` + tb,
		entropy:  3,
		hits:     []string{"password = pypi-AgEIcHlwaS5vcmc" + rA[:70]},
		misses:   []string{"pypi-AgEIcHlwaS5vcmc"},
	},
	{
		id:       "rubygems-token",
		keywords: []string{"rubygems_"},
		pattern:  `\b(rubygems_[a-f0-9]{48})\b`,
		entropy:  3,
		hits:     []string{":rubygems_api_key: rubygems_" + rH[:48]},
		misses:   []string{"rubygems_version"},
	},
	{
		id:       "clojars-token",
		keywords: []string{"clojars_"},
		pattern:  `\b(CLOJARS_[a-z0-9]{60})\b`,
		entropy:  3,
		hits:     []string{"CLOJARS_" + rL[:60]},
		misses:   []string{"CLOJARS_USERNAME"},
	},
	{
		id:       "jfrog-token",
		keywords: []string{"akcp", "cmvmd"},
		pattern:  `\b(AKCp[A-Za-z0-9]{69}|cmVmd[A-Za-z0-9]{59})\b`,
		entropy:  3.5,
		hits:     []string{"X-JFrog-Art-Api: AKCp" + rA[:69], "cmVmd" + rA[:59]},
		misses:   []string{"lowEntropy := AKCpXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"},
	},
	{
		id:       "sourcegraph-token",
		keywords: []string{"sgp_"},
		pattern:  `\b(sgp_(?:[a-fA-F0-9]{16}_|local_)?[a-fA-F0-9]{40})\b`,
		entropy:  3,
		hits:     []string{"sgp_" + rH[:40], "sgp_local_" + rH[40:80]},
		misses:   []string{"sgp_" + rH[:10] + "!" + rH[:29]},
	},
	{
		id:       "sonar-token",
		keywords: []string{"sqp_", "squ_", "sqa_", "sonar"},
		pattern:  `\b(sq[pua]_[a-zA-Z0-9]{40})\b|(?i)sonar[._-]?(?:login|token)['"]?[ \t]*(?::::?=|:?=|\?=|=>|:)[ \t]*['"]?([a-z0-9]{40})\b`,
		entropy:  3,
		hits:     []string{"SONAR_TOKEN=squ_" + rH[:40], `SONAR_LOGIN := "` + rH[40:80] + `"`},
		misses:   []string{"squ_" + rH[:12]},
	},
	{
		id:       "terraform-cloud-token",
		keywords: []string{".atlasv1."},
		pattern:  `\b([A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70})` + tb,
		back:     alnum,
		backMax:  14,
		entropy:  3.5,
		hits:     []string{`token = "` + rA[:14] + ".atlasv1." + rA[14:81] + `"`},
		misses:   []string{`token = "xxxxxxxxxxxxxx.atlasv1.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"`},
	},
	{
		id:       "vault-token",
		keywords: []string{"hvs.", "hvb.", "s."},
		pattern:  `\b(hv[sb]\.[A-Za-z0-9_-]{24,}|s\.[A-Za-z0-9]{24})` + tb,
		entropy:  3,
		verify:   mixedAlnum,
		hits:     []string{"VAULT_TOKEN=hvs." + rA[:90], "token: s." + rA[60:84]},
		misses:   []string{"s.AcceptanceTimeoutSeconds ", "s.thisstringisalllowercase", "hvs.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},
	},
	{
		id:       "pulumi-token",
		keywords: []string{"pul-"},
		pattern:  `\b(pul-[a-f0-9]{40})\b`,
		entropy:  3,
		hits:     []string{"PULUMI_ACCESS_TOKEN=pul-" + rH[:40]},
		misses:   []string{`<img src="./assets/vipul-` + rH[:40] + `.png">`},
	},
	{
		id:       "doppler-token",
		keywords: []string{"dp.pt.", "dp.st.", "dp.sa.", "dp.ct.", "dp.scim.", "dp.audit."},
		pattern:  `\b(dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44})\b`,
		entropy:  3,
		hits:     []string{"DOPPLER_TOKEN=dp.st." + rA[:43]},
		misses:   []string{"dp.st.dev"},
	},
	{
		id:       "databricks-token",
		keywords: []string{"dapi"},
		pattern:  `\b(dapi[a-f0-9]{32}(?:-\d)?)\b`,
		entropy:  3,
		hits:     []string{"DATABRICKS_TOKEN=dapi" + rH[:32], "token = dapi" + rH[32:64] + "-2"},
		misses:   []string{"DATABRICKS_TOKEN=dapi123456789012345678a9bc01234defg5"},
	},
	{
		id:       "1password-token",
		keywords: []string{"ops_eyj", "a3-"},
		pattern:  `\b(ops_eyJ[A-Za-z0-9+/=_-]{250,})` + tb + `|\b(A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5})\b`,
		entropy:  3,
		hits:     []string{"OP_SERVICE_ACCOUNT_TOKEN=ops_eyJ" + rB[:260], "A3-" + rU[:6] + "-" + rU[6:17] + "-" + rU[17:22] + "-" + rU[22:27] + "-" + rU[27:32]},
		misses:   []string{"ops_eyJzaWduSW5B..[Redacted]", "A3-XXXXXX-XXXXXXXXXXX-XXXXX-XXXXX-XXXXX"},
	},
	{
		id:       "grafana-token",
		keywords: []string{"glc_", "glsa_", "eyjrijoi"},
		pattern:  `\b(glc_[A-Za-z0-9+/]{32,}={0,2}|eyJrIjoi[A-Za-z0-9]{70,}={0,2})` + tb + `|\b(glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})\b`,
		entropy:  3,
		hits:     []string{"glc_" + rB[:80], "Bearer glsa_" + rA[:32] + "_" + rH[:8], "eyJrIjoi" + rA[:72]},
		misses:   []string{"glc_111111111111111111111111111111111111111111=", "GLC_CreateLightmapTextureArray(void)"},
	},
	{
		id:       "sentry-token",
		keywords: []string{"sntrys_", "sntryu_"},
		pattern:  `\b(sntrys_eyJ[A-Za-z0-9+/=_]{60,}|sntryu_[a-f0-9]{64})` + tb,
		entropy:  3,
		hits:     []string{"SENTRY_AUTH_TOKEN=sntrys_eyJ" + rA[:100] + "_" + rA[:43], "sntryu_" + rH[:64]},
		misses:   []string{"sntryu_" + rH[:63], "sntrys_" + rA[:100]},
	},
	{
		id:       "sentry-dsn",
		keywords: []string{"://"},
		back:     "https",
		backMax:  5,
		pattern:  `\bhttps?://([a-f0-9]{32})(?::[a-f0-9]{32})?@[A-Za-z0-9.-]*(?:sentry|ingest)[A-Za-z0-9.-]*`,
		entropy:  3,
		hits:     []string{"SENTRY_DSN=https://" + rH[:32] + "@o123.ingest.sentry.io/456"},
		misses:   []string{"https://sentry.io/organizations/acme/"},
	},

	// Chat, mail and messaging.
	{
		id:       "slack-bot-token",
		keywords: []string{"xoxb-"},
		pattern:  `\b(xoxb-[0-9]{8,14}-(?:[0-9]{8,14}-)?[A-Za-z0-9]{14,})\b`,
		entropy:  3,
		hits:     []string{"SLACK_BOT_TOKEN=xoxb-" + rD[:12] + "-" + rD[12:25] + "-" + rA[:24], "xoxb-" + rD[:12] + "-" + rA[:24]},
		misses:   []string{"xoxb-xxxxxxxxx-xxxxxxxxxx-xxxxxxxxxxxx", "xoxb-12345-abcd234", "xoxb-xoxb-my-bot-token"},
	},
	{
		id:       "slack-user-token",
		keywords: []string{"xoxp-", "xoxe-"},
		pattern:  `\b(xox[pe](?:-[0-9]{9,14}){3}-[A-Za-z0-9]{28,34})\b`,
		entropy:  3,
		hits:     []string{"xoxp-" + rD[:11] + "-" + rD[11:21] + "-" + rD[21:32] + "-" + rH[:32]},
		misses:   []string{`"token1": "xoxp-1234567890"`, "xoxp-1234-1234-1234-" + rH[:32]},
	},
	{
		id:       "slack-legacy-token",
		keywords: []string{"xoxo-", "xoxs-", "xoxa-", "xoxr-"},
		pattern:  `\b(xox[os]-\d+-\d+-\d+-[a-fA-F\d]+|xox[ar]-(?:\d-)?[A-Za-z0-9]{8,}(?:-[A-Za-z0-9]{4,}){0,4})\b`,
		entropy:  2.5,
		hits:     []string{"xoxs-" + rD[:10] + "-" + rD[10:20] + "-" + rD[20:30] + "-" + rH[:10], "xoxa-2-" + rL[:12]},
		misses:   []string{"https://github.com/xoxa-nyc/xoxa-nyc.github.io"},
	},
	{
		id:       "slack-app-token",
		keywords: []string{"xapp-"},
		pattern:  `(?i)\b(xapp-\d-[A-Z0-9]+-\d+-[a-z0-9]+)\b`,
		entropy:  3,
		hits:     []string{"SLACK_APP_TOKEN=xapp-1-A052" + rU[:7] + "-" + rD[:13] + "-" + rH[:64]},
		misses:   []string{"xapp-1-test"},
	},
	{
		id:       "slack-config-token",
		keywords: []string{"xoxe.xox", "xoxe-"},
		pattern:  `\b(xoxe\.xox[bp]-\d-[A-Za-z0-9]{100,}|xoxe-\d-[A-Za-z0-9]{100,})\b`,
		entropy:  3,
		hits:     []string{"xoxe.xoxp-1-" + rA[:150], "xoxe-1-" + rA[:146]},
		misses:   []string{"xoxe.xoxp-1-SlackAppConfigurationAccessTokenHere", "xoxe-1-xxx"},
	},
	{
		id:       "slack-webhook",
		keywords: []string{"hooks.slack.com"},
		pattern:  `hooks\.slack\.com/(?:services|workflows|triggers)/([A-Za-z0-9+/_-]{40,})`,
		entropy:  3,
		hits:     []string{"https://hooks.slack.com/services/T" + rU[:8] + "/B" + rU[8:16] + "/" + rA[:24]},
		misses:   []string{"https://hooks.slack.com/services/"},
	},
	{
		// Bot tokens have no prefix: the rule scans a text that names
		// Discord. (A token sent as "Authorization: Bot …" is the
		// auth-header rule's.)
		id:       "discord-token",
		keywords: []string{"discord"},
		scan:     true,
		pattern:  `\b([MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,40})` + tb,
		entropy:  3,
		hits:     []string{"DISCORD_TOKEN=MT" + rA[:24] + "." + rA[30:36] + "." + rA[40:78], "import discord\n\nclient.run('OD" + rA[:24] + "." + rA[30:36] + "." + rA[40:78] + "')"},
		misses:   []string{"discord=000000000000000000", "MT" + rA[:24] + "." + rA[30:36] + "." + rA[40:78]},
	},
	{
		id:       "discord-webhook",
		keywords: []string{"discord.com/api/webhooks/", "discordapp.com/api/webhooks/"},
		pattern:  `discord(?:app)?\.com/api/webhooks/\d+/([A-Za-z0-9_-]{60,80})` + tb,
		entropy:  3,
		hits:     []string{"https://discord.com/api/webhooks/" + rD[:18] + "/" + rA[:68]},
		misses:   []string{"https://discord.com/api/webhooks/" + rD[:18] + "/"},
	},
	{
		id:       "telegram-bot-token",
		keywords: []string{":a"},
		pattern:  `\b(\d{5,16}:A[A-Za-z0-9_-]{34})` + tb,
		back:     digits,
		backMax:  16,
		entropy:  3,
		hits:     []string{"TELEGRAM_BOT_TOKEN=" + rD[:10] + ":AA" + rA[:33]},
		misses:   []string{"1811:A" + rA[:34], "clm23117:AgencyIdentificationCodeContentType"},
	},
	{
		id:       "twilio-api-key",
		keywords: []string{"sk"},
		pattern:  `\b(SK[0-9a-fA-F]{32})\b`,
		entropy:  3,
		hits:     []string{"TWILIO_API_KEY=SK" + rH[:32]},
		misses:   []string{"SK" + rH[:20], "TASK" + rH[:32]},
	},
	{
		id:       "sendgrid-api-key",
		keywords: []string{"sg."},
		pattern:  `\b(SG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{16,})` + tb,
		entropy:  3,
		hits:     []string{"SENDGRID_API_KEY=SG." + rA[:22] + "." + rA[22:65]},
		misses:   []string{"SG.1.2", "ESG.corp.com"},
	},
	{
		id:       "mailgun-api-key",
		keywords: []string{"key-", "pubkey-"},
		pattern:  `\b((?:pub)?key-[a-f0-9]{32})\b`,
		entropy:  3,
		hits:     []string{"api:key-" + rH[:32], "pubkey-" + rH[32:64]},
		misses:   []string{"key-value store", "key-" + rH[:16]},
	},
	{
		id:       "mailchimp-api-key",
		keywords: []string{"-us"},
		pattern:  `\b([0-9a-f]{32}-us\d{1,2})\b`,
		back:     hexLower,
		backMax:  32,
		entropy:  3,
		hits:     []string{"MAILCHIMP_KEY=" + rH[:32] + "-us18"},
		misses:   []string{"en-us", rH[:20] + "-us1"},
	},
	{
		id:       "brevo-api-key",
		keywords: []string{"xkeysib-", "xsmtpsib-"},
		pattern:  `\b(x(?:keysib|smtpsib)-[a-f0-9]{64}-[A-Za-z0-9]{16})\b`,
		entropy:  3,
		hits:     []string{"xkeysib-" + rH[:64] + "-" + rA[:16]},
		misses:   []string{"xkeysib-" + rH[:10]},
	},
	{
		id:       "postman-api-key",
		keywords: []string{"pmak-"},
		pattern:  `\b(PMAK-[a-f0-9]{24}-[a-f0-9]{34})\b`,
		entropy:  3,
		hits:     []string{"PMAK-" + rH[:24] + "-" + rH[24:58]},
		misses:   []string{"PMAK-" + rH[:8]},
	},

	// Payments and commerce.
	{
		id:       "stripe-key",
		keywords: []string{"sk_live_", "sk_test_", "sk_prod_", "rk_live_", "rk_test_", "rk_prod_", "whsec_"},
		pattern:  `\b((?:sk|rk)_(?:live|test|prod)_[A-Za-z0-9]{10,}|whsec_[A-Za-z0-9+/=]{32,})\b`,
		entropy:  3,
		hits:     []string{"STRIPE_SECRET_KEY=sk_live_" + rA[:99], "rk_live_" + rA[:24], "whsec_" + rA[:32]},
		misses:   []string{"task_test_" + rL[:30], "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx"},
	},
	{
		id:       "square-token",
		keywords: []string{"sq0atp-", "sq0csp-", "eaaa"},
		pattern:  `\b(sq0(?:atp|csp)-[0-9A-Za-z_-]{22,}|EAAA[A-Za-z0-9_-]{60})` + tb,
		entropy:  3,
		hits:     []string{"token=sq0atp-" + rA[:22], "sq0csp-" + rA[:43], "EAAA" + rA[:60]},
		misses:   []string{"aws-cli@sha256:eaaa7b11777babe28e6133a8b19ff71cea687e0d7f05158dee95a71f76ce3d00"},
	},
	{
		id:       "shopify-token",
		keywords: []string{"shpat_", "shpca_", "shppa_", "shpss_"},
		pattern:  `\b(shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32})\b`,
		entropy:  3,
		hits:     []string{"X-Shopify-Access-Token: shpat_" + rH[:32]},
		misses:   []string{"shpat_" + rH[:16]},
	},
	{
		id:       "shippo-token",
		keywords: []string{"shippo_live_", "shippo_test_"},
		pattern:  `\b(shippo_(?:live|test)_[a-f0-9]{40})\b`,
		entropy:  3,
		hits:     []string{"shippo_live_" + rH[:40]},
		misses:   []string{"shippo_live_" + rH[:8]},
	},
	{
		id:       "easypost-api-key",
		keywords: []string{"ezak", "eztk"},
		pattern:  `\b(EZ[AT]K[A-Za-z0-9]{54})\b`,
		entropy:  3,
		hits:     []string{"EZAK" + rA[:54]},
		misses:   []string{"EZAK" + rA[:20]},
	},
	{
		id:       "facebook-access-token",
		keywords: []string{"eaa", "%7c", "0|", "1|", "2|", "3|", "4|", "5|", "6|", "7|", "8|", "9|"},
		pattern:  `\b(EAA[A-Za-z0-9]{90,}|\d{15,16}(?:\||%7[Cc])[A-Za-z0-9_-]{27,40})\b`,
		back:     digits,
		backMax:  16,
		entropy:  3,
		hits:     []string{"FACEBOOK_TOKEN=EAAM" + rA[:120], "access_token=" + rD[:16] + "|" + rA[:27]},
		misses:   []string{"eaaaC0b75a9329fded2ffa9a02b47e0117831b82", "a | b"},
	},

	// AI and data platforms.
	{
		id:       "anthropic-api-key",
		keywords: []string{"sk-ant-"},
		// API and admin keys: 93 characters and the suffix AA. OAuth and
		// session tokens (oat, ort, sid) vary in length.
		pattern: `\b(sk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_-]{93}AA|sk-ant-(?:oat|ort|sid)\d{2}-[A-Za-z0-9_-]{80,})` + tb,
		entropy: 3,
		hits:    []string{"ANTHROPIC_API_KEY=sk-ant-api03-" + rA[:93] + "AA", "sk-ant-admin01-" + rA[10:103] + "AA", "CLAUDE_CODE_OAUTH_TOKEN=sk-ant-oat01-" + rA[:95]},
		misses:  []string{"sk-ant-api03-" + rA[:40] + "AA", "sk-ant-api03-" + rA[:93] + "BB", "sk-ant-api03-" + rA[:95] + "AA"},
	},
	{
		id:       "openai-api-key",
		keywords: []string{"sk-"},
		pattern:  `\b(sk-(?:(?:proj|svcacct|admin|None)-[A-Za-z0-9_-]{40,}|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}))` + tb,
		entropy:  3,
		hits:     []string{"OPENAI_API_KEY=sk-proj-" + rA[:74] + "T3BlbkFJ" + rA[80:154], "sk-" + rA[:20] + "T3BlbkFJ" + rA[20:40]},
		misses:   []string{"sk-proj-xxxx", "sk-proj-" + rA[:10]},
	},
	{
		id:       "sk-api-key",
		keywords: []string{"sk-"},
		pattern:  `\b(sk-[A-Za-z0-9_-]{32,})` + tb,
		entropy:  3.5,
		rank:     1,
		verify:   randomTail(3),
		hits:     []string{"DEEPSEEK_API_KEY=sk-" + rH[:32], "sk-or-v1-" + rH[:64], "sk-ant-api03-" + rA[:60] + "-AbCdEfAA"},
		misses:   []string{"sk-" + rL[:16], "class=\"sk-loading-indicator-with-a-very-long-name\"", "sk-ant-api03-abc123xyz-456de-klMnopqrstuvwx-3456yza789bcde-1234fghijklmnopAA"},
	},
	{
		id:       "huggingface-token",
		keywords: []string{"hf_", "api_org_"},
		pattern:  `\b(hf_[A-Za-z]{34}|api_org_[A-Za-z]{34})\b`,
		entropy:  3.5,
		verify:   mixedCase,
		hits:     []string{"HF_TOKEN=hf_" + rZ[:34], "api_org_" + rZ[34:68]},
		misses:   []string{"- (id)hf_requiredCharacteristicTypesForDisplayMetadata;", "hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "api_org_controller"},
	},
	{
		id:       "replicate-token",
		keywords: []string{"r8_"},
		pattern:  `\b(r8_[A-Za-z0-9]{37})\b`,
		entropy:  3,
		hits:     []string{"REPLICATE_API_TOKEN=r8_" + rA[:37]},
		misses:   []string{"r8_" + rA[:10]},
	},
	{
		id:       "groq-api-key",
		keywords: []string{"gsk_"},
		pattern:  `\b(gsk_[A-Za-z0-9]{52})\b`,
		entropy:  3,
		hits:     []string{"GROQ_API_KEY=gsk_" + rA[:52]},
		misses:   []string{"gsk_" + rA[:12]},
	},
	{
		id:       "xai-api-key",
		keywords: []string{"xai-"},
		pattern:  `\b(xai-[A-Za-z0-9]{80})\b`,
		entropy:  3,
		hits:     []string{"XAI_API_KEY=xai-" + rA[:80]},
		misses:   []string{"xai-sdk"},
	},
	{
		id:       "perplexity-api-key",
		keywords: []string{"pplx-"},
		pattern:  `\b(pplx-[A-Za-z0-9]{48})\b`,
		entropy:  3,
		hits:     []string{"pplx-" + rA[:48]},
		misses:   []string{"PERPLEXITY_API_KEY=pplx-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},
	},
	{
		id:       "langsmith-api-key",
		keywords: []string{"lsv2_"},
		pattern:  `\b(lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10})\b`,
		entropy:  3,
		hits:     []string{"LANGSMITH_API_KEY=lsv2_pt_" + rH[:32] + "_" + rH[32:42]},
		misses:   []string{"lsv2_pt_" + rH[:8]},
	},
	{
		id:       "pinecone-api-key",
		keywords: []string{"pcsk_"},
		pattern:  `\b(pcsk_[A-Za-z0-9]{5,8}_[A-Za-z0-9]{60,70})\b`,
		entropy:  3,
		hits:     []string{"pcsk_" + rA[:6] + "_" + rA[6:69]},
		misses:   []string{"pcsk_" + rA[:6]},
	},
	{
		id:       "notion-token",
		keywords: []string{"secret_", "ntn_"},
		pattern:  `\b(secret_[A-Za-z0-9]{43}|ntn_\d{11}[A-Za-z0-9]{35})\b`,
		entropy:  3,
		verify:   letterAndDigit(15),
		hits:     []string{"NOTION_TOKEN=secret_" + rA[:43], "ntn_" + rD[:11] + rA[:35]},
		misses:   []string{"ntn_123456789012345678901234567890123456789012345678901234567890", "ntn_12345678901abc"},
	},
	{
		id:       "linear-api-key",
		keywords: []string{"lin_api_"},
		pattern:  `\b(lin_api_[A-Za-z0-9]{40})\b`,
		entropy:  3,
		hits:     []string{"LINEAR_API_KEY=lin_api_" + rA[:40]},
		misses:   []string{"lin_api_" + rA[:12]},
	},
	{
		id:       "airtable-token",
		keywords: []string{"pat"},
		pattern:  `\b(pat[A-Za-z0-9]{14}\.[a-f0-9]{64})\b`,
		entropy:  3,
		hits:     []string{"AIRTABLE_TOKEN=pat" + rA[:14] + "." + rH[:64]},
		misses:   []string{"path.join"},
	},
	{
		id:       "figma-token",
		keywords: []string{"figd_"},
		pattern:  `\b(figd_[A-Za-z0-9_-]{40,})` + tb,
		entropy:  3,
		hits:     []string{"X-Figma-Token: figd_" + rA[:40]},
		misses:   []string{"figd_" + rA[:8]},
	},
	{
		id:       "contentful-token",
		keywords: []string{"cfpat-"},
		pattern:  `\b(CFPAT-[A-Za-z0-9_-]{43})` + tb,
		entropy:  3,
		hits:     []string{"CFPAT-" + rA[:43]},
		misses:   []string{"CFPAT-" + rA[:10]},
	},
	{
		id:       "mapbox-secret-token",
		keywords: []string{"sk.eyj"},
		pattern:  `\b(sk\.eyJ[A-Za-z0-9_-]{20,}(?:\.[A-Za-z0-9_-]{20,})?)`,
		entropy:  3,
		hits:     []string{"MAPBOX_TOKEN=sk.eyJ" + rA[:60] + "." + rA[60:82]},
		misses:   []string{"sk.eyJ"},
	},
	{
		id:       "planetscale-token",
		keywords: []string{"pscale_"},
		pattern:  `\b(pscale_(?:pw|tkn|oauth)_[A-Za-z0-9_=.-]{32,})`,
		entropy:  3,
		hits:     []string{"pscale_pw_" + rA[:43]},
		misses:   []string{"pscale_pw_" + rA[:8]},
	},
	{
		id:       "supabase-token",
		keywords: []string{"sbp_"},
		pattern:  `\b(sbp_[a-f0-9]{40})\b`,
		entropy:  3,
		hits:     []string{"SUPABASE_ACCESS_TOKEN=sbp_" + rH[:40]},
		misses:   []string{"sbp_" + rH[:10]},
	},
	{
		id:       "tailscale-key",
		keywords: []string{"tskey-"},
		pattern:  `\b(tskey-(?:auth|api|client|scim|webhook)-[A-Za-z0-9]{6,40}-[A-Za-z0-9]{20,})\b`,
		entropy:  3,
		hits:     []string{"TS_AUTHKEY=tskey-auth-k" + rA[:10] + "-" + rA[10:40]},
		misses:   []string{"tskey-auth-"},
	},
	{
		id:       "datadog-api-key",
		keywords: []string{"datadog", "dd_api", "dd_app", "dd-api", "dd-app"},
		pattern:  `(?i)(?:datadog|\bdd)[a-z0-9_.-]{0,20}['"]?[ \t]*(?:[:=]{1,2}|=>)[ \t]*['"]?([a-f0-9]{32}|[a-f0-9]{40})\b`,
		entropy:  3,
		hits:     []string{"DD_API_KEY=" + rH[:32], "datadog_app_key: " + rH[:40]},
		misses:   []string{"DD_SITE=datadoghq.eu"},
	},
	{
		id:       "new-relic-key",
		keywords: []string{"nrak-", "nrjs-", "nrii-"},
		pattern:  `(?i)\b(NRAK-[A-Z0-9]{27}|NRJS-[a-f0-9]{19}|NRII-[A-Za-z0-9_-]{32})\b`,
		entropy:  3,
		hits:     []string{"NEW_RELIC_API_KEY=NRAK-" + rU[:27], "NRJS-" + rH[:19]},
		misses:   []string{"NRAK-" + rU[:8]},
	},
	{
		id:       "dynatrace-token",
		keywords: []string{"dt0c01."},
		pattern:  `\b(dt0c01\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{64})\b`,
		entropy:  3,
		hits:     []string{"dt0c01." + rU[:24] + "." + rA[:64]},
		misses:   []string{"dt0c01.example"},
	},
	{
		id:       "okta-api-token",
		keywords: []string{"okta"},
		pattern:  `(?i)okta[a-z0-9_.-]*['"\]]{0,2}[ \t]*(?:[:=]{1,2}|=>)[ \t]*['"]?(00[A-Za-z0-9_-]{40})` + tb,
		entropy:  3.5,
		verify:   notAfterLetter,
		hits:     []string{`"oktaApiToken": "00` + rA[:40] + `"`},
		misses:   []string{"oktaKey = 00000000000000000000000000000000000TUVWXYZ", "rookTable = 00" + rA[:40]},
	},
	{
		id:       "cloudflare-origin-ca-key",
		keywords: []string{"v1.0-"},
		pattern:  `\b(v1\.0-[a-f0-9]{24}-[a-f0-9]{146})\b`,
		entropy:  3,
		hits:     []string{"v1.0-" + rH[:24] + "-" + rH[:146]},
		misses:   []string{"v1.0-beta"},
	},
	{
		id:       "cloudflare-api-token",
		keywords: []string{"cloudflare", "cf_", "cf-"},
		pattern:  `(?i:cloudflare|cf)[A-Za-z0-9_.-]{0,24}['"\]]{0,2}[ \t]*(?:[:=]{1,2}|=>)[ \t]*['"]?([A-Za-z0-9_-]{40}|[a-f0-9]{37})` + tb,
		entropy:  3.5,
		verify:   notAfterLetter,
		hits:     []string{"CLOUDFLARE_API_TOKEN=" + rA[:40], `CF_API_KEY: "` + rH[:37] + `"`},
		misses:   []string{"CLOUDFLARE_ZONE=example.com", "leaf_node = " + rA[:40]},
	},
	{
		id:       "flyio-token",
		keywords: []string{"fo1_", "fm1", "fm2"},
		pattern:  `\b(fm[12][ar]?_[A-Za-z0-9+/]{100,}={0,3}|fo1_[A-Za-z0-9_-]{43})` + tb,
		entropy:  3,
		hits:     []string{"FLY_API_TOKEN=FlyV1 fm2_" + rB[:140], "fo1_" + rA[:43]},
		misses:   []string{`api_key = "fo1_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"`},
	},
	{
		id:       "harness-token",
		keywords: []string{"pat.", "sat."},
		pattern:  `\b((?:pat|sat)\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20})\b`,
		entropy:  3,
		hits:     []string{"pat." + rA[:22] + "." + rA[22:46] + "." + rA[46:66]},
		misses:   []string{"pat.name"},
	},
	{
		id:       "octopus-deploy-api-key",
		keywords: []string{"api-"},
		pattern:  `\b(API-[A-Z0-9]{26})\b`,
		entropy:  3,
		hits:     []string{`set apikey="API-` + rU[:26] + `"`},
		misses:   []string{`msgstr "GSSAPI-VIRHEKAPSELOINTIMERKKIJONO."`, "https://x.notion.site/API-BD80F56CDC1441E6BF6011AB6D852875"},
	},
	{
		id:       "infracost-token",
		keywords: []string{"ico-"},
		pattern:  `\b(ico-[A-Za-z0-9]{32})\b`,
		entropy:  3,
		verify:   mixedCase,
		hits:     []string{"INFRACOST_API_KEY=ico-" + rA[:32]},
		misses:   []string{"ico-XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", "video_box.ico-" + rH[:32] + ".png"},
	},
	{
		id:       "prefect-token",
		keywords: []string{"pnu_"},
		pattern:  `\b(pnu_[A-Za-z0-9]{36})\b`,
		entropy:  3,
		hits:     []string{"PREFECT_API_KEY=pnu_" + rA[:36]},
		misses:   []string{`PREFECT_API_KEY = "pnu_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"`},
	},
	{
		id:       "readme-token",
		keywords: []string{"rdme_"},
		pattern:  `\b(rdme_[a-z0-9]{70})\b`,
		entropy:  3,
		hits:     []string{"rdme_" + rL[:70]},
		misses:   []string{"rdme_" + rL[:20]},
	},
	{
		id:       "typeform-token",
		keywords: []string{"tfp_"},
		pattern:  `\b(tfp_[A-Za-z0-9_=.-]{59})`,
		entropy:  3,
		hits:     []string{"tfp_" + rA[:59]},
		misses:   []string{"tfp_" + rA[:20]},
	},
	{
		id:       "intra42-secret",
		keywords: []string{"s-s4t2"},
		pattern:  `\b(s-s4t2(?:ud|af)-[a-f0-9]{64})\b`,
		entropy:  3,
		hits:     []string{"s-s4t2ud-" + rH[:64]},
		misses:   []string{"s-s4t2ud-" + rH[:8]},
	},
	{
		id:       "scalingo-token",
		keywords: []string{"tk-us-"},
		pattern:  `\b(tk-us-[A-Za-z0-9_-]{48})` + tb,
		entropy:  3,
		hits:     []string{"tk-us-" + rA[:48]},
		misses:   []string{"tk-us-" + rA[:8]},
	},
	{
		id:       "twitter-bearer-token",
		keywords: []string{"aaaaaaaaaaaaaaaaaaaaa"},
		pattern:  `\b(A{20,22}[A-Za-z0-9%]{30,})\b`,
		entropy:  3,
		hits:     []string{"TWITTER_BEARER_TOKEN=AAAAAAAAAAAAAAAAAAAAA" + rA[:80]},
		misses:   []string{"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
	},

	{
		id:       "jwt",
		keywords: []string{"eyj"},
		pattern:  `\b(eyJ[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_=-]*)*)`,
		window:   64,
		verify:   jwtShape,
		hits: []string{
			"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0." + rA[:43],
			`{"id_token": "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ0ZXN0LXVzZXIifQ."}`,
		},
		misses: []string{"eyJhbGciOiJIUzI1NiJ9", "eyJhbGciOiJIUzI1NiJ9.notjson." + rA[:20]},
	},
	{
		id:       "openshift-token",
		keywords: []string{"sha256~"},
		pattern:  `\b(sha256~[A-Za-z0-9_-]{43})` + tb,
		entropy:  3.5,
		hits:     []string{"oc login --token=sha256~" + rA[:43] + " --server=https://api.c:6443"},
		misses:   []string{"oc login --token=sha256~_xxxxxx_xxxxxxxxxxxxxxxxxxxxxx-xxxxxxxxxx-X"},
	},
	{
		id:       "teams-webhook",
		keywords: []string{".webhook.office.com", "outlook.office.com/webhook"},
		pattern:  `(?:\.webhook\.office\.com/webhookb2|outlook\.office\.com/webhook)/([A-Za-z0-9@/_-]{60,})`,
		entropy:  3,
		hits:     []string{"https://acme.webhook.office.com/webhookb2/" + uuid + "@" + uuid + "/IncomingWebhook/" + rH[:32] + "/" + uuid},
		misses:   []string{"https://acme.webhook.office.com/webhookb2/"},
	},
	{
		id:       "flutterwave-secret-key",
		keywords: []string{"flwseck"},
		pattern:  `\b(FLWSECK(?:_TEST)?-[a-h0-9]{12,32}(?:-X)?)\b`,
		entropy:  3,
		hits:     []string{"FLWSECK_TEST-" + rH[:32] + "-X"},
		misses:   []string{"FLWSECK_TEST-abc"},
	},
	{
		id:       "adobe-client-secret",
		keywords: []string{"p8e-"},
		pattern:  `\b(p8e-[A-Za-z0-9]{32})\b`,
		entropy:  3,
		hits:     []string{"ADOBE_CLIENT_SECRET=p8e-" + rA[:32]},
		misses:   []string{"p8e-" + rA[:8]},
	},

	// More providers' token formats.
	{
		id:       "settlemint-token",
		keywords: []string{"sm_pat_", "sm_aat_", "sm_sat_"},
		pattern:  `\b(sm_(?:pat|aat|sat)_[A-Za-z0-9]{16})\b`,
		entropy:  3,
		hits:     []string{"SETTLEMINT_TOKEN=sm_pat_" + rA[:16], "sm_aat_" + rA[16:32]},
		misses:   []string{"sm_pat_" + rA[:10], "sm_sat_xxxxxxxxxxxxxxxx"},
	},
	{
		id:       "duffel-api-token",
		keywords: []string{"duffel_test_", "duffel_live_"},
		pattern:  `\b(duffel_(?:test|live)_[A-Za-z0-9_=-]{43})` + tb,
		entropy:  3,
		hits:     []string{"DUFFEL_ACCESS_TOKEN=duffel_test_" + rA[:43]},
		misses:   []string{"duffel_test_" + rA[:20]},
	},
	{
		id:       "frameio-api-token",
		keywords: []string{"fio-u-"},
		pattern:  `\b(fio-u-[A-Za-z0-9_=-]{64})` + tb,
		entropy:  3,
		hits:     []string{"FRAMEIO_TOKEN=fio-u-" + rA[:64]},
		misses:   []string{"fio-u-" + rA[:30]},
	},
	{
		id:       "defined-networking-api-token",
		keywords: []string{"dnkey-"},
		pattern:  `\b(dnkey-[A-Za-z0-9=_-]{26}-[A-Za-z0-9=_-]{52})` + tb,
		entropy:  3,
		hits:     []string{"DN_API_KEY=dnkey-" + rA[:26] + "-" + rA[26:78]},
		misses:   []string{"dnkey-" + rA[:26]},
	},
	{
		// ClickHouse Cloud API secrets start with 4b1d.
		id:       "clickhouse-api-secret",
		keywords: []string{"4b1d"},
		pattern:  `\b(4b1d[A-Za-z0-9]{38})\b`,
		entropy:  3.5,
		verify:   mixedAlnum,
		hits:     []string{"CLICKHOUSE_SECRET=4b1d" + rA[:38]},
		misses:   []string{"4b1d" + rH[:38], "key = 4b1d" + rA[:30]},
	},
	{
		id:       "maxmind-license-key",
		keywords: []string{"_mmk"},
		pattern:  `\b([A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk)\b`,
		back:     alnum + "_",
		backMax:  36,
		entropy:  3,
		hits:     []string{"MAXMIND_LICENSE_KEY=" + rA[:6] + "_" + rA[6:35] + "_mmk"},
		misses:   []string{"geoip_mmk", rA[:6] + "_" + rA[6:20] + "_mmk"},
	},
	{
		id:       "plaid-access-token",
		keywords: []string{"access-sandbox-", "access-development-", "access-production-"},
		pattern:  `\b(access-(?:sandbox|development|production)-` + uuidRE + `)\b`,
		entropy:  3,
		hits:     []string{`"access_token": "access-production-` + uuid + `"`},
		misses:   []string{"access-sandbox-environment"},
	},
	{
		id:       "authress-access-key",
		keywords: []string{".acc_", ".acc-"},
		pattern:  `\b((?:sc|ext|scauth|authress)_[A-Za-z0-9]{5,30}\.[A-Za-z0-9]{4,6}\.acc[_-][A-Za-z0-9-]{10,32}\.[A-Za-z0-9+/_=-]{30,120})` + tb,
		back:     alnum + "_.",
		backMax:  48,
		entropy:  3,
		hits:     []string{"AUTHRESS_KEY=sc_" + rL[:10] + "." + rL[10:14] + ".acc_" + rL[14:30] + "." + rA[:60]},
		misses:   []string{"sc_" + rL[:10] + "." + rL[10:14] + ".acc_" + rL[14:30]},
	},
	{
		// Short-lived tokens: sl. and a long random body. Long-lived keys
		// have no prefix (vendors.go).
		id:       "dropbox-token",
		keywords: []string{"sl."},
		pattern:  `\b(sl\.[A-Za-z0-9._=-]{130,})` + tb,
		window:   512,
		entropy:  3.5,
		verify:   mixedAlnum,
		hits:     []string{"DROPBOX_TOKEN=sl." + rA[:140], "Authorization: Bearer sl.u." + rA[:150]},
		misses:   []string{"sl.no", "sl." + rA[:40], "sl." + strings.Repeat("internal.package.", 9)},
	},
	{
		id:       "jwt-base64",
		keywords: []string{"zxlk"},
		pattern:  `\b(ZXlK[A-Za-z0-9+/]{40,}={0,2})` + tb,
		window:   256,
		verify:   base64JWT,
		hits:     []string{"token: ZXlKaGJHY2lPaUpJVXpJMU5pSjkuZXlKemRXSWlPaUl4TWpNMEluMC4" + rB[:40]},
		misses:   []string{"ZXlK" + rB[:60], "ZXlKaGJHY2lPaUpJVXpJMU5pSjkubm90LWpzb24uc2lnbmF0dXJlLWhlcmU="},
	},
	{
		id:       "google-chat-webhook",
		keywords: []string{"chat.googleapis.com/v1/spaces/"},
		pattern:  `chat\.googleapis\.com/v1/spaces/[A-Za-z0-9_-]+/messages\?key=[A-Za-z0-9_-]+&token=([A-Za-z0-9_%=-]{20,})`,
		entropy:  3,
		hits:     []string{"https://chat.googleapis.com/v1/spaces/AAAA" + rA[:7] + "/messages?key=AIza" + rA[:35] + "&token=" + rA[40:83]},
		misses:   []string{"https://chat.googleapis.com/v1/spaces/AAAA" + rA[:7] + "/messages"},
	},
	{
		id:       "zapier-webhook",
		keywords: []string{"hooks.zapier.com/hooks/catch/"},
		pattern:  `hooks\.zapier\.com/hooks/catch/(\d+/[A-Za-z0-9]{5,})`,
		hits:     []string{"curl -X POST https://hooks.zapier.com/hooks/catch/" + rD[:7] + "/" + rL[:6] + "/"},
		misses:   []string{"https://hooks.zapier.com/hooks/catch/"},
	},
	{
		id:       "ifttt-webhook-key",
		keywords: []string{"maker.ifttt.com/"},
		pattern:  `maker\.ifttt\.com/(?:trigger/[^/\s]+/(?:json/)?with/)?key/([A-Za-z0-9_-]{20,})`,
		entropy:  3,
		hits:     []string{"https://maker.ifttt.com/trigger/door/with/key/" + rA[:22]},
		misses:   []string{"https://maker.ifttt.com/use/"},
	},
	{
		id:       "braintree-access-token",
		keywords: []string{"access_token$"},
		pattern:  `\b(access_token\$(?:production|sandbox)\$[0-9a-z]{16}\$[0-9a-f]{32})\b`,
		entropy:  3,
		hits:     []string{"BRAINTREE_TOKEN=access_token$production$" + rL[:16] + "$" + rH[:32]},
		misses:   []string{"access_token$production$"},
	},
	{
		id:       "mercadopago-access-token",
		keywords: []string{"app_usr-"},
		pattern:  `\b(APP_USR-\d{16}-\d{6}-[0-9a-f]{32}-\d{6,10})\b`,
		entropy:  3,
		hits:     []string{"MP_ACCESS_TOKEN=APP_USR-" + rD[:16] + "-" + rD[16:22] + "-" + rH[:32] + "-" + rD[22:31]},
		misses:   []string{"APP_USR-" + rD[:16]},
	},
	{
		id:       "fcm-server-key",
		keywords: []string{":apa91b"},
		pattern:  `\b(AAAA[A-Za-z0-9_-]{7}:APA91b[A-Za-z0-9_-]{134})` + tb,
		back:     alnum + "_-",
		backMax:  11,
		entropy:  3,
		hits:     []string{"FCM_SERVER_KEY=AAAA" + rA[:7] + ":APA91b" + rA[:134]},
		misses:   []string{"AAAA" + rA[:7] + ":APA91b" + rA[:40]},
	},
	{
		id:       "docker-hub-token",
		keywords: []string{"dckr_pat_", "dckr_oat_"},
		pattern:  `\b(dckr_(?:pat|oat)_[A-Za-z0-9_-]{27,})` + tb,
		entropy:  3,
		hits:     []string{"echo dckr_pat_" + rA[:27] + " | docker login -u me --password-stdin"},
		misses:   []string{"dckr_pat_" + rA[:10]},
	},
	{
		id:       "buildkite-token",
		keywords: []string{"bkua_"},
		pattern:  `\b(bkua_[a-f0-9]{40})\b`,
		entropy:  3,
		hits:     []string{"BUILDKITE_API_TOKEN=bkua_" + rH[:40]},
		misses:   []string{"bkua_" + rH[:20]},
	},
	{
		id:       "nuget-api-key",
		keywords: []string{"oy2"},
		pattern:  `\b(oy2[a-z0-9]{43})\b`,
		entropy:  3.5,
		verify:   letterAndDigit(3),
		hits:     []string{"dotnet nuget push pkg.nupkg --api-key oy2" + rL[:43]},
		misses:   []string{"oy2" + rL[:20], "oy2abcdefghijklmnopqrstuvwxyzabcdefghijklmnopq"},
	},
	{
		id:       "crates-io-token",
		keywords: []string{"cio"},
		pattern:  `\b(cio[A-Za-z0-9]{32})\b`,
		entropy:  3.5,
		verify:   mixedAlnum,
		hits:     []string{"CARGO_REGISTRY_TOKEN=cio" + rA[:32]},
		misses:   []string{"ciorba", "cio" + rL[:32]},
	},
	{
		id:       "riot-api-key",
		keywords: []string{"rgapi-"},
		pattern:  `\b(RGAPI-` + uuidRE + `)\b`,
		entropy:  3,
		hits:     []string{"RIOT_API_KEY=RGAPI-" + uuid},
		misses:   []string{"RGAPI-" + uuid[:8]},
	},
	{
		id:       "salesforce-access-token",
		keywords: []string{"00d"},
		pattern:  `\b(00D[A-Za-z0-9]{12,15}![A-Za-z0-9._]{80,})`,
		window:   256,
		entropy:  3.5,
		hits:     []string{"Authorization: OAuth 00D" + rA[:12] + "!" + rA[12:110]},
		misses:   []string{"00D" + rA[:12], "0x00d" + rH[:20]},
	},
	{
		id:       "bitwarden-access-token",
		keywords: []string{"0."},
		precheck: func(s string, q int) bool { return len(s) > q+10 && s[q+10] == '-' },
		pattern:  `\b(0\.` + uuidRE + `\.[A-Za-z0-9]{30}:[A-Za-z0-9+/]{22}==)`,
		entropy:  3.5,
		hits:     []string{"BWS_ACCESS_TOKEN=0." + uuid + "." + rA[:30] + ":" + rB[:22] + "=="},
		misses:   []string{"version 0.1.2", "0." + uuid},
	},
	{
		id:       "cloudflare-tunnel-token",
		keywords: []string{"eyjhijoi"},
		pattern:  `\b(eyJhIjoi[A-Za-z0-9+/]{100,}={0,2})` + tb,
		window:   256,
		entropy:  3.5,
		hits:     []string{"cloudflared tunnel run --token eyJhIjoi" + rB[:150]},
		misses:   []string{"eyJhIjoi" + rB[:20]},
	},
	{
		id:       "hubspot-private-app-token",
		keywords: []string{"pat-na", "pat-eu", "pat-ap"},
		pattern:  `\b(pat-(?:na|eu|ap)\d-` + uuidRE + `)\b`,
		entropy:  3,
		hits:     []string{"HUBSPOT_TOKEN=pat-na1-" + uuid},
		misses:   []string{"pat-na1-", "pat-eu1-" + uuid[:8]},
	},
	{
		// Asana personal access tokens: version/user id[/app id]:32 hex.
		id:       "asana-pat",
		keywords: []string{"1/", "2/"},
		precheck: func(s string, q int) bool { return len(s) > q+2 && s[q+2] >= '0' && s[q+2] <= '9' },
		pattern:  `\b([12]/\d{6,20}(?:/\d{6,20})?:[a-f0-9]{32})\b`,
		entropy:  3,
		hits:     []string{"ASANA_PAT=1/" + rD[:16] + ":" + rH[:32], "2/" + rD[:13] + "/" + rD[13:26] + ":" + rH[32:64]},
		misses:   []string{"1/2 cup", "1/" + rD[:16]},
	},

	// Credentials recognised by their context.
	{
		id:       "db-password",
		keywords: []string{"://"},
		back:     schemeBytes,
		backMax:  32,
		precheck: userinfoAhead,
		pattern:  `(?i)\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver|oracle|clickhouse|cockroachdb|couchdb|neo4j(?:\+s)?|bolt|cassandra|memcached|influxdb|snowflake)://[^\s/?#@:'"<>]*:([^\s/?#'"<>]+)@[a-z0-9\[]`,
		verify:   plainValue,
		hits:     []string{"DATABASE_URL=postgres://app:" + rA[:16] + "@db:5432/app", "mongodb+srv://admin:" + rA[:12] + "@cluster0.x.mongodb.net/db", "redis://:" + rA[:20] + "@cache:6379/0"},
		misses:   []string{"postgres://app@db:5432/app", "postgres://app:${DB_PASSWORD}@db/app", "mysql://root:password@localhost/db"},
	},
	{
		id:       "url-password",
		keywords: []string{"://"},
		back:     schemeBytes,
		backMax:  32,
		precheck: userinfoAhead,
		pattern:  `(?i)\b[a-z][a-z0-9+.-]*://[^\s/?#@:'"<>]*:([^\s/?#'"<>]+)@[a-z0-9\[]`,
		rank:     1,
		verify:   plainValue,
		hits:     []string{"git clone https://oauth2:" + rA[:20] + "@gitlab.com/o/r.git", "https://cafebabe:deadbeef@gems.contribsys.com/"},
		misses:   []string{"https://user@host/path", "https://host:8443/path", "ftp://anonymous:$PASS@host/"},
	},
	{
		id:       "url-query-secret",
		keywords: []string{"token=", "key=", "secret=", "password=", "passwd=", "pwd=", "sig=", "signature=", "auth=", "credential="},
		pattern:  `([A-Za-z0-9_.-]+)=([^&\s#'"<>]+)`,
		back:     identBytes,
		backMax:  60,
		rank:     1,
		verify:   queryValue,
		hits:     []string{"GET /api?access_token=" + rA[:32] + "&page=2", "https://s3/x?X-Amz-Signature=" + rH[:64]},
		misses:   []string{"https://qyapi.weixin.qq.com/cgi-bin/department/create?access_token=ACCESS_TOKEN", "?page_token=&q=x"},
	},
	{
		id:       "auth-header",
		keywords: []string{"authorization"},
		pattern:  `(?i)\bauthorization['"\\]{0,2}[ \t]*[:=][ \t]*\\?['"]?(?:(?:bearer|basic|token|api-token|apikey|api-key|digest|ssws|sso-key|key|negotiate|ntlm|hmac|otp|session|bot|dpop)[ \t]+)?([^\s'"<>$(){}*,;\\]{6,})`,
		rank:     1,
		verify:   authValue,
		hits:     []string{"curl -H 'Authorization: Basic " + rB[:24] + "=='", `"authorization": "Token ` + rH[:40] + `"`, "Authorization: SSWS 00" + rA[:40]},
		misses:   []string{`-H "Authorization: Bearer $API_KEY"`, `-H "Authorization: Bearer <token>"`, `-H "Authorization: Token **********"`},
	},
	{
		id:       "bearer-token",
		keywords: []string{"bearer"},
		pattern:  `\b(?i:bearer)[ \t]+([A-Za-z0-9._~+/=-]{16,})`,
		entropy:  3,
		rank:     1,
		hits:     []string{`{"value": "Bearer ` + rA[:40] + `"}`},
		misses:   []string{"Bearer XXXXXXXXXXXX", "token_type: bearer"},
	},
	{
		id:       "cookie",
		keywords: []string{"cookie"},
		pattern:  `(?i)\bcookie['"\\]{0,2}[ \t]*:[ \t]*\\?['"]?([^\r\n'"\\]{8,})`,
		rank:     1,
		verify:   plainValue,
		hits:     []string{"Cookie: session=" + rA[:32] + "; theme=dark", `"Set-Cookie": "sid=` + rH[:24] + `; HttpOnly"`},
		misses:   []string{"cookie: $COOKIE", "cookies: []"},
	},
	{
		id:       "cli-password",
		keywords: []string{"-u", "--user", "--pass", "--token", "--api", "--secret", "--client-secret", "--access", "--auth", "--private", "-p", "sshpass"},
		pattern:  `(?:-u|--user)(?:[ \t]+|=)(\S+)|--(?i:password|passwd|pass|passphrase|token|api-?key|api-token|secret|client-secret|access-token|auth-token|secret-key|access-key|private-key)(?:[ \t]+|=)['"]?([^\s'"]{3,})|-p([^\s'"-][^\s'"]{2,})|\bsshpass\s+-p\s*['"]?([^\s'"]+)`,
		rank:     1,
		verify:   cliValue,
		hits: []string{
			"curl -u admin:" + rA[:14] + " https://host/api",
			`curl --user "j.smith:` + rA[20:34] + `" https://x`,
			"docker login --password " + rA[:20] + " registry",
			"mysql -u root -p" + rA[:10] + " db",
			"sshpass -p '" + rA[:10] + "' ssh host",
		},
		misses: []string{
			`curl -u "${USER}:${PASS}" https://x`,
			"curl -u username:password https://x",
			"docker run -u 1000:1000 img",
			"docker login --password-stdin",
			"git push -u origin main",
			"mysql -u root -p db",
		},
	},
	{
		id:       "npmrc-auth",
		keywords: []string{"_authtoken", "_auth", "_password"},
		pattern:  `_(?:authToken|auth|password)[ \t]*=[ \t]*['"]?([^\s'"]{4,})`,
		rank:     1,
		verify:   lineStartValue,
		hits:     []string{"//registry.npmjs.org/:_authToken=" + rA[:36], "_auth = " + rB[:24] + "\nemail = me@example.org", "//npm.corp/:_password=" + rB[:16]},
		misses:   []string{"//registry.npmjs.org/:_authToken=${NPM_TOKEN}", "oauth_auth=" + rA[:20]},
	},
	{
		id:       "netrc-password",
		keywords: []string{"machine", "default"},
		pattern:  `\b(?:machine[ \t]+\S+|default)[ \t\r\n]+login[ \t]+\S+[ \t\r\n]+(?:account[ \t]+\S+[ \t\r\n]+)?password[ \t]+(\S+)`,
		rank:     1,
		verify:   plainValue,
		hits:     []string{"machine api.heroku.com\n  login me@example.org\n  password " + rH[:36], "default login anonymous password " + rA[:12]},
		misses:   []string{"machine api.heroku.com login me password $HEROKU_TOKEN", "the machine learning password field"},
	},
	{
		id:       "aws-session-token",
		keywords: []string{"aws_session_token", "awssessiontoken", "aws_security_token", "awssecuritytoken"},
		pattern:  `(?i)aws_?(?:session|security)_?token['"\]]{0,2}[ \t]*(?:[:=]{1,2}|=>)[ \t]*['"]?([A-Za-z0-9/+=]{100,})`,
		window:   1024,
		entropy:  4,
		rank:     1,
		hits:     []string{"aws_session_token = IQoJb3JpZ2luX2VjE" + rB[:200], `"AwsSessionToken": "FwoGZXIvYXdzE` + rB[:180] + `"`},
		misses:   []string{"aws_session_token = " + rB[:40], "AWS_SESSION_TOKEN=${AWS_SESSION_TOKEN}"},
	},
	{
		id:       "kubernetes-secret",
		keywords: []string{"kind: secret", "kind: \"secret\"", "kind: 'secret'"},
		scan:     true,
		pattern:  `(?m)^([ \t]+)([.A-Za-z0-9_-]+):[ \t]*(?:[|>][-+]?[ \t]*\r?\n[ \t]+)?['"]?([A-Za-z0-9+/]{4,}={0,2})['"]?[ \t]*\r?$`,
		verify:   k8sData,
		hits:     []string{"apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  password: " + rB[:20] + "\n  username: YWRtaW4=\n"},
		misses: []string{
			"apiVersion: v1\nkind: Secret\nmetadata:\n  name: registryauthdata\n  namespace: default\ntype: Opaque\n",
			"apiVersion: v1\nkind: Secret\ndata:\n  extra: YmFyCg==\n",
		},
	},
	{
		id:       "bundler-credentials",
		keywords: []string{"bundle_"},
		pattern:  `\bBUNDLE_[A-Z0-9_]{1,64}__[A-Z0-9_]{1,64}['"]?[ \t]*[:=][ \t]*['"]?([A-Za-z0-9_.%-]+:[^\s'";&]+)`,
		entropy:  2.5,
		hits:     []string{"export BUNDLE_ENTERPRISE__CONTRIBSYS__COM=" + rH[:8] + ":" + rH[8:16]},
		misses:   []string{"BUNDLE_GEMFILE=Gemfile"},
	},
	{
		id:       "xml-secret",
		keywords: []string{"<add", "pass", "pwd", "secret", "token", "key", "cred"},
		pattern:  `(?i:<add)\s+(?i:key)\s*=\s*"([^"]+)"\s+(?i:value)\s*=\s*"([^"]+)"|((?i:pass|pwd|secret|token|key|cred)[A-Za-z0-9_:.-]*)(?:\s+[a-z0-9_:.-]+\s*=\s*(?:"[^"<>]*"|'[^'<>]*'))*\s*>([^<>\r\n]+)</`,
		rank:     1,
		run:      identBytes + ":",
		precheck: xmlAhead,
		verify:   xmlValue,
		hits:     []string{`<add key="ClearTextPassword" value="` + rA[:14] + `" />`, "<db><password>" + rA[:12] + "</password></db>"},
		misses:   []string{`<add key="ClearTextPassword" value="%NUGET_PASSWORD%" />`, "<key>CFBundleName</key>", "<password></password>"},
	},
	{
		id:       "generic-secret",
		keywords: []string{"pass", "pwd", "secret", "token", "key", "auth", "cred"},
		pattern:  `((?i:pass|pwd|secret|token|key|auth|cred)[A-Za-z0-9_.-]*)['"\\\])]{0,4}[ \t]*(?:(?::::?=|:?=|\?=|=>|==?|:)[ \t]*(?:` + dq + `|` + sq + `|` + bq + `|` + uq + `)|,[ \t]*(?:` + dq + `|` + sq + `))`,
		rank:     2,
		run:      identBytes,
		window:   64,
		precheck: assignmentAhead,
		verify:   keyedValue(5, true),
		hits: []string{
			`password = "` + rA[:12] + `"`,
			"DB_PASSWORD=" + rA[:10] + "9",
			`"client_secret": "` + rH[:40] + `"`,
			"api_key: " + rA[:32],
			`$config['secret_key'] => '` + rA[:24] + `'`,
			`os.environ["MY_SERVICE_TOKEN"] = "` + rA[:30] + `"`,
			`headers.set("X-Api-Key", "` + rA[:32] + `")`,
		},
		misses: []string{
			"password = var.db_password",
			`password = "${aws_db_instance.default.password}"`,
			"max_tokens: 4096",
			`public_key = "` + rA[:43] + `"`,
			"secret_length = X25519.secret_length",
			`"token_type": "bearer"`,
			`LLM_SECRET_NAME = "NEXUS-GPT4-API-KEY"`,
			"primaryKey=" + rA[:30],
			"credentialsId: '" + uuid + "'",
			"GITHUB_API_KEY=\nDYNATRACE_API_KEY=",
			"--- PASS: TestListItems/pagination (0.00s)",
		},
	},
}
