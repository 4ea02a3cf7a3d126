//go:build linux && amd64

package seccomp

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Offsets into struct seccomp_data, which the filter reads. amd64 is
// little-endian, so an argument's low 32 bits come first.
const (
	offNr   = 0
	offArch = 4
	offArgs = 16
)

// auditArchX86_64 is AUDIT_ARCH_X86_64: the only ABI the filters accept.
const auditArchX86_64 = 0xc000003e

// x32Bit marks x32 ABI system call numbers, which share the x86-64 arch
// value and must be told apart by number.
const x32Bit = 0x40000000

// label names a forward jump target; label 0 is "the next instruction".
type label int

// asm builds a classic BPF program. Jumps go forward only, to labels
// resolved by finish. Every block this package emits is short, so a jump
// too long for the 8-bit offset is reported as an error, not rewritten.
type asm struct {
	prog  []unix.SockFilter
	where []int // label-1 → instruction index, -1 until bound
	jumps []pendingJump
}

type pendingJump struct {
	at     int
	jt, jf label
}

func (a *asm) newLabel() label {
	a.where = append(a.where, -1)
	return label(len(a.where))
}

// bind places l at the next instruction emitted.
func (a *asm) bind(l label) { a.where[l-1] = len(a.prog) }

func (a *asm) emit(code uint16, k uint32) {
	a.prog = append(a.prog, unix.SockFilter{Code: code, K: k})
}

func (a *asm) loadNr()   { a.emit(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, offNr) }
func (a *asm) loadArch() { a.emit(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, offArch) }

// loadArgLo loads the low 32 bits of argument i. Rules compare only
// those for arguments the kernel reads as int or unsigned int: the upper
// half is ignored by the kernel, so a filter that looked at it could be
// stepped around by setting it.
func (a *asm) loadArgLo(i int) { a.emit(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, uint32(offArgs+8*i)) }

// loadArgHi loads the high 32 bits of argument i, for pointers.
func (a *asm) loadArgHi(i int) { a.emit(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, uint32(offArgs+8*i+4)) }

func (a *asm) and(k uint32) { a.emit(unix.BPF_ALU|unix.BPF_AND|unix.BPF_K, k) }

func (a *asm) jump(op uint16, k uint32, jt, jf label) {
	a.jumps = append(a.jumps, pendingJump{at: len(a.prog), jt: jt, jf: jf})
	a.emit(unix.BPF_JMP|op|unix.BPF_K, k)
}

// jeq jumps to jt when the accumulator equals k, else to jf.
func (a *asm) jeq(k uint32, jt, jf label) { a.jump(unix.BPF_JEQ, k, jt, jf) }

// jge jumps to jt when the accumulator is at least k, else to jf.
func (a *asm) jge(k uint32, jt, jf label) { a.jump(unix.BPF_JGE, k, jt, jf) }

// jset jumps to jt when the accumulator has any bit of k set, else to jf.
func (a *asm) jset(k uint32, jt, jf label) { a.jump(unix.BPF_JSET, k, jt, jf) }

func (a *asm) ret(k uint32) { a.emit(unix.BPF_RET|unix.BPF_K, k) }

// finish resolves the jumps and returns the program.
func (a *asm) finish() ([]unix.SockFilter, error) {
	offset := func(from int, l label) (uint8, error) {
		if l == 0 {
			return 0, nil
		}
		to := a.where[l-1]
		if to < 0 {
			return 0, fmt.Errorf("seccomp: internal error: label %d never bound", l)
		}
		d := to - from - 1
		if d < 0 || d > 255 {
			return 0, fmt.Errorf("seccomp: internal error: jump of %d instructions at %d", d, from)
		}
		return uint8(d), nil
	}
	for _, j := range a.jumps {
		jt, err := offset(j.at, j.jt)
		if err != nil {
			return nil, err
		}
		jf, err := offset(j.at, j.jf)
		if err != nil {
			return nil, err
		}
		a.prog[j.at].Jt, a.prog[j.at].Jf = jt, jf
	}
	// The kernel's limit is BPF_MAXINSNS; ours stay far below it.
	if len(a.prog) == 0 || len(a.prog) > 4096 {
		return nil, fmt.Errorf("seccomp: internal error: program of %d instructions", len(a.prog))
	}
	return a.prog, nil
}

// archCheck starts a program: it refuses every ABI but x86-64 with
// foreign, and x32 numbers with x32, then leaves the system call number
// in the accumulator.
func (a *asm) archCheck(foreign, x32 uint32) {
	a.loadArch()
	ok := a.newLabel()
	a.jeq(auditArchX86_64, ok, 0)
	a.ret(foreign)
	a.bind(ok)
	a.loadNr()
	native := a.newLabel()
	a.jge(x32Bit, 0, native)
	a.ret(x32)
	a.bind(native)
}
