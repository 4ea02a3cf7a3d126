package inject

import (
	"regexp"
	"regexp/syntax"
	"unicode/utf8"
)

// pattern is a rule's regular expression with a matcher of its own: a
// bounded backtracker over the compiled program, as the standard library
// runs small programs, but for programs of any size. The standard library
// gives programs over 500 instructions (the rules with long word lists) to
// its NFA simulation, which costs a few microseconds per attempt even when
// the match is the first branch tried; the backtracker stops at the first
// match in priority order, and a bit per (instruction, position) keeps it
// linear. Answers are those of regexp's FindIndex (leftmost-first); inputs
// whose bit set would pass maxVisitBits go to the standard library.
type pattern struct {
	re    *regexp.Regexp
	inst  []syntax.Inst
	start uint32
	// anchored: the program can only match at the start of the input.
	anchored bool
	// never: the program cannot match at all.
	never bool
	// ascii[pc] holds, for a rune instruction, which ASCII characters it
	// accepts: bit c of word c/64.
	ascii [][2]uint64
}

// maxVisitBits bounds the backtracker's bit set (instructions × positions):
// 4 Mbit, 512 KiB per scanning state.
const maxVisitBits = 1 << 22

func compilePattern(expr string) (*pattern, error) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, err
	}
	// As regexp.Compile does: parse with Perl flags, simplify, compile.
	parsed, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil, err
	}
	prog, err := syntax.Compile(parsed.Simplify())
	if err != nil {
		return nil, err
	}
	p := &pattern{re: re, inst: prog.Inst, start: uint32(prog.Start), ascii: make([][2]uint64, len(prog.Inst))}
	cond := prog.StartCond()
	p.never = cond == ^syntax.EmptyOp(0)
	p.anchored = cond&syntax.EmptyBeginText != 0
	for pc := range p.inst {
		in := &p.inst[pc]
		switch in.Op {
		case syntax.InstRune:
			for c := rune(0); c < utf8.RuneSelf; c++ {
				if in.MatchRune(c) {
					p.ascii[pc][c/64] |= 1 << (c % 64)
				}
			}
		case syntax.InstAltMatch:
			// Only one-pass programs hold it; keep to the library.
			p.inst = nil
		}
	}
	return p, nil
}

// job is a point the backtracker returns to: instruction pc at position
// pos; alt marks the second branch of an alternation.
type job struct {
	pc  uint32
	alt bool
	pos int32
}

// backtracker is the scratch space of pattern matching, kept per
// scanning state so that matching allocates nothing.
type backtracker struct {
	jobs    []job
	visited []uint32
	row     int // words per position
	cleared int // positions whose row is cleared
}

// find returns where p first matches in s, as regexp's FindIndex would.
func (p *pattern) find(b *backtracker, s []byte) (start, end int, ok bool) {
	if p.never {
		return 0, 0, false
	}
	if p.inst == nil || len(p.inst)*(len(s)+1) > maxVisitBits {
		loc := p.re.FindIndex(s)
		if loc == nil {
			return 0, 0, false
		}
		return loc[0], loc[1], true
	}
	b.row = (len(p.inst) + 31) / 32
	need := b.row * (len(s) + 1)
	if cap(b.visited) < need {
		b.visited = make([]uint32, need)
	}
	b.visited = b.visited[:need]
	b.cleared = 0
	if p.anchored {
		end, ok = p.try(b, s, 0)
		return 0, end, ok
	}
	// Unanchored: each start in turn. The bits stay set between starts: a
	// state that failed from an earlier start fails from a later one.
	for pos := 0; pos <= len(s); {
		if end, ok = p.try(b, s, pos); ok {
			return pos, end, true
		}
		if pos == len(s) {
			break
		}
		_, w := step(s, pos)
		pos += w
	}
	return 0, 0, false
}

// visit marks (pc, pos) and reports whether it was new.
func (b *backtracker) visit(pc uint32, pos int) bool {
	for b.cleared <= pos {
		clear(b.visited[b.cleared*b.row : (b.cleared+1)*b.row])
		b.cleared++
	}
	i := pos*b.row + int(pc>>5)
	bit := uint32(1) << (pc & 31)
	if b.visited[i]&bit != 0 {
		return false
	}
	b.visited[i] |= bit
	return true
}

// try runs the program from pos, depth first in the order of priority,
// and returns the end of the first match.
func (p *pattern) try(b *backtracker, s []byte, pos0 int) (int, bool) {
	b.jobs = append(b.jobs[:0], job{pc: p.start, pos: int32(pos0)})
	for len(b.jobs) > 0 {
		j := b.jobs[len(b.jobs)-1]
		b.jobs = b.jobs[:len(b.jobs)-1]
		pc, pos := j.pc, int(j.pos)
		if j.alt {
			pc = p.inst[pc].Arg
		}
	thread:
		for b.visit(pc, pos) {
			in := &p.inst[pc]
			switch in.Op {
			case syntax.InstAlt:
				b.jobs = append(b.jobs, job{pc: pc, alt: true, pos: int32(pos)})
			case syntax.InstRune:
				r, w := step(s, pos)
				switch {
				case w == 0:
					break thread
				case r < utf8.RuneSelf:
					if p.ascii[pc][r/64]&(1<<(r%64)) == 0 {
						break thread
					}
				case !in.MatchRune(r):
					break thread
				}
				pos += w
			case syntax.InstRune1:
				r, w := step(s, pos)
				if w == 0 || r != in.Rune[0] {
					break thread
				}
				pos += w
			case syntax.InstRuneAny:
				_, w := step(s, pos)
				if w == 0 {
					break thread
				}
				pos += w
			case syntax.InstRuneAnyNotNL:
				r, w := step(s, pos)
				if w == 0 || r == '\n' {
					break thread
				}
				pos += w
			case syntax.InstEmptyWidth:
				if syntax.EmptyOp(in.Arg)&^emptyContext(s, pos) != 0 {
					break thread
				}
			case syntax.InstCapture, syntax.InstNop:
			case syntax.InstMatch:
				return pos, true
			default: // InstFail
				break thread
			}
			pc = in.Out
		}
	}
	return 0, false
}

// step returns the rune at pos and its width; width 0 at the end.
func step(s []byte, pos int) (rune, int) {
	if pos >= len(s) {
		return -1, 0
	}
	if c := s[pos]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRune(s[pos:])
}

// emptyContext is what holds at pos: text and line starts and ends, word
// boundaries.
func emptyContext(s []byte, pos int) syntax.EmptyOp {
	r1, r2 := rune(-1), rune(-1)
	if pos > 0 && pos <= len(s) {
		r1, _ = utf8.DecodeLastRune(s[:pos])
	}
	if pos < len(s) {
		r2, _ = step(s, pos)
	}
	return syntax.EmptyOpContext(r1, r2)
}
