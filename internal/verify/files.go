package verify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// checkExists catches the commonest hallucination: the agent says it wrote
// a file that is not there.
func checkExists(_ context.Context, r *runner) tally {
	var t tally
	for _, p := range r.claim.Created {
		p = r.abs(p)
		fi, err := os.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			t.add(Fail, "exists.missing", fmt.Sprintf("%s: claimed created, but there is no such file", p))
			continue
		case err != nil:
			t.add(Fail, "exists.unreadable", fmt.Sprintf("%s: cannot tell whether it exists: %v", p, err))
			continue
		}
		t.add(Pass, "", "")
		if r.before == nil || !fi.Mode().IsRegular() {
			continue
		}
		if existed, old, ok := r.before.State(p); ok && existed {
			if sum, err := hashFile(p, r.opts.MaxFileBytes); err == nil && strings.EqualFold(sum, old) {
				t.add(Warn, "exists.unchanged", fmt.Sprintf("%s: claimed created, but it was there before the call with the same content", p))
			}
		}
	}
	t.passed = fmt.Sprintf("%d created path(s) exist", len(r.claim.Created))
	return t
}

// checkChanged compares modified files with the snapshot and makes sure
// deleted ones are gone.
func checkChanged(ctx context.Context, r *runner) tally {
	var t tally
	for _, p := range r.claim.Modified {
		if ctx.Err() != nil {
			t.add(Fail, "verify.canceled", fmt.Sprintf("stopped before %s: %v", r.abs(p), context.Cause(ctx)))
			break
		}
		st, code, note := r.modified(r.abs(p))
		t.add(st, code, note)
	}
	for _, p := range r.claim.Deleted {
		st, code, note := r.deleted(r.abs(p))
		t.add(st, code, note)
	}
	t.passed = fmt.Sprintf("%d modified path(s) differ from the snapshot, %d deleted path(s) are gone", len(r.claim.Modified), len(r.claim.Deleted))
	return t
}

func (r *runner) modified(p string) (Status, string, string) {
	// Links are not followed: a snapshot records a link, not its target.
	fi, err := os.Lstat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return Fail, "changed.missing", fmt.Sprintf("%s: claimed modified, but there is no such file", p)
	case err != nil:
		return Fail, "changed.unreadable", fmt.Sprintf("%s: %v", p, err)
	case !fi.Mode().IsRegular():
		return Warn, "changed.not_file", fmt.Sprintf("%s: claimed modified, but it is a %s, whose content is not compared", p, kind(fi.Mode()))
	}
	if r.before == nil {
		return Warn, "changed.no_snapshot", fmt.Sprintf("%s: no snapshot was taken before the call, so whether it changed cannot be compared", p)
	}
	existed, old, ok := r.before.State(p)
	if !ok {
		return Warn, "changed.not_snapshotted", fmt.Sprintf("%s: the snapshot did not record it, so whether it changed cannot be compared", p)
	}
	if !existed {
		return Pass, "", "" // it did not exist and now does: changed
	}
	sum, err := hashFile(p, r.opts.MaxFileBytes)
	if err != nil {
		return Fail, "changed.unreadable", fmt.Sprintf("%s: cannot hash it to compare with the snapshot: %v", p, err)
	}
	if strings.EqualFold(sum, old) {
		return Fail, "changed.unchanged", fmt.Sprintf("%s: claimed modified, but its content is the same as before the call (sha256 %s)", p, sum)
	}
	return Pass, "", ""
}

func (r *runner) deleted(p string) (Status, string, string) {
	_, err := os.Lstat(p)
	switch {
	case err == nil:
		return Fail, "changed.still_there", fmt.Sprintf("%s: claimed deleted, but it is still there", p)
	case !errors.Is(err, fs.ErrNotExist):
		return Fail, "changed.unreadable", fmt.Sprintf("%s: cannot tell whether it is gone: %v", p, err)
	}
	if r.before != nil {
		if existed, _, ok := r.before.State(p); ok && !existed {
			return Warn, "changed.never_existed", fmt.Sprintf("%s: claimed deleted, but it did not exist before the call either", p)
		}
	}
	return Pass, "", ""
}

func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	}
	return "special file"
}

// errTooLarge reports a file past Options.MaxFileBytes.
var errTooLarge = errors.New("larger than the limit (Options.MaxFileBytes)")

// readFile reads a regular file of at most max bytes. It opens without
// blocking so that a named pipe planted at a claimed path cannot stall
// verification.
func readFile(p string, max int64) ([]byte, error) {
	var data []byte
	err := withRegularFile(p, max, func(f *os.File) error {
		var err error
		data, err = readAllLimit(f, max)
		return err
	})
	return data, err
}

// hashFile returns the lower-case hex SHA-256 of a regular file.
func hashFile(p string, max int64) (string, error) {
	var sum string
	err := withRegularFile(p, max, func(f *os.File) error {
		h := sha256.New()
		n, err := io.Copy(h, io.LimitReader(f, max+1))
		if err != nil {
			return err
		}
		if n > max {
			return fmt.Errorf("%w of %d bytes", errTooLarge, max)
		}
		sum = hex.EncodeToString(h.Sum(nil))
		return nil
	})
	return sum, err
}

func withRegularFile(p string, max int64, fn func(*os.File) error) error {
	f, err := os.OpenFile(p, os.O_RDONLY|openNonblock, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("is a %s, not a regular file", kind(fi.Mode()))
	}
	if fi.Size() > max {
		return fmt.Errorf("%d bytes, %w of %d", fi.Size(), errTooLarge, max)
	}
	return fn(f)
}

// readAllLimit reads r to its end, failing past max bytes (a file may grow
// after it was measured).
func readAllLimit(r io.Reader, max int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%w of %d bytes", errTooLarge, max)
	}
	return data, nil
}
