package yamlpos

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestIndexAndFind(t *testing.T) {
	src := "version: 1\nclients:\n  - name: a\n    tokens:\n      - x\n      - y\n  - name: b\ndeep: {a: {b: {c: 1}}}\n"
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(src), &root); err != nil {
		t.Fatal(err)
	}
	l := Index(&root, 32)
	for path, want := range map[string]int{"version": 1, "clients": 2, "clients[0]": 3, "clients[0].name": 3,
		"clients[0].tokens[1]": 6, "clients[1].name": 7, "deep.a.b.c": 8} {
		if got := l[path]; got != want {
			t.Errorf("line of %s = %d, want %d", path, got, want)
		}
	}
	if got := l.Find("clients[0].tokens[7]"); got != 4 {
		t.Errorf("Find of an unknown item = %d, want the line of its list (4)", got)
	}
	if got := l.Find("nowhere.at.all"); got != 0 {
		t.Errorf("Find of an unknown path = %d, want 0", got)
	}
	shallow := Index(&root, 3)
	if _, ok := shallow["deep.a.b.c"]; ok {
		t.Error("a depth limit of 3 indexed a key 5 levels down")
	}
	// A deeply nested document costs no more than its first levels.
	var nest yaml.Node
	if err := yaml.Unmarshal([]byte(strings.Repeat("[", 5000)+strings.Repeat("]", 5000)), &nest); err == nil {
		if n := len(Index(&nest, 8)); n > 8 {
			t.Errorf("indexed %d paths of a 5000-deep list with a depth limit of 8", n)
		}
	}
}
