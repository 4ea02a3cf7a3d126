//go:build linux && amd64

package seccomp

import (
	"context"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestSockaddrString(t *testing.T) {
	le16 := func(v uint16) []byte { return []byte{byte(v), byte(v >> 8)} }
	cat := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	tests := []struct {
		name    string
		in      []byte
		want    string
		wantErr bool
	}{
		{"inet", cat(le16(unix.AF_INET), []byte{0x1f, 0x90, 10, 0, 0, 7}, make([]byte, 8)), "10.0.0.7:8080", false},
		{"inet6", cat(le16(unix.AF_INET6), []byte{0, 53}, make([]byte, 4),
			[]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, make([]byte, 4)), "[2001:db8::1]:53", false},
		{"unix path", cat(le16(unix.AF_UNIX), []byte("/run/x.sock\x00junk")), "/run/x.sock", false},
		{"unix abstract", cat(le16(unix.AF_UNIX), []byte("\x00name")), "@name", false},
		{"unspec", le16(unix.AF_UNSPEC), "unspec", false},
		{"other family", le16(unix.AF_PACKET), "family 17", false},
		{"short inet", cat(le16(unix.AF_INET), []byte{0, 80}), "", true},
		{"short inet6", cat(le16(unix.AF_INET6), make([]byte, 10)), "", true},
		{"no family", []byte{2}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sockaddrString(tt.in)
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("got %q, %v; want %q, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestSuperviseRefusesBadOptionsAndClosesTheFD(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		emit func(Event)
		want string
	}{
		{"negative bound", Options{MaxEvents: -1}, func(Event) {}, "MaxEvents is -1"},
		{"no emit", Options{}, nil, "needs an emit function"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p [2]int
			if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
				t.Fatal(err)
			}
			defer unix.Close(p[1])
			_, err := Supervise(context.Background(), p[0], tt.opts, tt.emit)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error saying %q", err, tt.want)
			}
			// The fd is Supervise's to close, even when it refuses.
			if _, err := unix.FcntlInt(uintptr(p[0]), unix.F_GETFD, 0); err != unix.EBADF {
				t.Errorf("fd still open after Supervise returned (fcntl: %v)", err)
			}
		})
	}
}
