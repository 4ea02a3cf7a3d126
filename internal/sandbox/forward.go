package sandbox

import (
	"io"
	"net"
	"sync"
)

// maxForwardConns bounds the connections one forwarder carries at once.
const maxForwardConns = 256

// forward accepts on ln and copies each connection both ways to what
// dial returns, until ln is closed. It carries the sandbox's loopback
// ports to Unix sockets bound in from the host, and those sockets to
// the host's loopback ports.
func forward(ln net.Listener, dial func() (net.Conn, error)) {
	sem := make(chan struct{}, maxForwardConns)
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		select {
		case sem <- struct{}{}:
		default:
			c.Close()
			continue
		}
		go func() {
			defer func() { <-sem }()
			defer c.Close()
			up, err := dial()
			if err != nil {
				return
			}
			defer up.Close()
			var wg sync.WaitGroup
			wg.Add(2)
			go func() { defer wg.Done(); copyHalf(up, c) }()
			go func() { defer wg.Done(); copyHalf(c, up) }()
			wg.Wait()
		}()
	}
}

// copyHalf copies src to dst and then closes dst for writing, so that
// the other side sees the end of the stream.
func copyHalf(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	if cw, ok := dst.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	} else {
		dst.Close()
	}
}
