package egress

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strconv"
	"testing"
)

// BenchmarkConnect compares a connection and a 1 KiB echo made directly
// with the same made through a CONNECT tunnel, and the echo alone on an
// open connection with the same on an open tunnel.
func BenchmarkConnect(b *testing.B) {
	port := echoServer(b, "127.0.0.2")
	tp := startProxy(b, Options{
		Allow:        mustRules(b, "bench.test:"+strconv.Itoa(port)),
		AllowPrivate: true,
		Resolver:     newResolver(map[string][]string{"bench.test": {"127.0.0.2"}}),
	}, nil)
	direct := hostPort("127.0.0.2", port)
	viaProxy := hostPort("bench.test", port)
	payload := bytes.Repeat([]byte("x"), 1024)
	back := make([]byte, len(payload))
	echo := func(b *testing.B, w io.Writer, r io.Reader) {
		if _, err := w.Write(payload); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(r, back); err != nil {
			b.Fatal(err)
		}
	}

	b.Run("dial+echo/direct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c, err := net.Dial("tcp", direct)
			if err != nil {
				b.Fatal(err)
			}
			echo(b, c, c)
			c.Close()
		}
	})
	b.Run("dial+echo/proxy", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c, br := connect(b, tp.addr, viaProxy)
			echo(b, c, br)
			c.Close()
		}
	})
	b.Run("echo/direct", func(b *testing.B) {
		c, err := net.Dial("tcp", direct)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		r := bufio.NewReader(c)
		b.ReportAllocs()
		b.SetBytes(int64(len(payload)))
		for b.Loop() {
			echo(b, c, r)
		}
	})
	b.Run("echo/proxy", func(b *testing.B) {
		c, br := connect(b, tp.addr, viaProxy)
		defer c.Close()
		_ = c.SetDeadline(noDeadline)
		b.ReportAllocs()
		b.SetBytes(int64(len(payload)))
		for b.Loop() {
			echo(b, c, br)
		}
	})
}
