package evaluator

import (
	"strings"
	"testing"
)

func TestSignalStrengths(t *testing.T) {
	want := map[Signal]float64{
		"user_deleted_code":         -0.8,
		"user_interrupted":          -0.6,
		"user_modified_output":      -0.5,
		"user_repeated_instruction": -0.15,
		"user_immediate_continue":   0.3,
		"user_explicit_approval":    0.6,
		"user_used_result":          0.7,
		"user_shared_output":        0.8,
	}
	all := Signals()
	if len(all) != len(want) {
		t.Fatalf("Signals() has %d signals, want %d", len(all), len(want))
	}
	for i, s := range all {
		w, ok := want[s]
		if !ok || s.Strength() != w || !s.Valid() {
			t.Errorf("signal %d %q: strength %v (valid %v), want %v", i, s, s.Strength(), s.Valid(), w)
		}
		if i > 0 && (all[i-1].Strength() > 0 && s.Strength() < 0) {
			t.Errorf("negative signal %q listed after a positive one", s)
		}
	}
	for _, s := range []Signal{"", "user_happy", "USER_USED_RESULT"} {
		if s.Valid() || s.Strength() != 0 {
			t.Errorf("%q is valid or has a strength", s)
		}
	}
}

func TestParseSignal(t *testing.T) {
	for in, want := range map[string]Signal{
		"user_explicit_approval":    UserExplicitApproval,
		"  User_Deleted_Code\n":     UserDeletedCode,
		"USER_REPEATED_INSTRUCTION": UserRepeatedInstruction,
	} {
		if got, err := ParseSignal(in); err != nil || got != want {
			t.Errorf("ParseSignal(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, want := range map[string]string{
		"":                       `unknown feedback signal "" (want one of user_deleted_code, user_interrupted,`,
		"thumbs_up":              `unknown feedback signal "thumbs_up"`,
		"user_used_result ok":    `"user_used_result ok"`,
		strings.Repeat("a", 500): `… (500 bytes)`,
	} {
		got, err := ParseSignal(in)
		if err == nil || got != "" || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseSignal(%.20q) = %q, %v; want an error containing %q", in, got, err, want)
		}
		if err != nil && len(err.Error()) > 4*maxQuotedInput+300 {
			t.Errorf("error for a %d-byte input is %d bytes long", len(in), len(err.Error()))
		}
	}
}
