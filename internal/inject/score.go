package inject

import (
	"math"
	"sort"
	"unicode/utf8"
)

// hit is a signal before scoring.
type hit struct {
	rule       string
	category   string
	weight     float64
	start, end int // in the scanned text
	text       string
	boosted    bool // in hidden or disguised text
}

func (h hit) effective() float64 {
	if h.boosted {
		return 1 - (1-h.weight)*(1-h.weight)
	}
	return h.weight
}

// score is the strongest cluster's evidence. Signals closer than
// clusterGap form a cluster; in it each rule counts once, at its
// strongest, and the rules combine as independent evidence.
func score(hits []hit) float64 {
	if len(hits) == 0 {
		return 0
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].start < hits[j].start })
	best := 0.0
	for i := 0; i < len(hits); {
		j, end := i+1, hits[i].end
		for j < len(hits) && hits[j].start <= end+clusterGap {
			end = max(end, hits[j].end)
			j++
		}
		best = max(best, clusterScore(hits[i:j]))
		i = j
	}
	return math.Round(best*1e4) / 1e4
}

func clusterScore(hs []hit) float64 {
	type ruleWeight struct {
		rule string
		w    float64
	}
	var seen []ruleWeight
	for _, h := range hs {
		w := h.effective()
		found := false
		for k := range seen {
			if seen[k].rule == h.rule {
				seen[k].w = max(seen[k].w, w)
				found = true
				break
			}
		}
		if !found {
			seen = append(seen, ruleWeight{h.rule, w})
		}
	}
	p := 1.0
	for _, s := range seen {
		p *= 1 - s.w
	}
	return 1 - p
}

// report turns the hits (sorted by position) into the result's
// categories and spans.
func report(hits []hit) ([]string, []Span) {
	if len(hits) == 0 {
		return nil, nil
	}
	var cats []string
	for _, h := range hits {
		if !contains(cats, h.category) {
			cats = append(cats, h.category)
		}
	}
	sort.Strings(cats)
	keep := hits
	if len(keep) > maxSpans {
		keep = append([]hit(nil), hits...)
		sort.SliceStable(keep, func(i, j int) bool { return keep[i].effective() > keep[j].effective() })
		keep = keep[:maxSpans]
		sort.SliceStable(keep, func(i, j int) bool { return keep[i].start < keep[j].start })
	}
	spans := make([]Span, len(keep))
	for i, h := range keep {
		spans[i] = Span{Start: h.start, End: h.end, Category: h.category, Rule: h.rule, Text: h.text,
			Weight: math.Round(h.effective()*1e4) / 1e4}
	}
	return cats, spans
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// clipBytes is clip of a copy of b.
func clipBytes(b []byte) string {
	if len(b) > maxText {
		b = b[:maxText+1]
	}
	return clip(string(b))
}

// clip bounds a span's text to maxText bytes, on a character boundary.
func clip(s string) string {
	if len(s) <= maxText {
		return s
	}
	n := maxText
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
