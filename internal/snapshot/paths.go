package snapshot

import (
	"fmt"
	"path/filepath"
	"strings"
)

// workspace is where a Take happens: as the caller spelled it and with its
// links resolved. Paths may use either spelling.
type workspace struct{ given, real string }

func resolveWorkspace(ws string) (workspace, error) {
	if ws == "" || strings.IndexByte(ws, 0) >= 0 || len(ws) > maxPathLen {
		return workspace{}, fmt.Errorf("%w: workspace %.80q is empty, too long or holds a NUL byte", ErrInvalid, ws)
	}
	abs, err := filepath.Abs(ws)
	if err != nil {
		return workspace{}, fmt.Errorf("%w: workspace %.80q: %w", ErrInvalid, ws, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return workspace{}, fmt.Errorf("%w: workspace %s: %w", ErrInvalid, abs, err)
	}
	if filepath.Dir(real) == real {
		return workspace{}, fmt.Errorf("%w: workspace %s is the root of the file system; name a project directory", ErrInvalid, real)
	}
	return workspace{given: abs, real: real}, nil
}

// rel maps a path a call names to a recorded path: slash-separated,
// relative to the workspace, "." for the workspace itself. p is relative
// to the workspace or absolute under it. This is lexical only; Take then
// walks the result without following any link, so a link on the way
// cannot lead it out.
func (w workspace) rel(p string) (string, error) {
	if p == "" || strings.IndexByte(p, 0) >= 0 || len(p) > maxPathLen {
		return "", fmt.Errorf("%w: path %.80q is empty, longer than %d bytes or holds a NUL byte", ErrInvalid, p, maxPathLen)
	}
	abs := p
	if !filepath.IsAbs(p) {
		abs = filepath.Join(w.real, p)
	}
	abs = filepath.Clean(abs)
	for _, base := range []string{w.real, w.given} {
		r, err := filepath.Rel(base, abs)
		if err != nil || (r != "." && !filepath.IsLocal(r)) {
			continue
		}
		r = filepath.ToSlash(r)
		if err := checkRelPath(r); err != nil {
			return "", fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		return r, nil
	}
	return "", fmt.Errorf("%w: %.200q is not inside the workspace %s; name paths relative to it or absolute under it", ErrOutside, p, w.real)
}
