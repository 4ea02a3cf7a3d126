package escape

import (
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Listener is a TCP server that counts the connections it accepts and
// answers each with a one-line HTTP response, so that a client can tell a
// real connection from a proxy that only pretends.
type Listener struct {
	ln   net.Listener
	hits atomic.Int64
	wg   sync.WaitGroup
}

func newListener(ln net.Listener) *Listener {
	l := &Listener{ln: ln}
	l.wg.Go(l.serve)
	return l
}

// Addr is the address the listener accepts on.
func (l *Listener) Addr() netip.AddrPort {
	return l.ln.Addr().(*net.TCPAddr).AddrPort()
}

// Hits is the number of connections accepted so far.
func (l *Listener) Hits() int64 { return l.hits.Load() }

func (l *Listener) serve() {
	for {
		c, err := l.ln.Accept()
		if err != nil {
			return
		}
		l.hits.Add(1)
		l.wg.Go(func() {
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(2 * time.Second))
			_, _ = c.Read(make([]byte, 512))
			_, _ = io.WriteString(c, "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n")
		})
	}
}

// Close stops accepting and waits for the connections in flight.
func (l *Listener) Close() error {
	err := l.ln.Close()
	l.wg.Wait()
	return err
}
