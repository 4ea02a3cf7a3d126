package snapshot

import (
	"errors"
	"fmt"
	"strings"
)

// cursor opens the directories of a workspace as recorded paths are
// visited in depth-first order, keeping the chain to the current one
// open: each directory is opened once, one component at a time, without
// following links.
type cursor struct {
	root  *dirFD
	stack []openDir
}

type openDir struct {
	path string
	d    *dirFD
}

// errNotDir says that a recorded directory on the way to a path is no
// longer a directory.
type errNotDir struct {
	path string
	now  kind
}

func (e *errNotDir) Error() string {
	if e.now == kindAbsent {
		return fmt.Sprintf("%s does not exist", e.path)
	}
	return fmt.Sprintf("%s is no longer a directory (now %s); nothing is read or written through it", e.path, e.now)
}

// dir returns the directory at the recorded path p.
func (c *cursor) dir(p string) (*dirFD, error) {
	if p == "." {
		return c.root, nil
	}
	for len(c.stack) > 0 && !within(p, c.stack[len(c.stack)-1].path) {
		c.pop()
	}
	d, at := c.root, "."
	if len(c.stack) > 0 {
		top := c.stack[len(c.stack)-1]
		if top.path == p {
			return top.d, nil
		}
		d, at = top.d, top.path
	}
	rest := p
	if at != "." {
		rest = p[len(at)+1:]
	}
	for _, name := range strings.Split(rest, "/") {
		at = joinPath(at, name)
		n, err := d.stat(name)
		if err != nil {
			return nil, err
		}
		if n.kind != kindDir {
			return nil, &errNotDir{path: at, now: n.kind}
		}
		sub, err := d.openDir(name)
		if err != nil {
			return nil, fmt.Errorf("%s changed while being read: %w", at, err)
		}
		c.stack = append(c.stack, openDir{path: at, d: sub})
		d = sub
	}
	return d, nil
}

// forget closes p and what is below it, once p has been replaced.
func (c *cursor) forget(p string) {
	for len(c.stack) > 0 && within(c.stack[len(c.stack)-1].path, p) {
		c.pop()
	}
}

func (c *cursor) pop() {
	c.stack[len(c.stack)-1].d.close()
	c.stack = c.stack[:len(c.stack)-1]
}

func (c *cursor) close() {
	for len(c.stack) > 0 {
		c.pop()
	}
}

// lookup describes the recorded path p as it is now, with the directory
// holding it. A path whose directory is no longer a directory does not
// exist as far as the snapshot is concerned: it is reported absent, with
// the reason in why.
func (c *cursor) lookup(p string) (d *dirFD, name string, n node, why string, err error) {
	if p == "." {
		n, err := c.root.self()
		return nil, ".", n, "", err
	}
	parent, name := splitPath(p)
	d, err = c.dir(parent)
	var nd *errNotDir
	if errors.As(err, &nd) {
		return nil, name, node{}, nd.Error(), nil
	}
	if err != nil {
		return nil, name, node{}, "", err
	}
	n, err = d.stat(name)
	return d, name, n, "", err
}
