package snapshot

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Snapshot is the state of some paths of a workspace before a call.
type Snapshot struct {
	ID         string    `json:"id"`
	DecisionID string    `json:"decision_id"`
	Time       time.Time `json:"time"`
	// Workspace is absolute, with its links resolved.
	Workspace string `json:"workspace"`
	// Files are in depth-first order: a directory right before its
	// entries. Every path's directories are recorded too, so that Restore
	// can recreate them.
	Files []File `json:"files"`
	// Git is the state of the repository the workspace is in, or nil.
	Git *Git `json:"git,omitempty"`
	// Truncated says that MaxFiles stopped the walk: some entries are not
	// recorded (their directories are Partial).
	Truncated bool `json:"truncated,omitempty"`
	// Bytes is the content stored for this snapshot, before sharing.
	Bytes int64 `json:"bytes"`
}

// File is one recorded path. Exactly one of Dir, Link and Special is set
// for an entry that is not a regular file; none for an absent one.
type File struct {
	// Path is relative to the workspace, slash-separated; "." is the
	// workspace itself.
	Path   string `json:"path"`
	Exists bool   `json:"exists"`
	Dir    bool   `json:"dir,omitempty"`
	Link   bool   `json:"link,omitempty"`
	// Special is a FIFO, socket or device: existence and mode only.
	Special bool `json:"special,omitempty"`
	// Partial is a directory whose entries are not all recorded (it lies
	// on the way to a named path, or a bound stopped its walk): entries
	// that are not recorded are neither reported as created nor deleted.
	Partial bool `json:"partial,omitempty"`
	// Target is a link's target, as written; it is never followed.
	Target string `json:"target,omitempty"`
	// Mode holds the permission bits with setuid, setgid and sticky.
	Mode uint32 `json:"mode,omitempty"`
	UID  uint32 `json:"uid,omitempty"`
	GID  uint32 `json:"gid,omitempty"`
	Size int64  `json:"size,omitempty"`
	// SHA256 is the hex digest of a regular file's content.
	SHA256 string `json:"sha256,omitempty"`
	// Stored says that the content is in the object store.
	Stored bool `json:"stored,omitempty"`
	// Note says what was not recorded, and why.
	Note string `json:"note,omitempty"`
}

// Git is the state of a git repository when a snapshot was taken.
type Git struct {
	Root string `json:"root"`
	// Head is the commit checked out; empty in a repository without one.
	Head string `json:"head,omitempty"`
	// Branch is empty when HEAD is detached.
	Branch string `json:"branch,omitempty"`
	// Dirty says that `git status --porcelain` listed something (or
	// could not tell).
	Dirty bool   `json:"dirty"`
	Note  string `json:"note,omitempty"`
}

// kind is what the file was.
func (f *File) kind() kind {
	switch {
	case !f.Exists:
		return kindAbsent
	case f.Dir:
		return kindDir
	case f.Link:
		return kindLink
	case f.Special:
		return kindSpecial
	}
	return kindFile
}

// idLen is the length of a snapshot ID.
const idLen = 2 + 12 + 16

// newID returns "s_", the Unix time in milliseconds (12 hex digits) and 16
// random hex digits: IDs sort by time, and processes sharing a store do
// not collide.
func newID(now time.Time) string {
	var raw [14]byte
	ms := uint64(now.UnixMilli())
	raw[0], raw[1] = byte(ms>>40), byte(ms>>32)
	binary.BigEndian.PutUint32(raw[2:6], uint32(ms))
	_, _ = rand.Read(raw[6:]) // never fails on a supported platform
	return "s_" + hex.EncodeToString(raw[:])
}

func checkID(id string) error {
	if len(id) != idLen || !strings.HasPrefix(id, "s_") || !isLowerHex(id[2:]) {
		return fmt.Errorf("%w: snapshot id %.40q is not \"s_\" and 28 lower-case hex digits", ErrInvalid, id)
	}
	return nil
}

// maxDecisionID bounds a decision id.
const maxDecisionID = 256

func checkDecisionID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("%w: decision id is empty; every snapshot belongs to a decision", ErrInvalid)
	case len(id) > maxDecisionID:
		return fmt.Errorf("%w: decision id is %d bytes; at most %d are allowed", ErrInvalid, len(id), maxDecisionID)
	case !utf8.ValidString(id):
		return fmt.Errorf("%w: decision id is not valid UTF-8", ErrInvalid)
	}
	for i, r := range id {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: decision id holds a control character at byte %d", ErrInvalid, i)
		}
	}
	return nil
}

func isLowerHex(s string) bool {
	for i := range len(s) {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// comparePaths orders paths depth-first: "." first, and a directory right
// before its entries ("a", "a/b", "a-b"), because '/' sorts before every
// other byte. Restore relies on it to fix a directory before what is in it.
func comparePaths(a, b string) int {
	if a == b {
		return 0
	}
	if a == "." {
		return -1
	}
	if b == "." {
		return 1
	}
	for i := 0; i < len(a) && i < len(b); i++ {
		ca, cb := a[i], b[i]
		if ca == cb {
			continue
		}
		if ca == '/' {
			return -1
		}
		if cb == '/' {
			return 1
		}
		if ca < cb {
			return -1
		}
		return 1
	}
	return len(a) - len(b)
}

// splitPath returns the directory and the last name of a recorded path.
func splitPath(p string) (dir, name string) {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return ".", p
	}
	return p[:i], p[i+1:]
}

// joinPath joins a recorded directory path and a name.
func joinPath(dir, name string) string {
	if dir == "." {
		return name
	}
	return dir + "/" + name
}

// within reports whether p is dir or below it.
func within(p, dir string) bool {
	return dir == "." || p == dir || strings.HasPrefix(p, dir+"/")
}

// checkRelPath checks a recorded path: "." or a clean, local,
// slash-separated path within the bounds.
func checkRelPath(p string) error {
	if p == "." {
		return nil
	}
	switch {
	case p == "" || len(p) > maxPathLen:
		return fmt.Errorf("path of %d bytes; 1 to %d are allowed", len(p), maxPathLen)
	case strings.IndexByte(p, 0) >= 0:
		return fmt.Errorf("path %.80q holds a NUL byte", p)
	case !filepath.IsLocal(filepath.FromSlash(p)) || filepath.ToSlash(filepath.Clean(filepath.FromSlash(p))) != p:
		return fmt.Errorf("path %.80q is not clean and relative to the workspace", p)
	case strings.Count(p, "/") >= maxDepth:
		return fmt.Errorf("path %.80q is more than %d levels deep", p, maxDepth)
	}
	return nil
}

// validate checks what Diff and Restore rely on, for a snapshot read from
// disk or handed in by a caller: they write nowhere but its recorded
// paths, so those must be clean paths inside an absolute workspace.
func (s *Snapshot) validate() error {
	if s == nil {
		return fmt.Errorf("%w: no snapshot given", ErrInvalid)
	}
	where := func(err error) error { return fmt.Errorf("%w: snapshot %.40s: %w", ErrInvalid, s.ID, err) }
	if !filepath.IsAbs(s.Workspace) || filepath.Clean(s.Workspace) != s.Workspace || filepath.Dir(s.Workspace) == s.Workspace {
		return where(fmt.Errorf("workspace %.200q is not a clean absolute path below the root", s.Workspace))
	}
	for i := range s.Files {
		f := &s.Files[i]
		if err := checkRelPath(f.Path); err != nil {
			return where(fmt.Errorf("file %d: %w", i, err))
		}
		if i > 0 && comparePaths(s.Files[i-1].Path, f.Path) >= 0 {
			return where(fmt.Errorf("file %d: %.80q is out of order or repeated", i, f.Path))
		}
		if err := f.validate(); err != nil {
			return where(fmt.Errorf("file %.80q: %w", f.Path, err))
		}
	}
	return nil
}

func (f *File) validate() error {
	types := 0
	for _, b := range []bool{f.Dir, f.Link, f.Special} {
		if b {
			types++
		}
	}
	switch {
	case types > 1:
		return fmt.Errorf("it is more than one of directory, link and special file")
	case !f.Exists && (types > 0 || f.Stored || f.SHA256 != ""):
		return fmt.Errorf("it is absent but has a type or content")
	case f.Path == "." && !f.Dir:
		return fmt.Errorf("the workspace itself is not a directory")
	case f.Mode > 0o7777:
		return fmt.Errorf("mode %o has bits beyond 07777", f.Mode)
	case f.Link && (f.Target == "" || len(f.Target) > maxPathLen || strings.IndexByte(f.Target, 0) >= 0):
		return fmt.Errorf("link target of %d bytes is empty, too long or holds a NUL byte", len(f.Target))
	case f.Partial && !f.Dir:
		return fmt.Errorf("only a directory can be partial")
	case f.SHA256 != "" && (len(f.SHA256) != 64 || !isLowerHex(f.SHA256)):
		return fmt.Errorf("sha256 %.80q is not 64 lower-case hex digits", f.SHA256)
	case f.kind() == kindFile && f.SHA256 == "":
		return fmt.Errorf("a file without a hash")
	case f.Stored && (f.SHA256 == "" || f.kind() != kindFile):
		return fmt.Errorf("stored content without a hash, or for something other than a file")
	case f.Size < 0:
		return fmt.Errorf("negative size")
	}
	return nil
}

// sortFiles puts files in depth-first order.
func sortFiles(files []File) {
	slices.SortFunc(files, func(a, b File) int { return comparePaths(a.Path, b.Path) })
}
