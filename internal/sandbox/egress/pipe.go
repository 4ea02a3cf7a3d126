package egress

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// idleWatch closes connections once no byte has moved for its timeout.
// Copy loops call touch; one timer per connection checks, instead of a
// deadline per read, so that a tunnel busy in one direction stays open
// while the other is quiet.
type idleWatch struct {
	idle  time.Duration
	last  atomic.Int64 // UnixNano of the last byte moved
	conns []net.Conn

	mu      sync.Mutex
	timer   *time.Timer
	stopped bool
	fired   bool
}

func watchIdle(idle time.Duration, conns ...net.Conn) *idleWatch {
	w := &idleWatch{idle: idle, conns: conns}
	w.touch()
	w.mu.Lock()
	w.timer = time.AfterFunc(idle, w.check)
	w.mu.Unlock()
	return w
}

func (w *idleWatch) touch() { w.last.Store(time.Now().UnixNano()) }

func (w *idleWatch) check() {
	quiet := time.Since(time.Unix(0, w.last.Load()))
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return
	}
	if quiet < w.idle {
		w.timer.Reset(w.idle - quiet)
		return
	}
	w.fired = true
	for _, c := range w.conns {
		_ = c.Close()
	}
}

// stop ends the watch and tells whether it had closed the connections.
func (w *idleWatch) stop() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopped = true
	w.timer.Stop()
	return w.fired
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// copyActive copies src to dst until EOF (a nil error) or a failure,
// touching w for every chunk.
func copyActive(dst io.Writer, src io.Reader, w *idleWatch) (int64, error) {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	var n int64
	for {
		nr, rerr := src.Read(buf)
		if nr > 0 {
			w.touch()
			nw, werr := dst.Write(buf[:nr])
			n += int64(nw)
			if werr != nil {
				return n, werr
			}
			w.touch()
		}
		if rerr != nil {
			if errors.Is(rerr, io.EOF) {
				return n, nil
			}
			return n, rerr
		}
	}
}

// closeWrite half-closes c, or closes both when that is not possible: a
// tunnel whose ends cannot be half-closed ends when either side finishes.
func closeWrite(c net.Conn, both ...net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
		return
	}
	for _, x := range both {
		_ = x.Close()
	}
}

// pipe carries bytes between client and up until both directions end, a
// side fails, or nothing moves for idle. early goes to up first. It
// returns the bytes sent up (early included) and down, and whether the
// idle timeout ended it.
func pipe(client, up net.Conn, early []byte, idle time.Duration) (upBytes, downBytes int64, idled bool) {
	w := watchIdle(idle, client, up)
	if len(early) > 0 {
		n, err := up.Write(early)
		upBytes += int64(n)
		if err != nil {
			return upBytes, 0, w.stop()
		}
	}
	done := make(chan int64, 1)
	go func() {
		n, err := copyActive(up, client, w)
		if err != nil {
			_ = client.Close()
			_ = up.Close()
		} else {
			closeWrite(up, client, up)
		}
		done <- n
	}()
	n, err := copyActive(client, up, w)
	if err != nil {
		_ = client.Close()
		_ = up.Close()
	} else {
		closeWrite(client, client, up)
	}
	downBytes = n
	upBytes += <-done
	return upBytes, downBytes, w.stop()
}
