package auth

import (
	"container/list"
	"sync"
	"time"
)

// limiter counts failed attempts per address key in a sliding window. Its
// table is bounded: when full, the least recently seen key is forgotten.
// Refused attempts during a lockout count as "seen", so an address under
// active lockout is the last to be evicted.
type limiter struct {
	mu      sync.Mutex
	base    time.Time // times are kept as offsets from base, 8 bytes each
	entries map[string]*list.Element
	order   list.List // of *ipEntry, front = least recently seen
}

type ipEntry struct {
	key    string
	fails  []time.Duration // ascending, all within the window, at most maxFailures
	locked bool
	until  time.Duration
}

func newLimiter(now time.Time) *limiter {
	return &limiter{base: now, entries: make(map[string]*list.Element)}
}

// retryAfter returns how long key stays locked out, 0 if it is not.
func (l *limiter) retryAfter(key string, now time.Time) time.Duration {
	t := now.Sub(l.base)
	l.mu.Lock()
	defer l.mu.Unlock()
	el := l.entries[key]
	if el == nil {
		return 0
	}
	e := el.Value.(*ipEntry)
	if !e.locked {
		return 0
	}
	if t < e.until {
		l.order.MoveToBack(el)
		return e.until - t
	}
	e.locked, e.fails = false, e.fails[:0]
	return 0
}

// fail records a failed attempt from key and locks it out on the
// maxFailures-th failure within the window.
func (l *limiter) fail(key string, now time.Time, lim limits) {
	t := now.Sub(l.base)
	l.mu.Lock()
	defer l.mu.Unlock()
	el := l.entries[key]
	if el == nil {
		for l.order.Len() >= lim.maxTracked {
			oldest := l.order.Front()
			delete(l.entries, oldest.Value.(*ipEntry).key)
			l.order.Remove(oldest)
		}
		el = l.order.PushBack(&ipEntry{key: key})
		l.entries[key] = el
	} else {
		l.order.MoveToBack(el)
	}
	e := el.Value.(*ipEntry)
	if e.locked {
		if t < e.until {
			return
		}
		e.locked, e.fails = false, e.fails[:0]
	}
	cut := t - lim.window
	i := 0
	for i < len(e.fails) && e.fails[i] <= cut {
		i++
	}
	e.fails = append(e.fails[:0], e.fails[i:]...)
	e.fails = append(e.fails, t)
	if len(e.fails) >= lim.maxFailures {
		e.locked, e.until, e.fails = true, t+lim.lockout, e.fails[:0]
	}
}

// len is the number of tracked keys.
func (l *limiter) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.order.Len()
}
