// Package yamlpos maps the paths of a YAML document ("clients[1].tokens",
// "rules[0].when") to the lines they are written on, so that a
// configuration error can say where it is.
package yamlpos

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Lines maps dotted paths, with [i] for list items, to 1-based lines.
type Lines map[string]int

// Index records the line of every mapping key and list item of root, down
// to maxDepth levels (deeper nodes are left out, which bounds the work on a
// hostile document).
func Index(root *yaml.Node, maxDepth int) Lines {
	idx := Lines{}
	var walk func(n *yaml.Node, path string, depth int)
	walk = func(n *yaml.Node, path string, depth int) {
		if n == nil || depth > maxDepth {
			return
		}
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path, depth+1)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := k.Value
				if path != "" {
					p = path + "." + k.Value
				}
				idx[p] = k.Line
				walk(v, p, depth+1)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := path + "[" + strconv.Itoa(i) + "]"
				idx[p] = c.Line
				walk(c, p, depth+1)
			}
		}
	}
	walk(root, "", 0)
	return idx
}

// Find returns the line of path or, when path itself was not indexed, of
// the nearest enclosing path; 0 when none is known.
func (l Lines) Find(path string) int {
	for path != "" {
		if n, ok := l[path]; ok {
			return n
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}
