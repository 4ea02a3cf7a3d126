//go:build linux && amd64

package seccomp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

	"golang.org/x/sys/unix"
)

var (
	errBadPointer = errors.New("unreadable pointer")
	errTooLong    = errors.New("longer than the bound")
)

// memReader reads a traced process's memory through /proc/<pid>/mem.
// Reads go page by page, so a string that ends just before an unmapped
// page is read whole and one that runs into it stops there.
type memReader struct {
	pid  int
	fd   int // -1 until the first read
	page uint64
}

func newMemReader(pid int) *memReader {
	return &memReader{pid: pid, fd: -1, page: uint64(unix.Getpagesize())}
}

func (m *memReader) open() error {
	if m.fd >= 0 {
		return nil
	}
	if m.pid <= 0 {
		return errors.New("the caller is not visible in this PID namespace")
	}
	fd, err := unix.Open("/proc/"+strconv.Itoa(m.pid)+"/mem", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening the memory of process %d: %w", m.pid, err)
	}
	m.fd = fd
	return nil
}

func (m *memReader) close() {
	if m.fd >= 0 {
		unix.Close(m.fd)
		m.fd = -1
	}
}

// read fills as much of buf from addr as is mapped, in order, and
// returns how much it read; err is set when it read less than len(buf).
func (m *memReader) read(addr uint64, buf []byte) (int, error) {
	if err := m.open(); err != nil {
		return 0, err
	}
	n := 0
	for n < len(buf) {
		at := addr + uint64(n)
		// Offsets are signed, and nothing at or above 1<<63 is user
		// memory; a null pointer is never readable either.
		if at == 0 || at >= 1<<63 || at < addr {
			return n, errBadPointer
		}
		chunk := min(uint64(len(buf)-n), m.page-at%m.page)
		got, err := unix.Pread(m.fd, buf[n:n+int(chunk)], int64(at))
		if err == unix.EINTR {
			continue
		}
		if err != nil || got <= 0 {
			return n, errBadPointer
		}
		n += got
	}
	return n, nil
}

// cstring reads the NUL-terminated string at addr, at most max bytes of
// it. A longer string comes back cut to max bytes with errTooLong.
func (m *memReader) cstring(addr uint64, max int) (string, error) {
	var out []byte
	buf := make([]byte, m.page)
	for len(out) < max {
		at := addr + uint64(len(out))
		want := min(uint64(max-len(out)), m.page-at%m.page)
		n, err := m.read(at, buf[:want])
		if i := bytes.IndexByte(buf[:n], 0); i >= 0 {
			return string(append(out, buf[:i]...)), nil
		}
		out = append(out, buf[:n]...)
		if err != nil {
			return string(out), err
		}
	}
	return string(out), errTooLong
}

// u64 reads one word.
func (m *memReader) u64(addr uint64) (uint64, error) {
	var b [8]byte
	if _, err := m.read(addr, b[:]); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

// argv reads a NULL-terminated array of string pointers, keeping at most
// maxArgs entries of at most maxBytes each. The error says what was cut.
func (m *memReader) argv(addr uint64, maxArgs, maxBytes int) ([]string, error) {
	if addr == 0 {
		return nil, nil // execve(path, NULL, ...) runs with an empty argv
	}
	ptrs := make([]byte, 8*(maxArgs+1))
	n, rerr := m.read(addr, ptrs)
	var args []string
	var problem error
	for i := 0; i+8 <= n; i += 8 {
		p := binary.LittleEndian.Uint64(ptrs[i:])
		if p == 0 {
			return args, problem
		}
		if len(args) == maxArgs {
			return args, fmt.Errorf("argv has more than %d entries; kept %d", maxArgs, maxArgs)
		}
		s, err := m.cstring(p, maxBytes)
		switch {
		case errors.Is(err, errTooLong):
			problem = fmt.Errorf("argv[%d] is longer than %d bytes; kept that much", len(args), maxBytes)
		case err != nil:
			problem = fmt.Errorf("argv[%d]: %w", len(args), err)
		}
		args = append(args, s)
	}
	if rerr != nil {
		return args, fmt.Errorf("argv array: %w", rerr)
	}
	return args, problem
}
