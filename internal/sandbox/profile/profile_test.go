package profile

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var vars = Vars{Workspace: "/work/space", Home: "/home/u", DataDir: "/home/u/.sentinel"}

func TestDefaultResolves(t *testing.T) {
	r, err := Default().Resolve(DefaultName, vars)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Writable) != 1 || r.Writable[0] != "/work/space" || r.Network != NetworkNone || r.ReadOnly[0] != "/" {
		t.Errorf("default: writable %v network %s read-only %v", r.Writable, r.Network, r.ReadOnly)
	}
	for _, want := range []string{"/home/u/.ssh", "/home/u/.aws", "/home/u/.kube", "/home/u/.gnupg", "/home/u/.sentinel"} {
		found := false
		for _, h := range r.Hidden {
			found = found || h == want
		}
		if !found {
			t.Errorf("default profile does not hide %s: %v", want, r.Hidden)
		}
	}
	if r.Wall != 10*time.Minute || r.Memory != 2<<30 || r.Processes != 512 {
		t.Errorf("default limits: wall %s memory %d processes %d", r.Wall, r.Memory, r.Processes)
	}
}

func TestResolveExpands(t *testing.T) {
	p := Profile{Writable: []string{"${workspace}/out", "~/.cache", "${data_dir}/../x", "/a//b/"}, Network: NetworkLocalhost, LocalPorts: []int{5432}}
	r, err := p.Resolve("x", vars)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/work/space/out", "/home/u/.cache", "/home/u/x", "/a/b"}
	if strings.Join(r.Writable, ",") != strings.Join(want, ",") {
		t.Errorf("writable = %v, want %v", r.Writable, want)
	}
}

func TestResolveProblems(t *testing.T) {
	for _, tc := range []struct {
		p    Profile
		v    Vars
		want string
	}{
		{Profile{Writable: []string{"~/x"}}, Vars{Workspace: "/w"}, "needs a home directory"},
		{Profile{Writable: []string{"${nope}/x"}}, vars, "unknown variable"},
		{Profile{Writable: []string{"${workspace}"}}, Vars{Home: "/h"}, "${workspace}, which is not set"},
		{Profile{Writable: []string{"/home/u/.ssh/keys"}, Hidden: []string{"~/.ssh"}}, vars, "inside the hidden"},
		{Profile{Writable: []string{""}}, vars, "empty path"},
		{Profile{Network: NetworkAllowlist, Allow: []string{"https://example.com"}}, vars, "give a host"},
		{Profile{Network: NetworkAllowlist, Allow: []string{"ex*ample.com"}}, vars, "wildcard goes only at the start"},
		{Profile{Network: NetworkAllowlist, Allow: []string{"example.com:99999"}}, vars, "not in 1-65535"},
		{Profile{LocalPorts: []int{0}}, vars, "not a TCP port"},
		{Profile{Env: []string{"A B"}}, vars, "variable name"},
		{Profile{SetEnv: map[string]string{"X*": "1"}}, vars, "not a variable name"},
		{Profile{Limits: Limits{Processes: -1}}, vars, "limits.processes"},
		{Profile{Limits: Limits{OpenFiles: 3}}, vars, "limits.open_files"},
		{Profile{Limits: Limits{TmpSize: "1Mb"}}, vars, "unknown unit"},
		{Profile{Seccomp: Seccomp{Deny: []string{"ptrace;"}}}, vars, "not a system call name"},
	} {
		_, err := tc.p.Resolve("t", tc.v)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v; want %q", tc.p, err, tc.want)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"512MiB": 512 << 20, "2GiB": 2 << 30, "100MB": 100e6, "4096": 4096, "1.5G": 3 << 29, "64K": 64 << 10} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1MiB", "0", "lots", "1PiB", "9999999TiB"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) accepted", in)
		}
	}
}

func FuzzResolve(f *testing.F) {
	f.Add("${workspace}/a", "~/.ssh", "*.example.com:443", "LC_*", "1GiB")
	f.Add("/", "", "*", "", "")
	f.Fuzz(func(t *testing.T, w, h, allow, env, mem string) {
		p := Profile{Writable: []string{w}, Hidden: []string{h}, Network: NetworkAllowlist, Allow: []string{allow},
			Env: []string{env}, Limits: Limits{Memory: mem}}
		r, err := p.Resolve("f", vars)
		if err != nil {
			return
		}
		for _, x := range append(append([]string{}, r.Writable...), r.Hidden...) {
			if !filepath.IsAbs(x) || filepath.Clean(x) != x {
				t.Fatalf("resolved path %q is not absolute and clean", x)
			}
		}
		for _, x := range r.Writable {
			if x == "/" {
				t.Fatal("/ resolved as writable")
			}
		}
		if r.Memory <= 0 {
			t.Fatalf("memory %d", r.Memory)
		}
	})
}
