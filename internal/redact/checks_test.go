package redact

import (
	"strings"
	"testing"
)

func TestSequential(t *testing.T) {
	for in, want := range map[string]bool{
		"abcdef":                           true, // a run of six
		"x9876543x":                        true, // downwards, with 9 first
		"1234567890":                       true, // 9 wraps to 0
		"sk_abcdefghijklmnopqrstuvwxyz123": true,
		"AbCeFG123":                        true, // most pairs are steps
		"abcd1234":                         true,
		"abcde":                            true,
		"abc":                              false, // too few steps to judge
		"ab7cd9kQ":                         false,
		"hunter2hunter2":                   false,
		rA[:40]:                            false,
		rH[:64]:                            false,
		"":                                 false,
	} {
		if got := sequential(in); got != want {
			t.Errorf("sequential(%q) = %v, want %v", in, got, want)
		}
	}
	// mostlySequential ignores a single run in random text.
	if mostlySequential(rA[:60] + "AbCdEf") {
		t.Errorf("mostlySequential took a random key with one run for filler")
	}
	if !mostlySequential("abc123xyz-456de-klMnopqrstuvwx") {
		t.Errorf("mostlySequential missed typed filler")
	}
}

func TestMixedCaseHex(t *testing.T) {
	for in, want := range map[string]bool{
		"acdeFf05b1a6d4c890237bf08c5e6e8d2b4d0f2e": true,
		rH[:40]:                     false, // one case
		strings.ToUpper(rH[:40]):    false,
		rA[:40]:                     false, // not hex
		"DeadBeef":                  false, // too short to judge
		"0x5aAeb6053F3E94C9b9A09f3": false, // 0x is not a hex digit
	} {
		if got := mixedCaseHex(in); got != want {
			t.Errorf("mixedCaseHex(%q) = %v, want %v", in, got, want)
		}
	}
}

// TestBase62CRC checks the check digits against a vector computed
// independently (Python's zlib.crc32 of 31 zeros, base62 0-9A-Za-z).
func TestBase62CRC(t *testing.T) {
	zeros := strings.Repeat("0", 31)
	if got := withCRC("ghp_", zeros); got != "ghp_"+zeros+"4WZ4EQ" {
		t.Fatalf("withCRC = %q", got)
	}
	for in, want := range map[string]bool{
		"ghp_" + zeros + "4WZ4EQ":      true,
		"npm_" + zeros + "4WZ4EQ":      true,
		"ghp_" + zeros + "4WZ4EP":      false,
		withCRC("gho_", rA[:30]):       true,
		"ghp_" + rA[:36]:               false,
		"ghp_" + rA[:30] + "!!!!!!":    false,
		"ghp_4WZ4EQ":                   false, // no random part
		withCRC("ghs_", rA[:29]) + "x": false,
	} {
		if got := base62CRC(in); got != want {
			t.Errorf("base62CRC(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestIsCodePath(t *testing.T) {
	for in, want := range map[string]bool{
		"var.db_password":          true,
		"TestListItems/pagination": true,
		"settings.SECRET":          true,
		"hunter2":                  false,
		"a/":                       false,
		"/etc/passwd":              false,
		"x//y":                     false,
	} {
		if got := isCodePath(in); got != want {
			t.Errorf("isCodePath(%q) = %v, want %v", in, got, want)
		}
	}
}

// TestGeneric covers the general checks of the generic rule through Text.
func TestGeneric(t *testing.T) {
	for _, c := range []struct {
		in   string
		want bool
	}{
		{`api_key = "` + rA[:32] + `"`, true},
		// A value in a vendor's token format is left to the vendor's rule.
		{`"token3": "xoxp-1234-1234-1234-` + rH[:32] + `"`, false},
		{`secret = "glpat-` + rA[:6] + `"`, false},
		// Typed filler and hand-edited hex.
		{`SUMO_ACCESS_KEY: AbCeFG123`, false},
		{`"secret_key" => "sk_abcdefghijklmnopqrstuvwxyz123"`, false},
		{`meraki-api-key: acdeFf05b1a6d4c890237bf08c5e6e8d2b4d0f2e`, false},
		{`csrf-token=` + rB[:64], false},
		{`keyVaultToStoreSecrets: cmp2-qat-1208358310`, false},
		// A known public key.
		{`apiKey: '6fe4476ee5a1832882e326b506d14126'`, false},
	} {
		_, fs := Text(c.in)
		if got := len(fs) > 0; got != c.want {
			t.Errorf("Text(%q): found %v, want %v (%v)", c.in, got, c.want, fs)
		}
	}
}

// TestFormatKeepsFiller: a value in a provider's format keeps its finding
// even when part of it reads like filler, because the format is the
// evidence; only bare assignments apply the filler checks.
func TestFormatKeepsFiller(t *testing.T) {
	for _, in := range []string{
		`"bot_token4": "xoxb-123456789012-Xw937qtWSXJss1lFaKe"`,
		"SNYK_TOKEN = \"" + uuid + "\"",
		"GITHUB_TOKEN=" + withCRC("ghp_", "abcdefghijklmnopqrstuvwxyz0123"),
	} {
		if _, fs := Text(in); len(fs) == 0 {
			t.Errorf("Text(%q) found nothing", in)
		}
	}
}

// TestRuleCount holds the number of credential types: the issue asks for
// at least 150.
func TestRuleCount(t *testing.T) {
	if n := len(builtinSet().rules); n < 150 {
		t.Errorf("%d rules, want at least 150", n)
	}
}
