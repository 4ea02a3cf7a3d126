package kernel

import (
	"container/list"
	"sync"

	"github.com/sentinel-agent/sentinel/internal/analysis"
	"github.com/sentinel-agent/sentinel/internal/decision"
	"github.com/sentinel-agent/sentinel/internal/request"
)

// cache is a small LRU of decisions keyed by the content hash of the call
// and the policy revision. A decision is immutable once made, so entries
// are shared; Reasons slices are never modified after creation.
type cache struct {
	mu   sync.Mutex
	max  int
	ll   *list.List
	byID map[string]*list.Element
}

type entry struct {
	key string
	v   cached
}

// cached is a decision with what the audit log needs to record a repeat:
// the call's kind and the (immutable) analysis.
type cached struct {
	d    decision.Decision
	kind string
	a    *analysis.Analysis
	// call is the normalised call, for the rule of two on a repeat.
	call *request.ToolCall
}

func newCache(n int) *cache {
	return &cache{max: n, ll: list.New(), byID: make(map[string]*list.Element, n)}
}

func (c *cache) get(key string) (cached, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byID[key]
	if !ok {
		return cached{}, false
	}
	c.ll.MoveToFront(e)
	return e.Value.(*entry).v, true
}

func (c *cache) put(key string, v cached) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byID[key]; ok {
		e.Value.(*entry).v = v
		c.ll.MoveToFront(e)
		return
	}
	c.byID[key] = c.ll.PushFront(&entry{key: key, v: v})
	for c.ll.Len() > c.max {
		last := c.ll.Back()
		c.ll.Remove(last)
		delete(c.byID, last.Value.(*entry).key)
	}
}

func (c *cache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ll.Init()
	c.byID = map[string]*list.Element{}
}
