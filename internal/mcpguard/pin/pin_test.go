package pin

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"
)

func hash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

var t0 = time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)

func clean(def string) Sighting { return Sighting{Hash: hash(def)} }
func poisoned(def string) Sighting {
	return Sighting{Hash: hash(def), Findings: []string{"injection.instruction_tag"}}
}

// TestTransitions walks a tool through the life the proxy gives it: each
// step is a sighting or an approval, with the status, listing and event
// that must follow.
func TestTransitions(t *testing.T) {
	type step struct {
		name    string
		see     *Sighting // nil: approve instead
		approve string    // the approver
		want    Status
		listed  bool
		event   Event
	}
	s := func(x Sighting) *Sighting { return &x }
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"clean tool, then a rug pull, approved", []step{
			{name: "first sight", see: s(clean("v1")), want: Trusted, listed: true, event: New},
			{name: "same again", see: s(clean("v1")), want: Trusted, listed: true, event: Unchanged},
			{name: "rug pull", see: s(clean("v2")), want: Changed, event: Rugpull},
			{name: "still v2", see: s(clean("v2")), want: Changed, event: Unchanged},
			{name: "approve", approve: "alice", want: Trusted, listed: true},
			{name: "v2 stays", see: s(clean("v2")), want: Trusted, listed: true, event: Unchanged},
		}},
		{"rug pull that reverts", []step{
			{name: "first sight", see: s(clean("v1")), want: Trusted, listed: true, event: New},
			{name: "rug pull", see: s(poisoned("v2")), want: Changed, event: Rugpull},
			{name: "back to v1", see: s(clean("v1")), want: Trusted, listed: true, event: Reverted},
		}},
		{"poisoned on first sight", []step{
			{name: "first sight", see: s(poisoned("p1")), want: Flagged, event: NewFlagged},
			{name: "changes, still unapproved", see: s(clean("p2")), want: Flagged, event: Rugpull},
			{name: "approve", approve: "bob", want: Trusted, listed: true},
			{name: "approved despite findings", see: s(poisoned("p2")), want: Trusted, listed: true, event: Unchanged},
			{name: "changes again", see: s(clean("p3")), want: Changed, event: Rugpull},
		}},
		{"trusted on first sight, flagged by a newer scan", []step{
			{name: "first sight", see: s(clean("v1")), want: Trusted, listed: true, event: New},
			{name: "rescanned", see: s(poisoned("v1")), want: Flagged, event: Rescanned},
			{name: "approve", approve: "carol", want: Trusted, listed: true},
			{name: "an approval survives the scan", see: s(poisoned("v1")), want: Trusted, listed: true, event: Unchanged},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var cur *Pin
			now := t0
			for _, st := range tc.steps {
				now = now.Add(time.Minute)
				var next Pin
				if st.see != nil {
					var ev Event
					next, ev = Observe(cur, "files", "read", *st.see, now)
					if ev != st.event {
						t.Errorf("%s: event %q, want %q", st.name, ev, st.event)
					}
					if cur != nil && ev == Unchanged && next.Version != cur.Version {
						t.Errorf("%s: an unchanged pin moved to version %d", st.name, next.Version)
					}
				} else {
					var changed bool
					var err error
					next, changed, err = Approve(*cur, "", st.approve, now)
					if err != nil || !changed {
						t.Fatalf("%s: Approve = %v, %v", st.name, changed, err)
					}
					if next.ApprovedBy != st.approve || next.ApprovedAt == nil || !next.ApprovedAt.Equal(now) {
						t.Errorf("%s: approved by %q at %v", st.name, next.ApprovedBy, next.ApprovedAt)
					}
				}
				if next.Status != st.want || next.Listed() != st.listed {
					t.Errorf("%s: %s listed=%v, want %s listed=%v", st.name, next.Status, next.Listed(), st.want, st.listed)
				}
				if err := next.Check(); err != nil {
					t.Errorf("%s: the pin is not valid: %v", st.name, err)
				}
				if cur != nil && next.Version != cur.Version && next.Version != cur.Version+1 {
					t.Errorf("%s: version %d after %d", st.name, next.Version, cur.Version)
				}
				cur = &next
			}
		})
	}
}

func TestApprove(t *testing.T) {
	p, _ := Observe(nil, "files", "read", clean("v1"), t0)
	changed, _ := Observe(&p, "files", "read", clean("v2"), t0.Add(time.Minute))
	if _, ok, err := Approve(p, "", "alice", t0); ok || err != nil {
		t.Errorf("approving a trusted pin = %v, %v; want no change", ok, err)
	}
	for _, h := range []string{hash("v1")[:16], hash("v2")[:8], "zz", strings.Repeat("a", 65)} {
		if _, ok, err := Approve(changed, h, "alice", t0); ok || !errors.Is(err, ErrHashMismatch) || Code(err) != "pin.hash_mismatch" {
			t.Errorf("Approve(hash %q) = %v, %v; want ErrHashMismatch", h, ok, err)
		}
	}
	got, ok, err := Approve(changed, strings.ToUpper(hash("v2")[:12]), "alice", t0)
	if err != nil || !ok || got.Approved != hash("v2") {
		t.Errorf("Approve(the seen hash's prefix) = %.12s, %v, %v", got.Approved, ok, err)
	}
}

func TestNames(t *testing.T) {
	for s, want := range map[string]bool{"github": true, "my-server_2": true, "": false, "a__b": false, "a b": false,
		"ü": false, strings.Repeat("s", MaxServerLen): true, strings.Repeat("s", MaxServerLen+1): false} {
		if ValidServer(s) != want {
			t.Errorf("ValidServer(%q) = %v", s, !want)
		}
	}
	for s, want := range map[string]bool{"read_file": true, "a.b-c": true, "a__b": true, "": false, "a/b": false,
		"a b": false, strings.Repeat("t", MaxToolLen): true, strings.Repeat("t", MaxToolLen+1): false} {
		if ValidTool(s) != want {
			t.Errorf("ValidTool(%q) = %v", s, !want)
		}
	}
}

func TestFilterNormalize(t *testing.T) {
	f, err := Filter{}.Normalize()
	if err != nil || f.Limit != DefaultLimit {
		t.Errorf("Filter{}.Normalize() = %+v, %v", f, err)
	}
	if f, _ := (Filter{Limit: MaxLimit * 2}).Normalize(); f.Limit != MaxLimit {
		t.Errorf("a limit over MaxLimit becomes %d", f.Limit)
	}
	for _, bad := range []Filter{{Server: "a__b"}, {Status: "x"}, {Limit: -1}, {Tools: make([]string, MaxFilterTools+1)}} {
		if _, err := bad.Normalize(); !errors.Is(err, ErrInvalid) {
			t.Errorf("Normalize(%+v) = %v, want ErrInvalid", bad, err)
		}
	}
}
