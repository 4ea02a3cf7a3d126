package redact

import "sync"

// prefilter finds where rules' keywords occur in a text, in one pass and
// without allocating a lower-cased copy. Keywords are indexed by a hash of
// their first three bytes (two for two-byte keywords), ASCII case folded;
// a bitmap of those hashes rejects almost every position with one load.
type prefilter struct {
	index  [2]gramIndex // [0]: two-byte keywords, [1]: longer ones
	words  []string     // distinct keywords, lower case
	rules  [][]int      // keyword index -> rules it enables
	nRules int
	// pool recycles scan results: a text with any keyword needs one slice
	// per rule, and most calls redact a few kilobytes.
	pool sync.Pool
}

// gramIndex maps a hashed leading gram to the keywords that start with it.
type gramIndex struct {
	bits    [1 << 16 / 64]uint64
	bucket  [1 << 16]uint16 // hash -> 1 + index into buckets
	buckets [][]int
}

func (g *gramIndex) add(h uint16, kw int) {
	g.bits[h/64] |= 1 << (h % 64)
	if g.bucket[h] == 0 {
		g.buckets = append(g.buckets, nil)
		g.bucket[h] = uint16(len(g.buckets))
	}
	b := g.bucket[h] - 1
	g.buckets[b] = append(g.buckets[b], kw)
}

func (g *gramIndex) get(h uint16) []int {
	if g.bits[h/64]&(1<<(h%64)) == 0 {
		return nil
	}
	return g.buckets[g.bucket[h]-1]
}

func hash2(a, b byte) uint16 { return uint16(a)<<8 | uint16(b) }
func hash3(a, b, c byte) uint16 {
	return uint16((uint32(a)<<16 | uint32(b)<<8 | uint32(c)) * 2654435761 >> 16)
}

func newPrefilter(ruleKeywords [][]string) *prefilter {
	p := &prefilter{nRules: len(ruleKeywords)}
	index := map[string]int{}
	for r, kws := range ruleKeywords {
		for _, k := range kws {
			i, ok := index[k]
			if !ok {
				i = len(p.words)
				index[k] = i
				p.words = append(p.words, k)
				p.rules = append(p.rules, nil)
				if len(k) == 2 {
					p.index[0].add(hash2(k[0], k[1]), i)
				} else {
					p.index[1].add(hash3(k[0], k[1], k[2]), i)
				}
			}
			p.rules[i] = append(p.rules[i], r)
		}
	}
	return p
}

// scan returns, per rule, the ascending byte offsets at which one of its
// keywords starts in s. It returns nil, without allocating, when no
// keyword occurs; otherwise the caller hands the result to release.
func (p *prefilter) scan(s string) [][]int {
	var at [][]int
	if len(s) < 2 {
		return nil
	}
	two, three := &p.index[0], &p.index[1]
	// g holds the folded bytes s[i-2], s[i-1], s[i] in its low 24 bits.
	g := uint32(foldTable[s[0]])<<8 | uint32(foldTable[s[1]])
	if ks := two.get(uint16(g)); ks != nil {
		at = p.record(s, 0, ks, at)
	}
	for i := 2; i < len(s); i++ {
		g = g<<8 | uint32(foldTable[s[i]])
		// The three-byte gram starts first, so check it first: offsets
		// are recorded in ascending order.
		if h := uint16((g & 0xffffff) * 2654435761 >> 16); three.bits[h/64]&(1<<(h%64)) != 0 {
			at = p.record(s, i-2, three.get(h), at)
		}
		if h := uint16(g); two.bits[h/64]&(1<<(h%64)) != 0 {
			at = p.record(s, i-1, two.get(h), at)
		}
	}
	return at
}

// record notes the keywords among ks that occur at s[i:].
func (p *prefilter) record(s string, i int, ks []int, at [][]int) [][]int {
	for _, k := range ks {
		if !hasPrefixFold(s[i:], p.words[k]) {
			continue
		}
		if at == nil {
			at = p.get()
		}
		for _, r := range p.rules[k] {
			if n := len(at[r]); n == 0 || at[r][n-1] != i {
				at[r] = append(at[r], i)
			}
		}
	}
	return at
}

// get returns an empty result for scan, recycled when one is free.
func (p *prefilter) get() [][]int {
	if at, ok := p.pool.Get().(*[][]int); ok {
		return *at
	}
	return make([][]int, p.nRules)
}

// release gives back a result of scan once its offsets are no longer
// used. Offset lists that grew large are dropped rather than kept.
func (p *prefilter) release(at [][]int) {
	if at == nil {
		return
	}
	for i := range at {
		if cap(at[i]) > 1024 {
			at[i] = nil
		} else {
			at[i] = at[i][:0]
		}
	}
	p.pool.Put(&at)
}

// foldTable maps ASCII upper case to lower case and every other byte to
// itself.
var foldTable = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
		if i >= 'A' && i <= 'Z' {
			t[i] = byte(i) + 'a' - 'A'
		}
	}
	return t
}()

func lower(b byte) byte { return foldTable[b] }

// hasPrefixFold reports whether s starts with the lower-case word, folding
// ASCII case in s.
func hasPrefixFold(s, word string) bool {
	if len(s) < len(word) {
		return false
	}
	for i := 0; i < len(word); i++ {
		if foldTable[s[i]] != word[i] {
			return false
		}
	}
	return true
}
