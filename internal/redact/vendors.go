package redact

import (
	"regexp"
	"strings"
)

// vendorKey is a credential that carries no prefix of its own and is
// recognised by its context instead: the provider's name in the key it is
// assigned to (TRELLO_API_KEY, twitter.consumer_secret) and a value of the
// length and alphabet the provider documents. The shapes are those
// gitleaks ships for the same providers.
type vendorKey struct {
	id string
	// names are the provider's names, lower case. Each must be whole
	// words of the key (sumologic_access_id, not sumObj); a name written
	// with separators (message_bird) also matches its words run together.
	names []string
	// value is the RE2 expression for the value, case-sensitive.
	value string
	// ids accepts keys whose last word is a descriptor such as id: for
	// providers whose access id is itself half of the credential.
	ids bool
	// sample is a value the expression matches; the rule's examples are
	// built around it.
	sample string
	// hits and misses are further examples beyond the built ones.
	hits, misses []string
}

// vendorOps are the assignment operators of the vendor rules: those of
// the generic rule, and a comma between a quoted name and its value.
const vendorOps = `(?::::?=|:?=|\?=|=>|==?|:|,)`

// rule turns the spec into a rule with its examples: the sample assigned
// in an environment file and in JSON must be found; the same name holding
// a reference, a descriptor key (…_url) and a value cut to half its length
// must not be.
func (v vendorKey) rule() rule {
	quoted := make([]string, len(v.names))
	for i, n := range v.names {
		quoted[i] = regexp.QuoteMeta(n)
	}
	name := strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(v.names[0]))
	hits := append([]string{
		name + "_API_KEY=" + v.sample,
		`{"` + v.names[0] + `_secret": "` + v.sample + `"}`,
	}, v.hits...)
	misses := append([]string{
		name + "_API_KEY=${" + name + "_API_KEY}",
		name + "_URL=" + v.sample,
		name + "_API_KEY=" + v.sample[:len(v.sample)/2],
	}, v.misses...)
	return rule{
		id:       v.id,
		keywords: v.names,
		pattern:  `(?i:` + strings.Join(quoted, "|") + `)[A-Za-z0-9_.-]{0,40}?['"\]]{0,2}[ \t]*` + vendorOps + `[ \t]*['"` + "`" + `]?(` + v.value + `)` + tb,
		entropy:  3,
		rank:     1,
		verify:   vendorValue(v.names, v.ids),
		hits:     hits,
		misses:   misses,
	}
}

// vendorValue verifies a vendor rule's match: the provider's name is whole
// words of the key, the key does not name something about the credential
// (…_url, …_id unless ids) or a public key, and the value is a literal
// that looks random.
func vendorValue(names []string, ids bool) verifier {
	flat := make([]string, len(names))
	for i, n := range names {
		flat[i] = strings.NewReplacer("_", "", "-", "", ".", "").Replace(n)
	}
	return func(s string, m []int, start, end int) (int, int, bool) {
		ke := m[0]
		for ke < len(s) && (isIdentByte(s[ke]) || s[ke] == '.' || s[ke] == '-') {
			ke++
		}
		words := splitWords(s[extendKey(s, m[0], 60):ke])
		if !hasWords(words, flat) {
			return start, end, false
		}
		for _, w := range words {
			if publicWords[w] {
				return start, end, false
			}
		}
		if last := words[len(words)-1]; descriptorWords[last] && !(ids && (last == "id" || last == "ids")) {
			return start, end, false
		}
		v := s[start:end]
		if isReference(v) || allDigits(v) || !hasDigit(v) && !(hasUpper(v) && hasLower(v)) {
			return start, end, false
		}
		return start, end, true
	}
}

// hasWords reports whether one of names is a run of consecutive words.
func hasWords(words, names []string) bool {
	for i := range words {
		run := ""
		for j := i; j < len(words) && len(run) < 32; j++ {
			run += words[j]
			for _, n := range names {
				if run == n {
					return true
				}
			}
		}
	}
	return false
}

// uuidRE is a UUID in lower or upper case hex.
const uuidRE = `[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`

// vendorKeys are the context rules, in alphabetical order.
var vendorKeys = []vendorKey{
	{id: "adafruit-api-key", names: []string{"adafruit"}, value: `[A-Za-z0-9_-]{32}`, sample: rL[:32]},
	{id: "algolia-api-key", names: []string{"algolia"}, value: `[A-Za-z0-9]{32}`, sample: rH[:32],
		misses: []string{`algolia = {appId: 'OFCNCOG2CU', apiKey: '6fe4476ee5a1832882e326b506d14126'}`}},
	{id: "alibaba-secret-key", names: []string{"alibaba", "aliyun"}, value: `[A-Za-z0-9]{30}`, sample: rA[:30]},
	{id: "asana-client-secret", names: []string{"asana"}, value: `[A-Za-z0-9]{32}`, sample: rL[:32],
		misses: []string{"ASANA_CLIENT_ID=" + rD[:16]}},
	{id: "auth0-client-secret", names: []string{"auth0"}, value: `[A-Za-z0-9_-]{64}`, sample: rA[:64]},
	{id: "beamer-api-token", names: []string{"beamer"}, value: `b_[A-Za-z0-9=_-]{44}`, sample: "b_" + rA[:44]},
	{id: "bitbucket-client-secret", names: []string{"bitbucket"}, value: `[A-Za-z0-9=_-]{64}`, sample: rL[:64]},
	{id: "bittrex-api-key", names: []string{"bittrex"}, value: `[A-Za-z0-9]{32}`, sample: rL[40:72]},
	{id: "codecov-token", names: []string{"codecov"}, value: `[A-Za-z0-9]{32}|` + uuidRE, sample: uuid},
	{id: "cohere-api-key", names: []string{"cohere", "co_api_key"}, value: `[A-Za-z0-9]{40}`, sample: rA[:40],
		hits: []string{"export CO_API_KEY=" + rA[40:80]}},
	{id: "coinbase-api-secret", names: []string{"coinbase"}, value: `[A-Za-z0-9_-]{64}`, sample: rA[:64]},
	{id: "confluent-api-secret", names: []string{"confluent"}, value: `[A-Za-z0-9+/]{64}|[A-Za-z0-9]{16}`, sample: rA[:64]},
	{id: "contentful-delivery-token", names: []string{"contentful"}, value: `[A-Za-z0-9=_-]{43}`, sample: rA[:43]},
	{id: "deepgram-api-key", names: []string{"deepgram"}, value: `[a-f0-9]{40}`, sample: rH[:40]},
	{id: "dropbox-long-lived-token", names: []string{"dropbox"}, value: `[A-Za-z0-9]{11}AAAAAAAAAA[A-Za-z0-9_=-]{43}`, sample: rL[:11] + "AAAAAAAAAA" + rA[:43]},
	{id: "droneci-token", names: []string{"droneci", "drone"}, value: `[A-Za-z0-9]{32}`, sample: rA[:32]},
	{id: "etsy-api-key", names: []string{"etsy"}, value: `[A-Za-z0-9]{24}`, sample: rL[:24]},
	{id: "fastly-api-token", names: []string{"fastly"}, value: `[A-Za-z0-9=_-]{32}`, sample: rA[:32]},
	{id: "finicity-secret", names: []string{"finicity"}, value: `[a-f0-9]{32}|[A-Za-z0-9]{20}`, sample: rH[:32]},
	{id: "finnhub-api-key", names: []string{"finnhub"}, value: `[A-Za-z0-9]{20}`, sample: rL[:20]},
	{id: "flickr-api-key", names: []string{"flickr"}, value: `[A-Za-z0-9]{32}`, sample: rH[:32]},
	{id: "freshbooks-token", names: []string{"freshbooks"}, value: `[A-Za-z0-9]{64}`, sample: rL[:64]},
	{id: "gitter-token", names: []string{"gitter"}, value: `[A-Za-z0-9_-]{40}`, sample: rL[:40]},
	{id: "gocardless-api-token", names: []string{"gocardless"}, value: `live_[A-Za-z0-9=_-]{40}`, sample: "live_" + rA[:40]},
	{id: "hubspot-api-key", names: []string{"hubspot"}, value: uuidRE, sample: uuid},
	{id: "intercom-api-key", names: []string{"intercom"}, value: `[A-Za-z0-9=_-]{60}`, sample: rA[:60]},
	{id: "jenkins-api-token", names: []string{"jenkins"}, value: `11[a-f0-9]{32}|[a-f0-9]{32}`, sample: "11" + rH[:32]},
	{id: "jfrog-identity-token", names: []string{"artifactory", "jfrog", "bintray"}, value: `[A-Za-z0-9]{64}`, sample: rL[:64],
		hits: []string{`"artifactory", "` + rL[64:128] + `"`}},
	{id: "kraken-api-key", names: []string{"kraken"}, value: `[A-Za-z0-9/=_+-]{80,90}`, sample: rB[:88]},
	{id: "kucoin-api-secret", names: []string{"kucoin"}, value: uuidRE + `|[a-f0-9]{24}`, sample: uuid},
	{id: "launchdarkly-key", names: []string{"launchdarkly"}, value: `(?:api|sdk|mob)-` + uuidRE + `|[A-Za-z0-9=_-]{40}`, sample: "sdk-" + uuid},
	{id: "linkedin-client-secret", names: []string{"linkedin", "linked_in", "linked-in"}, value: `[A-Za-z0-9]{16}`, sample: rA[:16]},
	{id: "linode-api-token", names: []string{"linode"}, value: `[a-f0-9]{64}`, sample: rH[:64]},
	{id: "lob-api-key", names: []string{"lob"}, value: `(?:live|test)_[a-f0-9]{35}`, sample: "live_" + rH[:35],
		misses: []string{"BLOB_KEY=live_" + rH[:35], "LOB_PUBLISHABLE_KEY=test_pub_" + rH[:31]}},
	{id: "looker-client-secret", names: []string{"looker"}, value: `[A-Za-z0-9]{24}`, sample: rA[:24]},
	{id: "mailgun-signing-key", names: []string{"mailgun"}, value: `[a-h0-9]{32}-[a-h0-9]{8}-[a-h0-9]{8}`, sample: rH[:32] + "-" + rH[32:40] + "-" + rH[40:48]},
	{id: "mattermost-token", names: []string{"mattermost"}, value: `[A-Za-z0-9]{26}`, sample: rL[:26]},
	{id: "messagebird-api-key", names: []string{"messagebird", "message_bird", "message-bird"}, value: `[A-Za-z0-9]{25}`, sample: rA[:25]},
	{id: "mistral-api-key", names: []string{"mistral"}, value: `[A-Za-z0-9]{32}`, sample: rA[:32]},
	{id: "netlify-token", names: []string{"netlify"}, value: `[A-Za-z0-9=_-]{40,46}`, sample: rA[:43]},
	{id: "ngrok-authtoken", names: []string{"ngrok"}, value: `[0-9A-Za-z]{20,30}_[0-9A-Za-z]{20,30}`, sample: rA[:27] + "_" + rA[30:51]},
	{id: "nytimes-api-key", names: []string{"nytimes", "newyorktimes"}, value: `[A-Za-z0-9=_-]{32}`, sample: rA[:32]},
	{id: "pagerduty-api-key", names: []string{"pagerduty"}, value: `[A-Za-z0-9_+-]{20}|[a-f0-9]{32}`, sample: "u+" + rA[:18]},
	{id: "paypal-client-secret", names: []string{"paypal", "braintree"}, value: `[A-Za-z0-9_-]{80}`, sample: rA[:80]},
	{id: "plaid-secret", names: []string{"plaid"}, value: `[a-f0-9]{30}`, sample: rH[:30]},
	{id: "pusher-app-secret", names: []string{"pusher"}, value: `[a-f0-9]{20}`, sample: rH[:20]},
	{id: "rapidapi-key", names: []string{"rapidapi"}, value: `[A-Za-z0-9_-]{50}`, sample: rA[:50]},
	{id: "scaleway-secret-key", names: []string{"scaleway", "scw"}, value: uuidRE, sample: uuid},
	{id: "sendbird-token", names: []string{"sendbird"}, value: `[a-f0-9]{40}`, sample: rH[:40]},
	{id: "snyk-token", names: []string{"snyk"}, value: uuidRE, sample: uuid},
	{id: "sourcegraph-legacy-token", names: []string{"sourcegraph", "src_access_token"}, value: `[a-fA-F0-9]{40}`, sample: rH[:40]},
	{id: "sparkpost-api-key", names: []string{"sparkpost"}, value: `[a-f0-9]{40}`, sample: rH[:40]},
	{id: "squarespace-api-key", names: []string{"squarespace"}, value: uuidRE, sample: uuid},
	{id: "sumologic-access-id", names: []string{"sumologic", "sumo"}, value: `su[A-Za-z0-9]{12}`, ids: true, sample: "su" + rA[:12],
		hits:   []string{`sumologic.accessId = "su` + rA[12:24] + `"`, "export SUMOLOGIC_ACCESSID=su" + rA[24:36]},
		misses: []string{"sumObj = su" + rA[:12]}},
	{id: "sumologic-access-key", names: []string{"sumologic", "sumo"}, value: `[A-Za-z0-9]{64}`, sample: rA[:64],
		misses: []string{"sumOfExposures = " + rA[:64] + ";"}},
	{id: "travisci-token", names: []string{"travis", "travisci"}, value: `[A-Za-z0-9]{22}`, sample: rA[:22]},
	{id: "trello-api-key", names: []string{"trello"}, value: `[A-Za-z0-9]{32}|[A-Za-z0-9]{64}`, sample: rH[:32]},
	{id: "twilio-auth-token", names: []string{"twilio"}, value: `[a-f0-9]{32}`, sample: rH[:32],
		misses: []string{"TWILIO_ACCOUNT_SID=AC" + rH[:32]}},
	{id: "twitch-api-token", names: []string{"twitch"}, value: `[A-Za-z0-9]{30}`, sample: rL[:30]},
	{id: "twitter-api-secret", names: []string{"twitter"}, value: `[0-9]{15,25}-[A-Za-z0-9]{20,40}|[A-Za-z0-9]{50}|[A-Za-z0-9]{45}|[A-Za-z0-9]{25}`, sample: rA[:45],
		hits: []string{"twitter_access_token: " + rD[:19] + "-" + rA[:30]}},
	{id: "vultr-api-key", names: []string{"vultr"}, value: `[A-Z0-9]{36}`, sample: rU[:36]},
	{id: "wandb-api-key", names: []string{"wandb"}, value: `[a-f0-9]{40}`, sample: rH[:40]},
	{id: "zendesk-api-token", names: []string{"zendesk"}, value: `[A-Za-z0-9]{40}`, sample: rA[:40]},
}

// vendorRules are vendorKeys as rules.
func vendorRules() []rule {
	rules := make([]rule, len(vendorKeys))
	for i, v := range vendorKeys {
		rules[i] = v.rule()
	}
	return rules
}
