package snapshot

import (
	"context"
	"fmt"
	"strings"
)

// comparison is a Change with what Restore needs to know to undo it.
type comparison struct {
	Change
	// sameContent is set for a file or link whose content or target is
	// what the snapshot recorded (only its mode or owner may differ).
	sameContent bool
}

// compare describes the entry name of d (n, as it is now) against its
// record f. d is nil for the workspace itself and for a path whose
// directory is gone.
func (s *Store) compare(ctx context.Context, d *dirFD, name string, f *File, n node) (comparison, error) {
	c := comparison{Change: Change{Path: f.Path, Kind: Unchanged}}
	was, now := f.kind(), n.kind
	switch {
	case was == kindAbsent && now == kindAbsent:
		return c, nil
	case was == kindAbsent:
		c.Kind, c.Detail = Created, now.String()
		return c, nil
	case now == kindAbsent:
		c.Kind, c.Detail = Deleted, "was a "+was.String()
		return c, nil
	case was != now:
		c.Kind, c.Detail = TypeChanged, fmt.Sprintf("was a %s, now a %s", was, now)
		return c, nil
	}
	var diffs []string
	c.sameContent = true
	switch now {
	case kindFile:
		same, err := s.sameContent(ctx, d, name, f, n)
		if err != nil {
			return c, err
		}
		if !same {
			c.sameContent = false
			diffs = append(diffs, fmt.Sprintf("content (%d bytes, was %d)", n.size, f.Size))
		}
	case kindLink:
		target, err := d.readlink(name)
		if err != nil {
			return c, err
		}
		if target != f.Target {
			c.sameContent = false
			diffs = append(diffs, fmt.Sprintf("target %q, was %q", target, f.Target))
		}
	}
	if now != kindLink && n.perm != f.Mode {
		diffs = append(diffs, fmt.Sprintf("mode %04o, was %04o", n.perm, f.Mode))
	}
	if n.uid != f.UID || n.gid != f.GID {
		diffs = append(diffs, fmt.Sprintf("owner %d:%d, was %d:%d", n.uid, n.gid, f.UID, f.GID))
	}
	if len(diffs) > 0 {
		c.Kind, c.Detail = Modified, strings.Join(diffs, "; ")
	}
	return c, nil
}

// sameContent reports whether the file name of d holds the recorded
// content: same size, then same SHA-256.
func (s *Store) sameContent(ctx context.Context, d *dirFD, name string, f *File, n node) (bool, error) {
	if n.size != f.Size {
		return false, nil
	}
	file, _, err := d.openFile(name)
	if err != nil {
		return false, fmt.Errorf("snapshot: %s changed while being compared: %w", f.Path, err)
	}
	defer file.Close()
	sum, _, err := hashFile(ctx, file)
	if err != nil {
		return false, fmt.Errorf("snapshot: reading %s: %w", f.Path, err)
	}
	return sum == f.SHA256, nil
}
