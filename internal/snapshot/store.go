package snapshot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Store keeps snapshots and the content they reference under one
// directory:
//
//	objects/ab/cdef…   file content, named by its SHA-256
//	snapshots/<id>.json
//	snapshots/<sha256 of a decision id>.latest   a link to its latest snapshot
//	tmp/               files being written, renamed into place when whole
//	lock               shared by Take and Restore, exclusive for GC
//
// Directories are 0700 and files 0600: they hold copies of workspace files.
type Store struct {
	dir  string
	opts Options
	// self identifies dir, so that a walk of a workspace holding the
	// store skips it.
	self node
}

// format is the version of the snapshot files this package writes.
const format = 1

// maxSnapshotFile bounds the size of a snapshot file read back.
const maxSnapshotFile = 64 << 20

// Open opens the store in dir, creating it if needed. dir must be absolute
// and private to its owner.
func Open(dir string, opts Options) (*Store, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if !filepath.IsAbs(dir) {
		return nil, fmt.Errorf("%w: snapshot store %q is not an absolute path", ErrInvalid, dir)
	}
	dir = filepath.Clean(dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("snapshot: creating the store: %w", err)
	}
	self, err := statPath(dir)
	if err != nil {
		return nil, fmt.Errorf("snapshot: opening the store: %w", err)
	}
	if self.kind != kindDir {
		return nil, fmt.Errorf("%w: snapshot store %s is not a directory", ErrInvalid, dir)
	}
	if self.perm&0o077 != 0 {
		return nil, fmt.Errorf("%w: snapshot store %s has mode %04o; it holds copies of workspace files and must be private (chmod 700 %s)", ErrInvalid, dir, self.perm, dir)
	}
	for _, sub := range []string{"objects", "snapshots", "tmp"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("snapshot: creating the store: %w", err)
		}
	}
	return &Store{dir: dir, opts: opts.withDefaults(), self: self}, nil
}

// isStore reports whether n is the store's own directory.
func (s *Store) isStore(n node) bool {
	return n.kind == kindDir && n.dev == s.self.dev && n.ino == s.self.ino
}

func (s *Store) path(elem ...string) string {
	return filepath.Join(append([]string{s.dir}, elem...)...)
}

func (s *Store) lock(ctx context.Context, exclusive bool) (func(), error) {
	return lockFile(ctx, s.path("lock"), exclusive)
}

// writeTemp writes data to a synced temporary file and returns its path.
func (s *Store) writeTemp(data []byte) (string, error) {
	tmp, err := os.CreateTemp(s.path("tmp"), "w-*")
	if err != nil {
		return "", fmt.Errorf("snapshot: %w", err)
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("snapshot: %w", err)
	}
	return tmp.Name(), nil
}

// syncDir makes a rename into dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	return nil
}

// onDisk is the file a snapshot is saved in.
type onDisk struct {
	Format   int       `json:"format"`
	Snapshot *Snapshot `json:"snapshot"`
}

// save writes the snapshot and points its decision at it. Both are
// renamed into snapshots/, whole, and one sync of that directory makes
// both durable. The pointer is a link, whose target (the file name) is
// written with the link itself: there is no content to sync apart.
func (s *Store) save(snap *Snapshot) error {
	data, err := json.Marshal(onDisk{Format: format, Snapshot: snap})
	if err != nil {
		return fmt.Errorf("snapshot: encoding %s: %w", snap.ID, err)
	}
	tmp, err := s.writeTemp(data)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, s.path("snapshots", snap.ID+".json")); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("snapshot: %w", err)
	}
	link := s.path("tmp", "l-"+snap.ID)
	if err := os.Symlink(snap.ID+".json", link); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	if err := os.Rename(link, s.path("snapshots", decisionKey(snap.DecisionID)+latestSuffix)); err != nil {
		os.Remove(link)
		return fmt.Errorf("snapshot: %w", err)
	}
	return syncDir(s.path("snapshots"))
}

// latestSuffix names the link from a decision to its latest snapshot.
const latestSuffix = ".latest"

// decisionKey names a decision's link: decision ids are the caller's
// strings, so they are hashed rather than trusted as file names.
func decisionKey(decisionID string) string {
	sum := sha256.Sum256([]byte(decisionID))
	return hex.EncodeToString(sum[:])
}

// latest reads the link of a decision, or a link GC found, and returns
// the snapshot id it names.
func latest(path string) (string, error) {
	target, err := os.Readlink(path)
	if err != nil {
		return "", err
	}
	id, _ := strings.CutSuffix(target, ".json")
	return id, nil
}

// Load returns the snapshot with the given id.
func (s *Store) Load(id string) (*Snapshot, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	path := s.path("snapshots", id+".json")
	data, err := readBounded(path, maxSnapshotFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s (it was never taken here, or GC has dropped it)", ErrNotFound, id)
	}
	if err != nil {
		return nil, err
	}
	snap, err := decodeSnapshot(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrCorrupt, path, err)
	}
	if snap.ID != id {
		return nil, fmt.Errorf("%w: %s holds snapshot %.40q", ErrCorrupt, path, snap.ID)
	}
	return snap, nil
}

// ByDecision returns the latest snapshot taken for a decision.
func (s *Store) ByDecision(decisionID string) (*Snapshot, error) {
	if err := checkDecisionID(decisionID); err != nil {
		return nil, err
	}
	id, err := latest(s.path("snapshots", decisionKey(decisionID)+latestSuffix))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: none for decision %.80q", ErrNotFound, decisionID)
	}
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	snap, err := s.Load(id)
	if err != nil {
		return nil, fmt.Errorf("decision %.80q: %w", decisionID, err)
	}
	if snap.DecisionID != decisionID {
		return nil, fmt.Errorf("%w: the index of decision %.80q points at %s, taken for another decision", ErrCorrupt, decisionID, snap.ID)
	}
	return snap, nil
}

// decodeSnapshot parses and validates a snapshot file.
func decodeSnapshot(data []byte) (*Snapshot, error) {
	var d onDisk
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, err
	}
	if d.Format != format || d.Snapshot == nil {
		return nil, fmt.Errorf("format %d is not %d, or no snapshot in it", d.Format, format)
	}
	if err := checkID(d.Snapshot.ID); err != nil {
		return nil, err
	}
	if err := checkDecisionID(d.Snapshot.DecisionID); err != nil {
		return nil, err
	}
	if err := d.Snapshot.validate(); err != nil {
		return nil, err
	}
	return d.Snapshot, nil
}

// readBounded reads a file of the store, refusing one larger than max.
func readBounded(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrCorrupt, path, max)
	}
	return data, nil
}
