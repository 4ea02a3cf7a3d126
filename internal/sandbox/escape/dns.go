package escape

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
)

// maxRecordedNames bounds what one DNS server remembers.
const maxRecordedNames = 1000

// DNSServer is a fake name server that records every name it is asked
// about and answers each query with NXDOMAIN. It listens on several
// sockets (loopback, the outside namespace) and pools what they hear.
type DNSServer struct {
	mu    sync.Mutex
	names []string
	conns []net.PacketConn
	wg    sync.WaitGroup
}

// serve adds a socket to the server.
func (s *DNSServer) serve(pc net.PacketConn) {
	s.mu.Lock()
	s.conns = append(s.conns, pc)
	s.mu.Unlock()
	s.wg.Go(func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			name, end, err := parseQuestion(buf[:n])
			if err != nil {
				continue
			}
			s.record(name)
			_, _ = pc.WriteTo(nxdomain(buf[:end]), from)
		}
	})
}

func (s *DNSServer) record(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.names) < maxRecordedNames {
		s.names = append(s.names, name)
	}
}

// Names returns the names asked so far, lower-cased, without the final dot.
func (s *DNSServer) Names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.names)
}

// Asked reports whether anyone asked about name.
func (s *DNSServer) Asked(name string) bool {
	return slices.Contains(s.Names(), strings.ToLower(strings.TrimSuffix(name, ".")))
}

// Close closes every socket and waits for the readers.
func (s *DNSServer) Close() error {
	s.mu.Lock()
	var errs []error
	for _, c := range s.conns {
		errs = append(errs, c.Close())
	}
	s.mu.Unlock()
	s.wg.Wait()
	return errors.Join(errs...)
}

// parseQuestion reads the first question of a DNS query and returns its
// name and the offset just past the question. Compression pointers are
// refused: a query's first name never needs one.
func parseQuestion(msg []byte) (name string, end int, err error) {
	if len(msg) < 12 {
		return "", 0, errors.New("dns: message shorter than its header")
	}
	if msg[2]&0x80 != 0 {
		return "", 0, errors.New("dns: message is a response")
	}
	if binary.BigEndian.Uint16(msg[4:6]) < 1 {
		return "", 0, errors.New("dns: no question")
	}
	var labels []string
	off, total := 12, 0
	for {
		if off >= len(msg) {
			return "", 0, errors.New("dns: name runs past the message")
		}
		l := int(msg[off])
		off++
		if l == 0 {
			break
		}
		if l&0xc0 != 0 {
			return "", 0, fmt.Errorf("dns: label type %#x at offset %d not supported", l&0xc0, off-1)
		}
		if off+l > len(msg) {
			return "", 0, errors.New("dns: label runs past the message")
		}
		total += l + 1
		if total > 255 {
			return "", 0, errors.New("dns: name longer than 255 bytes")
		}
		labels = append(labels, strings.ToLower(string(msg[off:off+l])))
		off += l
	}
	if off+4 > len(msg) {
		return "", 0, errors.New("dns: question has no type and class")
	}
	return strings.Join(labels, "."), off + 4, nil
}

// nxdomain turns a query (header and first question) into its NXDOMAIN
// answer.
func nxdomain(query []byte) []byte {
	resp := slices.Clone(query)
	resp[2] = 0x80 | resp[2]&0x79 // QR set, opcode and RD kept, AA and TC clear
	resp[3] = 0x80 | 3            // RA, RCODE=NXDOMAIN
	binary.BigEndian.PutUint16(resp[4:6], 1)
	clear(resp[6:12])
	return resp
}
