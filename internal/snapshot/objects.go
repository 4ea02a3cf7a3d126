package snapshot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// Objects are file contents named by their SHA-256: objects/ab/cdef…. Two
// writers of one object write the same bytes, and each renames a whole,
// synced file into place, so concurrent writers cannot corrupt one.

func (s *Store) objectPath(sum string) string {
	return s.path("objects", sum[:2], sum[2:])
}

func (s *Store) hasObject(sum string) bool {
	info, err := os.Lstat(s.objectPath(sum))
	return err == nil && info.Mode().IsRegular()
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// copyCtx copies src to dst, checking ctx between chunks so that a large
// file does not outlast the call.
func copyCtx(ctx context.Context, dst io.Writer, src io.Reader) (int64, error) {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		r, err := src.Read(buf)
		if r > 0 {
			w, werr := dst.Write(buf[:r])
			n += int64(w)
			if werr != nil {
				return n, werr
			}
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

// hashFile returns the SHA-256 and length of what f holds from its offset.
func hashFile(ctx context.Context, f io.Reader) (string, int64, error) {
	h := sha256.New()
	n, err := copyCtx(ctx, h, f)
	if err != nil {
		return "", n, err
	}
	return hexSum(h), n, nil
}

// content is what storeFile found in a file.
type content struct {
	sum    string
	size   int64
	stored bool
	note   string
	// newIn is the directory a new object was renamed into; it must be
	// synced before a snapshot referencing the object is saved.
	newIn string
}

// storeFile hashes f and keeps its content in the object store when it is
// no larger than MaxFileSize. It reads f once when the object is already
// there (the usual case when the same workspace is snapshot call after
// call) and twice otherwise; if f changes between the reads, the second
// read is what is recorded, since it is what was stored.
func (s *Store) storeFile(ctx context.Context, f *os.File) (content, error) {
	sum, size, err := hashFile(ctx, f)
	if err != nil {
		return content{}, fmt.Errorf("snapshot: reading %s: %w", f.Name(), err)
	}
	if size > s.opts.MaxFileSize {
		return content{sum: sum, size: size, note: s.tooLargeNote()}, nil
	}
	if s.hasObject(sum) {
		return content{sum: sum, size: size, stored: true}, nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return content{}, fmt.Errorf("snapshot: %w", err)
	}
	return s.writeObject(ctx, f)
}

func (s *Store) tooLargeNote() string {
	return fmt.Sprintf("larger than MaxFileSize (%d bytes): hashed, not stored", s.opts.MaxFileSize)
}

// writeObject copies r into the object store.
func (s *Store) writeObject(ctx context.Context, r io.Reader) (content, error) {
	tmp, err := os.CreateTemp(s.path("tmp"), "obj-*")
	if err != nil {
		return content{}, fmt.Errorf("snapshot: %w", err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name()) // fails harmlessly once renamed
	}()
	h := sha256.New()
	limit := s.opts.MaxFileSize
	n, err := copyCtx(ctx, io.MultiWriter(tmp, h), io.LimitReader(r, limit+1))
	if err != nil {
		return content{}, fmt.Errorf("snapshot: copying into the store: %w", err)
	}
	if n > limit {
		// The file grew past the bound while being read: hash the rest,
		// keep nothing.
		rest, err := copyCtx(ctx, h, r)
		if err != nil {
			return content{}, fmt.Errorf("snapshot: %w", err)
		}
		return content{sum: hexSum(h), size: n + rest, note: s.tooLargeNote()}, nil
	}
	sum := hexSum(h)
	if err := tmp.Sync(); err != nil {
		return content{}, fmt.Errorf("snapshot: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return content{}, fmt.Errorf("snapshot: %w", err)
	}
	dst := s.objectPath(sum)
	dir := filepath.Dir(dst)
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return content{}, fmt.Errorf("snapshot: %w", err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return content{}, fmt.Errorf("snapshot: %w", err)
	}
	return content{sum: sum, size: n, stored: true, newIn: dir}, nil
}

// openObject opens stored content for reading.
func (s *Store) openObject(sum string) (*os.File, error) {
	f, err := os.Open(s.objectPath(sum))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("its content %s… is missing from the snapshot store", sum[:12])
	}
	return f, err
}

// copyVerified copies src to dst and fails unless exactly size bytes with
// the given SHA-256 came out: what Restore writes is what Take saw, or
// nothing.
func copyVerified(ctx context.Context, dst io.Writer, src io.Reader, size int64, sum, from string) error {
	h := sha256.New()
	n, err := copyCtx(ctx, io.MultiWriter(dst, h), io.LimitReader(src, size+1))
	if err != nil {
		return err
	}
	if n != size || hexSum(h) != sum {
		return fmt.Errorf("%w: the content %s gives is not what the snapshot recorded (%d bytes, sha256 %s…)", ErrCorrupt, from, size, sum[:12])
	}
	return nil
}
