package escape

import (
	"encoding/binary"
	"net"
	"strings"
	"testing"
	"time"
)

// dnsQuery builds a standard A query for name, as a resolver would send it.
func dnsQuery(id uint16, name string) []byte {
	msg := binary.BigEndian.AppendUint16(nil, id)
	msg = append(msg, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0) // RD, one question
	for label := range strings.SplitSeq(name, ".") {
		msg = append(append(msg, byte(len(label))), label...)
	}
	return append(msg, 0, 0, 1, 0, 1)
}

func TestParseQuestion(t *testing.T) {
	long := strings.Repeat(strings.Repeat("a", 63)+".", 4) + "b"
	tests := []struct {
		name    string
		msg     []byte
		want    string
		wantErr string
	}{
		{"query", dnsQuery(7, "Secret.Exfil.test"), "secret.exfil.test", ""},
		{"root", dnsQuery(7, "")[:12+1+4], "", ""},
		{"short header", []byte{1, 2, 3}, "", "shorter than its header"},
		{"response", nxdomain(dnsQuery(7, "a.test")), "", "is a response"},
		{"no question", append(dnsQuery(7, "a.test")[:4], 0, 0, 0, 0, 0, 0, 0, 0), "", "no question"},
		{"truncated label", dnsQuery(7, "abc.test")[:14], "", "label runs past"},
		{"no terminator", dnsQuery(7, "abc")[:16], "", "name runs past"},
		{"no type", dnsQuery(7, "abc")[:17], "", "no type and class"},
		{"compression", append(dnsQuery(7, "")[:12], 0xc0, 0x0c, 0, 1, 0, 1), "", "not supported"},
		{"too long", dnsQuery(7, long), "", "longer than 255"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, end, err := parseQuestion(tt.msg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want || end != len(tt.msg) {
				t.Errorf("got %q ending at %d, want %q ending at %d", got, end, tt.want, len(tt.msg))
			}
		})
	}
}

func TestNXDomainAnswersTheQuery(t *testing.T) {
	q := dnsQuery(0xbeef, "x.test")
	a := nxdomain(q)
	if binary.BigEndian.Uint16(a) != 0xbeef {
		t.Errorf("answer id %#x, want the query's", binary.BigEndian.Uint16(a))
	}
	if a[2]&0x80 == 0 || a[3]&0x0f != 3 {
		t.Errorf("flags %#x %#x: want a response with RCODE 3", a[2], a[3])
	}
	if q[2]&0x80 != 0 {
		t.Error("nxdomain changed the query it was given")
	}
}

func FuzzParseQuestion(f *testing.F) {
	f.Add(dnsQuery(1, "a.exfil.test"))
	f.Add([]byte{0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0})
	f.Fuzz(func(t *testing.T, msg []byte) {
		name, end, err := parseQuestion(msg)
		if err != nil {
			return
		}
		if end > len(msg) || len(name) > 255 {
			t.Fatalf("name %q end %d out of bounds for %d bytes", name, end, len(msg))
		}
		if _, _, err := parseQuestion(nxdomain(msg[:end])); err == nil {
			t.Fatal("the answer parses as a query")
		}
	})
}

func TestDNSServerRecordsAndAnswers(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &DNSServer{}
	s.serve(pc)
	defer s.Close()

	c, err := net.Dial("udp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(dnsQuery(9, "Leak.Exfil.Test")); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 512)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	if buf[3]&0x0f != 3 || binary.BigEndian.Uint16(buf) != 9 {
		t.Errorf("answer %x: want NXDOMAIN for id 9", buf[:n])
	}
	if !s.Asked("leak.exfil.test.") {
		t.Errorf("names %q: want leak.exfil.test", s.Names())
	}
	if s.Asked("other.test") {
		t.Error("Asked reports a name nobody asked for")
	}
}
