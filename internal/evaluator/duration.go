package evaluator

import "math/bits"

// Durations are binned on a log scale with 8 bins per doubling (the
// HDR-histogram layout): durations below 16 ms have a bin each, and above
// that a bin spans 1/8 of its power of two. Durations are capped at 2^31 ms
// (about 25 days).
const (
	durSubBits = 3
	durMaxMS   = 1<<31 - 1
	durBins    = (31-durSubBits+1)<<durSubBits + 1<<durSubBits
)

// durBin is the bin of a duration of d ≥ 0 ms.
func durBin(d int64) int {
	d = min(max(d, 0), durMaxMS)
	k := bits.Len64(uint64(d)) - 1 // d in [2^k, 2^(k+1))
	if k < durSubBits {
		return int(d)
	}
	return (k-durSubBits+1)<<durSubBits + int(d>>(k-durSubBits)) - 1<<durSubBits
}

// durLower is the smallest duration in bin b.
func durLower(b int) int64 {
	if b < 2<<durSubBits {
		return int64(b)
	}
	k := b>>durSubBits + durSubBits - 1
	sub := int64(b & (1<<durSubBits - 1))
	return (1<<durSubBits + sub) << (k - durSubBits)
}

// durations tracks an agent's durations and their lower median in O(1)
// per added duration (the median moves by a bounded number of bins).
type durations struct {
	counts [durBins]uint64
	n      uint64
	// med is the bin holding the element of rank (n+1)/2; below counts
	// the durations in bins under med.
	med   int
	below uint64
}

// add records a duration.
func (h *durations) add(d int64) {
	b := durBin(d)
	h.counts[b]++
	h.n++
	if b < h.med {
		h.below++
	}
	rank := (h.n + 1) / 2
	for h.below >= rank {
		h.med--
		h.below -= h.counts[h.med]
	}
	for h.below+h.counts[h.med] < rank {
		h.below += h.counts[h.med]
		h.med++
	}
}

// median is the lower bound of the median's bin, or 0 with fewer than
// rtMinHistory durations.
func (h *durations) median() int64 {
	if h.n < rtMinHistory {
		return 0
	}
	return durLower(h.med)
}
