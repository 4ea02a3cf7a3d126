package snapshot

import (
	"errors"
	"strings"
)

// Bounds on what one call may make the package do.
const (
	// maxPathLen bounds a path and a link target, as PATH_MAX does.
	maxPathLen = 4096
	// maxDepth bounds how deep a path or a walk goes; a walk holds one
	// open directory per level.
	maxDepth = 64
	// maxRemove bounds how many entries one Restore deletes.
	maxRemove = 100_000
)

// kind is what a directory entry is.
type kind uint8

const (
	kindAbsent kind = iota
	kindFile
	kindDir
	kindLink
	kindSpecial // FIFO, socket or device
)

func (k kind) String() string {
	switch k {
	case kindFile:
		return "file"
	case kindDir:
		return "directory"
	case kindLink:
		return "symlink"
	case kindSpecial:
		return "special file"
	}
	return "nothing"
}

// node is what the file system says about one entry, without following it.
type node struct {
	kind     kind
	perm     uint32 // permission bits with setuid, setgid and sticky
	size     int64
	dev, ino uint64
	nlink    uint64
	uid, gid uint32
}

var errNotRegular = errors.New("not a regular file")

// joinOS joins a directory and a name for a message.
func joinOS(dir, name string) string {
	if strings.HasSuffix(dir, "/") {
		return dir + name
	}
	return dir + "/" + name
}
