package main

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// The latency histogram is log-linear: values below 2·histSub nanoseconds
// have a bucket each, and every power of two above that is split into
// histSub equal buckets, so a reported percentile is at most 1/histSub
// (0.8 %) above the true value. Its size is fixed when it is made: a long
// run costs counters, never memory.
const (
	histSubBits = 7
	histSub     = 1 << histSubBits
	// histMaxValue bounds what is bucketed (≈ 73 minutes); longer values
	// land in the last bucket, and the exact maximum is kept aside.
	histMaxValue = 1<<42 - 1
	histBuckets  = 2*histSub + (42-histSubBits-1)*histSub
	histExact    = 2 * histSub
)

// histogram counts latencies in nanoseconds. record may be called from
// many goroutines; the readers run after the writers have stopped.
type histogram struct {
	counts [histBuckets]uint64
	total  uint64
	sum    uint64
	min    uint64 // stored as ^min so that the zero value means "none yet"
	max    uint64
}

func bucketOf(v uint64) int {
	if v > histMaxValue {
		v = histMaxValue
	}
	if v < histExact {
		return int(v)
	}
	e := bits.Len64(v) - (histSubBits + 1)
	return histExact + (e-1)*histSub + int(v>>e) - histSub
}

// bucketHigh is the largest value that falls in bucket i.
func bucketHigh(i int) uint64 {
	if i < histExact {
		return uint64(i)
	}
	k := i - histExact
	e := k/histSub + 1
	m := uint64(k%histSub + histSub)
	return (m+1)<<e - 1
}

func (h *histogram) record(d time.Duration) {
	v := uint64(0)
	if d > 0 {
		v = uint64(d)
	}
	atomic.AddUint64(&h.counts[bucketOf(v)], 1)
	atomic.AddUint64(&h.total, 1)
	atomic.AddUint64(&h.sum, v)
	for {
		m := atomic.LoadUint64(&h.max)
		if v <= m || atomic.CompareAndSwapUint64(&h.max, m, v) {
			break
		}
	}
	for {
		m := atomic.LoadUint64(&h.min)
		if ^v <= m || atomic.CompareAndSwapUint64(&h.min, m, ^v) {
			break
		}
	}
}

// merge adds o into h; neither may be written to meanwhile.
func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	h.sum += o.sum
	h.max = max(h.max, o.max)
	h.min = max(h.min, o.min)
}

func (h *histogram) count() uint64 { return h.total }

// quantile returns the smallest bucket bound at or below which a fraction q
// of the values lie, never more than the largest value seen.
func (h *histogram) quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.total)))
	rank = min(max(rank, 1), h.total)
	var cum uint64
	for i, c := range h.counts {
		cum += c
		if cum >= rank {
			return time.Duration(min(bucketHigh(i), h.max))
		}
	}
	return time.Duration(h.max)
}

func (h *histogram) maxValue() time.Duration { return time.Duration(h.max) }

func (h *histogram) minValue() time.Duration {
	if h.total == 0 {
		return 0
	}
	return time.Duration(^h.min)
}

func (h *histogram) mean() time.Duration {
	if h.total == 0 {
		return 0
	}
	return time.Duration(h.sum / h.total)
}
