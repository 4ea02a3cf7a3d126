package decision

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"sync/atomic"
	"time"
)

// idCounter is the low half of every ID this process makes. It starts at a
// random value, so that processes deciding in the same millisecond do not
// collide, and counts up, so that IDs never repeat within a process.
var idCounter atomic.Uint64

func init() {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails on a supported platform
	idCounter.Store(binary.BigEndian.Uint64(b[:]))
}

// IDLen is the length of the IDs NewID returns.
const IDLen = 2 + 12 + 16

// NewID returns a new decision ID: "d_", the Unix time in milliseconds (12
// hex digits) and 16 hex digits of a per-process counter. Every decision
// gets its own, even when a cache repeats an earlier verdict, so that an
// approval, an outcome or a rollback names exactly one decision; IDs made
// later sort later (to the millisecond), which keeps indexes on them
// appending at one end.
func NewID() string { return newID(time.Now()) }

func newID(now time.Time) string {
	var raw [14]byte
	ms := uint64(now.UnixMilli())
	raw[0], raw[1] = byte(ms>>40), byte(ms>>32)
	binary.BigEndian.PutUint32(raw[2:6], uint32(ms))
	binary.BigEndian.PutUint64(raw[6:], idCounter.Add(1))
	var out [IDLen]byte
	out[0], out[1] = 'd', '_'
	hex.Encode(out[2:], raw[:])
	return string(out[:])
}
