package decision

import (
	"encoding/json"
	"testing"
	"time"
)

func TestOrderAndParse(t *testing.T) {
	if !(Allow < Notify && Notify < Confirm && Confirm < Deny) {
		t.Fatal("actions are not ordered from permissive to strict")
	}
	for in, want := range map[string]Action{"allow": Allow, "auto": Allow, "notify": Notify, "confirm": Confirm, "ask": Confirm, "deny": Deny, " DENY ": Deny, "block": Deny} {
		got, err := ParseAction(in)
		if err != nil || got != want {
			t.Errorf("ParseAction(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	if a, err := ParseAction("maybe"); err == nil || a != Deny {
		t.Errorf("ParseAction(maybe) = %s, %v; want deny and an error", a, err)
	}
	if Stricter(Notify, Confirm) != Confirm || Stricter(Deny, Allow) != Deny {
		t.Error("Stricter does not pick the stricter action")
	}
	if Notify.Blocks() || !Confirm.Blocks() || !Deny.Blocks() {
		t.Error("Blocks must be true exactly for confirm and deny")
	}
}

func TestScoreIsTheSeedFormula(t *testing.T) {
	d := Dimensions{Impact: 3, Reversibility: 0.2, Sensitivity: 3, ErrorRate: 0.275}
	// 3 × 0.8 × 3 × 1.275 = 9.18, the seed's "rm -rf /home" example.
	if got := d.Score(); got != 9.18 {
		t.Errorf("Score = %v, want 9.18", got)
	}
	if got := (Dimensions{Impact: 1, Reversibility: 1, Sensitivity: 3}).Score(); got != 0 {
		t.Errorf("fully reversible score = %v, want 0", got)
	}
}

func TestDecisionJSONContract(t *testing.T) {
	d := Decision{Action: Confirm, Risk: Risk{Score: 1.5, Dimensions: Dimensions{Impact: 1}}, DecisionID: "d_x", PolicyRevision: "sha256:y",
		Reasons: []Reason{{Gate: "command", Code: "command.force_push", Message: "m", Action: Confirm, Detail: "operator only"}}}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"action":"confirm","risk":{"score":1.5,"dimensions":{"impact":1,"reversibility":0,"sensitivity":0,"error_rate":0}},"reasons":[{"gate":"command","code":"command.force_push","message":"m"}],"decision_id":"d_x","policy_revision":"sha256:y"}`
	if string(b) != want {
		t.Errorf("JSON =\n%s\nwant\n%s", b, want)
	}
	empty, _ := json.Marshal(Decision{})
	if want := `"reasons":[]`; !contains(string(empty), want) {
		t.Errorf("empty decision %s lacks %s", empty, want)
	}
	var back Decision
	if err := json.Unmarshal(b, &back); err != nil || back.Action != Confirm {
		t.Errorf("round trip: %v %s", err, back.Action)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestSay(t *testing.T) {
	for _, tt := range []struct {
		a    Action
		want string
	}{
		{Deny, "reading .env is refused; ask the user"},
		{Confirm, "reading .env needs approval; ask the user"},
		{Notify, "reading .env is allowed and reported"},
		{Allow, "reading .env is allowed"},
	} {
		if got := Say("reading .env", tt.a, "ask the user"); got != tt.want {
			t.Errorf("Say(%s) = %q, want %q", tt.a, got, tt.want)
		}
	}
}

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	prev := ""
	for range 10000 {
		id := NewID()
		if len(id) != IDLen || id[:2] != "d_" {
			t.Fatalf("id %q: want %d characters starting d_", id, IDLen)
		}
		if seen[id] {
			t.Fatalf("id %q repeats", id)
		}
		seen[id] = true
		// Within one millisecond the counter orders them; a later
		// millisecond sorts later whatever the counter says.
		if id[:14] < prev[:min(14, len(prev))] {
			t.Fatalf("id %q sorts before the earlier %q", id, prev)
		}
		prev = id
	}
	t0 := time.UnixMilli(1_800_000_000_000)
	a, b := newID(t0), newID(t0.Add(time.Millisecond))
	if a[:14] != "d_01a3185c5000" || b <= a {
		t.Fatalf("ids %q, %q: want the time in hex first and the later one sorting later", a, b)
	}
}
