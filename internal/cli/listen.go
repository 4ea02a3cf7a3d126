package cli

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"
)

// maxSocketPath is what a Unix socket's path may hold (sun_path less its
// terminating NUL).
const maxSocketPath = 107

// listenUnix listens on a Unix socket at path that only this user can
// reach: its directory is created mode 0700 (an existing one must not be
// open to others) and the socket is mode 0600. A lock file next to it
// keeps a second server off the same path; a socket file left by a
// server that died is replaced. The returned function closes the
// listener and releases the lock.
func listenUnix(path string) (net.Listener, func(), error) {
	if len(path) > maxSocketPath {
		return nil, nil, fmt.Errorf("socket path %s is %d bytes, more than a Unix socket's %d; use a shorter data dir", path, len(path), maxSocketPath)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("socket directory: %w", err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("socket directory: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, nil, fmt.Errorf("socket directory %s has mode %v; others could reach the socket: chmod 700 it", dir, st.Mode().Perm())
	}
	lock, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("socket lock: %w", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, nil, fmt.Errorf("another Sentinel server serves %s", path)
		}
		return nil, nil, fmt.Errorf("socket lock: %w", err)
	}
	// Holding the lock, a socket file here is a dead server's.
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		lock.Close()
		return nil, nil, fmt.Errorf("removing the stale socket: %w", err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		lock.Close()
		return nil, nil, err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		lock.Close()
		return nil, nil, fmt.Errorf("socket mode: %w", err)
	}
	return ln, func() { ln.Close(); lock.Close() }, nil
}

// idleTracker notices when a server has had no request for a while.
type idleTracker struct {
	last   atomic.Int64 // unix nanoseconds of the last request's end
	active atomic.Int64 // requests in flight
}

func newIdleTracker() *idleTracker {
	t := &idleTracker{}
	t.last.Store(time.Now().UnixNano())
	return t
}

func (t *idleTracker) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.active.Add(1)
		defer func() {
			t.last.Store(time.Now().UnixNano())
			t.active.Add(-1)
		}()
		h.ServeHTTP(w, r)
	})
}

// idleFor reports whether no request ran for d.
func (t *idleTracker) idleFor(d time.Duration, now time.Time) bool {
	return t.active.Load() == 0 && now.Sub(time.Unix(0, t.last.Load())) >= d
}

// after closes the returned channel once the server has been idle for d;
// it checks until stop closes.
func (t *idleTracker) after(d time.Duration, stop <-chan struct{}) <-chan struct{} {
	idle := make(chan struct{})
	every := min(max(d/10, 10*time.Millisecond), time.Second)
	go func() {
		tk := time.NewTicker(every)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case now := <-tk.C:
				if t.idleFor(d, now) {
					close(idle)
					return
				}
			}
		}
	}()
	return idle
}
