package inject

import "fmt"

// automaton finds every occurrence of a set of byte strings in one pass
// (Aho–Corasick), as a dense table over the byte classes the strings use:
// one lookup per input byte. States are 16-bit to keep the table small
// enough for the cache.
type automaton struct {
	class  [256]uint8
	nclass int
	// next[state<<shift|class] is the state after reading a byte of the
	// class: a row per state, padded to a power of two so that the scan
	// shifts rather than multiplies on its chain of dependent loads.
	next  []uint16
	shift uint
	out   [][]int32 // patterns that end at a state, suffixes included
	// States from firstOut on, and only those, have patterns ending at
	// them: the scan tests a number, not a slice, per byte.
	firstOut int
	ids      []int32 // pattern index → the caller's id
	lens     []int   // pattern lengths
}

const maxStates = 1 << 16

func newAutomaton(patterns []string, ids []int32) (*automaton, error) {
	a := &automaton{lens: make([]int, len(patterns)), ids: ids}
	// Class 0 is every byte no pattern uses: it always leads to the root.
	for _, p := range patterns {
		for i := 0; i < len(p); i++ {
			if a.class[p[i]] == 0 {
				a.nclass++
				a.class[p[i]] = uint8(a.nclass)
			}
		}
	}
	a.nclass++
	type node struct {
		child map[uint8]uint16
		fail  uint16
		out   []int32
	}
	nodes := []node{{child: map[uint8]uint16{}}}
	for id, p := range patterns {
		a.lens[id] = len(p)
		s := uint16(0)
		for i := 0; i < len(p); i++ {
			c := a.class[p[i]]
			nx, ok := nodes[s].child[c]
			if !ok {
				if len(nodes) >= maxStates {
					return nil, fmt.Errorf("inject: the anchors need more than %d automaton states", maxStates)
				}
				nodes = append(nodes, node{child: map[uint8]uint16{}})
				nx = uint16(len(nodes) - 1)
				nodes[s].child[c] = nx
			}
			s = nx
		}
		nodes[s].out = append(nodes[s].out, int32(id))
	}
	a.next = make([]uint16, len(nodes)*a.nclass)
	a.out = make([][]int32, len(nodes))
	// Breadth first, so that a state's failure target is complete first.
	queue := []uint16{0}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		f := nodes[s].fail
		if s != 0 {
			a.out[s] = append(append([]int32(nil), nodes[s].out...), a.out[f]...)
		} else {
			a.out[s] = nodes[s].out
		}
		for c := 0; c < a.nclass; c++ {
			nx, ok := nodes[s].child[uint8(c)]
			switch {
			case ok:
				if s != 0 {
					nodes[nx].fail = a.next[int(f)*a.nclass+c]
				}
				a.next[int(s)*a.nclass+c] = nx
				queue = append(queue, nx)
			case s != 0:
				a.next[int(s)*a.nclass+c] = a.next[int(f)*a.nclass+c]
			}
		}
	}
	a.renumber()
	return a, nil
}

// renumber moves the states with output to the end, keeping the root at 0.
func (a *automaton) renumber() {
	n := len(a.out)
	perm := make([]uint16, n)
	k := 0
	for s := 0; s < n; s++ {
		if len(a.out[s]) == 0 || s == 0 {
			perm[s] = uint16(k)
			k++
		}
	}
	a.firstOut = k
	for s := 1; s < n; s++ {
		if len(a.out[s]) > 0 {
			perm[s] = uint16(k)
			k++
		}
	}
	for 1<<a.shift < a.nclass {
		a.shift++
	}
	next := make([]uint16, n<<a.shift)
	out := make([][]int32, n)
	for s := 0; s < n; s++ {
		ns := int(perm[s])
		out[ns] = a.out[s]
		for c := 0; c < a.nclass; c++ {
			next[ns<<a.shift|c] = perm[a.next[s*a.nclass+c]]
		}
	}
	a.next, a.out = next, out
	if len(a.out[0]) > 0 {
		a.firstOut = 0 // an empty pattern: every state reports
	}
}

// scan calls fn for every occurrence: the caller's id of the pattern and
// the offset where it ends.
func (a *automaton) scan(s []byte, fn func(id int32, end int)) {
	state := 0
	shift := a.shift & 15
	next, class, first := a.next, &a.class, a.firstOut
	for i := 0; i < len(s); i++ {
		state = int(next[state<<shift|int(class[s[i]])])
		if state >= first {
			for _, k := range a.out[state] {
				fn(a.ids[k], i+1)
			}
		}
	}
}
