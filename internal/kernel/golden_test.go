package kernel

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/sentinel-agent/sentinel/internal/request"
)

var update = flag.Bool("update", false, "rewrite the want/codes lines of testdata/decisions/*.txtar with the kernel's current answers (review the diff!)")

// goldenCase is one case of the decision corpus. Each file under
// testdata/decisions is a txtar archive: a comment, then one "-- name --"
// section per case holding YAML:
//
//	tool: exec
//	args: {command: "rm -rf /"}
//	want: deny
//	codes: [command.recursive_delete_root, risk.score]
//
// codes is the exact set of reason codes, in any order.
type goldenCase struct {
	Tool  string         `yaml:"tool"`
	Args  map[string]any `yaml:"args"`
	Cwd   string         `yaml:"cwd,omitempty"`
	Want  string         `yaml:"want"`
	Codes []string       `yaml:"codes"`
	Why   string         `yaml:"why,omitempty"`
}

type section struct {
	name string
	body []byte
}

// parseTxtar splits a txtar archive. The format is tiny: lines of the form
// "-- name --" start a new file.
func parseTxtar(data []byte) (comment []byte, files []section) {
	lines := bytes.SplitAfter(data, []byte("\n"))
	cur := -1
	for _, l := range lines {
		t := bytes.TrimRight(l, "\r\n")
		if bytes.HasPrefix(t, []byte("-- ")) && bytes.HasSuffix(t, []byte(" --")) && len(t) > 6 {
			files = append(files, section{name: string(t[3 : len(t)-3])})
			cur = len(files) - 1
			continue
		}
		if cur < 0 {
			comment = append(comment, l...)
		} else {
			files[cur].body = append(files[cur].body, l...)
		}
	}
	return comment, files
}

func TestGoldenDecisions(t *testing.T) {
	ws := t.TempDir()
	// A little workspace: a symlink escaping it and a nested directory.
	os.MkdirAll(filepath.Join(ws, "src", "pkg"), 0o755)
	os.WriteFile(filepath.Join(ws, "package.json"), []byte("{}"), 0o644)
	os.Symlink("/etc", filepath.Join(ws, "etc-link"))
	k := newTestKernel(t, Options{Workspace: ws, Home: "/home/dev"})

	files, _ := filepath.Glob(filepath.Join("testdata", "decisions", "*.txtar"))
	if len(files) == 0 {
		t.Fatal("no golden decision files")
	}
	total := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		comment, secs := parseTxtar(data)
		changed := false
		for i, s := range secs {
			var c goldenCase
			dec := yaml.NewDecoder(bytes.NewReader(s.body))
			dec.KnownFields(true)
			if err := dec.Decode(&c); err != nil {
				t.Errorf("%s: %s: %v", f, s.name, err)
				continue
			}
			total++
			d := k.Decide(context.Background(), request.Raw{Tool: c.Tool, Args: c.Args, Cwd: c.Cwd})
			got := d.Codes()
			slices.Sort(got)
			got = slices.Compact(got)
			want := slices.Clone(c.Codes)
			slices.Sort(want)
			if d.Action.String() == c.Want && slices.Equal(got, want) {
				continue
			}
			if *update {
				c.Want, c.Codes = d.Action.String(), got
				secs[i].body = encodeCase(c)
				changed = true
				continue
			}
			t.Errorf("%s: %s: %s %v\n  got  %s %v", f, s.name, c.Want, want, d.Action, got)
		}
		if changed {
			var b bytes.Buffer
			b.Write(comment)
			for _, s := range secs {
				fmt.Fprintf(&b, "-- %s --\n", s.name)
				b.Write(s.body)
			}
			if err := os.WriteFile(f, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if total < 150 {
		t.Errorf("the golden corpus has %d cases; keep at least 150", total)
	}
	t.Logf("%d golden cases in %d files", total, len(files))
}

func encodeCase(c goldenCase) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "tool: %s\n", c.Tool)
	args, _ := yaml.Marshal(map[string]any{"args": c.Args})
	b.Write(args)
	if c.Cwd != "" {
		fmt.Fprintf(&b, "cwd: %q\n", c.Cwd)
	}
	fmt.Fprintf(&b, "want: %s\ncodes: [%s]\n", c.Want, strings.Join(c.Codes, ", "))
	if c.Why != "" {
		fmt.Fprintf(&b, "why: %q\n", c.Why)
	}
	return b.Bytes()
}
